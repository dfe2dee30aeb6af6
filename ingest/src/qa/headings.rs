//! Finding headings in a document's text: chapters, parts, numbered headings, Markdown
//! headings, court captions and legal headings ("ORDER", "COUNT II: NEGLIGENCE", …).
//!
//! A heading is a short line that starts a block (blank line or start of text before it). Most
//! kinds also need a blank line after them, which keeps numbered paragraphs ("12. The tenant
//! paid …") and sentences out.

use serde::{Deserialize, Serialize};

/// What kind of heading starts a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionKind {
    /// Text before the first heading.
    Opening,
    /// "Chapter 3", "Prologue", "Epilogue".
    Chapter,
    /// "Part Two", "Book I".
    Part,
    /// "2.1 Methods", "IV. DISCUSSION", "A. The Lease".
    Numbered,
    /// A Markdown heading (`# Title`).
    Markdown,
    /// A court caption ("UNITED STATES DISTRICT COURT …").
    Caption,
    /// A legal heading: ORDER, OPINION, MEMORANDUM, COUNT I, BACKGROUND, EXHIBIT A, ….
    Legal,
    /// Another all-capitals heading line.
    Heading,
    /// No headings: a span between checkpoints.
    Span,
}

/// A heading found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// Byte offset of the heading line.
    pub byte_start: u64,
    /// The heading, trimmed.
    pub title: String,
    /// Its kind.
    pub kind: SectionKind,
}

/// Heading lines are at most this long (characters).
const MAX_HEADING_CHARS: usize = 90;

/// Words that make an all-capitals heading a legal one.
#[rustfmt::skip]
const LEGAL_WORDS: &[&str] = &[
    "ORDER", "ORDERED", "OPINION", "MEMORANDUM", "JUDGMENT", "COMPLAINT", "ANSWER", "MOTION",
    "BACKGROUND", "DISCUSSION", "CONCLUSION", "COUNT", "FINDINGS", "PRAYER", "STANDARD",
    "FACTS", "FACTUAL", "ARGUMENT", "INTRODUCTION", "JURISDICTION", "PARTIES", "DECLARATION",
    "AFFIDAVIT", "STIPULATION", "VERDICT", "DEPOSITION", "EXHIBIT", "TESTIMONY", "CERTIFICATE",
    "DEFENSES", "DEFENSE", "RELIEF", "ALLEGATIONS",
];

/// Headings in `text`, in order.
pub fn detect_headings(text: &str) -> Vec<Heading> {
    let lines: Vec<(usize, &str)> = line_spans(text);
    let blank = |i: usize| lines.get(i).is_none_or(|(_, l)| l.trim().is_empty());
    let mut found = Vec::new();
    for (i, &(start, line)) in lines.iter().enumerate() {
        let prev_blank = i == 0 || blank(i - 1);
        if !prev_blank {
            continue;
        }
        if let Some((title, kind)) = classify(line.trim(), blank(i + 1)) {
            found.push(Heading {
                byte_start: (start + (line.len() - line.trim_start().len())) as u64,
                title,
                kind,
            });
        }
    }
    found
}

/// Lines of `text` with their byte offsets (form feeds count as line breaks).
fn line_spans(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for (i, c) in text.char_indices() {
        if c == '\n' || c == '\x0c' {
            out.push((start, &text[start..i]));
            start = i + 1;
        }
    }
    out.push((start, &text[start..]));
    out
}

/// The heading's title and kind, if `line` (trimmed) is one.
fn classify(line: &str, next_blank: bool) -> Option<(String, SectionKind)> {
    // Markdown emphasis around a whole line (`**ORDER**`) is not part of the heading.
    let line = line.trim_matches(|c| c == '*' || c == '_').trim();
    if line.is_empty() || line.chars().count() > MAX_HEADING_CHARS || is_page_footer(line) {
        return None;
    }
    if let Some(rest) = line.strip_prefix('#') {
        let title = rest.trim_start_matches('#');
        if title.starts_with(' ') && !title.trim().is_empty() {
            return Some((title.trim().to_string(), SectionKind::Markdown));
        }
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let first = words[0]
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let ends_like_sentence = line.ends_with(['.', ',', ';', '?', '!', '"', '\'']);
    let short_label = words.len() <= 3;
    match first.as_str() {
        "chapter" | "part" | "book" if words.len() >= 2 && is_number_word(words[1]) => {
            if ends_like_sentence && !short_label {
                return None;
            }
            let kind = if first == "chapter" {
                SectionKind::Chapter
            } else {
                SectionKind::Part
            };
            return Some((line.to_string(), kind));
        }
        "prologue" | "epilogue" | "preface" | "afterword" if words.len() <= 6 && next_blank => {
            return Some((line.to_string(), SectionKind::Chapter));
        }
        _ => {}
    }
    let letters: Vec<char> = line.chars().filter(|c| c.is_alphabetic()).collect();
    let all_caps = letters.len() >= 3 && letters.iter().all(|c| !c.is_lowercase());
    if all_caps && line.contains("COURT") && !line.contains(')') && !line.ends_with(',') {
        return Some((line.to_string(), SectionKind::Caption));
    }
    if !next_blank {
        return None;
    }
    if let Some(title) = numbered_heading(&words) {
        // "5. Admitted." is a numbered paragraph, "5. Damages" a heading.
        return (!ends_like_sentence).then_some((title, SectionKind::Numbered));
    }
    if all_caps && !line.contains(')') && !line.ends_with([',', ';', '.', ':']) {
        let is_legal = line
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| LEGAL_WORDS.contains(&w));
        let kind = if is_legal {
            SectionKind::Legal
        } else {
            SectionKind::Heading
        };
        return Some((line.to_string(), kind));
    }
    None
}

