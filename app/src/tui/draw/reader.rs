//! The Reader screen: the open document's text, wrapped to the window, with the page number in a
//! gutter where each page starts, search hits highlighted and the current hit or jumped-to
//! passage marked.

use std::ops::Range;

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{draw_empty, ACCENT};
use crate::tui::inert_text::{display_char, inert_line};
use crate::tui::layout::{reader_text_rect, GUTTER_COLS};
use crate::tui::state::{AppState, DocumentText, ReaderState};
use crate::tui::text_rows::rows_from;

const HIT_STYLE: Style = Style::new().fg(Color::Black).bg(Color::Yellow);
const CURRENT_HIT_STYLE: Style = Style::new().fg(Color::Black).bg(Color::LightMagenta);
const FOCUS_STYLE: Style = Style::new()
    .add_modifier(Modifier::UNDERLINED)
    .fg(Color::LightCyan);

/// Draws the Reader screen.
pub fn draw(frame: &mut Frame, area: Rect, state: &AppState) {
    let reader = &state.reader;
    let Some(doc) = &reader.doc else {
        let block = Block::bordered()
            .title(" Reader ")
            .title_style(Style::new().fg(ACCENT).bold());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let lines = if let Some(id) = &reader.loading {
            let name = state.doc_name(id).unwrap_or(id);
            vec![Line::from(format!("Opening {}…", inert_line(name)))]
        } else if let Some(reason) = &reader.error {
            vec![
                Line::from("This document cannot be shown:".red().bold()),
                Line::from(inert_line(reason)),
            ]
        } else {
            vec![
                Line::from("No document open.".bold()),
                Line::from("Pick one in the Library (1) and press Enter."),
            ]
        };
        draw_empty(frame, inner, lines);
        return;
    };
    let text_area = reader_text_rect(area);
    let rows = rows_from(
        &doc.text,
        reader.top_offset,
        usize::from(text_area.width).max(1),
        usize::from(text_area.height),
    );
    let block = Block::bordered()
        .title(title(doc, reader.top_offset))
        .title_style(Style::new().fg(ACCENT).bold())
        .title_bottom(Line::from(search_label(reader)).right_aligned());
    frame.render_widget(block, area);
    if text_area.height == 0 {
        return;
    }
    let gutter_area = Rect {
        x: text_area.x.saturating_sub(GUTTER_COLS),
        width: GUTTER_COLS.min(text_area.x),
        ..text_area
    };
    let mut gutter = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        // A row "owns" page starts up to the next row's start (so a page starting at a line break
        // is shown on the row that follows it).
        let owned_end = rows.get(i + 1).map_or(row.end + 1, |next| next.start);
        gutter.push(gutter_label(doc, row.start..owned_end));
        lines.push(styled_row(&doc.text, row.clone(), reader));
    }
    frame.render_widget(
        Paragraph::new(gutter).style(Style::new().fg(Color::Gray)),
        gutter_area,
    );
    frame.render_widget(Paragraph::new(lines), text_area);
}

fn title(doc: &DocumentText, top_offset: usize) -> String {
    let name = inert_line(&doc.title);
    match (doc.page_at(top_offset), doc.pages.last()) {
        (Some(page), Some(last)) => format!(" {name} — page {page}/{} ", last.page),
        _ => format!(" {name} "),
    }
}

fn search_label(reader: &ReaderState) -> String {
    let search = &reader.search;
    if search.query.is_empty() {
        return String::new();
    }
    let query = inert_line(&search.query);
    match search.current {
        Some(i) => format!(" /{query} {}/{} ", i + 1, search.hits.len()),
        None => format!(" /{query} no hits "),
    }
}

fn gutter_label(doc: &DocumentText, owned: Range<usize>) -> Line<'static> {
    let first = doc.pages.partition_point(|p| p.offset < owned.start);
    match doc.pages.get(first) {
        Some(p) if p.offset < owned.end => {
            let label = format!("p.{}", p.page);
            Line::from(format!(
                "{label:>width$} ",
                width = usize::from(GUTTER_COLS) - 1
            ))
        }
        _ => Line::from(""),
    }
}

/// One row of text as spans, each char made inert, styled by search hits and the focus range.
fn styled_row(text: &str, row: Range<usize>, reader: &ReaderState) -> Line<'static> {
    let hits = &reader.search.hits;
    let first_hit = hits.partition_point(|h| h.end <= row.start);
    let row_hits: Vec<(usize, &Range<usize>)> = hits[first_hit..]
        .iter()
        .enumerate()
        .take_while(|(_, h)| h.start < row.end)
        .map(|(i, h)| (first_hit + i, h))
        .collect();
    let style_at = |offset: usize| -> Style {
        for (i, h) in &row_hits {
            if h.contains(&offset) {
                return if reader.search.current == Some(*i) {
                    CURRENT_HIT_STYLE
                } else {
                    HIT_STYLE
                };
            }
        }
        match &reader.focus {
            Some(f) if f.contains(&offset) => FOCUS_STYLE,
            _ => Style::new(),
        }
    };
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_style = Style::new();
    for (i, c) in text[row.clone()].char_indices() {
        let style = style_at(row.start + i);
        if style != run_style && !run.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut run), run_style));
        }
        run_style = style;
        run.push(display_char(c));
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, run_style));
    }
    Line::from(spans)
}
