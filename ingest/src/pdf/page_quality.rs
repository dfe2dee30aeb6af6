//! Deciding whether a page's extracted text is usable: a scan has no text at all, a font without a
//! Unicode map yields glyph ids that decode to control or private-use characters.

use serde::{Deserialize, Serialize};

/// What became of one PDF page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum PageStatus {
    /// Text extracted and indexed.
    Ok,
    /// The page has no text layer (with images: most likely a scan needing OCR).
    NoTextLayer {
        /// The page draws images.
        has_images: bool,
    },
    /// Text came out but is not readable (no Unicode mapping); it is left out of the document.
    Garbage {
        /// What was wrong with it.
        reason: String,
    },
    /// Extraction of this page failed; the rest of the document is kept.
    Failed {
        /// Why.
        reason: String,
    },
}

impl PageStatus {
    /// Whether the page's text is part of the document text.
    pub fn is_ok(&self) -> bool {
        matches!(self, PageStatus::Ok)
    }

    /// One line for people ("no text layer (scanned image)", ...).
    pub fn describe(&self) -> String {
        match self {
            PageStatus::Ok => "ok".into(),
            PageStatus::NoTextLayer { has_images: true } => {
                "no text layer (scanned image; needs OCR)".into()
            }
            PageStatus::NoTextLayer { has_images: false } => "no text layer (blank page)".into(),
            PageStatus::Garbage { reason } => format!("garbage text: {reason}"),
            PageStatus::Failed { reason } => format!("failed: {reason}"),
        }
    }
}

/// Pages with fewer visible characters than this are judged on emptiness only.
const MIN_CHARS_FOR_RATIO: usize = 16;
/// Largest share of unreadable characters (controls, private use, U+FFFD) in usable text.
const MAX_BAD_FRACTION: f64 = 0.2;
/// Smallest share of letters and digits among visible characters in usable text.
const MIN_ALNUM_FRACTION: f64 = 0.4;

/// Classifies a page from its text and resource hints (see [`super::protocol::Frame::Page`]).
pub fn classify_page(text: &str, has_images: bool, missing_unicode_map: bool) -> PageStatus {
    let visible: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if visible.is_empty() {
        return PageStatus::NoTextLayer { has_images };
    }
    let bad = visible.iter().filter(|&&c| is_unreadable(c)).count();
    let alnum = visible.iter().filter(|c| c.is_alphanumeric()).count();
    let n = visible.len();
    let bad_fraction = bad as f64 / n as f64;
    // Dot leaders, rules and signature lines ("Introduction . . . . 1", "________") are
    // punctuation by the hundred on perfectly good pages (contents, indexes, captions): the
    // letters are measured against the other characters.
    let leaders = leader_chars(&visible);
    let alnum_fraction = alnum as f64 / (n - leaders).max(1) as f64;
    let suspicious = if n < MIN_CHARS_FOR_RATIO {
        bad * 2 > n
    } else {
        bad_fraction > MAX_BAD_FRACTION || alnum_fraction < MIN_ALNUM_FRACTION
    };
    if !suspicious {
        return PageStatus::Ok;
    }
    let mut reason = format!(
        "{:.0}% unreadable characters, {:.0}% letters or digits",
        bad_fraction * 100.0,
        alnum_fraction * 100.0
    );
    if missing_unicode_map {
        reason.push_str("; a font has no Unicode map (ToUnicode)");
    }
    PageStatus::Garbage { reason }
}

/// Shortest run of one repeated punctuation character counted as a leader or rule.
const MIN_LEADER_RUN: usize = 3;

/// Characters in runs of [`MIN_LEADER_RUN`] or more of the same punctuation character (with
/// whitespace already removed, so ". . . ." is such a run).
fn leader_chars(visible: &[char]) -> usize {
    let mut count = 0;
    let mut run = 0;
    for (i, &c) in visible.iter().enumerate() {
        run = if i > 0 && visible[i - 1] == c {
            run + 1
        } else {
            1
        };
        let run_ends = visible.get(i + 1) != Some(&c);
        let punctuation = c.is_ascii_punctuation() || matches!(c, '…' | '·' | '—' | '–');
        if run_ends && run >= MIN_LEADER_RUN && punctuation {
            count += run;
        }
    }
    count
}

fn is_unreadable(c: char) -> bool {
    c == '\u{FFFD}'
        || (c.is_control() && c != '\u{0C}')
        || ('\u{E000}'..='\u{F8FF}').contains(&c)
        || ('\u{F0000}'..='\u{10FFFF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_ok() {
        let text = "The witness stated that on 12 March 2019 the contract (Exhibit 4) was signed.";
        assert_eq!(classify_page(text, false, false), PageStatus::Ok);
        assert_eq!(classify_page("Page 3", false, false), PageStatus::Ok);
    }

    #[test]
    fn contents_and_index_pages_with_dot_leaders_are_ok() {
        let contents = "Table of Contents\n".to_string()
            + &(1..30)
                .map(|i| format!("{i} Section {i} {} {i}\n", ". ".repeat(60)))
                .collect::<String>();
        assert_eq!(classify_page(&contents, false, false), PageStatus::Ok);
        let signature = format!(
            "{}\nJane Roe, Clerk\n{}\nDate",
            "_".repeat(80),
            "_".repeat(40)
        );
        assert_eq!(classify_page(&signature, false, false), PageStatus::Ok);
        // Leaders alone are not text.
        let only_dots = ". ".repeat(200);
        assert_eq!(
            classify_page(&only_dots, false, false),
            PageStatus::Garbage {
                reason: "0% unreadable characters, 0% letters or digits".into()
            }
        );
    }

    #[test]
    fn empty_page_is_no_text_layer_and_images_mean_scan() {
        assert_eq!(
            classify_page(" \n\t", true, false),
            PageStatus::NoTextLayer { has_images: true }
        );
        assert_eq!(
            classify_page("", false, false),
            PageStatus::NoTextLayer { has_images: false }
        );
    }

    #[test]
    fn glyph_ids_without_unicode_map_are_garbage() {
        let glyphs: String = (0..60u32)
            .map(|i| char::from_u32(0x01 + i % 30).unwrap())
            .collect();
        match classify_page(&glyphs, false, true) {
            PageStatus::Garbage { reason } => assert!(reason.contains("ToUnicode"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let private: String = "\u{E001}\u{E002}\u{E003}".repeat(10);
        assert!(matches!(
            classify_page(&private, false, false),
            PageStatus::Garbage { .. }
        ));
        // Leaders are discounted, but a page of mixed symbols is still garbage.
        let symbols = "#$%&*+/<=>@[]^_{|}~".repeat(3);
        assert!(matches!(
            classify_page(&symbols, false, false),
            PageStatus::Garbage { .. }
        ));
    }
}
