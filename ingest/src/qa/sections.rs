//! Sections of a document, for summaries and navigation: headings found in the text (chapters,
//! parts, numbered headings, Markdown headings, case captions, "ORDER", "OPINION", …) or, when a
//! document has none, spans between checkpoints (so each summary starts exactly at a stored state).
//!
//! Headings come from [`super::headings`]. Headings whose section has almost no text of its own
//! (a title page, "PART ONE" right before "Chapter 1") are folded into the next section; court
//! captions never are (each starts a filing).

use super::error::QaError;
pub use super::headings::SectionKind;
use super::headings::{detect_headings, Heading};
use super::loaded::LoadedDocument;
use crate::chunk::Chunk;
use crate::extract::PageSpan;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A section of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Position in the document (0-based).
    pub index: u32,
    /// Heading text, or "Pages a–b" for spans.
    pub title: String,
    /// Kind of heading.
    pub kind: SectionKind,
    /// Byte range in the document text (sections tile the text).
    pub byte_range: Range<u64>,
    /// First and last page.
    pub pages: (u32, u32),
    /// Chunks overlapping the section.
    pub chunks: Range<u32>,
}

/// Sections shorter than this (non-blank bytes after the heading line) are folded into the next.
const MIN_SECTION_BODY_BYTES: usize = 200;
/// Text before the first heading becomes its own section when it is at least this long.
const MIN_OPENING_BYTES: usize = 300;

/// Sections of a document: from its headings, or (fewer than two headings) spans ending at the
/// checkpoints in `checkpoint_chunks` (chunk counts), or every `fallback_every_chunks` chunks
/// when there are no checkpoints.
pub fn detect_sections(
    text: &str,
    pages: &[PageSpan],
    chunks: &[Chunk],
    checkpoint_chunks: &[u32],
    fallback_every_chunks: u32,
) -> Vec<Section> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let starts = heading_starts(text);
    let starts = if starts.len() >= 2 {
        starts
    } else {
        span_starts(chunks, checkpoint_chunks, fallback_every_chunks)
    };
    let doc = Located {
        text,
        pages,
        chunks,
    };
    let mut sections = Vec::with_capacity(starts.len());
    for (i, (start, title, kind)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(text.len() as u64, |s| s.0);
        let range = *start..end;
        let pages = doc.pages(&range);
        let title = match kind {
            SectionKind::Span => super::provenance::page_label(pages)
                .replacen("p. ", "Page ", 1)
                .replacen("pp. ", "Pages ", 1),
            _ => title.clone(),
        };
        sections.push(Section {
            index: i as u32,
            title,
            kind: *kind,
            pages,
            chunks: doc.chunks_overlapping(&range),
            byte_range: range,
        });
    }
    sections
}

/// Section starts from headings: tiny sections folded into the next, the opening kept if long.
fn heading_starts(text: &str) -> Vec<(u64, String, SectionKind)> {
    let headings = detect_headings(text);
    let body_bytes = |from: u64, to: u64, heading: Option<&Heading>| -> usize {
        let slice = &text[from as usize..to as usize];
        let skip = heading.map_or(0, |h| h.title.len());
        slice
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .count()
            .saturating_sub(skip)
    };
    let mut starts: Vec<(u64, String, SectionKind)> = Vec::new();
    // A pending start whose section was too short: the next heading's section begins there.
    let mut carry: Option<u64> = None;
    for (i, h) in headings.iter().enumerate() {
        let end = headings
            .get(i + 1)
            .map_or(text.len() as u64, |n| n.byte_start);
        let start = carry.take().unwrap_or(h.byte_start);
        // A caption starts a filing (a case file may hold several): never folded away.
        let tiny = body_bytes(h.byte_start, end, Some(h)) < MIN_SECTION_BODY_BYTES;
        if tiny && h.kind != SectionKind::Caption && i + 1 < headings.len() {
            carry = Some(start);
            continue;
        }
        starts.push((start, h.title.clone(), h.kind));
    }
    let Some(first) = starts.first_mut() else {
        return starts;
    };
    if first.0 > 0 {
        if body_bytes(0, first.0, None) >= MIN_OPENING_BYTES {
            starts.insert(0, (0, "Opening".to_string(), SectionKind::Opening));
        } else {
            first.0 = 0;
        }
    }
    // A last section with almost no text joins the one before it.
    if starts.len() >= 2 {
        let last = &starts[starts.len() - 1];
        if body_bytes(last.0, text.len() as u64, None) < MIN_SECTION_BODY_BYTES / 2 {
            starts.pop();
        }
    }
    starts
}

