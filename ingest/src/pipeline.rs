//! An ingestion run: discover → prepare every file (extract, chunk, save, index) → read every
//! document through the model with checkpoints. Preparing everything first makes the library
//! searchable early and gives exact token totals (so an honest ETA) before the slow part.
//!
//! Crash safety: every file is replaced atomically, a document's chunks are replaced in one index
//! commit, and its record is marked indexed only after that commit. Checkpoints are written at
//! fixed chunk positions (every `checkpoint_every_chunks` chunks, counted from the document's
//! start, and at its end), so a run that is killed and resumed writes the very same files, byte
//! for byte, as a run that never stopped.

mod reading;
mod spacing;

pub use spacing::SpacingTarget;

use crate::chunk::{chunk_text_reporting, Chunk};
use crate::digest::{file_sha256_hex, sha256_hex};
use crate::discover::{discover, DiscoveredFile};
use crate::document::{
    document_id_for_path, DocumentRecord, DocumentStatus, RECORD_FORMAT_VERSION,
};
use crate::error::{IngestError, Result};
use crate::extract::{extract_document_reporting, ExtractError};
use crate::library_writer::LibraryWriter;
use crate::pdf::{PdfError, PdfOptions};
use crate::progress::{
    FileOutcome, OutcomeStatus, PrepareStage, Progress, ProgressEvent, Summary, Totals,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Settings of an ingestion run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// Chunk size to aim for, in tokens.
    pub target_chunk_tokens: usize,
    /// Chunks between two checkpoints (one is always written at the end of a document): exactly
    /// this many when `spacing` is `None`, at most this many otherwise.
    pub checkpoint_every_chunks: usize,
    /// Space each newly read document's checkpoints for a target wait before an answer, from the
    /// model's measured reading speed and within a disk budget (see `pipeline/spacing.rs`). A
    /// document resumed from a checkpoint keeps the spacing it was read with.
    pub spacing: Option<SpacingTarget>,
    /// PDF worker settings.
    pub pdf: PdfOptions,
    /// Try files again that failed in an earlier run although they have not changed.
    pub retry_failed: bool,
    /// Check the checksum of every checkpoint of every document (reads them all once per run),
    /// so that damage anywhere is rebuilt. Off, only damaged headers and the checkpoint resumed
    /// from are checked; other damage is still caught (and skipped) when a checkpoint is used.
    pub verify_checkpoints: bool,
}

impl Default for IngestOptions {
    /// 512-token chunks, checkpoints spaced for a 15 s wait and at most every 8 chunks
    /// (≈ 4,096 tokens), all checkpoints verified.
    fn default() -> Self {
        IngestOptions {
            target_chunk_tokens: 512,
            checkpoint_every_chunks: 8,
            spacing: Some(SpacingTarget::default()),
            pdf: PdfOptions::default(),
            retry_failed: false,
            verify_checkpoints: true,
        }
    }
}

