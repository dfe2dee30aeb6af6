//! How to answer a question: which documents, which part of them, how many passages, how to
//! sample. Kept apart from [`super::ask`](mod@super::ask) so that choosing passages ([`super::select`]) and
//! answering can both read the options without importing each other.

use engine::SamplerConfig;
use std::ops::Range;

/// Passages read before an answer by default.
pub const DEFAULT_PASSAGES_READ: usize = 3;

/// Default cap on the document text re-read for one answer. With the default reading options
/// (512-token chunks, a checkpoint every 8 chunks) the best passage costs at most about 4,600
/// tokens from its checkpoint, which leaves room for two further chunks.
pub const DEFAULT_REREAD_BUDGET_TOKENS: u64 = 6144;

/// How to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AskOptions {
    /// Ask only these documents (ids); `None`: the whole library.
    pub documents: Option<Vec<String>>,
    /// Ask the state after the whole document (or everything up to `as_of_page`).
    pub whole: bool,
    /// Use only text and checkpoints up to this page (1-based).
    pub as_of_page: Option<u32>,
    /// Only passages overlapping this byte range (asking about one section).
    pub within_bytes: Option<Range<u64>>,
    /// Evidence entries at most (the passages read plus further matches); raised to
    /// `passages_read` when that is larger.
    pub passages: usize,
    /// Passages the model reads before answering, at most: the best one from its checkpoint,
    /// then further ones of the same document (see `super::reading_plan`). 0 counts as 1.
    pub passages_read: usize,
    /// Most tokens of document text re-read for one answer; the best passage is always read,
    /// further passages only while the total stays within this.
    pub reread_budget_tokens: u64,
    /// With one document in scope and no matching passage, answer from its state (`whole`)
    /// instead of failing with [`QaError::NoMatch`](super::QaError::NoMatch).
    pub fallback_to_whole: bool,
    /// Sampling (seed, length); the template's stop strings are added.
    pub sampler: SamplerConfig,
    /// Keep the answer in the document's notes.
    pub save_to_notes: bool,
}

impl Default for AskOptions {
    fn default() -> Self {
        AskOptions {
            documents: None,
            whole: false,
            as_of_page: None,
            within_bytes: None,
            passages: DEFAULT_PASSAGES_READ,
            passages_read: DEFAULT_PASSAGES_READ,
            reread_budget_tokens: DEFAULT_REREAD_BUDGET_TOKENS,
            fallback_to_whole: true,
            sampler: answer_sampler(),
            save_to_notes: true,
        }
    }
}

/// Sampling for answers: ChatRWKV's advice for Q&A (low top-p), a modest length.
pub fn answer_sampler() -> SamplerConfig {
    SamplerConfig {
        temperature: 1.0,
        top_p: 0.3,
        max_tokens: 120,
        ..SamplerConfig::default()
    }
}