/// Span starts at checkpoint positions (or every `every` chunks): byte offsets of chunk starts.
fn span_starts(
    chunks: &[Chunk],
    checkpoint_chunks: &[u32],
    every: u32,
) -> Vec<(u64, String, SectionKind)> {
    let count = chunks.len() as u32;
    let mut boundaries: Vec<u32> = checkpoint_chunks
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < count)
        .collect();
    if boundaries.is_empty() {
        let every = every.max(1);
        boundaries = (1..count).filter(|c| c % every == 0).collect();
    }
    boundaries.sort_unstable();
    boundaries.dedup();
    std::iter::once(0u64)
        .chain(
            boundaries
                .iter()
                .filter_map(|&c| chunks.get(c as usize).map(|ch| ch.byte_start)),
        )
        .map(|b| (b, String::new(), SectionKind::Span))
        .collect()
}

struct Located<'a> {
    text: &'a str,
    pages: &'a [PageSpan],
    chunks: &'a [Chunk],
}

impl Located<'_> {
    fn pages(&self, range: &Range<u64>) -> (u32, u32) {
        let slice = &self.text[range.start as usize..range.end as usize];
        let lead = slice.len() - slice.trim_start().len();
        let first = range.start + lead as u64;
        let last = (range.start + slice.trim_end().len() as u64)
            .saturating_sub(1)
            .max(first);
        let p0 = crate::chunk::page_at_byte(self.pages, first).unwrap_or(1);
        let p1 = crate::chunk::page_at_byte(self.pages, last).unwrap_or(p0);
        (p0, p1.max(p0))
    }

    fn chunks_overlapping(&self, range: &Range<u64>) -> Range<u32> {
        let first = self.chunks.partition_point(|c| c.byte_end <= range.start);
        let end = self.chunks.partition_point(|c| c.byte_start < range.end);
        first as u32..end.max(first) as u32
    }
}

/// The sections of a library document, using the checkpoints of `model` for the fallback spans.
pub fn document_sections(
    library: &crate::Library,
    fingerprint: &engine::Fingerprint,
    id: &str,
) -> Result<Vec<Section>, QaError> {
    let doc = LoadedDocument::load(library, id)?;
    sections_of(library, fingerprint, &doc)
}

pub(crate) fn sections_of(
    library: &crate::Library,
    fingerprint: &engine::Fingerprint,
    doc: &LoadedDocument,
) -> Result<Vec<Section>, QaError> {
    let (checkpoints, _) = library.checkpoints(&doc.record.id, fingerprint)?;
    let at: Vec<u32> = checkpoints.iter().map(|c| c.header.chunks_read).collect();
    Ok(detect_sections(
        &doc.text,
        &doc.record.pages,
        &doc.chunks,
        &at,
        DEFAULT_FALLBACK_EVERY_CHUNKS,
    ))
}

/// Chunks per span when a document has neither headings nor checkpoints (the ingestion default
/// checkpoint spacing).
pub const DEFAULT_FALLBACK_EVERY_CHUNKS: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(index: u32, start: u64, end: u64) -> Chunk {
        Chunk::for_test(index, start, end)
    }

    #[test]
    fn tiny_sections_fold_into_the_next_and_sections_tile_the_text() {
        let body = "word ".repeat(60);
        let text =
            format!("TITLE PAGE\n\nA Mystery\n\nChapter 1\n\n{body}\n\nChapter 2\n\n{body}\n");
        let chunks = vec![chunk(0, 0, text.len() as u64)];
        let s = detect_sections(&text, &[], &chunks, &[], 8);
        let titles: Vec<&str> = s.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Chapter 1", "Chapter 2"]);
        assert_eq!(s[0].byte_range.start, 0);
        assert_eq!(s[0].byte_range.end, s[1].byte_range.start);
        assert_eq!(s[1].byte_range.end, text.len() as u64);
        assert_eq!(s[1].chunks, 0..1);
    }

    #[test]
    fn without_headings_spans_end_at_checkpoints() {
        let text = "plain text ".repeat(40);
        let chunks: Vec<Chunk> = (0..10)
            .map(|i| chunk(i, i as u64 * 44, (i as u64 + 1) * 44))
            .collect();
        let s = detect_sections(&text, &[], &chunks, &[4, 8, 10], 3);
        let starts: Vec<u64> = s.iter().map(|s| s.byte_range.start).collect();
        assert_eq!(starts, [0, 176, 352]);
        assert!(s.iter().all(|s| s.kind == SectionKind::Span));
        assert_eq!(s[1].chunks, 4..8);
        // No checkpoints: every 3 chunks.
        let s = detect_sections(&text, &[], &chunks, &[], 3);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].title, "Page 1");
    }
}
