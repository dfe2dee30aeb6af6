//! Words that typesetting broke across two lines with a hyphen ("Interna-\ntional",
//! "war-\nrantless"), joined again.
//!
//! Typeset opinions (a Supreme Court slip opinion, most reporters) and the text dumps made from
//! them hyphenate at line ends. Left broken, "warrantless" is two words to the search ("war",
//! "rantless"), a question's keyword never meets it, and the model reads a fragment. A hyphen at a
//! line end is not always a break, though: "in-\nperson", "cross-\nexamine", "to-\nmorrow" are
//! compounds that happened to end a line. The document itself says which: a word it also writes
//! unbroken elsewhere is joined, a compound it also writes with its hyphen is kept. When it
//! writes neither, the word is joined if the bundled word list knows it whole ("payment",
//! "material"), and kept otherwise. A soft hyphen (U+00AD) is always a break.

use std::collections::HashMap;

/// A soft hyphen: marks where a word may be broken; never part of the word.
const SOFT_HYPHEN: char = '\u{ad}';

/// The Unicode hyphen, which some PDFs give for the printed one.
const HYPHEN: char = '\u{2010}';

/// How often a text writes each word whole and each two-part compound with its hyphen.
#[derive(Debug, Default)]
struct WordCounts {
    /// Lowercased words, as written between non-letters.
    whole: HashMap<String, u32>,
    /// Lowercased "left-right" pairs written on one line.
    hyphenated: HashMap<String, u32>,
}

impl WordCounts {
    /// Counts the words of `texts` (the pages of one document).
    fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> WordCounts {
        let mut counts = WordCounts::default();
        for text in texts {
            counts.add(text);
        }
        counts
    }

    fn add(&mut self, text: &str) {
        let mut previous: Option<&str> = None;
        let mut rest = text;
        while let Some(start) = rest.find(char::is_alphabetic) {
            let after = &rest[start..];
            let len = after
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(after.len());
            let word = &after[..len];
            *self.whole.entry(word.to_lowercase()).or_default() += 1;
            // "left-right" with nothing but the hyphen between them.
            if let Some(left) = previous {
                if matches!(&rest[..start], "-" | "\u{2010}") {
                    let pair = format!("{}-{}", left.to_lowercase(), word.to_lowercase());
                    *self.hyphenated.entry(pair).or_default() += 1;
                }
            }
            previous = Some(word);
            rest = &after[len..];
        }
    }

    fn whole(&self, word: &str) -> u32 {
        self.whole.get(word).copied().unwrap_or(0)
    }

    fn hyphenated(&self, pair: &str) -> u32 {
        self.hyphenated.get(pair).copied().unwrap_or(0)
    }
}

/// Joins the line-end breaks of one document's `texts` (its pages, or its whole text) and drops
/// its soft hyphens (see the module's account). `known_word` says whether a lowercased word is
/// in the bundled word list. The document's words are counted only when some text has a break.
pub(crate) fn join_broken_words(texts: &mut [&mut String], known_word: &dyn Fn(&str) -> bool) {
    if !texts.iter().any(|t| has_break(t)) {
        return;
    }
    let counts = WordCounts::of(texts.iter().map(|t| t.as_str()));
    for text in texts.iter_mut() {
        if let Some(joined) = join_in(text, &counts, known_word) {
            **text = joined;
        }
    }
}

/// Whether `text` has a soft hyphen, or a hyphen with nothing but spaces before its line's end.
fn has_break(text: &str) -> bool {
    text.contains(SOFT_HYPHEN)
        || text.match_indices(['-', HYPHEN]).any(|(at, hyphen)| {
            text[at + hyphen.len()..]
                .trim_start_matches([' ', '\t'])
                .starts_with('\n')
        })
}