/// Ingests `paths` (files or folders) into the library: see the module doc. Progress goes to
/// `on_progress`; setting `cancel` stops the run soon (a checkpoint is written at the current
/// position first) and the next run resumes. Errors are only returned for problems with the
/// library itself (disk full, damaged index); problems with input files end up in the summary.
pub fn run(
    paths: &[PathBuf],
    writer: &mut LibraryWriter,
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    options: &IngestOptions,
    on_progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Summary> {
    let mut run = Run::new(writer, model, tokenizer, options, on_progress, cancel);
    // What opening the library repaired (index, library file) is reported first.
    for message in run.writer.take_noticed() {
        run.reporter.emit(ProgressEvent::Warning {
            path: None,
            message,
        });
    }
    let found = discover(paths);
    // Paths that failed discovery (nonexistent, unreadable, loops) are files of the summary
    // too: the counters agree with its list.
    run.reporter.totals.files_total = found.files.len() + found.issues.len();
    run.reporter.totals.files_done = found.issues.len();
    run.reporter.emit(ProgressEvent::Discovered {
        files: found.files.len(),
        issues: found.issues.len(),
    });
    for issue in &found.issues {
        run.outcomes.push(outcome(
            issue.path.clone(),
            None,
            OutcomeStatus::Failed,
            Some(issue.reason.clone()),
        ));
    }

    let mut prepared = Vec::new();
    let mut cancelled = false;
    for file in &found.files {
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            run.outcomes.push(outcome(
                file.path.clone(),
                None,
                OutcomeStatus::Interrupted,
                Some("cancelled".into()),
            ));
            continue;
        }
        if let Some(p) = run.prepare(file)? {
            prepared.push(p);
        }
    }

    cancelled |= cancel.load(Ordering::Relaxed);
    // Token totals for the reading phase, from each document's current reading position.
    for p in &mut prepared {
        let progress = run
            .writer
            .reading_progress(&p.record.id, model.fingerprint())?;
        p.tokens_already_read = progress.tokens_read.min(p.record.token_count);
        run.reporter.totals.tokens_total += p.record.token_count - p.tokens_already_read;
    }
    for p in prepared {
        if cancelled || cancel.load(Ordering::Relaxed) {
            cancelled = true;
            run.outcomes.push(outcome(
                p.record.source_path.clone(),
                Some(p.record.id.clone()),
                OutcomeStatus::Interrupted,
                Some("cancelled before reading".into()),
            ));
            continue;
        }
        let finished = run.read(p, cancel)?;
        cancelled |= finished.status == OutcomeStatus::Interrupted;
        run.reporter.totals.files_done += 1;
        run.reporter.emit(ProgressEvent::FileFinished {
            outcome: finished.clone(),
        });
        run.outcomes.push(finished);
    }

    run.reporter.emit(if cancelled {
        ProgressEvent::Cancelled
    } else {
        ProgressEvent::Finished
    });
    let mut files = run.outcomes;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Summary {
        files,
        cancelled,
        totals: run.reporter.totals.clone(),
    })
}

/// Reads an already prepared document (its record, text and chunks stored and intact) from its
/// latest usable checkpoint to the end, rebuilding damaged or missing checkpoints on the way:
/// what `check --repair` uses when the source file may be gone.
pub fn read_stored(
    record: DocumentRecord,
    writer: &mut LibraryWriter,
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    options: &IngestOptions,
    on_progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<FileOutcome> {
    let mut run = Run::new(writer, model, tokenizer, options, on_progress, cancel);
    run.reporter.totals.files_total = 1;
    run.reporter.totals.tokens_total = record.token_count;
    let prepared = Prepared {
        record,
        extracted_now: false,
        tokens_already_read: 0,
    };
    run.read(prepared, cancel)
}

fn outcome(
    path: PathBuf,
    id: Option<String>,
    status: OutcomeStatus,
    reason: Option<String>,
) -> FileOutcome {
    FileOutcome {
        path,
        document_id: id,
        status,
        reason,
        pages: 0,
        tokens: 0,
        tokens_read: 0,
        checkpoints: 0,
        warnings: Vec::new(),
    }
}

struct Reporter<'a> {
    callback: &'a mut dyn FnMut(Progress),
    totals: Totals,
    started: Instant,
    reading_time: Duration,
    tokens_read: u64,
}

impl<'a> Reporter<'a> {
    fn new(callback: &'a mut dyn FnMut(Progress)) -> Self {
        Reporter {
            callback,
            totals: Totals::default(),
            started: Instant::now(),
            reading_time: Duration::ZERO,
            tokens_read: 0,
        }
    }

    fn emit(&mut self, event: ProgressEvent) {
        self.totals.elapsed = self.started.elapsed();
        (self.callback)(Progress {
            event,
            totals: self.totals.clone(),
        });
    }

