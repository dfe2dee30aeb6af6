//! Text on the terminal: what a document or the model wrote, made inert, and the marks that
//! highlight matched words.

use std::io::IsTerminal as _;

/// Text from a document or the model made safe for a terminal: control characters (escape
/// sequences included) are dropped, except newlines and tabs; bidirectional controls, which would
/// reorder what follows them, are shown as `�` (as the TUI shows them).
pub(super) fn inert(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| {
            if crate::tui::inert_text::is_bidi_control(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// Bold on a terminal, Markdown-style stars otherwise.
pub(super) fn highlight_marks() -> (&'static str, &'static str) {
    if std::io::stdout().is_terminal() {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("**", "**")
    }
}
