//! The two kinds of message that cross the line between the app state and the threads that do
//! the work: `Effect`s go out (what the state wants done), `WorkerEvent`s come back (what
//! happened). Both are plain data, so a test can play the worker's part by sending events.

use std::ops::Range;

use super::state::{
    DocEntry, DocumentText, Evidence, GenerationStatus, ModelBadge, QaEntry, ReadingProgress,
    SectionSummary,
};

/// Work the state asks for; the runtime hands it to the workers.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Load a document's text and its notes (earlier answers, summaries).
    OpenDocument { doc_id: String },
    /// Read a document again from the start.
    Reread { doc_id: String },
    /// Remove a document from the library.
    Remove { doc_id: String },
    /// Answer a question about one document (or the whole library when `doc_id` is `None`),
    /// from passages within the byte range `within` when set.
    Ask {
        job: u64,
        doc_id: Option<String>,
        question: String,
        within: Option<Range<usize>>,
    },
    /// Write section summaries of a document: all of them (reusing stored ones unless
    /// `refresh`), or one section (by its index) again.
    Summarize {
        job: u64,
        doc_id: String,
        section: Option<u32>,
        refresh: bool,
    },
    /// Stop a running question or summary.
    Cancel { job: u64 },
    /// Export a document's questions, answers and summaries to Markdown.
    Export { doc_id: String },
}

/// What the workers report.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// The model file is being loaded.
    ModelLoading { file_name: String },
    /// The model is ready.
    ModelLoaded(ModelBadge),
    /// The model could not be loaded.
    ModelFailed { reason: String },
    /// The library's documents (sent at start and whenever a document changes).
    LibraryListed {
        location: String,
        docs: Vec<DocEntry>,
    },
    /// The library could not be opened.
    LibraryFailed { reason: String },
    /// Background reading moved on.
    Reading(ReadingProgress),
    /// Background reading ended; `summary` says how it went.
    ReadingFinished { summary: String, failed: bool },
    /// A document's text is ready.
    DocumentLoaded(DocumentText),
    /// A document's text could not be loaded.
    DocumentFailed { doc_id: String, reason: String },
    /// A document's stored notes.
    NotesLoaded {
        doc_id: String,
        history: Vec<QaEntry>,
        sections: Vec<SectionSummary>,
    },
    /// The model turned to this question or summary job (it may have waited for the model to
    /// load or for the job before it): it is no longer queued.
    JobStarted { job: u64 },
    /// The passages a question will be answered from (sent before the first token).
    AskEvidence {
        job: u64,
        evidence: Vec<Evidence>,
        note: Option<String>,
    },
    /// More answer text.
    AskText { job: u64, text: String },
    /// The answer ended; `note` says what the reader must know (e.g. the document is still being
    /// read), `provenance` where the answer came from.
    AskFinished {
        job: u64,
        status: GenerationStatus,
        note: Option<String>,
        provenance: String,
    },
    /// The sections that summaries are being written for.
    SummarySections {
        job: u64,
        sections: Vec<SectionSummary>,
    },
    /// More summary text for the section with this index.
    SummaryText {
        job: u64,
        section: u32,
        text: String,
    },
    /// One section's summary ended: its final text (when there is one) and provenance.
    SummaryDone {
        job: u64,
        section: u32,
        summary: Option<String>,
        provenance: String,
        status: GenerationStatus,
    },
    /// The whole summary job ended.
    SummariesFinished { job: u64, status: GenerationStatus },
    /// Notes were exported to this file.
    Exported { path: String },
    /// Something worth a line in the status bar.
    Notice { text: String, is_error: bool },
}