    /// The model's reading speed measured so far in this run, tokens per second.
    fn measured_tokens_per_s(&self) -> Option<f64> {
        let seconds = self.reading_time.as_secs_f64();
        (self.tokens_read > 0 && seconds > 0.0).then(|| self.tokens_read as f64 / seconds)
    }

    fn add_reading(&mut self, tokens: u64, time: Duration) {
        self.tokens_read += tokens;
        self.reading_time += time;
        self.totals.tokens_done += tokens;
        self.totals.update_rate(self.tokens_read, self.reading_time);
    }
}

/// An unchanged document's stored parts after [`Run::verify_stored`].
enum StoredState {
    /// Text, chunks and index entries agree with the record.
    Intact(DocumentRecord),
    /// The index did not hold the chunk list; it does now.
    Reindexed(DocumentRecord),
    /// The text or chunk list fails its digest: why.
    Damaged(String),
}

/// A document ready to be read.
struct Prepared {
    record: DocumentRecord,
    /// Extracted in this run (new or changed), as opposed to unchanged.
    extracted_now: bool,
    tokens_already_read: u64,
}

struct Run<'a, 'b> {
    writer: &'a mut LibraryWriter,
    model: &'a dyn engine::LanguageModel,
    tokenizer: &'a engine::Tokenizer,
    options: &'a IngestOptions,
    cancel: &'a AtomicBool,
    reporter: Reporter<'b>,
    outcomes: Vec<FileOutcome>,
}

impl<'a, 'b> Run<'a, 'b> {
    fn new(
        writer: &'a mut LibraryWriter,
        model: &'a dyn engine::LanguageModel,
        tokenizer: &'a engine::Tokenizer,
        options: &'a IngestOptions,
        on_progress: &'b mut dyn FnMut(Progress),
        cancel: &'a AtomicBool,
    ) -> Run<'a, 'b> {
        Run {
            writer,
            model,
            tokenizer,
            options,
            cancel,
            reporter: Reporter::new(on_progress),
            outcomes: Vec::new(),
        }
    }
}

