//! Typed progress of an ingestion run, for a progress bar or the TUI's panel, and the final
//! per-file summary. Nothing here touches a terminal.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Something that just happened, with the run's totals so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// What happened.
    pub event: ProgressEvent,
    /// Counters at this moment.
    pub totals: Totals,
}

/// Counters of a run. Token totals are known once every file is prepared (extracted, chunked,
/// indexed), which happens before any reading; until then `tokens_total` is 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Files to process (after discovery).
    pub files_total: usize,
    /// Files finished (ingested, skipped or failed).
    pub files_done: usize,
    /// Pages extracted so far.
    pub pages_done: u64,
    /// Tokens to feed to the model in this run.
    pub tokens_total: u64,
    /// Tokens fed so far.
    pub tokens_done: u64,
    /// Checkpoint files written so far.
    pub checkpoints_written: u64,
    /// Reading speed so far (tokens per second of reading time).
    pub tokens_per_second: f64,
    /// Estimated time left for reading; `None` until a rate is known.
    pub eta: Option<Duration>,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl Totals {
    /// Fraction of reading done, 0.0–1.0 (1.0 when there is nothing to read).
    pub fn fraction_done(&self) -> f64 {
        if self.tokens_total == 0 {
            1.0
        } else {
            (self.tokens_done as f64 / self.tokens_total as f64).clamp(0.0, 1.0)
        }
    }

    /// Updates rate and ETA from the time spent reading.
    pub fn update_rate(&mut self, tokens_read_this_run: u64, reading_time: Duration) {
        let secs = reading_time.as_secs_f64();
        if tokens_read_this_run == 0 || secs <= 0.0 {
            self.tokens_per_second = 0.0;
            self.eta = None;
            return;
        }
        self.tokens_per_second = tokens_read_this_run as f64 / secs;
        let left = self.tokens_total.saturating_sub(self.tokens_done);
        self.eta = Some(Duration::from_secs_f64(
            left as f64 / self.tokens_per_second,
        ));
    }
}

/// The events of a run, in order: `Discovered`, then per file `FilePrepared` or `FileFailed`,
/// then per file to read `ReadingStarted`, `ChunkRead`…, `CheckpointWritten`…, `FileFinished`,
/// and finally `Finished` (or `Cancelled`).
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// Discovery is done.
    Discovered {
        /// Files to process.
        files: usize,
        /// Paths skipped (unsupported, unreadable, symlink loops); listed in the summary.
        issues: usize,
    },
    /// A file's text is extracted, chunked and indexed (or was already, unchanged).
    FilePrepared {
        /// Source file.
        path: PathBuf,
        /// Pages (1 for text files without form feeds).
        pages: u32,
        /// Chunks.
        chunks: u32,
        /// Tokens in all chunks.
        tokens: u64,
        /// It was unchanged since the last run (no extraction needed).
        unchanged: bool,
    },
    /// A file is being prepared (hashed, extracted, tokenized into chunks, indexed): sent at
    /// each stage and, while tokenizing, every megabyte or so, so that a large file shows
    /// progress long before it is read.
    Preparing {
        /// Source file.
        path: PathBuf,
        /// What is being done.
        stage: PrepareStage,
        /// Units done (bytes; pages when extracting a PDF; chunks when indexing).
        done: u64,
        /// Units in all (0 when not known yet).
        total: u64,
    },
    /// A file failed to extract; the run goes on.
    FileFailed {
        /// Source file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The model starts (or resumes) reading a document.
    ReadingStarted {
        /// Source file.
        path: PathBuf,
        /// First chunk to read (after the checkpoint resumed from).
        from_chunk: u32,
        /// Chunks in the document.
        chunk_count: u32,
    },
    /// One chunk was read.
    ChunkRead {
        /// Source file.
        path: PathBuf,
        /// Chunks of this document read so far.
        chunks_read: u32,
        /// Chunks in the document.
        chunk_count: u32,
    },
    /// The model is between two layers of a chunk. Sent many times a second while reading, so
    /// consumers ignore it — except to pause: reading waits while the callback blocks here
    /// (the terminal UI does so while a question is answered). No progress is implied.
    BetweenLayers,
    /// A checkpoint file was written.
    CheckpointWritten {
        /// Source file.
        path: PathBuf,
        /// Chunks covered by the state.
        chunks_read: u32,
        /// Tokens covered by the state.
        token_offset: u64,
    },
    /// Something went wrong but was handled (damaged checkpoint skipped, ...).
    Warning {
        /// File concerned, if any.
        path: Option<PathBuf>,
        /// The message.
        message: String,
    },
    /// A file is done.
    FileFinished {
        /// Its outcome.
        outcome: FileOutcome,
    },
    /// The run stopped early because cancellation was requested; the next run resumes.
    Cancelled,
    /// The run is complete.
    Finished,
}

