//! What a question searches with and what it may see: the question's content words (the index
//! parses plain words as an AND, so the ranking asks for any of them), `search`'s fallback to
//! any word, and the part of a document the model may use: up to the as-of page, up to what
//! has been read so far. The ranking itself is in [`super::passage_search`].

use super::error::QaError;
use super::loaded::{floor_boundary, LoadedDocument};
use super::provenance::ReadingNote;
use crate::checkpoint::{self, CheckpointInfo, DamagedCheckpoint};
use crate::chunk::chunk_page_for_checkpoint;
use crate::index::Snippet;
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

/// A `search` query with its plain words made optional, for when a natural question ("Who is
/// the woman Holmes calls the woman?") matches nothing because plain words are all required:
/// quoted phrases, `+word` and `-word` keep their meaning, the other words' content words (the
/// question's stopwords left out) become "any of". `None` when there is nothing to relax: a
/// single plain word, or a query using the index syntax itself (`AND`, `OR`, `NOT`, fields,
/// parentheses, wildcards), which is taken as meant.
pub fn any_word_query(query: &str) -> Option<String> {
    let mut required = Vec::new();
    let mut plain = Vec::new();
    let mut rest = query.trim();
    while !rest.is_empty() {
        let (piece, after) =
            if let Some(inner) = rest.strip_prefix('"').or_else(|| rest.strip_prefix("+\"")) {
                // A quoted phrase (optionally with a leading +) up to the closing quote.
                let close = inner.find('"').unwrap_or(inner.len());
                let phrase = inner[..close].trim();
                if !phrase.is_empty() {
                    required.push(format!("+\"{phrase}\""));
                }
                ("", inner.get(close + 1..).unwrap_or(""))
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            };
        rest = after.trim_start();
        if piece.is_empty() {
            continue;
        }
        if matches!(piece, "AND" | "OR" | "NOT" | "&&" | "||")
            || piece.contains([':', '(', ')', '*', '^', '~', '[', ']', '{', '}'])
        {
            return None;
        }
        if piece.len() > 1 && (piece.starts_with('+') || piece.starts_with('-')) {
            required.push(piece.to_string());
        } else {
            plain.push(piece);
        }
    }
    let words = content_words(&plain.join(" "));
    // One plain word alone is already "any of its words"; with required parts it can still be
    // made optional.
    let relaxable = words.len() >= 2 || (words.len() == 1 && !required.is_empty());
    if !relaxable {
        return None;
    }
    let any = if words.is_empty() {
        String::new()
    } else {
        format!("({})", words.join(" OR "))
    };
    Some(
        required
            .into_iter()
            .chain((!any.is_empty()).then_some(any))
            .collect::<Vec<_>>()
            .join(" "),
    )
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
    let (checkpoints, mut damaged) = library.checkpoints(&doc.record.id, fingerprint)?;
    // A checkpoint of the schedule that is gone (deleted by hand, a sync tool) is passed over
    // like a damaged one: an answer forked from further back must say so.
    let dir =
        checkpoint::checkpoint_dir(&library.checkpoints_root(), &fingerprint.0, &doc.record.id);
    for position in checkpoint::missing_positions(&checkpoints) {
        if !damaged.iter().any(|d| d.position == Some(position)) {
            damaged.push(DamagedCheckpoint {
                path: checkpoint::checkpoint_path(&dir, position),
                position: Some(position),
                reason: "missing".into(),
            });
        }
    }
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
    fn natural_questions_relax_to_any_word_but_phrases_and_plus_words_stay_required() {
        assert_eq!(
            any_word_query("Who is the woman Holmes always calls the woman?").as_deref(),
            Some("(woman OR holmes OR always OR calls)")
        );
        assert_eq!(
            any_word_query("\"liability cap\" +lease tenant storage -draft").as_deref(),
            Some("+\"liability cap\" +lease -draft (tenant OR storage)")
        );
        // Nothing to relax, or the index syntax used on purpose.
        assert_eq!(any_word_query("lighthouse"), None);
        assert_eq!(any_word_query("keeper AND light"), None);
        assert_eq!(any_word_query("title:keeper light"), None);
        assert_eq!(
            any_word_query("+keeper light").as_deref(),
            Some("+keeper (light)")
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
