//! The Library screen: every document with its status, pages, tokens and checkpoints, and the
//! selected one's path, reason and warnings below.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{draw_empty, format_bytes, format_count, ACCENT, SELECTED_BG};
use crate::tui::inert_text::inert_line;
use crate::tui::state::{AppState, DocEntry, DocStatus};

/// Short status word and its colour.
fn status_cell(status: &DocStatus) -> (String, Color) {
    match status {
        DocStatus::Pending => ("queued".into(), Color::Gray),
        DocStatus::Indexed => ("indexed".into(), Color::Gray),
        DocStatus::Reading {
            tokens_read,
            tokens_total,
        } => {
            let pct = if *tokens_total > 0 {
                tokens_read * 100 / tokens_total
            } else {
                0
            };
            (format!("reading {pct}%"), Color::Yellow)
        }
        DocStatus::Ready => ("ready".into(), Color::Green),
        DocStatus::Partial { .. } => ("partial".into(), Color::Yellow),
        DocStatus::Failed { .. } => ("failed".into(), Color::Red),
    }
}

/// Draws the Library screen.
pub fn draw(frame: &mut Frame, area: Rect, state: &AppState) {
    let lib = &state.library;
    let title = format!(" Library {} ", inert_line(&lib.location));
    let block = Block::bordered()
        .title(title)
        .title_style(Style::new().fg(ACCENT).bold());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(reason) = &lib.error {
        let lines = vec![
            Line::from("The library could not be opened:".red().bold()),
            Line::from(inert_line(reason)),
        ];
        draw_empty(frame, inner, lines);
        return;
    }
    if !lib.loaded {
        draw_empty(frame, inner, vec![Line::from("Opening the library…")]);
        return;
    }
    if lib.docs.is_empty() {
        let lines = vec![
            Line::from("The library is empty.".bold()),
            Line::from("Quit and start with a book or a folder:"),
            Line::from("rwkv-reader sample-docs/".fg(ACCENT)),
        ];
        draw_empty(frame, inner, lines);
        return;
    }
    let detail_rows = if inner.height >= 10 { 3 } else { 1 };
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(detail_rows)]).areas(inner);
    let header = Row::new(["Document", "Status", "Pages", "Tokens", "Ckpt"])
        .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    // Only the rows that can show are built: a library can hold thousands of documents, and a
    // frame is drawn for every streamed token. The window keeps the selected row in view, at
    // the bottom once it is past the first screenful, where a fresh `TableState` puts it too.
    let visible_rows = usize::from(table_area.height.saturating_sub(1)).max(1);
    let first_row = (lib.selected + 1).saturating_sub(visible_rows);
    let rows = lib
        .docs
        .iter()
        .skip(first_row)
        .take(visible_rows)
        .map(|doc| {
            let (status, color) = status_cell(&doc.status);
            let warn = if doc.warnings.is_empty() { "" } else { " !" };
            Row::new(vec![
                Cell::from(inert_line(&doc.name)),
                Cell::from(Span::styled(
                    format!("{status}{warn}"),
                    Style::new().fg(color),
                )),
                Cell::from(pages_text(doc)),
                Cell::from(format_count(doc.tokens)),
                Cell::from(doc.checkpoints.to_string()),
            ])
        });
    let table = Table::new(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(12),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(4),
        ],
    )
    .header(header)
    .row_highlight_style(Style::new().bg(SELECTED_BG).add_modifier(Modifier::BOLD))
    .highlight_symbol("▸ ");
    let mut table_state = TableState::default().with_selected(Some(lib.selected - first_row));
    frame.render_stateful_widget(table, table_area, &mut table_state);
    if let Some(doc) = lib.docs.get(lib.selected) {
        draw_detail(
            frame,
            detail_area,
            doc,
            lib.pending_remove.as_deref() == Some(doc.id.as_str()),
        );
    }
}

fn pages_text(doc: &DocEntry) -> String {
    if doc.pages == 0 {
        "–".into()
    } else {
        doc.pages.to_string()
    }
}

fn draw_detail(frame: &mut Frame, area: Rect, doc: &DocEntry, remove_pending: bool) {
    let mut lines = Vec::new();
    if remove_pending {
        lines.push(Line::from(
            "Press d again to remove this document".red().bold(),
        ));
    }
    match &doc.status {
        DocStatus::Failed { reason } | DocStatus::Partial { reason } => {
            let (word, color) = status_cell(&doc.status);
            lines.push(Line::from(vec![
                Span::styled(format!("{word}: "), Style::new().fg(color).bold()),
                Span::raw(inert_line(reason)),
            ]));
        }
        _ => {}
    }
    for warning in &doc.warnings {
        lines.push(Line::from(vec![
            "warning: ".yellow(),
            Span::raw(inert_line(warning)),
        ]));
    }
    if doc.checkpoints > 0 {
        let spacing = match doc.checkpoint_every_chunks {
            0 => String::new(),
            1 => " · after every chunk".to_string(),
            every => format!(" · every {every} chunks"),
        };
        lines.push(Line::from(
            format!(
                "{} checkpoints · {}{spacing}",
                doc.checkpoints,
                format_bytes(doc.checkpoint_bytes)
            )
            .fg(Color::Gray),
        ));
    }
    lines.push(Line::from(inert_line(&doc.path).fg(Color::Gray)));
    let block = Block::new().borders(Borders::TOP);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: true });
    if area.height >= 2 {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(paragraph, inner);
    } else {
        frame.render_widget(paragraph, area);
    }
}
