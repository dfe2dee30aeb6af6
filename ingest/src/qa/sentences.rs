//! Splitting text into sentences for ranking: the unit a question's words are matched in is
//! a sentence or a few, much finer than a 512-token chunk, so a passage is chosen by where the
//! words stand together, not by how often a chunk repeats them.
//!
//! The splitter is deliberately simple: a sentence ends after `.`, `?` or `!` (and any closing
//! quotes or brackets) followed by white space, except after a short list of abbreviations
//! common in books and court papers ("Mr.", "v.", "No.", "Inc."), and at a blank line or a page
//! break. Very long runs without an end (tables, pleading lines without periods) are cut at
//! white space so that one "sentence" never covers a whole page.

use std::ops::Range;

/// Longest sentence, in bytes; longer runs are cut at white space.
pub const MAX_SENTENCE_BYTES: usize = 400;

/// Words after which a period does not end a sentence (lowercased, without the period).
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "v", "vs", "no", "nos", "inc", "co", "corp",
    "ltd", "llc", "cf", "al", "art", "sec", "ch", "app", "supp", "ill", "cal", "cir", "ct",
    "dist", "e.g", "i.e", "u.s", "n.e", "n.e.2d", "f.2d", "f.3d", "p", "pp", "para", "mt", "ave",
    "gen", "col", "capt", "prof", "rev", "hon", "messrs", "mme", "mlle", "fig", "vol", "ed",
    // Citations and record references in court papers: "Fed. R. Civ. P. 56", "28 U.S.C.
    // § 1291", "F. Supp. 3d", "(Dkt. 45; Compl. ¶ 12; Tr. 88)".
    "fed", "civ", "crim", "evid", "proc", "stat", "ann", "misc", "amend", "const", "subd", "cl",
    "u.s.c", "c.f.r", "s.ct", "l.ed", "f.4th", "p.2d", "p.3d", "a.2d", "a.3d", "n.e.3d",
    "s.e.2d", "s.w.2d", "s.w.3d", "so.2d", "so.3d", "n.w.2d", "n.y.s.2d", "n.y.s.3d", "a.d.2d",
    "a.d.3d", "dkt", "ex", "exs", "decl", "mot", "opp", "compl", "tr", "aff", "resp",
];

/// Byte ranges of the sentences of `text`, in order, trimmed of surrounding white space; empty
/// sentences are left out.
pub fn sentence_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '.' | '?' | '!' => {
                // Closing quotes and brackets belong to the sentence.
                let mut end = i + c.len_utf8();
                while let Some(&(j, next)) = chars.peek() {
                    if matches!(next, '"' | '\'' | '”' | '’' | ')' | ']' | '.' | '?' | '!') {
                        end = j + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let followed_by_space = chars.peek().is_none_or(|&(_, n)| n.is_whitespace());
                (followed_by_space && !(c == '.' && ends_in_abbreviation(&text[start..i])))
                    .then_some(end)
            }
            // A blank line or a page break ends a sentence (headings, list items, verse).
            '\n' if chars.peek().is_some_and(|&(_, n)| n == '\n' || n == '\r') => Some(i),
            '\x0c' => Some(i),
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(text, start..end, &mut out);
            start = end;
        }
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

/// Whether `before` (the text of a sentence so far, up to a period) ends in an abbreviation or
/// a single letter (an initial: "J. Smith").
fn ends_in_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '“')
        .next()
        .unwrap_or("");
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return true;
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

/// Adds `range` of `text`, trimmed, cut into pieces of at most [`MAX_SENTENCE_BYTES`].
fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let piece = &text[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let mut start = range.start + lead;
    let end = range.start + piece.trim_end().len();
    while start < end {
        let mut cut = end;
        if end - start > MAX_SENTENCE_BYTES {
            let limit = floor_char(text, start + MAX_SENTENCE_BYTES);
            cut = match text[start..limit].rfind(char::is_whitespace) {
                Some(at) if at > 0 => start + at,
                _ => limit,
            };
        }
        let trimmed_end = start + text[start..cut].trim_end().len();
        if trimmed_end > start {
            out.push(start..trimmed_end);
        }
        let rest = &text[cut..end];
        start = cut + (rest.len() - rest.trim_start().len());
    }
}

/// The largest char boundary of `text` at or before `at`.
pub(crate) fn floor_char(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<&str> {
        sentence_ranges(text)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn sentences_end_at_stops_but_not_at_abbreviations() {
        let text = "Mr. Holmes sat down. \"Is it?\" she asked!  Smith v. Jones, No. 4, was cited \
                    by J. Doe.\n\nChapter 2\n\nIt rained";
        assert_eq!(
            sentences(text),
            [
                "Mr. Holmes sat down.",
                "\"Is it?\"",
                "she asked!",
                "Smith v. Jones, No. 4, was cited by J. Doe.",
                "Chapter 2",
                "It rained",
            ]
        );
        // Decimal points and numbers are not ends.
        assert_eq!(
            sentences("It cost $94.50 in all. Then"),
            ["It cost $94.50 in all.", "Then"]
        );
    }

    #[test]
    fn court_citations_and_record_references_are_not_ends() {
        let text = "Summary judgment is proper under Fed. R. Civ. P. 56(a), see 28 U.S.C. § 1291 \
                    and 142 S. Ct. 1 (Dkt. 45; Compl. ¶ 12; Tr. 88). The motion is denied.";
        assert_eq!(
            sentences(text),
            [
                "Summary judgment is proper under Fed. R. Civ. P. 56(a), see 28 U.S.C. § 1291 \
                 and 142 S. Ct. 1 (Dkt. 45; Compl. ¶ 12; Tr. 88).",
                "The motion is denied.",
            ]
        );
    }

    #[test]
    fn long_runs_are_cut_at_white_space() {
        let text = "word ".repeat(300);
        let parts = sentence_ranges(&text);
        assert!(parts.len() >= 4, "{parts:?}");
        for r in &parts {
            assert!(r.len() <= MAX_SENTENCE_BYTES);
            assert!(text[r.clone()].starts_with("word"));
            assert!(text[r.clone()].ends_with("word"));
        }
        // Multi-byte text without spaces is cut on char boundaries.
        let dense = "é".repeat(500);
        assert!(sentence_ranges(&dense)
            .iter()
            .all(|r| dense.is_char_boundary(r.start) && dense.is_char_boundary(r.end)));
    }
}
