//! Drawing: a pure function of `AppState` into a ratatui `Frame`. Every string that came from a
//! document, the library or the model is made inert first (`inert_text`).

mod ask;
mod format;
mod help;
mod library;
mod progress;
mod reader;
mod status;
mod summaries;

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};
use ratatui::Frame;

use super::layout::screen_layout;
use super::state::{AppState, InputTarget, Screen};

pub use format::{format_bytes, format_count, format_duration, format_params};

/// Accent colour of titles and the selected tab.
const ACCENT: Color = Color::Cyan;
/// Background of the selected row.
const SELECTED_BG: Color = Color::DarkGray;

/// Draws the whole screen for `state`.
pub fn draw(frame: &mut Frame, state: &AppState) {
    let area = frame.area();
    let layout = screen_layout(area, state);
    draw_tabs(frame, layout.tabs, state);
    match state.screen {
        Screen::Library => library::draw(frame, layout.body, state),
        Screen::Reader => reader::draw(frame, layout.body, state),
        Screen::Ask => ask::draw(frame, layout.body, state),
        Screen::Summaries => summaries::draw(frame, layout.body, state),
    }
    if let (Some(area), Some(line)) = (layout.search_line, &state.input) {
        if line.target == InputTarget::Search {
            draw_input_line(frame, area, "/", &line.text);
        }
    }
    if let (Some(area), Some(reading)) = (layout.progress, &state.reading) {
        progress::draw(frame, area, reading);
    }
    status::draw(frame, layout.status, state);
    if let Some(scroll) = state.help_scroll {
        help::draw(frame, area, state, scroll);
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, state: &AppState) {
    let titles = Screen::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| Line::from(format!("{} {}", i + 1, s.title())));
    let selected = Screen::ALL
        .iter()
        .position(|s| *s == state.screen)
        .unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .highlight_style(
            Style::new()
                .fg(ACCENT)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
        .divider("│")
        .padding(" ", " ");
    frame.render_widget(tabs, area);
}

/// A one-row text line with a prompt and a block cursor at the end.
fn draw_input_line(frame: &mut Frame, area: Rect, prompt: &str, text: &str) {
    let shown = super::inert_text::inert_line(text);
    // Keep the end of a long line (where the cursor is) in view.
    let room = usize::from(area.width).saturating_sub(prompt.chars().count() + 1);
    let skip = shown.chars().count().saturating_sub(room);
    let visible: String = shown.chars().skip(skip).collect();
    let line = Line::from(vec![
        Span::styled(prompt.to_string(), Style::new().fg(ACCENT).bold()),
        Span::raw(visible),
        Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Placeholder text centred in an empty screen (no documents, nothing open, an error).
fn draw_empty(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    let height = (lines.len() as u16).min(area.height);
    let top = area.y + area.height.saturating_sub(height) / 2;
    let inner = Rect {
        y: top,
        height,
        ..area
    };
    let paragraph = Paragraph::new(lines)
        .alignment(ratatui::layout::Alignment::Center)
        .wrap(ratatui::widgets::Wrap { trim: true });
    frame.render_widget(paragraph, inner);
}

#[cfg(test)]
mod tests;
