//! How worker reports change the state. Reports of a job that was replaced or cancelled (its id
//! no longer current) are dropped, so a late token never lands in the wrong answer.

use super::messages::{Effect, WorkerEvent};
use super::state::{
    AppState, DocEntry, DocStatus, GenerationStatus, ModelStatus, Screen, SummariesState,
};
use super::update::{QUESTION_QUEUED, SUMMARIES_QUEUED, WRITING_SUMMARIES};

impl AppState {
    /// Applies one worker report; returns any work that follows from it.
    pub fn on_event(&mut self, event: WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::ModelLoading { file_name } => {
                self.model = ModelStatus::Loading { file_name }
            }
            WorkerEvent::ModelLoaded(badge) => {
                self.model = ModelStatus::Ready(badge);
                if self.screen == Screen::Summaries {
                    return self.apply(super::action::Action::ShowSummaries);
                }
            }
            WorkerEvent::ModelFailed { reason } => {
                self.complain(format!("Model not loaded: {reason}"));
                self.model = ModelStatus::Failed { reason };
            }
            WorkerEvent::LibraryListed { location, docs } => self.set_library(location, docs),
            WorkerEvent::LibraryFailed { reason } => {
                self.library.loaded = true;
                self.library.error = Some(reason);
            }
            WorkerEvent::Reading(progress) => {
                if let Some(doc) = self
                    .library
                    .docs
                    .iter_mut()
                    .find(|d| d.id == progress.doc_id)
                {
                    doc.status = DocStatus::Reading {
                        tokens_read: progress.doc_tokens_read,
                        tokens_total: progress.doc_tokens_total,
                    };
                    doc.tokens = progress.doc_tokens_read;
                }
                self.reading = Some(progress);
            }
            WorkerEvent::ReadingFinished { summary, failed } => {
                self.reading = None;
                if failed {
                    self.complain(summary);
                } else {
                    self.say(summary);
                }
            }
            WorkerEvent::DocumentLoaded(doc) => {
                let wanted = self
                    .reader
                    .loading
                    .as_deref()
                    .is_none_or(|id| id == doc.doc_id);
                if !wanted {
                    return Vec::new();
                }
                let same_doc = self
                    .reader
                    .doc
                    .as_ref()
                    .is_some_and(|d| d.doc_id == doc.doc_id);
                if !same_doc {
                    self.reader.top_offset = 0;
                    self.reader.search = Default::default();
                    self.reader.focus = None;
                    self.ask.entries.retain(|e| e.status.is_running());
                    self.ask.shown = 0;
                    self.ask.selected = 0;
                    self.summaries = SummariesState {
                        job: self.summaries.job,
                        ..SummariesState::default()
                    };
                } else {
                    // Re-read text may be shorter: keep the position only if it still exists.
                    self.reader.top_offset = self.reader.top_offset.min(doc.text.len());
                }
                self.reader.loading = None;
                self.reader.error = None;
                self.reader.doc = Some(doc);
                if let Some(range) = self.reader.pending_focus.take() {
                    self.focus_range(range);
                }
            }
            WorkerEvent::DocumentFailed { doc_id, reason } => {
                if self.reader.loading.as_deref() == Some(doc_id.as_str()) {
                    self.reader.loading = None;
                    self.reader.pending_focus = None;
                    self.reader.error = Some(reason);
                }
            }
            WorkerEvent::NotesLoaded {
                doc_id,
                history,
                sections,
            } => {
                let current = self.reader.doc.as_ref().map(|d| d.doc_id.as_str());
                if current != Some(doc_id.as_str()) {
                    return Vec::new();
                }
                let running: Vec<_> = self
                    .ask
                    .entries
                    .iter()
                    .filter(|e| e.status.is_running())
                    .cloned()
                    .collect();
                self.ask.entries = running.into_iter().chain(history).collect();
                self.ask.shown = 0;
                self.ask.selected = 0;
                if self.summaries.job.is_none() {
                    self.summaries.sections = sections;
                    self.summaries.selected = 0;
                }
                self.summaries.loaded = true;
                if self.screen == Screen::Summaries {
                    return self.apply(super::action::Action::ShowSummaries);
                }
            }
            WorkerEvent::JobStarted { job } => self.job_started(job),
            WorkerEvent::AskEvidence {
                job,
                evidence,
                note,
            } => {
                if self.ask.job == Some(job) {
                    if let Some(entry) = self.ask.entries.first_mut() {
                        entry.evidence = evidence;
                        // Replaces any "waiting" note: the question is being answered now.
                        entry.note = note;
                    }
                }
            }
            WorkerEvent::AskText { job, text } => {
                if self.ask.job == Some(job) {
                    if let Some(entry) = self.ask.entries.first_mut() {
                        entry.answer.push_str(&text);
                        entry.status = GenerationStatus::Generating;
                    }
                }
            }
            WorkerEvent::AskFinished {
                job,
                status,
                note,
                provenance,
            } => {
                if self.ask.job == Some(job) {
                    self.ask.job = None;
                    if let GenerationStatus::Failed(reason) = &status {
                        self.complain(format!("Answer failed: {reason}"));
                    }
                    if let Some(entry) = self.ask.entries.first_mut() {
                        entry.status = status;
                        entry.provenance = provenance;
                        if note.is_some() {
                            entry.note = note;
                        }
                    }
                }
            }
            WorkerEvent::SummarySections { job, sections } => {
                if self.summaries.job == Some(job) {
                    self.summaries.sections = sections;
                    self.summaries.selected = self
                        .summaries
                        .selected
                        .min(self.summaries.sections.len().saturating_sub(1));
                }
            }
            WorkerEvent::SummaryText { job, section, text } => {
                if self.summaries.job == Some(job) {
                    if let Some(s) = self.summaries.section_mut(section) {
                        s.summary.push_str(&text);
                        s.status = GenerationStatus::Generating;
                    }
                }
            }
            WorkerEvent::SummaryDone {
                job,
                section,
                summary,
                provenance,
                status,
            } => {
                if self.summaries.job == Some(job) {
                    if let Some(s) = self.summaries.section_mut(section) {
                        if let Some(summary) = summary {
                            s.summary = summary;
                        }
                        s.provenance = provenance;
                        s.status = status;
                    }
                }
            }
            WorkerEvent::SummariesFinished { job, status } => {
                if self.summaries.job == Some(job) {
                    self.summaries.job = None;
                    for s in &mut self.summaries.sections {
                        if s.status.is_running() {
                            s.status = status.clone();
                        }
                    }
                    match status {
                        GenerationStatus::Failed(reason) => {
                            self.complain(format!("Summaries failed: {reason}"))
                        }
                        _ => self.say("Summaries written"),
                    }
                }
            }
            WorkerEvent::Exported { path } => self.say(format!("Exported to {path}")),
            WorkerEvent::Notice { text, is_error } => {
                if is_error {
                    self.complain(text);
                } else {
                    self.say(text);
                }
            }
        }
        Vec::new()
    }

    /// A queued question or summary job got the model: it is no longer shown as queued.
    fn job_started(&mut self, job: u64) {
        let queued_line = |state: &AppState, prefix: &str| {
            state
                .message
                .as_ref()
                .is_some_and(|m| m.text.starts_with(prefix))
        };
        if self.ask.job == Some(job) {
            if let Some(entry) = self.ask.entries.first_mut() {
                if matches!(entry.status, GenerationStatus::Queued(_)) {
                    entry.status = GenerationStatus::Starting;
                }
            }
            if queued_line(self, QUESTION_QUEUED) {
                self.message = None;
            }
        }
        if self.summaries.job == Some(job) {
            for s in &mut self.summaries.sections {
                if matches!(s.status, GenerationStatus::Queued(_)) {
                    s.status = GenerationStatus::Starting;
                }
            }
            if queued_line(self, SUMMARIES_QUEUED) {
                self.say(WRITING_SUMMARIES);
            }
        }
    }

    fn set_library(&mut self, location: String, docs: Vec<DocEntry>) {
        let selected_id = self
            .library
            .docs
            .get(self.library.selected)
            .map(|d| d.id.clone());
        self.library.location = location;
        self.library.docs = docs;
        self.library.loaded = true;
        self.library.error = None;
        self.library.selected = selected_id
            .and_then(|id| self.library.docs.iter().position(|d| d.id == id))
            .unwrap_or(0)
            .min(self.library.docs.len().saturating_sub(1));
    }
}
