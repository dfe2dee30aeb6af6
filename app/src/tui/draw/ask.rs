//! The Ask screen: the question line, the answer as it streams in, the passages it was built
//! from (pages and snippets; Enter jumps to one), and the earlier questions about this document.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::format::format_pages;
use super::{draw_empty, ACCENT, SELECTED_BG};
use crate::tui::inert_text::{inert_line, inert_multiline};
use crate::tui::state::{AppState, GenerationStatus, InputTarget, QaEntry};

/// Draws the Ask screen.
pub fn draw(frame: &mut Frame, area: Rect, state: &AppState) {
    let ask = &state.ask;
    let shown = ask.shown_entry();
    let evidence_len = shown.map_or(0, |e| e.evidence.len());
    let below_question = area.height.saturating_sub(3);
    let evidence_rows = match evidence_len {
        0 => 0,
        n => (n as u16 + 2)
            .min(below_question / 3)
            .max(3.min(below_question / 2)),
    };
    let history_rows = if area.height >= 18 && ask.entries.len() > 1 {
        (ask.entries.len() as u16 + 2).min(below_question / 4)
    } else {
        0
    };
    let [question_area, answer_area, evidence_area, history_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(evidence_rows),
        Constraint::Length(history_rows),
    ])
    .areas(area);
    draw_question(frame, question_area, state);
    draw_answer(frame, answer_area, state, shown);
    if evidence_rows > 0 {
        if let Some(entry) = shown {
            draw_evidence(frame, evidence_area, entry, ask.selected);
        }
    }
    if history_rows > 0 {
        draw_history(frame, history_area, state, evidence_len);
    }
}

fn scope_label(state: &AppState) -> String {
    let doc = state
        .current_doc_id()
        .map(|id| state.doc_name(&id).map(str::to_string).unwrap_or(id));
    match doc {
        Some(name) => format!(" Ask about {} ", inert_line(&name)),
        None => " Ask the library ".to_string(),
    }
}

fn draw_question(frame: &mut Frame, area: Rect, state: &AppState) {
    let block = Block::bordered()
        .title(scope_label(state))
        .title_style(Style::new().fg(ACCENT).bold());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let line = match &state.input {
        Some(input) if input.target == InputTarget::Question => {
            let text = inert_line(&input.text);
            let room = usize::from(inner.width).saturating_sub(3);
            let skip = text.chars().count().saturating_sub(room);
            Line::from(vec![
                "> ".fg(ACCENT).bold(),
                Span::raw(text.chars().skip(skip).collect::<String>()),
                Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
            ])
        }
        _ => match state.ask.shown_entry() {
            Some(entry) => Line::from(vec!["Q: ".bold(), Span::raw(inert_line(&entry.question))]),
            None => Line::from("press a to type a question, Enter to send".fg(Color::Gray)),
        },
    };
    frame.render_widget(Paragraph::new(line), inner);
}

fn status_label(status: &GenerationStatus) -> Span<'static> {
    match status {
        GenerationStatus::Queued(_) => " queued (Esc cancels) ".yellow(),
        GenerationStatus::Starting => " finding passages… (Esc cancels) ".yellow(),
        GenerationStatus::Generating => " answering… (Esc cancels) ".yellow(),
        GenerationStatus::Done => Span::raw(""),
        GenerationStatus::Cancelled => " cancelled ".fg(Color::Gray),
        GenerationStatus::Failed(_) => " failed ".red().bold(),
    }
}