/// "Page 3", "Page 3 of 10", "- 3 -", "3": footers, not headings.
fn is_page_footer(line: &str) -> bool {
    let lower = line.to_lowercase();
    let stripped = lower.trim_matches(|c: char| c == '-' || c.is_whitespace());
    if stripped.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let words: Vec<&str> = stripped.split_whitespace().collect();
    matches!(words.as_slice(), ["page", n] if n.chars().all(|c| c.is_ascii_digit()))
        || matches!(words.as_slice(), ["page", n, "of", m]
            if n.chars().all(|c| c.is_ascii_digit()) && m.chars().all(|c| c.is_ascii_digit()))
}

/// "12", "XIV", "One", "Twelve", "3:" … as the number of a chapter or part.
fn is_number_word(word: &str) -> bool {
    let w = word.trim_end_matches([':', '.', ',', '—', '-']);
    if w.is_empty() {
        return false;
    }
    if w.chars().all(|c| c.is_ascii_digit()) || is_roman(w) {
        return true;
    }
    #[rustfmt::skip]
    const NUMBERS: &[&str] = &[
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty", "thirty", "forty", "fifty", "first", "second", "third", "fourth",
        "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "last", "final",
    ];
    let lower = w.to_lowercase();
    NUMBERS
        .iter()
        .any(|n| lower == *n || lower.starts_with(&format!("{n}-")))
}

fn is_roman(w: &str) -> bool {
    !w.is_empty() && w.len() <= 7 && w.chars().all(|c| "IVXLCivxlc".contains(c))
}

/// "2.1 Methods", "IV. DISCUSSION", "A. The Lease Terms": the title if `words` is a numbered
/// heading. Letters and Roman numerals need a `.` or `)`; the words after the number must look
/// like a title (capitalised), so "A. Yes, I was there" stays a transcript line.
fn numbered_heading(words: &[&str]) -> Option<String> {
    if words.len() < 2 || words.len() > 14 {
        return None;
    }
    let label = words[0];
    let bare = label.trim_end_matches(['.', ')']);
    let has_mark = bare.len() < label.len();
    let is_decimal = !bare.is_empty()
        && bare.chars().all(|c| c.is_ascii_digit() || c == '.')
        && bare.starts_with(|c: char| c.is_ascii_digit());
    let is_letter = bare.len() == 1 && bare.chars().all(|c| c.is_ascii_uppercase());
    let is_numeral = is_roman(bare) && bare.chars().all(|c| c.is_ascii_uppercase());
    if !(is_decimal || ((is_letter || is_numeral) && has_mark)) {
        return None;
    }
    let rest = &words[1..];
    if !rest[0].starts_with(|c: char| c.is_uppercase()) {
        return None;
    }
    // A title: most longer words capitalised.
    let long: Vec<&&str> = rest
        .iter()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .collect();
    let capitalised = long
        .iter()
        .filter(|w| w.starts_with(|c: char| c.is_uppercase()))
        .count();
    if long.is_empty() || capitalised * 2 < long.len() {
        return None;
    }
    Some(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, SectionKind)> {
        detect_headings(text)
            .into_iter()
            .map(|h| (h.title, h.kind))
            .collect()
    }

    #[test]
    fn book_headings() {
        let text = "THE BOOK\n\nChapter 1: Fog\n\nText.\n\nCHAPTER IV.\n\nPart Two\n\nPrologue\n\n\
                    Chapter of accidents was what he called it.\n\nPage 4 of 9\n\n12\n";
        assert_eq!(
            kinds(text),
            [
                ("THE BOOK".to_string(), SectionKind::Heading),
                ("Chapter 1: Fog".to_string(), SectionKind::Chapter),
                ("CHAPTER IV.".to_string(), SectionKind::Chapter),
                ("Part Two".to_string(), SectionKind::Part),
                ("Prologue".to_string(), SectionKind::Chapter),
            ]
        );
    }

    #[test]
    fn legal_headings_and_what_is_not_one() {
        let text = "     SUPERIOR COURT OF THE STATE OF NEW ALBION\n     HALVERGATE COUNTY\n\n\
                    CARROW BAY FISHERMEN'S COOPERATIVE,       )\n\nSTANDARD\n\n\
                    1. On a motion under Rule 12(b)(6), the Court accepts the facts.\n\n\
                    COUNT II: NEGLIGENCE\n\nA. The Cooperative's Long Tenancy at the Facility\n\n\
                    A. Yes, I was there that night\n\nIV. DISCUSSION\n\n2.1 Storage Terms\n\n\
                    ORDER\n\nSO ORDERED.\n\n5. Admitted.\n\n**JUDGMENT**\n\n# Exhibit B\n\nDated: May 1         SMITH LLP\n\n\
                    Where were you?\n\n";
        assert_eq!(
            kinds(text),
            [
                (
                    "SUPERIOR COURT OF THE STATE OF NEW ALBION".to_string(),
                    SectionKind::Caption
                ),
                ("STANDARD".to_string(), SectionKind::Legal),
                ("COUNT II: NEGLIGENCE".to_string(), SectionKind::Legal),
                (
                    "A. The Cooperative's Long Tenancy at the Facility".to_string(),
                    SectionKind::Numbered
                ),
                ("IV. DISCUSSION".to_string(), SectionKind::Numbered),
                ("2.1 Storage Terms".to_string(), SectionKind::Numbered),
                ("ORDER".to_string(), SectionKind::Legal),
                ("JUDGMENT".to_string(), SectionKind::Legal),
                ("Exhibit B".to_string(), SectionKind::Markdown),
            ]
        );
    }
}
