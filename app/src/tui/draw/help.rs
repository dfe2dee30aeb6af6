//! The help overlay: every key in force (defaults or the config file's), scrollable.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::ACCENT;
use crate::tui::state::AppState;

/// Keys of an open text line (search or question); fixed, not rebindable.
const TEXT_LINE_KEYS: [(&str, &str); 4] = [
    ("enter", "send the question / search"),
    ("esc", "close the line"),
    ("backspace", "delete a character"),
    ("ctrl-w", "delete a word"),
];

/// Draws the overlay over `area`, scrolled by `scroll` rows.
pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, scroll: u16) {
    let width = area.width.saturating_sub(4).min(78);
    let height = area.height.saturating_sub(2);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let key_cols = state
        .help_rows
        .iter()
        .map(|(keys, _)| keys.chars().count())
        .chain(TEXT_LINE_KEYS.iter().map(|(k, _)| k.len()))
        .max()
        .unwrap_or(0)
        .min(usize::from(width / 3));
    let row = |keys: &str, what: &str| {
        Line::from(vec![
            Span::styled(
                format!("{keys:<key_cols$}  "),
                Style::new().fg(ACCENT).bold(),
            ),
            Span::raw(what.to_string()),
        ])
    };
    let mut lines: Vec<Line> = state.help_rows.iter().map(|(k, d)| row(k, d)).collect();
    lines.push(Line::from(""));
    lines.push(Line::from("In a text line:".bold()));
    lines.extend(TEXT_LINE_KEYS.iter().map(|(k, d)| row(k, d)));
    lines.push(Line::from(""));
    lines.push(Line::from(
        "Mouse wheel scrolls. Keys are rebound in config.toml [keys].".fg(Color::Gray),
    ));
    let block = Block::bordered()
        .title(" Keys ")
        .title_style(Style::new().fg(ACCENT).bold())
        .title_bottom(Line::from(" esc closes · j/k scroll ".fg(Color::Gray)).right_aligned());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}
