//! Why a question or a summary could not be answered.

use crate::error::IngestError;

/// Errors of [`crate::qa`]. A weak answer is not an error: it comes back with its evidence.
#[derive(Debug, thiserror::Error)]
pub enum QaError {
    /// Reading the library failed (files, index, checkpoints, notes).
    #[error(transparent)]
    Library(#[from] IngestError),
    /// The model failed while reading or generating.
    #[error("model: {0}")]
    Model(String),
    /// The tokenizer failed on a prompt or on document text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The question is empty.
    #[error("the question is empty")]
    EmptyQuestion,
    /// Nothing to ask: no indexed document in the library (or none matching the name).
    #[error("no readable document to ask{0}")]
    NoDocuments(String),
    /// No passage in scope contains the question's words.
    #[error("no passage matches {question:?}{scope}")]
    NoMatch {
        /// The question.
        question: String,
        /// Where it was looked for (", up to page 4", ...), for the message.
        scope: String,
    },
    /// The model has not read any of the document yet (no checkpoint).
    #[error("{title}: not read by this model yet (no checkpoint); ingest it first or wait for reading to reach the text")]
    NotReadYet {
        /// The document's title.
        title: String,
    },
    /// No document of the library has been read by this model: its checkpoints are all of other
    /// models, precisions or devices (engine/RWKV4.md §7), whose states are never resumed.
    #[error("no document has been read by this model ({model}) yet: the library was read with another model, precision or device; read it with this one first (`rwkv-reader ingest PATHS`, or open the UI)")]
    NotReadByThisModel {
        /// The model's label (name, size, precision, device).
        model: String,
    },
    /// `as_of_page` is 0.
    #[error("{title}: page numbers start at 1 (asked for page {page})")]
    BadPage {
        /// The document's title.
        title: String,
        /// The page asked for.
        page: u32,
    },
    /// The caller cancelled (flag or callback).
    #[error("cancelled")]
    Cancelled,
    /// A retrieval benchmark's question file is malformed.
    #[error("{}: {reason}", path.display())]
    QuestionFile {
        /// The question file.
        path: std::path::PathBuf,
        /// What is wrong, with the line number.
        reason: String,
    },
}

impl From<engine::EngineError> for QaError {
    fn from(e: engine::EngineError) -> Self {
        match e {
            engine::EngineError::Cancelled => QaError::Cancelled,
            other => QaError::Model(other.to_string()),
        }
    }
}
