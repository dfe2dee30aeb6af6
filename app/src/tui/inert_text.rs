//! Document text is untrusted: a PDF or a court filing may hold control characters and ANSI/OSC
//! escape sequences. Drawn raw, `ESC ] 0 ; title BEL` retitles the terminal and `ESC [ 2 J` wipes
//! it. Every string that came from a file, the library or the model goes through here before it
//! reaches a widget, so such bytes are shown as visible, inert symbols instead.
//!
//! The mapping is one char to one char and never touches the text itself: byte offsets into the
//! document (search hits, evidence ranges, page starts) stay valid for the original text.

/// The character drawn in place of `c`.
///
/// C0 controls become the Unicode "control pictures" (`ESC` → `␛`, `BEL` → `␇`), DEL becomes
/// `␡`, C1 controls and the bidirectional overrides (which reorder what follows them in some
/// terminals) become `�`. A tab is drawn as one space so that widths stay predictable, and so is
/// a carriage return (CRLF text would otherwise end every line with a `␍`).
pub fn display_char(c: char) -> char {
    match c {
        '\t' | '\r' => ' ',
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' => '\u{fffd}',
        _ if is_bidi_control(c) => '\u{fffd}',
        _ => c,
    }
}

/// The invisible marks that reorder the text after them (LRM/RLM, the embeddings and overrides
/// U+202A–202E, the isolates U+2066–2069): a filing could use them to make a line read differently
/// from what it holds ("Trojan Source"). Both the TUI and the CLI show them as `�`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Columns `c` takes on screen once made inert (0 for combining marks, 2 for wide CJK).
pub fn display_width(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(display_char(c)).unwrap_or(0)
}

/// `text` as it is drawn inside a multi-line area: every char made inert, newlines kept.
pub fn inert_multiline(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' { c } else { display_char(c) })
        .collect()
}

/// `text` as it is drawn on one line (titles, snippets, file names, error reasons): every char
/// made inert, and line breaks folded into single spaces.
pub fn inert_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_was_break = false;
    for c in text.chars() {
        if c == '\n' || c == '\r' {
            if !last_was_break {
                out.push(' ');
            }
            last_was_break = true;
        } else {
            out.push(display_char(c));
            last_was_break = false;
        }
    }
    out
}

/// A name the user gave the program (a file name, a path, a title taken from one) as printed on
/// one line by the command line: every control character is shown as a visible symbol, line
/// breaks and tabs included (`a\nb.txt` prints as `a␊b.txt`, not as two lines or as `a b.txt`,
/// which would name another file), and bidirectional controls as `�`.
pub fn inert_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            _ => display_char(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_symbols() {
        let hostile = "a\u{1b}]0;pwned\u{7}\u{1b}[2Jb\u{9b}31m";
        let shown = inert_line(hostile);
        assert_eq!(shown, "a\u{241b}]0;pwned\u{2407}\u{241b}[2Jb\u{fffd}31m");
        assert!(!shown.chars().any(|c| c.is_control()));
    }

    #[test]
    fn mapping_keeps_char_count_so_offsets_stay_valid() {
        let text = "x\u{1b}[1my\u{202e}z\tw\u{7f}";
        assert_eq!(text.chars().count(), inert_multiline(text).chars().count());
    }

    #[test]
    fn names_show_every_control_character() {
        let name = "a\nb\rc\td\u{1b}[2J\u{7}e\u{202e}f";
        assert_eq!(
            inert_name(name),
            "a\u{240a}b\u{240d}c\u{2409}d\u{241b}[2J\u{2407}e\u{fffd}f"
        );
        assert!(!inert_name(name).chars().any(char::is_control));
    }

    #[test]
    fn newlines_fold_on_one_line_and_stay_in_blocks() {
        assert_eq!(inert_line("a\r\nb\nc"), "a b c");
        assert_eq!(inert_multiline("a\nb"), "a\nb");
    }

    #[test]
    fn widths_of_controls_wide_and_combining_chars() {
        assert_eq!(display_width('\u{1b}'), 1);
        assert_eq!(display_width('界'), 2);
        assert_eq!(display_width('\u{301}'), 0);
    }
}
