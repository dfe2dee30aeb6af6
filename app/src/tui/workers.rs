//! The threads that do the slow work: loading the model, reading documents, answering,
//! summarising. Each reports typed `WorkerEvent`s through the `EventSink`; none of them ever
//! touches the terminal. Long jobs check a cancel flag between tokens.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use super::messages::{Effect, WorkerEvent};
use super::runtime::EventSink;
use super::state::ModelBadge;
use crate::model_choice::{ModelChoice, ModelSource};

/// What the workers need to know, fixed for the session.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// The library folder.
    pub library_dir: PathBuf,
    /// The model to load.
    pub model: ModelChoice,
    /// Where exports are written.
    pub export_dir: PathBuf,
    /// Books or folders to read in the background.
    pub paths: Vec<PathBuf>,
}

/// A loaded model and its tokenizer, shared by every job.
pub struct LoadedModel {
    /// The weights.
    pub model: engine::Model,
    /// The tokenizer.
    pub tokenizer: engine::Tokenizer,
}

enum Slot {
    Loading,
    Ready(Arc<LoadedModel>),
    Failed(String),
}

/// The model, once the loader thread has it. Jobs that need it wait here.
struct ModelSlot {
    slot: Mutex<Slot>,
    changed: Condvar,
}

impl ModelSlot {
    fn set(&self, value: Slot) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = value;
        }
        self.changed.notify_all();
    }

    /// Blocks until the model is loaded (or failed to load).
    #[allow(dead_code)]
    fn wait(&self) -> Result<Arc<LoadedModel>, String> {
        let mut slot = self
            .slot
            .lock()
            .map_err(|_| "model loader crashed".to_string())?;
        loop {
            match &*slot {
                Slot::Ready(model) => return Ok(Arc::clone(model)),
                Slot::Failed(reason) => return Err(reason.clone()),
                Slot::Loading => {
                    slot = self
                        .changed
                        .wait(slot)
                        .map_err(|_| "model loader crashed".to_string())?;
                }
            }
        }
    }
}

/// The running workers.
pub struct Workers {
    #[allow(dead_code)]
    ctx: Arc<WorkerContext>,
    sink: EventSink,
    #[allow(dead_code)]
    model: Arc<ModelSlot>,
    cancel_flags: HashMap<u64, Arc<AtomicBool>>,
    shutting_down: Arc<AtomicBool>,
}

impl Workers {
    /// Starts loading the model and listing the library; reading starts once the model is in.
    pub fn start(ctx: WorkerContext, sink: EventSink) -> Workers {
        let ctx = Arc::new(ctx);
        let model = Arc::new(ModelSlot {
            slot: Mutex::new(Slot::Loading),
            changed: Condvar::new(),
        });
        let workers = Workers {
            ctx: Arc::clone(&ctx),
            sink: sink.clone(),
            model: Arc::clone(&model),
            cancel_flags: HashMap::new(),
            shutting_down: Arc::new(AtomicBool::new(false)),
        };
        workers.spawn("model-loader", move || {
            load_model(&ctx.model, &model, &sink)
        });
        workers
    }

    fn spawn(&self, name: &str, job: impl FnOnce() + Send + 'static) {
        if let Err(e) = thread::Builder::new().name(name.to_string()).spawn(job) {
            self.sink.send(WorkerEvent::Notice {
                text: format!("cannot start {name}: {e}"),
                is_error: true,
            });
        }
    }

    /// Hands one effect to the worker that does it.
    pub fn dispatch(&mut self, effect: Effect) {
        match effect {
            Effect::Cancel { job } => {
                if let Some(flag) = self.cancel_flags.remove(&job) {
                    flag.store(true, Ordering::Relaxed);
                }
            }
            other => self.sink.send(WorkerEvent::Notice {
                text: format!("not available yet (the library is being built): {other:?}"),
                is_error: true,
            }),
        }
    }

    /// Asks every job to stop. Reading stops at its next chunk; what it checkpointed is kept,
    /// and the next start resumes from there.
    pub fn shutdown(self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        for flag in self.cancel_flags.values() {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

fn load_model(choice: &ModelChoice, slot: &ModelSlot, sink: &EventSink) {
    sink.send(WorkerEvent::ModelLoading {
        file_name: choice.file_name(),
    });
    let loaded = engine::Model::load(&choice.path)
        .map_err(|e| e.to_string())
        .and_then(|model| {
            let tokenizer = match &choice.tokenizer {
                Some(path) => engine::Tokenizer::from_file(path),
                None => engine::Tokenizer::for_model(&choice.path),
            };
            tokenizer
                .map(|tokenizer| LoadedModel { model, tokenizer })
                .map_err(|e| e.to_string())
        });
    match loaded {
        Ok(loaded) => {
            let info = loaded.model.info();
            sink.send(WorkerEvent::ModelLoaded(ModelBadge {
                name: info.name.clone(),
                n_params: info.n_params,
                precision: info.precision.clone(),
                is_demo: info.is_demo || choice.source == ModelSource::Demo,
            }));
            slot.set(Slot::Ready(Arc::new(loaded)));
        }
        Err(reason) => {
            sink.send(WorkerEvent::ModelFailed {
                reason: reason.clone(),
            });
            slot.set(Slot::Failed(reason));
        }
    }
}
