//! Errors of the engine. Every variant that concerns a file names it.

use std::path::PathBuf;

/// Anything that can go wrong while loading a model, reading tokens or generating.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file is readable but is not a usable RWKV-4 checkpoint; `reason` says why.
    #[error("{path}: not a usable RWKV-4 checkpoint: {reason}")]
    BadWeights {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming tensors where one is to blame.
        reason: String,
    },
    /// The tokenizer file could not be loaded.
    #[error("{path}: cannot load tokenizer: {reason}")]
    Tokenizer {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Encoding or decoding text failed.
    #[error("tokenizer: {0}")]
    Encode(String),
    /// A token id outside the model's vocabulary was fed.
    #[error("token id {token} is outside the model's vocabulary of {n_vocab}")]
    TokenOutOfRange {
        /// The offending id.
        token: u32,
        /// The model's vocabulary size.
        n_vocab: usize,
    },
    /// A state that does not belong to this model was passed to it.
    #[error("state has {got_layers} layers of width {got_width}, model has {want_layers} of width {want_width}")]
    StateShape {
        /// Layers in the state.
        got_layers: usize,
        /// Width of the state's vectors.
        got_width: usize,
        /// Layers in the model.
        want_layers: usize,
        /// Model width.
        want_width: usize,
    },
    /// `forward` was called with no tokens, so there are no logits to return.
    #[error("forward needs at least one token")]
    NoTokens,
    /// [`crate::LanguageModel::read_cancellable`] saw its flag set; the state is half-advanced.
    #[error("reading was cancelled")]
    Cancelled,
    /// A tensor operation inside candle failed. (Not a `#[source]`: the message already holds
    /// candle's, and a source would print it twice in an error chain.)
    #[error("tensor operation failed: {0}")]
    Candle(candle_core::Error),
    /// A device name that is not known, or not available in this build.
    #[error("{0}")]
    Device(String),
    /// Writing an output file failed.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl EngineError {
    pub(crate) fn bad(path: &std::path::Path, reason: impl Into<String>) -> Self {
        EngineError::BadWeights {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        EngineError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<candle_core::Error> for EngineError {
    fn from(e: candle_core::Error) -> Self {
        EngineError::Candle(e)
    }
}