fn draw_answer(frame: &mut Frame, area: Rect, state: &AppState, shown: Option<&QaEntry>) {
    let mut block = Block::bordered()
        .title(" Answer ")
        .title_style(Style::new().fg(ACCENT).bold());
    let Some(entry) = shown else {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let hint = match state.current_doc_id() {
            Some(_) => "Questions are answered from the passage that matches best, read from the nearest checkpoint before it.",
            None => "The library is empty: there is nothing to ask about yet.",
        };
        draw_empty(frame, inner, vec![Line::from(hint.fg(Color::Gray))]);
        return;
    };
    block = block.title(Line::from(status_label(&entry.status)).right_aligned());
    if !entry.provenance.is_empty() {
        let provenance = format!(" {} ", inert_line(&entry.provenance));
        block = block.title_bottom(Line::from(provenance.fg(Color::Gray)).right_aligned());
    }
    let mut lines: Vec<Line> = Vec::new();
    if let Some(note) = &entry.note {
        lines.push(Line::from(inert_line(note).fg(Color::Yellow).italic()));
    }
    if let GenerationStatus::Failed(reason) = &entry.status {
        lines.push(Line::from(inert_line(reason).red()));
    }
    if let GenerationStatus::Queued(waiting_for) = &entry.status {
        lines.push(Line::from(
            format!("Queued: waiting for {waiting_for}. It starts as soon as the model is free.")
                .fg(Color::Yellow),
        ));
    }
    for text_line in inert_multiline(&entry.answer).lines() {
        lines.push(Line::from(text_line.to_string()));
    }
    let working = matches!(
        entry.status,
        GenerationStatus::Starting | GenerationStatus::Generating
    );
    if entry.answer.is_empty() && working {
        lines.push(Line::from("…".fg(Color::Gray)));
    }
    let paragraph = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((state.ask.answer_scroll, 0));
    frame.render_widget(paragraph, area);
}

fn draw_evidence(frame: &mut Frame, area: Rect, entry: &QaEntry, selected: usize) {
    let items: Vec<ListItem> = entry
        .evidence
        .iter()
        .map(|ev| {
            let pages = format_pages(ev.pages);
            // Which passages the model read is the first thing to check an answer against.
            let mark = if ev.read {
                Span::styled("read ", Style::new().fg(Color::Green).bold())
            } else {
                Span::styled("     ", Style::new())
            };
            ListItem::new(Line::from(vec![
                mark,
                Span::styled(format!("{pages:<9}"), Style::new().fg(ACCENT).bold()),
                Span::styled(
                    format!("{} ", inert_line(&ev.doc_name)),
                    Style::new().fg(Color::Gray),
                ),
                Span::raw(inert_line(&ev.snippet)),
            ]))
        })
        .collect();
    let provenance = entry
        .evidence
        .get(selected)
        .map(|ev| format!(" {} ", inert_line(&ev.provenance)))
        .unwrap_or_default();
    let block = Block::bordered()
        .title(format!(
            " Evidence ({}) · Enter jumps to the text ",
            entry.evidence.len()
        ))
        .title_style(Style::new().fg(ACCENT).bold())
        .title_bottom(Line::from(provenance.fg(Color::Gray)).right_aligned());
    let list = List::new(items)
        .block(block)
        .highlight_style(Style::new().bg(SELECTED_BG).add_modifier(Modifier::BOLD))
        .highlight_symbol("▸ ");
    let chosen = (selected < entry.evidence.len()).then_some(selected);
    let mut list_state = ListState::default().with_selected(chosen);
    frame.render_stateful_widget(list, area, &mut list_state);
}

fn draw_history(frame: &mut Frame, area: Rect, state: &AppState, evidence_len: usize) {
    let ask = &state.ask;
    let items: Vec<ListItem> = ask
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mark = if i == ask.shown { "● " } else { "  " };
            let pages = e
                .evidence
                .first()
                .map(|ev| format_pages(ev.pages))
                .unwrap_or_default();
            ListItem::new(Line::from(vec![
                Span::raw(mark),
                Span::raw(inert_line(&e.question)),
                Span::styled(format!("  {pages}"), Style::new().fg(Color::Gray)),
            ]))
        })
        .collect();
    let block = Block::bordered()
        .title(format!(
            " Questions ({}) · Enter shows the answer ",
            ask.entries.len()
        ))
        .title_style(Style::new().fg(ACCENT).bold());
    let list = List::new(items)
        .block(block)
        .highlight_style(Style::new().bg(SELECTED_BG).add_modifier(Modifier::BOLD));
    let chosen = ask.selected.checked_sub(evidence_len);
    let mut list_state = ListState::default().with_selected(chosen);
    frame.render_stateful_widget(list, area, &mut list_state);
}
