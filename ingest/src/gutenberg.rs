//! The book inside a Project Gutenberg text, without the header and licence around it.
//!
//! Most public-domain books come from Project Gutenberg, whose plain-text files wrap the work in
//! a header (title, release date, credits) and a licence of about 19 KB. Left in, the licence is
//! the last thing the model reads, so the state after the whole document — what gist questions
//! and the last section's summary start from — is a state after legal boilerplate; its numbered
//! headings end every book's list of sections; and its words ("fee", "agreement", "copy",
//! "law") can draw questions about case files to a novel's last pages.
//!
//! Every Project Gutenberg text marks where the work starts and ends: since about 2005
//! `*** START OF THE PROJECT GUTENBERG EBOOK TITLE ***` and `*** END OF … ***` (`THIS` for
//! `THE` in older releases), before that the end of the "small print" header and an
//! `End of the Project Gutenberg Etext of …` line. Only a text with both a start marker near
//! its beginning and an end marker after it is cut; anything else is kept whole.

use std::ops::Range;

/// How far into a file the start marker may stand: the old "small print" header is about
/// 12 KB, the newer one under 2 KB.
const START_MARKER_WITHIN_BYTES: usize = 64 * 1024;

/// Byte range of the work in `text`, between Project Gutenberg's start and end markers, with
/// the white space at its edges left out; `None` when `text` does not carry both markers or
/// nothing but white space lies between them.
pub fn gutenberg_body(text: &str) -> Option<Range<usize>> {
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        match start {
            None if line_start >= START_MARKER_WITHIN_BYTES => return None,
            None if is_start_marker(line) => start = Some(offset),
            Some(body_start) if is_end_marker(line) => {
                let body = &text[body_start..line_start];
                let trimmed = body.trim_start_matches(['\n', '\r', ' ', '\t']);
                let first = body_start + (body.len() - trimmed.len());
                let last = first + trimmed.trim_end().len();
                return (last > first).then_some(first..last);
            }
            _ => {}
        }
    }
    None
}

/// Longest title shown, in characters (a header's title runs to a line or two).
const MAX_TITLE_CHARS: usize = 200;

/// The work's title from the header before the body (`header`: the text up to the start of
/// [`gutenberg_body`]'s range): its `Title:` line (and the indented lines continuing it), and
/// `, by` its `Author:` line where there is one. `None` without a `Title:` line. The file name
/// (`pg64317.txt`) tells a reader nothing; the header names the book.
pub fn gutenberg_title(header: &str) -> Option<String> {
    let field = |name: &str| -> Option<String> {
        let mut lines = header.lines();
        let first = lines.find_map(|l| l.trim_start().strip_prefix(name))?;
        let mut value = first.trim().to_string();
        for more in lines.take_while(|l| l.starts_with([' ', '\t']) && !l.trim().is_empty()) {
            value.push(' ');
            value.push_str(more.trim());
        }
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        (!value.is_empty()).then_some(value)
    };
    let title = field("Title:")?;
    let full = match field("Author:") {
        Some(author) => format!("{title}, by {author}"),
        None => title,
    };
    Some(full.chars().take(MAX_TITLE_CHARS).collect())
}

/// `*** START OF THE PROJECT GUTENBERG EBOOK … ***`, and the end of the old header,
/// `*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*…`.
fn is_start_marker(line: &str) -> bool {
    let line = line.trim().to_ascii_uppercase();
    (line.starts_with("***") && line.contains("START OF") && line.contains("PROJECT GUTENBERG"))
        || line.starts_with("*END*THE SMALL PRINT")
        || line.starts_with("*END THE SMALL PRINT")
}