/// The stages of preparing a file, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrepareStage {
    /// Computing the file's digest (bytes of the file).
    Hashing,
    /// Extracting its text (bytes of the file).
    Extracting,
    /// Extracting a PDF's text page by page (pages).
    ExtractingPages,
    /// Cutting the text into chunks: tokenizing it (bytes of the text).
    Chunking,
    /// Adding the chunks to the search index (chunks).
    Indexing,
}

impl PrepareStage {
    /// The stage as a word, for progress lines.
    pub fn label(self) -> &'static str {
        match self {
            PrepareStage::Hashing => "hashing",
            PrepareStage::Extracting | PrepareStage::ExtractingPages => "extracting",
            PrepareStage::Chunking => "tokenizing",
            PrepareStage::Indexing => "indexing",
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeStatus {
    /// Extracted (or re-extracted after a change) and read to the end.
    Ingested,
    /// Unchanged since the last run and already read by this model: nothing to do.
    Skipped,
    /// Not usable; `reason` says why.
    Failed,
    /// Cancelled before it was finished; the next run resumes it.
    Interrupted,
}

/// One line of the final summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOutcome {
    /// Source path.
    pub path: PathBuf,
    /// Document id, when the file made it into the library.
    pub document_id: Option<String>,
    /// What happened.
    pub status: OutcomeStatus,
    /// Why it failed (or was interrupted).
    pub reason: Option<String>,
    /// Pages in the document (with text or not).
    pub pages: u32,
    /// Tokens in the document.
    pub tokens: u64,
    /// Tokens the model read in this run (less than `tokens` when resumed or skipped).
    pub tokens_read: u64,
    /// Checkpoints written in this run.
    pub checkpoints: u32,
    /// Non-fatal problems (pages without text layer, damaged checkpoints rebuilt, ...).
    pub warnings: Vec<String>,
}

/// The result of a run: every discovered path with its outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// One entry per file (and per skipped discovery issue, as failed), in path order.
    pub files: Vec<FileOutcome>,
    /// The run was cancelled before the end.
    pub cancelled: bool,
    /// Counters at the end.
    pub totals: Totals,
}

impl Summary {
    /// Outcomes with the given status.
    pub fn with_status(&self, status: OutcomeStatus) -> impl Iterator<Item = &FileOutcome> {
        self.files.iter().filter(move |f| f.status == status)
    }

    /// Number of outcomes with the given status.
    pub fn count(&self, status: OutcomeStatus) -> usize {
        self.with_status(status).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_eta_handle_zero_and_normal_cases() {
        let mut t = Totals {
            tokens_total: 1000,
            ..Totals::default()
        };
        t.update_rate(0, Duration::from_secs(1));
        assert_eq!((t.tokens_per_second, t.eta), (0.0, None));
        t.update_rate(10, Duration::ZERO);
        assert_eq!(t.eta, None);
        t.tokens_done = 250;
        t.update_rate(250, Duration::from_secs(5));
        assert_eq!(t.tokens_per_second, 50.0);
        assert_eq!(t.eta, Some(Duration::from_secs(15)));
        assert_eq!(t.fraction_done(), 0.25);
        t.tokens_done = 2000; // more than planned (tokenizer differs): clamp, no negative ETA
        t.update_rate(2000, Duration::from_secs(5));
        assert_eq!(t.eta, Some(Duration::ZERO));
        assert_eq!(t.fraction_done(), 1.0);
        assert_eq!(Totals::default().fraction_done(), 1.0);
    }
}
