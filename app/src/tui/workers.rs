//! The threads that do the slow work, each reporting typed `WorkerEvent`s through the
//! `EventSink`; none of them touches the terminal:
//!
//! - `model-loader`: loads the model once (`model_slot`);
//! - `reading`: the library's one writer, ingesting in the background (`reading`); it pauses
//!   between two layers of the model while a question is answered (`foreground`);
//! - `model-jobs`: questions and summaries, one at a time, cancellable (`model_jobs`);
//! - short-lived threads to open a document or export notes (`library_jobs`).

mod convert;
mod foreground;
mod library_jobs;
mod model_jobs;
pub(crate) mod model_slot;
mod reading;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::events::EventSink;
use super::messages::{Effect, WorkerEvent};
use crate::model_choice::ModelChoice;
use foreground::Foreground;
use model_jobs::ModelJob;
use model_slot::ModelSlot;
use reading::{ReadingCommand, ReadingHandle};

/// Starts a named worker thread whose panic is reported instead of lost: `on_panic` gets the
/// panic message (the panic itself is printed to stderr, which the UI sends to its log file).
pub(crate) fn spawn_guarded(
    name: &str,
    body: impl FnOnce() + Send + 'static,
    on_panic: impl FnOnce(String) + Send + 'static,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
                on_panic(panic_message(payload.as_ref()));
            }
        })?;
    Ok(())
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// A status-bar error for a worker that died.
pub(crate) fn crashed(sink: &EventSink, what: &str, message: &str) {
    sink.send(WorkerEvent::Notice {
        text: format!("Internal error in {what}: {message}"),
        is_error: true,
    });
}

/// How long quitting waits for reading to checkpoint and release the library.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// What the workers need to know, fixed for the session.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// The library folder.
    pub library_dir: PathBuf,
    /// The model to load.
    pub model: ModelChoice,
    /// Where exports are written.
    pub export_dir: PathBuf,
    /// What every question starts from (passages read, re-read budget; from the config).
    pub ask_options: ingest::qa::AskOptions,
    /// How documents are read (checkpoint spacing; from the config).
    pub ingest_options: ingest::IngestOptions,
    /// Books or folders to read in the background.
    pub paths: Vec<PathBuf>,
}

/// The running workers.
pub struct Workers {
    ctx: WorkerContext,
    sink: EventSink,
    model: Arc<ModelSlot>,
    reading: Option<ReadingHandle>,
    model_jobs: Option<Sender<ModelJob>>,
    cancel_flags: HashMap<u64, Arc<AtomicBool>>,
}

impl Workers {
    /// Starts loading the model, listing the library and (once the model is in) reading.
    pub fn start(ctx: WorkerContext, sink: EventSink) -> Workers {
        let choice = ctx.model.clone();
        Workers::start_with_loader(ctx, sink, move |slot, sink| slot.load(&choice, sink))
    }

    /// `start`, with the model put in its slot by `load` on the loader thread instead of read
    /// from `ctx.model` (the TUI benchmark hands over a random-init model this way).
    pub fn start_with_loader(
        ctx: WorkerContext,
        sink: EventSink,
        load: impl FnOnce(&ModelSlot, &EventSink) + Send + 'static,
    ) -> Workers {
        let model = Arc::new(ModelSlot::new());
        let loader = {
            let (model, sink) = (Arc::clone(&model), sink.clone());
            let (slot, panic_sink) = (Arc::clone(&model), sink.clone());
            spawn_guarded(
                "model-loader",
                move || load(&model, &sink),
                // Jobs waiting for the model must not wait forever.
                move |message| {
                    slot.fail(format!("the model loader crashed: {message}"), &panic_sink)
                },
            )
        };
        let foreground = Arc::new(Foreground::default());
        let reading = ReadingHandle::spawn(
            ctx.library_dir.clone(),
            ctx.paths.clone(),
            ctx.ingest_options.clone(),
            Arc::clone(&model),
            Arc::clone(&foreground),
            sink.clone(),
        );
        let model_jobs = model_jobs::spawn(
            ctx.library_dir.clone(),
            Arc::clone(&model),
            foreground,
            sink.clone(),
        );
        let report = |what: &str, e: std::io::Error| {
            sink.send(WorkerEvent::Notice {
                text: format!("cannot start {what}: {e}"),
                is_error: true,
            });
        };
        if let Err(e) = loader {
            report("the model loader", e);
        }
        let reading = reading.map_err(|e| report("reading", e)).ok();
        let model_jobs = model_jobs.map_err(|e| report("the model jobs", e)).ok();
        Workers {
            ctx,
            sink,
            model,
            reading,
            model_jobs,
            cancel_flags: HashMap::new(),
        }
    }

