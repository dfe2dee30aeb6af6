//! The status bar: the model in use (always), then the latest message or key hints.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::format_params;
use crate::tui::inert_text::inert_line;
use crate::tui::state::{AppState, ModelStatus};

/// What the status bar says about the model.
pub fn model_label(model: &ModelStatus) -> (String, Style) {
    match model {
        ModelStatus::NotLoaded => ("model: none yet".into(), Style::new().fg(Color::Gray)),
        ModelStatus::Loading { file_name } => (
            format!("loading model {}…", inert_line(file_name)),
            Style::new().fg(Color::Yellow),
        ),
        ModelStatus::Ready(badge) => {
            let mut label = format!(
                "{} · {} · {} · {}",
                inert_line(&badge.name),
                format_params(badge.n_params),
                inert_line(&badge.precision),
                inert_line(&badge.device)
            );
            // The demo model's own name may already say so.
            if badge.is_demo && !badge.name.to_lowercase().contains("demo model") {
                label.push_str(" · demo model");
            }
            (label, Style::new().fg(Color::Black).bg(Color::Cyan))
        }
        ModelStatus::Failed { .. } => (
            "no model".into(),
            Style::new().fg(Color::White).bg(Color::Red),
        ),
    }
}

/// Draws the status bar.
pub fn draw(frame: &mut Frame, area: Rect, state: &AppState) {
    let (label, style) = model_label(&state.model);
    let mut spans = vec![Span::styled(format!(" {label} "), style), Span::raw(" ")];
    match &state.message {
        Some(msg) if msg.is_error => spans.push(Span::styled(
            inert_line(&msg.text),
            Style::new().fg(Color::Red).bold(),
        )),
        Some(msg) => spans.push(Span::raw(inert_line(&msg.text))),
        None => spans.push(Span::styled(
            "? keys · q quit",
            Style::new().fg(Color::Gray),
        )),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