/// `text` with its line-end breaks joined and its soft hyphens dropped, or `None` when it has
/// neither. `counts` are the whole document's. A joined word stays on the line it starts: the
/// line break moves to the space after it, so the text keeps its lines.
fn join_in(text: &str, counts: &WordCounts, known_word: &dyn Fn(&str) -> bool) -> Option<String> {
    if !has_break(text) {
        return None;
    }
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['-', HYPHEN, SOFT_HYPHEN]) {
        let hyphen = rest[at..].chars().next().unwrap_or('-');
        let before = &rest[..at];
        let after = &rest[at + hyphen.len_utf8()..];
        let Some(joined) = break_to_join(before, hyphen, after, counts, known_word) else {
            // Not a break: a soft hyphen elsewhere is dropped, anything else kept.
            out.push_str(before);
            if hyphen == SOFT_HYPHEN {
                changed = true;
            } else {
                out.push(hyphen);
            }
            rest = after;
            continue;
        };
        changed = true;
        out.push_str(before);
        out.push_str(&after[joined.right_start..joined.right_end]);
        rest = &after[joined.right_end..];
        if joined.crossed_line {
            // Keep the line count: the break goes where the next space was.
            if let Some(stripped) = rest.strip_prefix(' ') {
                out.push('\n');
                rest = stripped;
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Where the right part of a broken word lies in the text after its hyphen.
struct Join {
    right_start: usize,
    right_end: usize,
    crossed_line: bool,
}

/// Whether the hyphen between `before` and `after` breaks one word, and where its right part is.
fn break_to_join(
    before: &str,
    hyphen: char,
    after: &str,
    counts: &WordCounts,
    known_word: &dyn Fn(&str) -> bool,
) -> Option<Join> {
    let left_len = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .map(char::len_utf8)
        .sum::<usize>();
    let left = &before[before.len() - left_len..];
    // A hyphen after a dash or a digit, or at a line start, joins nothing.
    if left.is_empty() {
        return None;
    }
    // Spaces, one line break, spaces: the break of a line inside a paragraph.
    let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
    let crossed_line = after[gap..].starts_with('\n');
    let right_start = if crossed_line {
        let next = &after[gap + 1..];
        gap + 1 + next.len() - next.trim_start_matches([' ', '\t']).len()
    } else if hyphen == SOFT_HYPHEN {
        0
    } else {
        return None;
    };
    let right_len = after[right_start..]
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(after.len() - right_start);
    let right = &after[right_start..right_start + right_len];
    // A capital after the break starts a name or a sentence, not the word's second half.
    if !right.starts_with(char::is_lowercase) {
        return None;
    }
    let join = Join {
        right_start,
        right_end: right_start + right_len,
        crossed_line,
    };
    if hyphen == SOFT_HYPHEN {
        return Some(join);
    }
    let (left, right) = (left.to_lowercase(), right.to_lowercase());
    let word = format!("{left}{right}");
    let pair = format!("{left}-{right}");
    let (whole, hyphenated) = (counts.whole(&word), counts.hyphenated(&pair));
    let joins = if whole != hyphenated {
        whole > hyphenated
    } else {
        known_word(&word)
    };
    joins.then_some(join)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(text: &str, known: &[&str]) -> String {
        let mut joined = text.to_string();
        join_broken_words(&mut [&mut joined], &|w| known.contains(&w));
        joined
    }

    #[test]
    fn a_word_the_document_writes_whole_is_joined_on_its_line() {
        let text = "a warrantless entry. The\nofficer made a war-\nrantless entry into the home.";
        assert_eq!(
            join(text, &[]),
            "a warrantless entry. The\nofficer made a warrantless\nentry into the home."
        );
        // Indented lines, punctuation after the word.
        assert_eq!(
            join("the District of Colum-\n    bia, and Columbia", &[]),
            "the District of Columbia, and Columbia"
        );
        // The Unicode hyphen is read as the printed one.
        assert_eq!(
            join("a war\u{2010}\nrantless entry", &["warrantless"]),
            "a warrantless\nentry"
        );
    }

    #[test]
    fn a_compound_the_document_writes_with_its_hyphen_keeps_it() {
        let text = "an in-person hearing; gatherings, in-\nperson or not";
        assert_eq!(join(text, &["inperson"]), text);
        // Written neither way: the word list decides.
        assert_eq!(
            join("the pay-\nment was late", &["payment"]),
            "the payment\nwas late"
        );
        assert_eq!(
            join("the cross-\nexamination", &["payment"]),
            "the cross-\nexamination"
        );
    }

    #[test]
    fn dashes_names_and_hyphens_inside_a_line_are_left_alone() {
        for text in [
            "he said--\nand then left",
            "the Hatfield-\nMcCoy feud",
            "pages 10-\n12 of the record",
            "a well-known rule",
            "- a list\n- of items",
        ] {
            assert_eq!(join(text, &["hatfieldmccoy", "andthen"]), text, "{text}");
        }
        assert!(join_in(
            "no breaks, a well-known rule",
            &WordCounts::default(),
            &|_| true
        )
        .is_none());
    }

    #[test]
    fn a_soft_hyphen_always_breaks_a_word_and_is_never_kept() {
        assert_eq!(join("mis\u{ad}\ndemeanant", &[]), "misdemeanant");
        assert_eq!(
            join("mis\u{ad}demeanant flight", &[]),
            "misdemeanant flight"
        );
    }
}
