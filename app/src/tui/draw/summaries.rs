//! The Summaries screen: the open document's sections (title, pages, state) and the selected
//! section's summary. Side by side on wide terminals, stacked on narrow ones.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::format::format_pages;
use super::{draw_empty, ACCENT, SELECTED_BG};
use crate::tui::inert_text::{inert_line, inert_multiline};
use crate::tui::state::{AppState, GenerationStatus, ModelStatus, SectionSummary};

/// Terminals at least this wide show the list and the summary side by side.
const SIDE_BY_SIDE_COLS: u16 = 100;

/// Draws the Summaries screen.
pub fn draw(frame: &mut Frame, area: Rect, state: &AppState) {
    let sums = &state.summaries;
    let title = match &state.reader.doc {
        Some(doc) => format!(" Summaries of {} ", inert_line(&doc.title)),
        None => " Summaries ".to_string(),
    };
    if sums.sections.is_empty() {
        let block = Block::bordered()
            .title(title)
            .title_style(Style::new().fg(ACCENT).bold());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        draw_empty(frame, inner, empty_lines(state));
        return;
    }
    let [list_area, summary_area] = if area.width >= SIDE_BY_SIDE_COLS {
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area)
    };
    let items: Vec<ListItem> = sums
        .sections
        .iter()
        .map(|s| {
            ListItem::new(Line::from(vec![
                Span::styled(
                    format!("{:<9}", format_pages(s.pages)),
                    Style::new().fg(ACCENT),
                ),
                Span::raw(inert_line(&s.title)),
                state_mark(&s.status, s.summary.is_empty()),
            ]))
        })
        .collect();
    let list = List::new(items)
        .block(
            Block::bordered()
                .title(title)
                .title_style(Style::new().fg(ACCENT).bold())
                .title_bottom(
                    Line::from(" Enter jump · a ask · r regenerate ".fg(Color::Gray))
                        .right_aligned(),
                ),
        )
        .highlight_style(Style::new().bg(SELECTED_BG).add_modifier(Modifier::BOLD))
        .highlight_symbol("▸ ");
    let mut list_state = ListState::default().with_selected(Some(sums.selected));
    frame.render_stateful_widget(list, list_area, &mut list_state);
    if let Some(section) = sums.sections.get(sums.selected) {
        draw_summary(frame, summary_area, section);
    }
}

fn state_mark(status: &GenerationStatus, empty: bool) -> Span<'static> {
    match status {
        GenerationStatus::Queued(_) => "  queued".yellow(),
        GenerationStatus::Starting | GenerationStatus::Generating => "  writing…".yellow(),
        GenerationStatus::Failed(_) => "  failed".red(),
        GenerationStatus::Cancelled if empty => "  cancelled".fg(Color::Gray),
        _ if empty => "  (none)".fg(Color::Gray),
        _ => Span::raw(""),
    }
}

fn empty_lines(state: &AppState) -> Vec<Line<'static>> {
    if state.reader.doc.is_none() {
        return vec![
            Line::from("No document open.".bold()),
            Line::from("Pick one in the Library (1) and press Enter."),
        ];
    }
    if !state.summaries.loaded {
        return vec![Line::from("Loading notes…")];
    }
    if state.summaries.job.is_some() {
        return vec![Line::from("Finding sections…".yellow())];
    }
    match &state.model {
        ModelStatus::Ready(_) => vec![Line::from("No summaries yet: press r to write them.")],
        ModelStatus::Failed { .. } => vec![Line::from(
            "No summaries, and no model to write them.".red(),
        )],
        _ => vec![Line::from(
            "No summaries yet: they can be written once the model is loaded.",
        )],
    }
}

fn draw_summary(frame: &mut Frame, area: Rect, section: &SectionSummary) {
    let mut lines: Vec<Line> = Vec::new();
    if let GenerationStatus::Failed(reason) = &section.status {
        lines.push(Line::from(inert_line(reason).red()));
    }
    if section.summary.is_empty() && section.status.is_running() {
        lines.push(Line::from("…".fg(Color::Gray)));
    }
    for text_line in inert_multiline(&section.summary).lines() {
        lines.push(Line::from(text_line.to_string()));
    }
    let pages = format_pages(section.pages);
    let block = Block::bordered()
        .title(format!(" {} {pages} ", inert_line(&section.title)))
        .title_style(Style::new().fg(ACCENT).bold())
        .title_bottom(
            Line::from(format!(" {} ", inert_line(&section.provenance)).fg(Color::Gray))
                .right_aligned(),
        );
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
