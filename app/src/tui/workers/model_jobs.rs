//! The model-jobs thread: questions and summaries, one at a time (they would only compete for
//! the same cores), each streaming its text to the UI and stopping when its cancel flag is set.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

use ingest::qa::{self, AskEvent, AskOptions, QaContext, QaError, SummaryEvent, SummaryOptions};
use ingest::Library;

use super::convert::{evidence_rows, notices_note, provenance_line, section_row};
use super::foreground::Foreground;
use super::model_slot::{LoadedModel, ModelSlot};
use crate::tui::events::EventSink;
use crate::tui::messages::WorkerEvent;
use crate::tui::state::GenerationStatus;

/// A job for the model.
pub enum ModelJob {
    /// Answer a question.
    Ask {
        job: u64,
        /// Which documents, which part, how many passages to read.
        options: AskOptions,
        question: String,
        cancel: Arc<AtomicBool>,
    },
    /// Write section summaries.
    Summarize {
        job: u64,
        doc_id: String,
        section: Option<u32>,
        refresh: bool,
        cancel: Arc<AtomicBool>,
    },
}

/// Starts the thread; jobs sent to the returned sender run in order.
pub fn spawn(
    library_dir: PathBuf,
    model: Arc<ModelSlot>,
    foreground: Arc<Foreground>,
    sink: EventSink,
) -> std::io::Result<Sender<ModelJob>> {
    let (tx, rx) = mpsc::channel::<ModelJob>();
    let panic_sink = sink.clone();
    super::spawn_guarded(
        "model-jobs",
        move || {
            while let Ok(job) = rx.recv() {
                let (id, is_ask) = match &job {
                    ModelJob::Ask { job, .. } => (*job, true),
                    ModelJob::Summarize { job, .. } => (*job, false),
                };
                // A panic in one job fails that job; the thread goes on with the next.
                let run = std::panic::AssertUnwindSafe(|| {
                    run_job(job, &library_dir, &model, &foreground, &sink)
                });
                if let Err(payload) = std::panic::catch_unwind(run) {
                    let reason =
                        format!("internal error: {}", super::panic_message(payload.as_ref()));
                    sink.send(if is_ask {
                        failed_answer(id, reason)
                    } else {
                        WorkerEvent::SummariesFinished {
                            job: id,
                            status: GenerationStatus::Failed(reason),
                        }
                    });
                }
            }
        },
        move |message| super::crashed(&panic_sink, "the model jobs", &message),
    )?;
    Ok(tx)
}

impl ModelJob {
    fn id(&self) -> u64 {
        match self {
            ModelJob::Ask { job, .. } | ModelJob::Summarize { job, .. } => *job,
        }
    }

    fn is_cancelled(&self) -> bool {
        match self {
            ModelJob::Ask { cancel, .. } | ModelJob::Summarize { cancel, .. } => {
                cancel.load(Ordering::Relaxed)
            }
        }
    }

    /// The report that ends this job as cancelled.
    fn cancelled(&self) -> WorkerEvent {
        let job = self.id();
        match self {
            ModelJob::Ask { .. } => WorkerEvent::AskFinished {
                job,
                status: GenerationStatus::Cancelled,
                note: None,
                provenance: String::new(),
            },
            ModelJob::Summarize { .. } => WorkerEvent::SummariesFinished {
                job,
                status: GenerationStatus::Cancelled,
            },
        }
    }
}

/// Runs one job to its end, reporting its outcome. A job cancelled while it waited in the queue
/// (behind another job, or for the model) ends at once, so the job after it is not held up.
fn run_job(
    job: ModelJob,
    library_dir: &std::path::Path,
    model: &ModelSlot,
    foreground: &Arc<Foreground>,
    sink: &EventSink,
) {
    if job.is_cancelled() {
        sink.send(job.cancelled());
        return;
    }
    let loaded = model.wait();
    if job.is_cancelled() {
        sink.send(job.cancelled());
        return;
    }
    if loaded.is_ok() {
        sink.send(WorkerEvent::JobStarted { job: job.id() });
    }
    match job {
        ModelJob::Ask {
            job,
            options,
            question,
            cancel,
        } => {
            // Background reading pauses (between two layers of the model) until this answer ends.
            let _answering = foreground.enter();
            let finished = match &loaded {
                Ok(loaded) => ask(library_dir, loaded, sink, job, &options, &question, &cancel),
                Err(reason) => failed_answer(job, format!("no model: {reason}")),
            };
            sink.send(finished);
        }
        ModelJob::Summarize {
            job,
            doc_id,
            section,
            refresh,
            cancel,
        } => {
            let status = match &loaded {
                Ok(loaded) => summarize(
                    library_dir,
                    loaded,
                    sink,
                    job,
                    &doc_id,
                    section,
                    refresh,
                    &cancel,
                ),
                Err(reason) => GenerationStatus::Failed(format!("no model: {reason}")),
            };
            sink.send(WorkerEvent::SummariesFinished { job, status });
        }
    }
}

fn failed_answer(job: u64, reason: String) -> WorkerEvent {
    WorkerEvent::AskFinished {
        job,
        status: GenerationStatus::Failed(reason),
        note: None,
        provenance: String::new(),
    }
}

