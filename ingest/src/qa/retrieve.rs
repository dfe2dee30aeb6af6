//! Finding the passages for a question: the question's content words as an OR query (the index
//! parses plain words as an AND), then only the text the model may use: up to the as-of page,
//! up to what has been read so far, inside a section if asked.

use super::error::QaError;
use super::loaded::{floor_boundary, LoadedDocument};
use super::provenance::{Evidence, EvidenceRole, ReadingNote};
use crate::checkpoint::{CheckpointInfo, DamagedCheckpoint};
use crate::chunk::chunk_page_for_checkpoint;
use crate::index::Snippet;
use crate::library::SearchHit;
use std::ops::Range;

/// Words that carry no topic: left out of the search query.
#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
    "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
    "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "whose", "why", "will", "with", "would", "you", "your", "yours", "tell", "say", "said",
    "according", "document", "text", "page", "pages", "happen", "happened",
];

/// The question's content words, lowercased, in order, without repeats.
pub fn content_words(question: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let all: Vec<String> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    for w in &all {
        if w.chars().count() > 1 && !STOPWORDS.contains(&w.as_str()) && !words.contains(w) {
            words.push(w.clone());
        }
    }
    if words.is_empty() {
        // A question of stopwords only ("Who is he?"): search for what there is.
        for w in all {
            if !words.contains(&w) {
                words.push(w);
            }
        }
    }
    words
}

/// The index query for a question: its content words joined by OR (ranked by BM25, so passages
/// with more and rarer words come first). Empty when the question has no words.
#[cfg(test)]
fn query_for_question(question: &str) -> String {
    content_words(question).join(" OR ")
}

/// A crude English stem for highlighting our own snippets (the index stems properly).
fn crude_stem(word: &str) -> String {
    let w = word.to_lowercase();
    for suffix in ["ings", "ing", "edly", "ed", "es", "ly", "s"] {
        if w.len() > suffix.len() + 3 && w.ends_with(suffix) {
            return w[..w.len() - suffix.len()].to_string();
        }
    }
    w
}

/// Byte ranges in `text` of words matching one of `terms` (by crude stem).
pub fn term_matches(text: &str, terms: &[String]) -> Vec<Range<usize>> {
    let stems: Vec<String> = terms.iter().map(|t| crude_stem(t)).collect();
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            if stems.contains(&crude_stem(&text[s..i])) {
                found.push(s..i);
            }
        }
    }
    found
}

/// The part of a document the model may use for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visible {
    /// Text before this byte may be used.
    pub end_byte: u64,
    /// How far the model has read the document.
    pub reading: ReadingNote,
    /// The document's checkpoints for the model, by position (headers only, not yet verified).
    pub checkpoints: Vec<CheckpointInfo>,
    /// Checkpoint files that are damaged (passed over, reported as warnings).
    pub damaged: Vec<DamagedCheckpoint>,
    /// The as-of page applied, if any.
    pub as_of_page: Option<u32>,
    /// What the limits mean, for the reader.
    pub notices: Vec<String>,
}

/// End (exclusive byte) of page `page`'s text: the end of the last page numbered ≤ `page` that
/// has text; `None` if `page` is the last page or beyond (no limit then).
pub fn page_end_byte(doc: &LoadedDocument, page: u32) -> Option<u64> {
    if page >= last_page(doc) {
        return None;
    }
    Some(
        doc.record
            .pages
            .iter()
            .filter(|p| p.number <= page && p.byte_end > p.byte_start)
            .map(|p| p.byte_end)
            .max()
            .unwrap_or(0),
    )
}

fn last_page(doc: &LoadedDocument) -> u32 {
    doc.record.pages.iter().map(|p| p.number).max().unwrap_or(0)
}

/// What of `doc` is visible: everything the model has read (up to its latest checkpoint),
/// and nothing after page `as_of_page`.
pub fn visible_part(
    library: &crate::Library,
    fingerprint: &engine::Fingerprint,
    doc: &LoadedDocument,
    as_of_page: Option<u32>,
) -> Result<Visible, QaError> {
    let title = &doc.record.title;
    if as_of_page == Some(0) {
        return Err(QaError::BadPage {
            title: title.clone(),
            page: 0,
        });
    }
    // One listing serves both the reading progress and, later, the fork.
    let (checkpoints, damaged) = library.checkpoints(&doc.record.id, fingerprint)?;
    let chunks_read = checkpoints.last().map_or(0, |c| c.header.chunks_read);
    let chunk_count = doc.record.chunk_count;
    let (read_until, page_read) = chunk_page_for_checkpoint(&doc.chunks, chunks_read);
    let reading = ReadingNote {
        complete: chunk_count > 0 && chunks_read == chunk_count,
        chunks_read,
        chunk_count,
        page_read,
    };
    let mut notices = Vec::new();
    if chunks_read == 0 {
        return Err(QaError::NotReadYet {
            title: title.clone(),
        });
    }
    if !reading.complete {
        notices.push(format!(
            "{title} is still being read: answered from pages 1–{page_read} ({} of {} chunks) read so far.",
            reading.chunks_read, reading.chunk_count
        ));
    }
    let mut end_byte = read_until;
    if let Some(page) = as_of_page {
        if let Some(limit) = page_end_byte(doc, page) {
            end_byte = end_byte.min(limit);
        }
        let pages = last_page(doc);
        notices.push(if page > pages {
            format!("{title} has {pages} pages: text up to its end was used.")
        } else {
            format!("Only text up to page {page} was used.")
        });
    }
    Ok(Visible {
        end_byte,
        reading,
        checkpoints,
        damaged,
        as_of_page,
        notices,
    })
}