    /// Hands one effect to the worker that does it.
    pub fn dispatch(&mut self, effect: Effect) {
        // Flags of finished jobs are held by nobody else any more.
        self.cancel_flags
            .retain(|_, flag| Arc::strong_count(flag) > 1);
        let started = match effect {
            Effect::OpenDocument { doc_id } => library_jobs::open_document(
                self.ctx.library_dir.clone(),
                doc_id,
                Arc::clone(&self.model),
                self.sink.clone(),
            ),
            Effect::Export { doc_id } => library_jobs::export(
                self.ctx.library_dir.clone(),
                self.ctx.export_dir.clone(),
                doc_id,
                self.sink.clone(),
            ),
            Effect::Reread { doc_id } => {
                self.to_reading(ReadingCommand::Reread(doc_id));
                Ok(())
            }
            Effect::Remove { doc_id } => {
                self.to_reading(ReadingCommand::Remove(doc_id));
                Ok(())
            }
            Effect::Ask {
                job,
                doc_id,
                question,
                within,
            } => {
                let cancel = self.cancel_flag(job);
                let options = ingest::qa::AskOptions {
                    documents: doc_id.map(|id| vec![id]),
                    within_bytes: within.map(|r| r.start as u64..r.end as u64),
                    ..self.ctx.ask_options.clone()
                };
                self.to_model_jobs(ModelJob::Ask {
                    job,
                    options,
                    question,
                    cancel,
                });
                Ok(())
            }
            Effect::Summarize {
                job,
                doc_id,
                section,
                refresh,
            } => {
                let cancel = self.cancel_flag(job);
                self.to_model_jobs(ModelJob::Summarize {
                    job,
                    doc_id,
                    section,
                    refresh,
                    cancel,
                });
                Ok(())
            }
            Effect::Cancel { job } => {
                if let Some(flag) = self.cancel_flags.remove(&job) {
                    flag.store(true, Ordering::Relaxed);
                }
                Ok(())
            }
        };
        if let Err(e) = started {
            self.sink.send(WorkerEvent::Notice {
                text: format!("cannot start a worker thread: {e}"),
                is_error: true,
            });
        }
    }

    fn cancel_flag(&mut self, job: u64) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.cancel_flags.insert(job, Arc::clone(&flag));
        flag
    }

    fn to_reading(&self, command: ReadingCommand) {
        match &self.reading {
            Some(reading) => reading.send(command),
            None => self.sink.send(WorkerEvent::Notice {
                text: "reading is not running".into(),
                is_error: true,
            }),
        }
    }

    fn to_model_jobs(&self, job: ModelJob) {
        let sent = self
            .model_jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            self.sink.send(WorkerEvent::Notice {
                text: "the model jobs thread is not running".into(),
                is_error: true,
            });
        }
    }

    /// Stops every job; waits (a few seconds at most) for reading to checkpoint and release the
    /// library. What was checkpointed is kept; the next start resumes from there.
    pub fn shutdown(mut self) {
        for flag in self.cancel_flags.values() {
            flag.store(true, Ordering::Relaxed);
        }
        if let Some(reading) = self.reading.take() {
            reading.shutdown(SHUTDOWN_WAIT);
        }
    }
}