impl Run<'_, '_> {
    /// Extracts, chunks, saves and indexes one file unless its current version already is.
    /// `Ok(None)`: the file failed (its outcome is recorded).
    fn prepare(&mut self, file: &DiscoveredFile) -> Result<Option<Prepared>> {
        let id = document_id_for_path(&file.path);
        let files = self.writer.files(&id);
        let fail = |run: &mut Self, reason: String, pages: u32| {
            run.reporter.totals.files_done += 1;
            run.reporter.emit(ProgressEvent::FileFailed {
                path: file.path.clone(),
                reason: reason.clone(),
            });
            let mut o = outcome(
                file.path.clone(),
                Some(id.clone()),
                OutcomeStatus::Failed,
                Some(reason),
            );
            o.pages = pages;
            run.outcomes.push(o);
        };
        self.preparing(&file.path, PrepareStage::Hashing, 0, file.size_bytes);
        let digest = match file_sha256_hex(&file.path) {
            Ok(d) => d,
            Err(e) => {
                fail(self, format!("cannot read: {e}"), 0);
                return Ok(None);
            }
        };
        let existing = match files.read_record() {
            Ok(r) => r,
            Err(e) => {
                self.reporter.emit(ProgressEvent::Warning {
                    path: Some(file.path.clone()),
                    message: format!("{e}; the document is extracted again"),
                });
                None
            }
        };
        // Checkpoints stay valid when the text and chunks come out the same as before.
        let mut keep_checkpoints = false;
        if let Some(record) = existing.as_ref().filter(|r| r.digest == digest) {
            match &record.status {
                DocumentStatus::Indexed => match self.verify_stored(record)? {
                    StoredState::Intact(record) => {
                        return Ok(Some(self.prepared(record, false)));
                    }
                    StoredState::Reindexed(record) => {
                        return Ok(Some(self.prepared(record, true)));
                    }
                    StoredState::Damaged(reason) => {
                        self.reporter.emit(ProgressEvent::Warning {
                            path: Some(file.path.clone()),
                            message: format!("{reason}; extracted again from the unchanged source"),
                        });
                        keep_checkpoints = record.has_digests();
                    }
                },
                DocumentStatus::Failed { reason } if !self.options.retry_failed => {
                    fail(self, reason.clone(), record.pages.len() as u32);
                    return Ok(None);
                }
                DocumentStatus::Extracted => {
                    // Killed between saving and indexing: index the saved chunks now.
                    if let Ok((mut record, text, chunks)) = self.writer.load_verified(&id) {
                        self.index_and_mark(&mut record, &chunks, &text)?;
                        return Ok(Some(self.prepared(record, true)));
                    }
                    self.writer.take_noticed();
                    keep_checkpoints = record.has_digests();
                }
                DocumentStatus::Failed { .. } => {}
            }
        }
        // New or changed: anything derived from an older version goes.
        let previous = existing.as_ref().filter(|_| keep_checkpoints);
        if existing.is_some() && !keep_checkpoints {
            self.writer.remove_checkpoints(&id)?;
        }
        let title = file
            .path
            .file_name()
            .map_or_else(|| id.clone(), |n| n.to_string_lossy().into_owned());
        let mut record = DocumentRecord {
            format_version: RECORD_FORMAT_VERSION,
            id: id.clone(),
            source_path: file.path.clone(),
            title,
            kind: file.kind,
            digest: digest.clone(),
            size_bytes: file.size_bytes,
            status: DocumentStatus::Extracted,
            encoding: None,
            pages: Vec::new(),
            text_bytes: 0,
            chunk_count: 0,
            token_count: 0,
            target_chunk_tokens: self.options.target_chunk_tokens as u32,
            warnings: Vec::new(),
            text_sha256: None,
            chunks_sha256: None,
            record_sha256: None,
        };
        self.preparing(&file.path, PrepareStage::Extracting, 0, file.size_bytes);
        let reporter = &mut self.reporter;
        let extraction =
            extract_document_reporting(file, &self.options.pdf, self.cancel, &mut |page, pages| {
                reporter.emit(ProgressEvent::Preparing {
                    path: file.path.clone(),
                    stage: PrepareStage::ExtractingPages,
                    done: u64::from(page),
                    total: u64::from(pages),
                })
            });
        let extracted = match extraction {
            Ok(doc) => doc,
            Err(ExtractError::Pdf(PdfError::Cancelled)) => {
                // Not a property of the file: no record, the next run extracts it again.
                self.outcomes.push(outcome(
                    file.path.clone(),
                    Some(id),
                    OutcomeStatus::Interrupted,
                    Some("cancelled during extraction; resumes next run".into()),
                ));
                return Ok(None);
            }
            Err(e) => {
                record.status = DocumentStatus::Failed {
                    reason: e.to_string(),
                };
                if existing.as_ref().is_some_and(|r| r.chunk_count > 0) {
                    self.writer.index_remove(&id)?;
                }
                files.write_record(&record)?;
                fail(self, e.to_string(), 0);
                return Ok(None);
            }
        };
        let text_bytes = extracted.text.len() as u64;
        self.preparing(&file.path, PrepareStage::Chunking, 0, text_bytes);
        let reporter = &mut self.reporter;
        let chunked = chunk_text_reporting(
            &extracted.text,
            &extracted.pages,
            self.options.target_chunk_tokens,
            self.tokenizer,
            &mut |done| {
                reporter.emit(ProgressEvent::Preparing {
                    path: file.path.clone(),
                    stage: PrepareStage::Chunking,
                    done,
                    total: text_bytes,
                })
            },
        );
        let chunks = match chunked {
            Ok(c) => c,
            Err(reason) => {
                fail(
                    self,
                    format!("tokenizer: {reason}"),
                    extracted.pages.len() as u32,
                );
                return Ok(None);
            }
        };
        // The book's own title first, the file's name after it: a reader knows the one, a
        // folder listing shows the other.
        if let Some(work) = &extracted.work_title {
            record.title = format!("{work} ({})", record.title);
        }
        record.encoding = extracted.encoding;
        record.pages = extracted.pages;
        record.text_bytes = extracted.text.len() as u64;
        record.chunk_count = chunks.len() as u32;
        record.token_count = chunks.iter().map(|c| u64::from(c.token_count)).sum();
        record.warnings = extracted.warnings;
        let digests = files.write_text_and_chunks(&extracted.text, &digest, &chunks)?;
        if previous.is_some_and(|p| {
            p.text_sha256.as_ref() != Some(&digests.text_sha256)
                || p.chunks_sha256.as_ref() != Some(&digests.chunks_sha256)
        }) {
            // Extraction or chunking gave something else this time (other chunk size or
            // tokenizer): the states were of other chunks.
            self.writer.remove_checkpoints(&id)?;
        }
        digests.apply(&mut record);
        files.write_record(&record)?;
        self.preparing(&file.path, PrepareStage::Indexing, 0, chunks.len() as u64);
        self.index_and_mark(&mut record, &chunks, &extracted.text)?;
        Ok(Some(self.prepared(record, true)))
    }

