//! Where each part of the screen goes. Shared by `draw` and by `update` (which needs the Reader's
//! text width and height to scroll by rows and pages), so both always agree.

use ratatui::layout::{Constraint, Layout, Rect};

use super::state::{AppState, InputTarget};

/// Columns of the Reader's page gutter (`p.12` and a space).
pub const GUTTER_COLS: u16 = 6;

/// Rows of the progress panel on terminals of at least `TALL_ROWS` rows (1 on smaller ones).
pub const PROGRESS_ROWS_TALL: u16 = 3;
/// Terminals with at least this many rows get the tall progress panel.
pub const TALL_ROWS: u16 = 20;

/// The parts of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    /// Tab bar.
    pub tabs: Rect,
    /// The current screen.
    pub body: Rect,
    /// The Reader's search line, when open.
    pub search_line: Option<Rect>,
    /// The reading progress panel, while reading.
    pub progress: Option<Rect>,
    /// Status bar (model, messages, key hints).
    pub status: Rect,
}

/// Splits the terminal area for `state`.
pub fn screen_layout(area: Rect, state: &AppState) -> ScreenLayout {
    let progress_rows = match state.reading {
        Some(_) if area.height >= TALL_ROWS => PROGRESS_ROWS_TALL,
        Some(_) => 1,
        None => 0,
    };
    let search_rows = match &state.input {
        Some(line) if line.target == InputTarget::Search => 1,
        _ => 0,
    };
    let [tabs, body, search, progress, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(search_rows),
        Constraint::Length(progress_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    ScreenLayout {
        tabs,
        body,
        search_line: (search_rows > 0).then_some(search),
        progress: (progress_rows > 0).then_some(progress),
        status,
    }
}

/// The Reader's text area inside its border and gutter.
pub fn reader_text_rect(body: Rect) -> Rect {
    let inner = Rect {
        x: body.x.saturating_add(1),
        y: body.y.saturating_add(1),
        width: body.width.saturating_sub(2),
        height: body.height.saturating_sub(2),
    };
    Rect {
        x: inner.x.saturating_add(GUTTER_COLS),
        width: inner.width.saturating_sub(GUTTER_COLS),
        ..inner
    }
}

/// (columns, rows) of the Reader's text for the terminal size in `state.viewport`.
pub fn reader_text_size(state: &AppState) -> (usize, usize) {
    let (width, height) = state.viewport;
    let layout = screen_layout(Rect::new(0, 0, width, height), state);
    let text = reader_text_rect(layout.body);
    (
        usize::from(text.width).max(1),
        usize::from(text.height).max(1),
    )
}
