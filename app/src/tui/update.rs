//! How actions change the state. Pure: no I/O, no threads. Work that needs the model or the
//! library comes back as `Effect`s for the runtime to hand to the workers.

use std::ops::Range;

use super::action::Action;
use super::layout::reader_text_size;
use super::messages::Effect;
use super::state::{
    AppState, GenerationStatus, InputLine, InputTarget, ModelStatus, QaEntry, Screen,
};
use super::text_rows;

/// Rows the mouse wheel scrolls per notch.
const WHEEL_ROWS: i64 = 3;
/// Rows of context kept above a search hit or evidence the Reader jumps to.
const CONTEXT_ROWS_ABOVE_JUMP: i64 = 2;
/// The status line while summaries are written.
pub const WRITING_SUMMARIES: &str = "Writing section summaries…";
/// The status line of a queued question starts with this.
pub const QUESTION_QUEUED: &str = "Question queued";
/// The status line of queued summaries starts with this.
pub const SUMMARIES_QUEUED: &str = "Summaries queued";
/// Hits counted at most for one search (a one-letter query in a book has tens of thousands).
pub const MAX_SEARCH_HITS: usize = 10_000;

impl AppState {
    /// Applies one action; returns the work it asks for.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        if !matches!(action, Action::Remove | Action::Resize { .. }) {
            self.library.pending_remove = None;
        }
        match action {
            Action::Resize { width, height } => {
                self.viewport = (width, height);
                return Vec::new();
            }
            Action::Quit => {
                self.should_quit = true;
                return Vec::new();
            }
            _ => {}
        }
        if let Some(scroll) = self.help_scroll {
            // The help also lists the text-line keys and a footer below the bindable actions.
            let max = (self.help_rows.len() + 8) as u16;
            let page = self.viewport.1.saturating_sub(6).max(1);
            self.help_scroll = match action {
                Action::Help | Action::Back | Action::Select => None,
                Action::Up | Action::ScrollUp => Some(scroll.saturating_sub(1)),
                Action::Down | Action::ScrollDown => Some((scroll + 1).min(max)),
                Action::PageUp => Some(scroll.saturating_sub(page)),
                Action::PageDown => Some((scroll + page).min(max)),
                Action::Top => Some(0),
                Action::Bottom => Some(max),
                _ => Some(scroll),
            };
            return Vec::new();
        }
        if self.input.is_some() {
            return self.apply_to_input(action);
        }
        match action {
            Action::Help => self.help_scroll = Some(0),
            Action::Back => return self.back(),
            Action::NextScreen | Action::PrevScreen => {
                let i = Screen::ALL
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                let n = Screen::ALL.len();
                let next = if action == Action::NextScreen {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                return self.show(Screen::ALL[next]);
            }
            Action::ShowLibrary => return self.show(Screen::Library),
            Action::ShowReader => return self.show(Screen::Reader),
            Action::ShowAsk => return self.show(Screen::Ask),
            Action::ShowSummaries => return self.show(Screen::Summaries),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::ScrollUp => self.move_by(-WHEEL_ROWS),
            Action::ScrollDown => self.move_by(WHEEL_ROWS),
            Action::PageUp => self.move_by(-self.page_rows()),
            Action::PageDown => self.move_by(self.page_rows()),
            Action::Top => self.move_by(i64::MIN / 2),
            Action::Bottom => self.move_by(i64::MAX / 2),
            Action::Select => return self.select(),
            Action::Search => self.open_search(),
            Action::NextHit => self.step_hit(true),
            Action::PrevHit => self.step_hit(false),
            Action::Ask => self.open_question(),
            Action::Refresh => return self.refresh(),
            Action::Remove => return self.remove(),
            Action::Export => match self.current_doc_id() {
                Some(doc_id) => return vec![Effect::Export { doc_id }],
                None => self.complain("Nothing to export: the library is empty"),
            },
            // Text-line actions arrive only while a line is open (handled above).
            Action::InputChar(_)
            | Action::InputBackspace
            | Action::InputDeleteWord
            | Action::InputSubmit
            | Action::Paste(_)
            | Action::Resize { .. }
            | Action::Quit => {}
        }
        Vec::new()
    }

    fn apply_to_input(&mut self, action: Action) -> Vec<Effect> {
        let Some(line) = self.input.as_mut() else {
            return Vec::new();
        };
        match action {
            Action::InputChar(c) if !c.is_control() => line.text.push(c),
            Action::Paste(text) => {
                line.text
                    .extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
            }
            Action::InputBackspace => {
                line.text.pop();
            }
            Action::InputDeleteWord => {
                let trimmed = line.text.trim_end().len();
                let cut = line.text[..trimmed].rfind(' ').map_or(0, |i| i + 1);
                line.text.truncate(cut);
            }
            Action::Back => {
                if line.target == InputTarget::Question {
                    self.ask.scope = None;
                }
                self.input = None;
            }
            Action::InputSubmit => {
                let line = self.input.take();
                if let Some(line) = line {
                    return match line.target {
                        InputTarget::Search => {
                            self.run_search(line.text.trim());
                            Vec::new()
                        }
                        InputTarget::Question => self.submit_question(line.text.trim()),
                    };
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn show(&mut self, screen: Screen) -> Vec<Effect> {
        self.screen = screen;
        if screen == Screen::Summaries {
            return self.maybe_start_summaries();
        }
        Vec::new()
    }

    /// Opening Summaries on a document that has none starts writing them (once per document).
    fn maybe_start_summaries(&mut self) -> Vec<Effect> {
        let Some(doc_id) = self.reader.doc.as_ref().map(|d| d.doc_id.clone()) else {
            return Vec::new();
        };
        let model_ready = matches!(self.model, ModelStatus::Ready(_));
        let already = self.summaries.auto_started_for.as_deref() == Some(doc_id.as_str());
        if !self.summaries.loaded
            || self
                .summaries
                .sections
                .iter()
                .any(|s| !s.summary.is_empty())
            || self.summaries.job.is_some()
            || already
            || !model_ready
        {
            return Vec::new();
        }
        self.summaries.auto_started_for = Some(doc_id.clone());
        self.start_summaries(doc_id, None, false)
    }

    /// Starts writing summaries: of the section at `position` in the list, or of all sections
    /// (`refresh`: even those already written).
    fn start_summaries(
        &mut self,
        doc_id: String,
        position: Option<usize>,
        refresh: bool,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        if let Some(job) = self.summaries.job.take() {
            effects.push(Effect::Cancel { job });
        }
        let waiting_for = self.model_busy_with(true, !effects.is_empty());
        let job = self.new_job();
        self.summaries.job = Some(job);
        let mut section = None;
        match position.and_then(|i| self.summaries.sections.get_mut(i)) {
            Some(s) => {
                s.summary.clear();
                s.status = waiting_for.map_or(GenerationStatus::Starting, |w| {
                    GenerationStatus::Queued(w.into())
                });
                section = Some(s.index);
            }
            None => match waiting_for {
                Some(w) => self.say(format!("{SUMMARIES_QUEUED}: waiting for {w}")),
                None => self.say(WRITING_SUMMARIES),
            },
        }
        effects.push(Effect::Summarize {
            job,
            doc_id,
            section,
            refresh: refresh || section.is_some(),
        });
        effects
    }

    fn back(&mut self) -> Vec<Effect> {
        // Esc stops the job of the screen it is pressed on first: on Summaries the summaries
        // (a question may be queued behind them), elsewhere the question.
        if self.screen == Screen::Summaries && self.summaries.job.is_some() {
            return self.cancel_summaries();
        }
        if let Some(job) = self.ask.job.take() {
            if let Some(entry) = self.ask.entries.first_mut() {
                entry.status = GenerationStatus::Cancelled;
            }
            self.say("Answer cancelled");
            return vec![Effect::Cancel { job }];
        }
        if self.summaries.job.is_some() {
            return self.cancel_summaries();
        }
        if self.screen == Screen::Reader
            && (!self.reader.search.hits.is_empty() || self.reader.focus.is_some())
        {
            self.reader.search = Default::default();
            self.reader.focus = None;
            return Vec::new();
        }
        self.message = None;
        self.screen = Screen::Library;
        Vec::new()
    }

    fn cancel_summaries(&mut self) -> Vec<Effect> {
        let Some(job) = self.summaries.job.take() else {
            return Vec::new();
        };
        for s in &mut self.summaries.sections {
            if s.status.is_running() {
                s.status = GenerationStatus::Cancelled;
            }
        }
        self.say("Summaries cancelled");
        vec![Effect::Cancel { job }]
    }

    fn page_rows(&self) -> i64 {
        let (_, rows) = reader_text_size(self);
        (rows as i64 - 1).max(1)
    }

    /// Moves the cursor of the current screen by `delta` rows or items.
    fn move_by(&mut self, delta: i64) {
        fn step(at: usize, delta: i64, len: usize) -> usize {
            let moved = at as i64 + delta.clamp(-(len as i64), len as i64);
            moved.clamp(0, len.saturating_sub(1) as i64) as usize
        }
        match self.screen {
            Screen::Library => {
                self.library.selected = step(self.library.selected, delta, self.library.docs.len());
            }
            Screen::Reader => {
                let (width, height) = reader_text_size(self);
                if let Some(doc) = &self.reader.doc {
                    let last = text_rows::last_screen_start(&doc.text, width, height);
                    let moved = match delta {
                        d if d >= i64::MAX / 4 => last,
                        d if d <= i64::MIN / 4 => 0,
                        d => text_rows::move_rows(&doc.text, self.reader.top_offset, d, width),
                    };
                    self.reader.top_offset = moved.min(last);
                }
            }
            Screen::Ask => {
                if delta.abs() > 1 && delta.abs() < i64::MAX / 4 {
                    let moved = i64::from(self.ask.answer_scroll) + delta;
                    self.ask.answer_scroll = moved.clamp(0, i64::from(u16::MAX)) as u16;
                } else {
                    self.ask.selected = step(self.ask.selected, delta, self.ask_rows());
                }
            }
            Screen::Summaries => {
                self.summaries.selected = step(
                    self.summaries.selected,
                    delta,
                    self.summaries.sections.len(),
                );
            }
        }
    }

    /// Rows of the Ask screen's list: the shown answer's evidence, then every earlier question.
    pub fn ask_rows(&self) -> usize {
        self.ask.shown_entry().map_or(0, |e| e.evidence.len()) + self.ask.entries.len()
    }

    fn select(&mut self) -> Vec<Effect> {
        match self.screen {
            Screen::Library => {
                let Some(doc) = self.library.docs.get(self.library.selected) else {
                    return Vec::new();
                };
                let doc_id = doc.id.clone();
                self.screen = Screen::Reader;
                let open = self.reader.doc.as_ref().map(|d| d.doc_id.as_str());
                if open == Some(doc_id.as_str())
                    || self.reader.loading.as_deref() == Some(doc_id.as_str())
                {
                    return Vec::new();
                }
                self.reader.loading = Some(doc_id.clone());
                self.reader.pending_focus = None;
                vec![Effect::OpenDocument { doc_id }]
            }
            Screen::Reader => Vec::new(),
            Screen::Ask => {
                let evidence = self
                    .ask
                    .shown_entry()
                    .map(|e| e.evidence.clone())
                    .unwrap_or_default();
                if let Some(ev) = evidence.get(self.ask.selected) {
                    let at = ev.supporting_range.clone().unwrap_or(ev.range.clone());
                    return self.jump_to(&ev.doc_id, at);
                }
                let entry = self.ask.selected - evidence.len();
                if entry < self.ask.entries.len() {
                    self.ask.shown = entry;
                    self.ask.selected = 0;
                    self.ask.answer_scroll = 0;
                }
                Vec::new()
            }
            Screen::Summaries => {
                let Some(section) = self.summaries.sections.get(self.summaries.selected) else {
                    return Vec::new();
                };
                let range = section.range.clone();
                match self.reader.doc.as_ref().map(|d| d.doc_id.clone()) {
                    Some(doc_id) => self.jump_to(&doc_id, range),
                    None => Vec::new(),
                }
            }
        }
    }

    /// Shows `range` of document `doc_id` in the Reader, loading the document first if needed.
    pub fn jump_to(&mut self, doc_id: &str, range: Range<usize>) -> Vec<Effect> {
        self.screen = Screen::Reader;
        if self.reader.doc.as_ref().map(|d| d.doc_id.as_str()) == Some(doc_id) {
            self.focus_range(range);
            return Vec::new();
        }
        self.reader.loading = Some(doc_id.to_string());
        self.reader.pending_focus = Some(range);
        vec![Effect::OpenDocument {
            doc_id: doc_id.to_string(),
        }]
    }

    /// Scrolls the open document so that `range` shows near the top, highlighted.
    pub fn focus_range(&mut self, range: Range<usize>) {
        let (width, height) = reader_text_size(self);
        if let Some(doc) = &self.reader.doc {
            let start = text_rows::floor_char_boundary(&doc.text, range.start);
            let top = text_rows::move_rows(&doc.text, start, -CONTEXT_ROWS_ABOVE_JUMP, width);
            self.reader.top_offset =
                top.min(text_rows::last_screen_start(&doc.text, width, height));
            self.reader.focus = Some(range);
        }
    }

    fn open_search(&mut self) {
        if self.reader.doc.is_none() {
            self.complain("Open a document first (Library: Enter)");
            return;
        }
        self.screen = Screen::Reader;
        let text = self.reader.search.query.clone();
        self.input = Some(InputLine {
            target: InputTarget::Search,
            text,
        });
    }

    fn run_search(&mut self, query: &str) {
        let Some(doc) = &self.reader.doc else { return };
        let hits = find_hits(&doc.text, query, MAX_SEARCH_HITS);
        let first = hits
            .iter()
            .position(|h| h.start >= self.reader.top_offset)
            .or((!hits.is_empty()).then_some(0));
        let count = hits.len();
        self.reader.search.query = query.to_string();
        self.reader.search.hits = hits;
        self.reader.search.current = first;
        match (first, count) {
            (_, 0) if query.is_empty() => self.message = None,
            (_, 0) => self.complain(format!("No hits for \"{query}\"")),
            (Some(i), _) => {
                let more = if count >= MAX_SEARCH_HITS { "+" } else { "" };
                self.say(format!(
                    "{count}{more} hits for \"{query}\" (n next, N previous)"
                ));
                let range = self.reader.search.hits[i].clone();
                self.focus_range(range);
            }
            (None, _) => {}
        }
    }

    fn step_hit(&mut self, forward: bool) {
        let count = self.reader.search.hits.len();
        if count == 0 {
            self.complain("No search hits (press / to search)");
            return;
        }
        let next = match (self.reader.search.current, forward) {
            (None, _) => 0,
            (Some(i), true) => (i + 1) % count,
            (Some(i), false) => (i + count - 1) % count,
        };
        self.reader.search.current = Some(next);
        self.say(format!("Hit {} of {count}", next + 1));
        let range = self.reader.search.hits[next].clone();
        self.focus_range(range);
    }

    fn open_question(&mut self) {
        let mut text = String::new();
        self.ask.scope = None;
        if self.screen == Screen::Summaries {
            if let Some(s) = self.summaries.sections.get(self.summaries.selected) {
                self.ask.scope = Some(s.range.clone());
                text = format!("In \"{}\", ", s.title);
            }
        }
        self.screen = Screen::Ask;
        self.input = Some(InputLine {
            target: InputTarget::Question,
            text,
        });
    }

    fn submit_question(&mut self, question: &str) -> Vec<Effect> {
        if question.is_empty() {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if let Some(job) = self.ask.job.take() {
            if let Some(entry) = self.ask.entries.first_mut() {
                entry.status = GenerationStatus::Cancelled;
            }
            effects.push(Effect::Cancel { job });
        }
        let mut entry = QaEntry {
            question: question.to_string(),
            ..QaEntry::default()
        };
        if let ModelStatus::Failed { reason } = &self.model {
            entry.status = GenerationStatus::Failed(format!("no model: {reason}"));
            self.ask.entries.insert(0, entry);
            self.ask.shown = 0;
            return effects;
        }
        let cancelled_one = !effects.is_empty();
        if let Some(waiting_for) = self.model_busy_with(false, cancelled_one) {
            // One model job runs at a time: say what this one waits for, until it starts.
            self.say(format!("{QUESTION_QUEUED}: waiting for {waiting_for}"));
            entry.status = GenerationStatus::Queued(waiting_for.into());
        } else {
            self.message = None;
        }
        let job = self.new_job();
        self.ask.job = Some(job);
        self.ask.entries.insert(0, entry);
        self.ask.shown = 0;
        self.ask.selected = 0;
        self.ask.answer_scroll = 0;
        effects.push(Effect::Ask {
            job,
            doc_id: self.current_doc_id(),
            question: question.to_string(),
            within: self.ask.scope.take(),
        });
        effects
    }

    /// What a new question (or, with `for_summaries`, summary job) would wait for if the model
    /// is not free for it: loading, busy with the other kind of job, or still stopping the job
    /// of the same kind just cancelled (`cancelled_previous`). Background reading is not in
    /// the list: it has its own thread, and questions and summaries run beside it.
    fn model_busy_with(
        &self,
        for_summaries: bool,
        cancelled_previous: bool,
    ) -> Option<&'static str> {
        if matches!(
            self.model,
            ModelStatus::NotLoaded | ModelStatus::Loading { .. }
        ) {
            Some("the model to load")
        } else if !for_summaries && self.summaries.job.is_some() {
            Some("the summaries being written (Esc on Summaries stops them)")
        } else if for_summaries && self.ask.job.is_some() {
            Some("the answer being written (Esc on Ask stops it)")
        } else if cancelled_previous && for_summaries {
            Some("the cancelled summaries to stop")
        } else if cancelled_previous {
            Some("the cancelled answer to stop")
        } else {
            None
        }
    }

    fn refresh(&mut self) -> Vec<Effect> {
        match self.screen {
            Screen::Library => match self.library.docs.get(self.library.selected) {
                Some(doc) => {
                    let doc_id = doc.id.clone();
                    self.say(format!("Re-reading {}", doc.name));
                    vec![Effect::Reread { doc_id }]
                }
                None => Vec::new(),
            },
            Screen::Summaries => match self.reader.doc.as_ref().map(|d| d.doc_id.clone()) {
                Some(doc_id) => {
                    let section =
                        (!self.summaries.sections.is_empty()).then_some(self.summaries.selected);
                    self.start_summaries(doc_id, section, true)
                }
                None => {
                    self.complain("Open a document first (Library: Enter)");
                    Vec::new()
                }
            },
            Screen::Reader | Screen::Ask => Vec::new(),
        }
    }

    fn remove(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Library {
            return Vec::new();
        }
        let Some(doc) = self.library.docs.get(self.library.selected) else {
            return Vec::new();
        };
        let doc_id = doc.id.clone();
        if self.library.pending_remove.as_deref() == Some(doc_id.as_str()) {
            self.library.pending_remove = None;
            self.say(format!("Removing {}", doc.name));
            return vec![Effect::Remove { doc_id }];
        }
        self.say(format!(
            "Press d again to remove {} from the library",
            doc.name
        ));
        self.library.pending_remove = Some(doc_id);
        Vec::new()
    }

    fn new_job(&mut self) -> u64 {
        self.next_job += 1;
        self.next_job
    }
}

/// Byte ranges of `query` in `text`, at most `limit`. ASCII queries match case-insensitively
/// (safe on UTF-8: ASCII bytes never occur inside a multi-byte char); others match exactly.
pub fn find_hits(text: &str, query: &str, limit: usize) -> Vec<Range<usize>> {
    let mut hits = Vec::new();
    if query.is_empty() {
        return hits;
    }
    if query.is_ascii() {
        let needle = query.as_bytes();
        let hay = text.as_bytes();
        let mut i = 0;
        while i + needle.len() <= hay.len() && hits.len() < limit {
            if hay[i..i + needle.len()].eq_ignore_ascii_case(needle) {
                hits.push(i..i + needle.len());
                i += needle.len();
            } else {
                i += 1;
            }
        }
    } else {
        hits.extend(
            text.match_indices(query)
                .take(limit)
                .map(|(i, m)| i..i + m.len()),
        );
    }
    hits
}