/// `*** END OF THE PROJECT GUTENBERG EBOOK … ***`, and the line older releases end the work
/// with, `End of the Project Gutenberg EBook of …` / `End of Project Gutenberg's …`.
fn is_end_marker(line: &str) -> bool {
    let line = line.trim().to_ascii_uppercase();
    (line.starts_with("***") && line.contains("END OF") && line.contains("PROJECT GUTENBERG"))
        || line.starts_with("END OF THE PROJECT GUTENBERG")
        || line.starts_with("END OF PROJECT GUTENBERG")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LICENCE: &str = "Updated editions will replace the previous one.\n\nSection 1. General \
         Terms of Use and Redistributing Project Gutenberg electronic works\n";

    #[test]
    fn the_work_between_the_markers_is_kept_without_header_and_licence() {
        let text = format!(
            "The Project Gutenberg eBook of Pride and Prejudice\r\n\r\nTitle: Pride and \
             Prejudice\r\n\r\n*** START OF THE PROJECT GUTENBERG EBOOK PRIDE AND PREJUDICE \
             ***\r\n\r\n\r\n  It is a truth universally acknowledged.\r\n\r\n  THE END\r\n\r\n\
             \x20           *** END OF THE PROJECT GUTENBERG EBOOK PRIDE AND PREJUDICE ***\r\n\
             {LICENCE}"
        );
        let body = gutenberg_body(&text).unwrap();
        assert_eq!(
            &text[body],
            "It is a truth universally acknowledged.\r\n\r\n  THE END"
        );
    }

    #[test]
    fn the_header_names_the_book_and_its_author() {
        let header = "The Project Gutenberg eBook of Walden\r\n\r\nTitle: Walden, and On The Duty \
             Of\r\n       Civil Disobedience\r\n\r\nAuthor: Henry David Thoreau\r\n\r\n\
             Release date: January 1, 1995 [eBook #205]\r\n\r\n";
        assert_eq!(
            gutenberg_title(header).as_deref(),
            Some("Walden, and On The Duty Of Civil Disobedience, by Henry David Thoreau")
        );
        assert_eq!(
            gutenberg_title("Title: The Great Gatsby\n\nLanguage: English\n").as_deref(),
            Some("The Great Gatsby")
        );
        assert_eq!(
            gutenberg_title("The Project Gutenberg eBook of X\n\n"),
            None
        );
        assert_eq!(gutenberg_title("Title:   \n"), None);
        let long = format!("Title: {}\n", "word ".repeat(100));
        assert_eq!(
            gutenberg_title(&long).unwrap().chars().count(),
            MAX_TITLE_CHARS
        );
    }

    #[test]
    fn older_releases_are_recognised_by_their_own_markers() {
        let text = format!(
            "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\
             *END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n\
             WALDEN\n\nWhen I wrote the following pages.\n\n\
             End of the Project Gutenberg EBook of Walden, by Henry David Thoreau\n\n\
             *** END OF THIS PROJECT GUTENBERG EBOOK WALDEN ***\n{LICENCE}"
        );
        let body = gutenberg_body(&text).unwrap();
        assert_eq!(&text[body], "WALDEN\n\nWhen I wrote the following pages.");
    }

    #[test]
    fn texts_without_both_markers_are_kept_whole() {
        // No markers: a book someone cleaned up, a case file.
        assert_eq!(gutenberg_body("Call me Ishmael.\n\nTHE END\n"), None);
        // A start marker but no end: nothing is cut.
        assert_eq!(
            gutenberg_body("*** START OF THE PROJECT GUTENBERG EBOOK X ***\nCall me Ishmael.\n"),
            None
        );
        // An end marker before any start: nothing is cut.
        assert_eq!(
            gutenberg_body("Call me Ishmael.\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\n"),
            None
        );
        // Markers with nothing between them.
        assert_eq!(
            gutenberg_body(
                "*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n*** END OF THE PROJECT \
                 GUTENBERG EBOOK X ***\n"
            ),
            None
        );
        // A start marker far into the text is not a header's: a book that quotes one.
        let far = format!(
            "{}\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nbody\n*** END OF THE PROJECT \
             GUTENBERG EBOOK X ***\n",
            "words ".repeat(20_000)
        );
        assert_eq!(gutenberg_body(&far), None);
    }
}