    /// Checks an unchanged, indexed document's stored text and chunk list against their digests
    /// and its index entries against the chunk list; re-indexes when only the index is off, and
    /// records the digests in a record written by an older build.
    fn verify_stored(&mut self, record: &DocumentRecord) -> Result<StoredState> {
        let (mut record, text, chunks) = match self.writer.load_verified(&record.id) {
            Ok(loaded) => loaded,
            Err(e) => {
                // Reported here, with what is done about it; not again by the reader side.
                self.writer.take_noticed();
                return Ok(StoredState::Damaged(e.to_string()));
            }
        };
        if !record.has_digests() {
            let files = self.writer.files(&record.id);
            let chunks_bytes = std::fs::read(files.chunks_file())
                .map_err(|e| IngestError::io(files.chunks_file(), e))?;
            record.text_sha256 = Some(sha256_hex(text.as_bytes()));
            record.chunks_sha256 = Some(sha256_hex(&chunks_bytes));
            files.write_record(&record)?;
        }
        let expected: Vec<u32> = (0..chunks.len() as u32).collect();
        let indexed = self.writer.indexed_chunks(&record.id);
        if indexed.as_ref().ok() == Some(&expected) {
            return Ok(StoredState::Intact(record));
        }
        self.reporter.emit(ProgressEvent::Warning {
            path: Some(record.source_path.clone()),
            message: format!(
                "the search index held {} of its {} chunks; indexed again",
                indexed.map_or(0, |i| i.len()),
                chunks.len()
            ),
        });
        self.index_and_mark(&mut record, &chunks, &text)?;
        Ok(StoredState::Reindexed(record))
    }

    fn preparing(&mut self, path: &std::path::Path, stage: PrepareStage, done: u64, total: u64) {
        self.reporter.emit(ProgressEvent::Preparing {
            path: path.to_path_buf(),
            stage,
            done,
            total,
        });
    }

    fn index_and_mark(
        &mut self,
        record: &mut DocumentRecord,
        chunks: &[Chunk],
        text: &str,
    ) -> Result<()> {
        self.writer
            .index_replace(&record.id, &record.digest, chunks, text)?;
        record.status = DocumentStatus::Indexed;
        self.writer.files(&record.id).write_record(record)
    }

    fn prepared(&mut self, record: DocumentRecord, extracted_now: bool) -> Prepared {
        self.reporter.totals.pages_done += record.pages.len() as u64;
        self.reporter.emit(ProgressEvent::FilePrepared {
            path: record.source_path.clone(),
            pages: record.pages.len() as u32,
            chunks: record.chunk_count,
            tokens: record.token_count,
            unchanged: !extracted_now,
        });
        Prepared {
            record,
            extracted_now,
            tokens_already_read: 0,
        }
    }
}
