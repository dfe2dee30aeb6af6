//! Errors of the library as a whole. Problems with one input file are not errors of this kind:
//! they end up in that file's [`crate::FileOutcome`] so that one bad file never stops the rest.

use std::path::PathBuf;

/// What went wrong while opening, writing or querying a library.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A file or folder of the library could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the library's writer lock.
    #[error("library in use: another rwkv-reader process is writing to {dir} (readers still work; wait for it to finish or quit it)")]
    LibraryInUse {
        /// The library directory.
        dir: PathBuf,
    },
    /// A command that only reads was pointed at a folder that holds no library.
    #[error("no library at {dir} (nothing was created there; `rwkv-reader ingest --library {dir} PATH` makes one)")]
    NoLibrary {
        /// The folder.
        dir: PathBuf,
    },
    /// A metadata file of the library is damaged or from an unknown format version.
    #[error("{path}: damaged library file: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The full-text index reported an error.
    #[error("search index {dir}: {reason}")]
    Index {
        /// The index directory.
        dir: PathBuf,
        /// tantivy's message.
        reason: String,
    },
    /// A search query could not be parsed.
    #[error("bad search query {query:?}: {reason}")]
    Query {
        /// The query as typed.
        query: String,
        /// The parser's message.
        reason: String,
    },
    /// No document with this id is in the library.
    #[error("no document {0} in the library")]
    UnknownDocument(String),
    /// A checkpoint could not be used (damaged, other model, other version of the document).
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The tokenizer failed on a document's text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The model failed while reading a document.
    #[error("model: {0}")]
    Model(String),
}

impl IngestError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