/// Turns a search hit into evidence if its passage starts in the visible text (and inside
/// `within`, if given): the passage is cut at the visible end, its pages and snippet follow the
/// cut. A cut passage that lost every matched word is dropped.
pub fn evidence_from_hit(
    hit: &SearchHit,
    doc: &LoadedDocument,
    visible_end: u64,
    within: Option<&Range<u64>>,
    terms: &[String],
    role: EvidenceRole,
) -> Option<Evidence> {
    let mut end = hit.byte_range.end.min(visible_end);
    let start = hit.byte_range.start;
    if let Some(w) = within {
        if hit.byte_range.end <= w.start || start >= w.end {
            return None;
        }
        end = end.min(w.end);
    }
    if start >= end {
        return None;
    }
    let s = floor_boundary(&doc.text, start as usize);
    let e = floor_boundary(&doc.text, end as usize);
    let body = &doc.text[s..e];
    if body.trim().is_empty() {
        return None;
    }
    let cut = end < hit.byte_range.end;
    let snippet = match &hit.snippet {
        Some(sn) if sn.byte_start + sn.text.len() as u64 <= end => Some(sn.clone()),
        _ => {
            let own = own_snippet(body, s as u64, terms);
            if cut && own.highlights.is_empty() {
                return None;
            }
            Some(own)
        }
    };
    let range = start..end;
    let pages = if cut { doc.pages_of(&range) } else { hit.pages };
    Some(Evidence {
        role,
        document_id: hit.document_id.clone(),
        title: hit.title.clone(),
        chunk_index: hit.chunk_index,
        byte_range: range,
        pages,
        score: hit.score,
        snippet,
    })
}

/// About this many characters of context around the first matched word.
const SNIPPET_CHARS: usize = 200;

/// A snippet of `body` (which starts at byte `body_start` of the document) around the first
/// match of `terms`, with the matches highlighted.
pub fn own_snippet(body: &str, body_start: u64, terms: &[String]) -> Snippet {
    let matches = term_matches(body, terms);
    let focus = matches.first().map_or(0, |r| r.start);
    let from = floor_boundary(body, focus.saturating_sub(SNIPPET_CHARS / 3));
    // Start at a word boundary so the excerpt does not open mid-word.
    let from = if from == 0 {
        0
    } else {
        body[from..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(from, |(i, c)| from + i + c.len_utf8())
            .min(focus)
    };
    let to = floor_boundary(body, from + SNIPPET_CHARS);
    let to = if to >= body.len() {
        body.len()
    } else {
        body[..to]
            .rfind(char::is_whitespace)
            .filter(|&i| i > focus)
            .unwrap_or(to)
    };
    let text = body[from..to].to_string();
    let highlights = matches
        .into_iter()
        .filter(|r| r.start >= from && r.end <= to)
        .map(|r| r.start - from..r.end - from)
        .collect();
    Snippet {
        text,
        byte_start: body_start + from as u64,
        highlights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_content_words_only() {
        assert_eq!(
            query_for_question("Who found the LETTER in the tower?"),
            "found OR letter OR tower"
        );
        assert_eq!(query_for_question("Who is he?"), "who OR is OR he");
        assert_eq!(query_for_question("  ?! "), "");
        // Query syntax characters never reach the parser.
        assert_eq!(
            query_for_question("count: (II) AND \"fraud\"*"),
            "count OR ii OR fraud"
        );
    }

    #[test]
    fn own_snippets_highlight_stems() {
        let body = "Nothing here. The keepers kept the light burning all night long.";
        let terms = vec!["keeper".to_string(), "burn".to_string()];
        let s = own_snippet(body, 100, &terms);
        let marked: Vec<&str> = s.highlights.iter().map(|r| &s.text[r.clone()]).collect();
        assert_eq!(marked, ["keepers", "burning"]);
        assert_eq!(s.byte_start, 100);
        assert!(term_matches("nothing", &terms).is_empty());
    }
}
