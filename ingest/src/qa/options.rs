//! How to answer a question: which documents, which part of them, how many passages, how to
//! sample. Kept apart from [`super::ask`] so that choosing passages ([`super::select`]) and
//! answering can both read the options without importing each other.

use engine::SamplerConfig;
use std::ops::Range;

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
    /// Evidence entries at most (the passage read plus further matches).
    pub passages: usize,
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
            passages: 3,
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
