//! Cutting a document's text into chunks of about `target_tokens` tokens that end at paragraph or
//! sentence boundaries where possible. Chunks tile the text exactly (chunk *i* ends where *i + 1*
//! starts), so reading every chunk in order reads the whole document, and each chunk's tokens are
//! `encode(&text[byte_start..byte_end])`, a definition shared by ingestion and question answering.

use crate::extract::PageSpan;
use serde::{Deserialize, Serialize};

/// Turns text into token ids. Implemented for `engine::Tokenizer`; the chunker only needs this.
pub trait TextEncoder {
    /// The token ids of `text`, or the tokenizer's error message.
    fn encode_text(&self, text: &str) -> Result<Vec<u32>, String>;
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// 0-based position in the document.
    pub index: u32,
    /// Start in the document text (bytes).
    pub byte_start: u64,
    /// End in the document text (bytes, exclusive).
    pub byte_end: u64,
    /// First page the chunk's text is on (1-based).
    pub page_start: u32,
    /// Last page the chunk's text is on.
    pub page_end: u32,
    /// Number of tokens of the chunk's text with the tokenizer used at chunking time.
    pub token_count: u32,
    /// Tokens in all earlier chunks (with that tokenizer).
    pub token_offset: u64,
}

impl Chunk {
    /// A one-token chunk on page 1 covering `start..end`, for tests.
    #[cfg(test)]
    pub(crate) fn for_test(index: u32, start: u64, end: u64) -> Chunk {
        Chunk {
            index,
            byte_start: start,
            byte_end: end,
            page_start: 1,
            page_end: 1,
            token_count: 1,
            token_offset: u64::from(index),
        }
    }

    /// The chunk's byte range, for slicing the document text.
    pub fn byte_range(&self) -> std::ops::Range<usize> {
        self.byte_start as usize..self.byte_end as usize
    }
}

/// How strongly a position separates text; a chunk prefers to end at the strongest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Boundary {
    /// Inside a word (only when a "word" is longer than a piece may be).
    None,
    Word,
    Sentence,
    Line,
    Paragraph,
}

/// A span of text that is never split further, with the boundary at its end.
struct Piece {
    start: usize,
    end: usize,
    boundary: Boundary,
}

/// How often [`chunk_text_reporting`] reports, in bytes of text.
pub const REPORT_EVERY_BYTES: usize = 1 << 20;

/// Sentences longer than this many bytes are split at spaces (keeps pieces well under a chunk).
const MAX_PIECE_BYTES: usize = 1024;

/// Splits `text` into chunks of about `target_tokens` (see the module doc). A chunk is cut at the
/// strongest boundary among the positions where it already holds at least half the target.
pub fn chunk_text(
    text: &str,
    pages: &[PageSpan],
    target_tokens: usize,
    encoder: &dyn TextEncoder,
) -> Result<Vec<Chunk>, String> {
    chunk_text_reporting(text, pages, target_tokens, encoder, &mut |_| {})
}

