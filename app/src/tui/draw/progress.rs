//! The reading progress panel: file, pages, tokens, speed, time left, checkpoints written.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, LineGauge, Paragraph};
use ratatui::Frame;

use super::{format_count, format_duration};
use crate::tui::inert_text::inert_line;
use crate::tui::state::ReadingProgress;

/// Share of the run's tokens read, in 0..=1 (0 when the total is not known yet).
pub fn progress_ratio(p: &ReadingProgress) -> f64 {
    if p.tokens_total == 0 {
        0.0
    } else {
        (p.tokens_done as f64 / p.tokens_total as f64).clamp(0.0, 1.0)
    }
}

fn eta(p: &ReadingProgress) -> String {
    p.eta_seconds.map_or_else(
        || "ETA –".to_string(),
        |s| format!("ETA {}", format_duration(s)),
    )
}

/// Draws the panel into `area` (3 rows: title, gauge, details; or 1 row: a labelled gauge).
pub fn draw(frame: &mut Frame, area: Rect, p: &ReadingProgress) {
    let file = inert_line(&p.file);
    // Said up front in the one-row panel, where the end of the line may be cut off.
    let (paused, paused_short) = if p.paused {
        (" · paused for the question", "paused · ")
    } else {
        ("", "")
    };
    let ratio = progress_ratio(p);
    let gauge_style = Style::new().fg(Color::Cyan);
    if area.height < 3 {
        let label = format!(
            "{}/{} {paused_short}{file} {:.0}% {}",
            p.file_index,
            p.files_total,
            ratio * 100.0,
            eta(p)
        );
        let gauge = LineGauge::default()
            .ratio(ratio)
            .label(label)
            .filled_style(gauge_style);
        frame.render_widget(gauge, area);
        return;
    }
    let block = Block::new().borders(Borders::TOP).title(format!(
        " Reading {}/{}: {file}{paused} ",
        p.file_index, p.files_total
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [gauge_row, detail_row] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    let gauge = LineGauge::default()
        .ratio(ratio)
        .label(format!("{:>3.0}%", ratio * 100.0))
        .filled_style(gauge_style);
    frame.render_widget(gauge, gauge_row);
    let pages = if p.pages_total > 0 {
        format!("page {}/{} · ", p.pages_done, p.pages_total)
    } else {
        String::new()
    };
    let details = format!(
        "{pages}{}/{} tokens · {:.0} tok/s · {} · {} checkpoints",
        format_count(p.tokens_done),
        format_count(p.tokens_total),
        p.tokens_per_second,
        eta(p),
        p.checkpoints_written
    );
    frame.render_widget(Paragraph::new(Line::from(details)), detail_row);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_handles_zero_and_overshooting_totals() {
        let mut p = ReadingProgress::default();
        assert_eq!(progress_ratio(&p), 0.0);
        p.tokens_total = 200;
        p.tokens_done = 50;
        assert_eq!(progress_ratio(&p), 0.25);
        p.tokens_done = 300;
        assert_eq!(progress_ratio(&p), 1.0);
    }
}