fn ask(
    library_dir: &std::path::Path,
    loaded: &LoadedModel,
    sink: &EventSink,
    job: u64,
    options: &AskOptions,
    question: &str,
    cancel: &AtomicBool,
) -> WorkerEvent {
    let library = match Library::open(library_dir) {
        Ok(library) => library,
        Err(e) => return failed_answer(job, e.to_string()),
    };
    let ctx = QaContext::new(&library, &*loaded.model, &loaded.tokenizer)
        .with_family(loaded.family)
        .with_cancel(cancel);
    let result = qa::ask(&ctx, question, options, &mut |event| {
        match event {
            AskEvent::Evidence {
                evidence: found,
                passages_read,
                ..
            } => sink.send(WorkerEvent::AskEvidence {
                job,
                evidence: evidence_rows(found, passages_read),
                note: None,
            }),
            AskEvent::Text(piece) => sink.send(WorkerEvent::AskText {
                job,
                text: piece.to_string(),
            }),
            AskEvent::Skipped { .. } => {}
        }
        !cancel.load(Ordering::Relaxed)
    });
    match result {
        Ok(answer) => {
            let status = if cancel.load(Ordering::Relaxed) {
                GenerationStatus::Cancelled
            } else {
                GenerationStatus::Done
            };
            WorkerEvent::AskFinished {
                job,
                status,
                note: notices_note(&answer.notices),
                provenance: provenance_line(&answer.provenance),
            }
        }
        Err(QaError::Cancelled) => WorkerEvent::AskFinished {
            job,
            status: GenerationStatus::Cancelled,
            note: None,
            provenance: String::new(),
        },
        Err(e) => failed_answer(job, e.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    library_dir: &std::path::Path,
    loaded: &LoadedModel,
    sink: &EventSink,
    job: u64,
    doc_id: &str,
    section: Option<u32>,
    refresh: bool,
    cancel: &AtomicBool,
) -> GenerationStatus {
    let library = match Library::open(library_dir) {
        Ok(library) => library,
        Err(e) => return GenerationStatus::Failed(e.to_string()),
    };
    let ctx = QaContext::new(&library, &*loaded.model, &loaded.tokenizer)
        .with_family(loaded.family)
        .with_cancel(cancel);
    let options = SummaryOptions {
        refresh,
        only_section: section,
        ..SummaryOptions::default()
    };
    let mut current = None;
    let result = qa::summarize(&ctx, doc_id, &options, &mut |event| {
        match event {
            // For one section the list the UI has stays; for all, the list is replaced.
            SummaryEvent::Sections(sections) if section.is_none() => {
                let rows = sections
                    .iter()
                    .map(|s| {
                        let mut row = section_row(s, None);
                        row.status = GenerationStatus::Starting;
                        row
                    })
                    .collect();
                sink.send(WorkerEvent::SummarySections {
                    job,
                    sections: rows,
                });
            }
            SummaryEvent::Sections(_) => {}
            SummaryEvent::Started(s) => {
                current = Some(s.index);
                sink.send(WorkerEvent::SummaryText {
                    job,
                    section: s.index,
                    text: String::new(),
                });
            }
            SummaryEvent::Text(piece) => {
                if let Some(index) = current {
                    sink.send(WorkerEvent::SummaryText {
                        job,
                        section: index,
                        text: piece.to_string(),
                    });
                }
            }
            SummaryEvent::Finished { summary, .. } => sink.send(WorkerEvent::SummaryDone {
                job,
                section: summary.section.index,
                summary: Some(summary.text.clone()),
                provenance: provenance_line(&summary.provenance),
                status: GenerationStatus::Done,
            }),
        }
        !cancel.load(Ordering::Relaxed)
    });
    match result {
        Ok(report) => {
            for pending in &report.pending {
                sink.send(WorkerEvent::SummaryDone {
                    job,
                    section: pending.index,
                    summary: None,
                    provenance: String::new(),
                    status: GenerationStatus::Failed(
                        "not read yet: reading is still on its way there".into(),
                    ),
                });
            }
            if let Some(note) = notices_note(&report.notices) {
                sink.send(WorkerEvent::Notice {
                    text: note,
                    is_error: false,
                });
            }
            if cancel.load(Ordering::Relaxed) {
                GenerationStatus::Cancelled
            } else {
                GenerationStatus::Done
            }
        }
        Err(QaError::Cancelled) => GenerationStatus::Cancelled,
        Err(e) => GenerationStatus::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use super::*;
    use crate::tui::events::AppEvent;

    /// A question cancelled while it waited in the queue ends at once — even with the model never
    /// loaded — so it does not hold up the job behind it.
    #[test]
    fn a_job_cancelled_in_the_queue_ends_without_waiting_for_the_model() {
        let (tx, rx) = channel();
        let dir = std::env::temp_dir().join("rwkv-reader-no-library");
        let never_loaded = Arc::new(ModelSlot::new());
        let foreground = Arc::new(Foreground::default());
        let jobs = match spawn(dir, never_loaded, foreground, EventSink::new(tx)) {
            Ok(jobs) => jobs,
            Err(e) => panic!("spawn: {e}"),
        };
        let sent = jobs.send(ModelJob::Ask {
            job: 7,
            options: AskOptions::default(),
            question: "who?".into(),
            cancel: Arc::new(AtomicBool::new(true)),
        });
        assert!(sent.is_ok());
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(AppEvent::Worker(WorkerEvent::AskFinished { job, status, .. })) => {
                assert_eq!((job, status), (7, GenerationStatus::Cancelled));
            }
            other => panic!("expected the cancelled end, got {other:?}"),
        }
    }
}