/// [`chunk_text`], telling `on_bytes` how many bytes of the text are tokenized so far (every
/// [`REPORT_EVERY_BYTES`] or so): tokenizing is the slow part of preparing a large file.
pub fn chunk_text_reporting(
    text: &str,
    pages: &[PageSpan],
    target_tokens: usize,
    encoder: &dyn TextEncoder,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<Vec<Chunk>, String> {
    let target_tokens = target_tokens.max(1);
    let pieces = split_pieces(text);
    let mut piece_tokens = Vec::with_capacity(pieces.len());
    let mut reported = 0;
    for p in &pieces {
        piece_tokens.push(encoder.encode_text(&text[p.start..p.end])?.len());
        if p.end - reported >= REPORT_EVERY_BYTES {
            reported = p.end;
            on_bytes(p.end as u64);
        }
    }
    // Greedy packing with a look-back for the best cut.
    let mut cuts = Vec::new(); // piece indices after which a chunk ends
    let mut first = 0usize; // first piece of the current chunk
    let mut tokens = 0usize;
    let mut i = 0usize;
    while i < pieces.len() {
        if tokens > 0 && tokens + piece_tokens[i] > target_tokens {
            let cut = best_cut(&pieces[first..i], &piece_tokens[first..i], target_tokens) + first;
            cuts.push(cut);
            first = cut + 1;
            tokens = piece_tokens[first..i].iter().sum();
            continue;
        }
        tokens += piece_tokens[i];
        i += 1;
    }
    if first < pieces.len() {
        cuts.push(pieces.len() - 1);
    }

    let mut chunks = Vec::with_capacity(cuts.len());
    let mut start = 0usize;
    let mut token_offset = 0u64;
    for (index, &cut) in cuts.iter().enumerate() {
        let end = if index + 1 == cuts.len() {
            text.len()
        } else {
            pieces[cut].end
        };
        let token_count = encoder.encode_text(&text[start..end])?.len() as u32;
        let (page_start, page_end) = page_range(text, pages, start, end);
        chunks.push(Chunk {
            index: index as u32,
            byte_start: start as u64,
            byte_end: end as u64,
            page_start,
            page_end,
            token_count,
            token_offset,
        });
        token_offset += u64::from(token_count);
        start = end;
    }
    Ok(chunks)
}

/// Index (within the slice) of the piece after which to cut.
fn best_cut(pieces: &[Piece], tokens: &[usize], target_tokens: usize) -> usize {
    let half = target_tokens / 2;
    let mut sum = 0usize;
    let mut best = pieces.len() - 1;
    let mut best_boundary = None;
    for (k, (piece, &t)) in pieces.iter().zip(tokens).enumerate() {
        sum += t;
        if sum >= half && best_boundary.is_none_or(|b| piece.boundary >= b) {
            best = k;
            best_boundary = Some(piece.boundary);
        }
    }
    best
}

/// Pages of the first and last visible byte of `start..end`.
fn page_range(text: &str, pages: &[PageSpan], start: usize, end: usize) -> (u32, u32) {
    let slice = &text[start..end];
    let first_visible = start + (slice.len() - slice.trim_start().len());
    let last_visible = (start + slice.trim_end().len())
        .saturating_sub(1)
        .max(first_visible);
    let first = page_at_byte(pages, first_visible as u64).unwrap_or(1);
    let last = page_at_byte(pages, last_visible as u64).unwrap_or(first);
    (first, last.max(first))
}

/// The page (1-based number) holding byte `offset` of the document text: the last page with text
/// that starts at or before it. `None` if no page has text.
pub fn page_at_byte(pages: &[PageSpan], offset: u64) -> Option<u32> {
    pages
        .iter()
        .rfind(|p| p.byte_end > p.byte_start && p.byte_start <= offset)
        .or_else(|| pages.iter().find(|p| p.byte_end > p.byte_start))
        .map(|p| p.number)
}

/// (byte offset, page) where a state covering the first `chunks_read` chunks stands: the end of
/// the last chunk read and its last page; (0, 0) before any chunk.
pub fn chunk_page_for_checkpoint(chunks: &[Chunk], chunks_read: u32) -> (u64, u32) {
    match (chunks_read as usize)
        .checked_sub(1)
        .and_then(|i| chunks.get(i))
    {
        Some(c) => (c.byte_end, c.page_end),
        None => (0, 0),
    }
}

/// Splits text into pieces ending after paragraph, line, sentence or (for long sentences) word
/// boundaries; the whitespace after a boundary belongs to the piece before it.
fn split_pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        let boundary_here = match c {
            b'\n' => Some(Boundary::Line),
            b'.' | b'!' | b'?' | b';' => {
                // Closing quotes or brackets stay with the sentence they end.
                let mut j = i + 1;
                while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b')' | b']') {
                    j += 1;
                }
                if j >= bytes.len() || bytes[j].is_ascii_whitespace() {
                    i = j - 1;
                    Some(Boundary::Sentence)
                } else {
                    None
                }
            }
            _ => None,
        };
        i += 1;
        if let Some(mut boundary) = boundary_here {
            // Swallow the following whitespace; two newlines make a paragraph break.
            let mut newlines = usize::from(c == b'\n');
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                newlines += usize::from(bytes[i] == b'\n');
                i += 1;
            }
            if newlines >= 2 {
                boundary = Boundary::Paragraph;
            } else if newlines == 1 {
                boundary = boundary.max(Boundary::Line);
            }
            push_piece(text, start, i, boundary, &mut pieces);
            start = i;
        }
    }
    if start < text.len() {
        push_piece(text, start, text.len(), Boundary::Paragraph, &mut pieces);
    }
    pieces
}

