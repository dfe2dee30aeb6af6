//! A document as a question or summary sees it: its record, extracted text and chunks, loaded
//! once, with the page lookups and char-boundary helpers that retrieval and reading both need.

use super::error::QaError;
use crate::chunk::{page_at_byte, Chunk};
use crate::document::DocumentRecord;
use std::ops::Range;

/// A document's record, text and chunks, loaded once per question or summary.
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    /// The record.
    pub record: DocumentRecord,
    /// The extracted text (byte ranges refer to it).
    pub text: String,
    /// The chunks, in order.
    pub chunks: Vec<Chunk>,
}

impl LoadedDocument {
    /// Loads document `id` from the library.
    pub fn load(library: &crate::Library, id: &str) -> Result<LoadedDocument, QaError> {
        // Text and chunks checked against their digests: damage is an error, and the library
        // notices it for the answer's warnings.
        let (record, text, chunks) = library.load_verified(id)?;
        Ok(LoadedDocument {
            record,
            text,
            chunks,
        })
    }

    /// Pages of the visible text in `range` (first and last non-blank byte); (0, 0) if blank.
    pub fn pages_of(&self, range: &Range<u64>) -> (u32, u32) {
        let start = floor_boundary(&self.text, range.start as usize);
        let end = floor_boundary(&self.text, range.end as usize).max(start);
        let slice = &self.text[start..end];
        let trimmed = slice.trim_start();
        if trimmed.trim_end().is_empty() {
            return (0, 0);
        }
        let first = start + (slice.len() - trimmed.len());
        let last = start + slice.trim_end().len() - 1;
        let pages = &self.record.pages;
        let first_page = page_at_byte(pages, first as u64).unwrap_or(1);
        let last_page = page_at_byte(pages, last as u64).unwrap_or(first_page);
        (first_page, last_page.max(first_page))
    }
}

/// The largest char boundary of `text` at or below `at` (clamped to the text's length).
pub fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