/// Adds `start..end`, splitting it at spaces (or, failing that, at character boundaries) when it
/// is longer than [`MAX_PIECE_BYTES`].
fn push_piece(text: &str, start: usize, end: usize, boundary: Boundary, pieces: &mut Vec<Piece>) {
    let mut from = start;
    while end - from > MAX_PIECE_BYTES {
        let window_end = floor_char_boundary(text, from + MAX_PIECE_BYTES);
        let window = &text[from..window_end];
        let (cut, kind) = match window.rfind(char::is_whitespace) {
            Some(ws) if ws > 0 => {
                let ws_len = window[ws..].chars().next().map_or(1, char::len_utf8);
                (from + ws + ws_len, Boundary::Word)
            }
            _ => (window_end.max(from + 1), Boundary::None),
        };
        let cut = if text.is_char_boundary(cut) {
            cut
        } else {
            ceil_char_boundary(text, cut)
        };
        pieces.push(Piece {
            start: from,
            end: cut,
            boundary: kind,
        });
        from = cut;
    }
    if from < end {
        pieces.push(Piece {
            start: from,
            end,
            boundary,
        });
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::PageStatus;

    /// One token per whitespace-separated word: enough to test packing without a model file.
    struct WordEncoder;
    impl TextEncoder for WordEncoder {
        fn encode_text(&self, text: &str) -> Result<Vec<u32>, String> {
            Ok(text.split_whitespace().map(|w| w.len() as u32).collect())
        }
    }

    fn one_page(text: &str) -> Vec<PageSpan> {
        vec![PageSpan {
            number: 1,
            byte_start: 0,
            byte_end: text.len() as u64,
            status: PageStatus::Ok,
        }]
    }

    fn sentence(i: usize) -> String {
        format!("Sentence number {i} has exactly seven words. ")
    }

    #[test]
    fn chunks_tile_the_text_and_respect_the_target() {
        let mut text = String::new();
        for p in 0..20 {
            for s in 0..5 {
                text.push_str(&sentence(p * 5 + s));
            }
            text.push_str("\n\n");
        }
        let chunks = chunk_text(&text, &one_page(&text), 64, &WordEncoder).unwrap();
        assert!(chunks.len() > 5);
        let mut pos = 0;
        let mut offset = 0;
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.index as usize, i);
            assert_eq!(c.byte_start as usize, pos);
            assert_eq!(c.token_offset, offset);
            assert!(c.token_count <= 64, "{c:?}");
            pos = c.byte_end as usize;
            offset += u64::from(c.token_count);
        }
        assert_eq!(pos, text.len());
        // Paragraphs hold 35 words: the best boundary past half of 64 is a paragraph end.
        for c in &chunks[..chunks.len() - 1] {
            assert!(
                text[c.byte_range()].trim_end().ends_with('.'),
                "{:?}",
                &text[c.byte_range()]
            );
        }
        assert!(text[chunks[0].byte_range()].ends_with("\n\n"));
    }

    #[test]
    fn sentences_are_preferred_to_words() {
        let text: String = (0..40).map(sentence).collect();
        let chunks = chunk_text(&text, &one_page(&text), 50, &WordEncoder).unwrap();
        for c in &chunks[..chunks.len() - 1] {
            assert!(
                text[c.byte_range()].ends_with("words. "),
                "{:?}",
                &text[c.byte_range()]
            );
        }
    }

    #[test]
    fn a_text_without_any_boundary_is_still_cut_and_utf8_safe() {
        let text = "é".repeat(5000); // 10,000 bytes, no spaces
                                     // Each 1,024-byte piece counts as one "word" token here; a target of 1 cuts after each.
        let chunks = chunk_text(&text, &one_page(&text), 1, &WordEncoder).unwrap();
        assert!(chunks.len() >= 9, "{}", chunks.len());
        assert_eq!(chunks.last().unwrap().byte_end as usize, text.len());
        for c in &chunks {
            assert!(text.is_char_boundary(c.byte_start as usize));
        }
        assert!(chunk_text("", &[], 512, &WordEncoder).unwrap().is_empty());
    }

    #[test]
    fn chunks_know_their_pages() {
        let text = "Page one text.\n\nPage two starts here. More.\n\nPage three.";
        let pages = vec![
            PageSpan {
                number: 1,
                byte_start: 0,
                byte_end: 14,
                status: PageStatus::Ok,
            },
            PageSpan {
                number: 2,
                byte_start: 16,
                byte_end: 43,
                status: PageStatus::Ok,
            },
            PageSpan {
                number: 3,
                byte_start: 45,
                byte_end: 45,
                status: PageStatus::NoTextLayer { has_images: true },
            },
            PageSpan {
                number: 4,
                byte_start: 45,
                byte_end: 56,
                status: PageStatus::Ok,
            },
        ];
        let chunks = chunk_text(text, &pages, 4, &WordEncoder).unwrap();
        let ranges: Vec<_> = chunks.iter().map(|c| (c.page_start, c.page_end)).collect();
        assert_eq!(ranges, [(1, 1), (2, 2), (2, 4)], "{chunks:?}");
        let all = chunk_text(text, &pages, 1000, &WordEncoder).unwrap();
        assert_eq!((all[0].page_start, all[0].page_end), (1, 4));
        assert_eq!(page_at_byte(&pages, 15), Some(1));
        assert_eq!(page_at_byte(&pages, 45), Some(4));
    }
}
