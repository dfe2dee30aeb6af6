//! The model, loaded once on its own thread and shared by every job. Jobs that need it before it
//! is loaded wait here; the UI never does.

use std::sync::{Arc, Condvar, Mutex};

use crate::model_choice::{ModelChoice, ModelSource};
use crate::tui::events::EventSink;
use crate::tui::messages::WorkerEvent;
use crate::tui::state::ModelBadge;
use ingest::qa::PromptFamily;

/// A loaded model, its tokenizer and the prompt format its questions and summaries use.
pub struct LoadedModel {
    /// The weights, on the chosen device.
    pub model: Arc<dyn engine::LanguageModel>,
    /// The tokenizer.
    pub tokenizer: engine::Tokenizer,
    /// Prompt template family (`--prompt-family`, the config's, or guessed from the name).
    pub family: PromptFamily,
}

enum Slot {
    Loading,
    Ready(Arc<LoadedModel>),
    Failed(String),
}

/// Where the loader thread puts the model.
pub struct ModelSlot {
    slot: Mutex<Slot>,
    changed: Condvar,
}

impl ModelSlot {
    /// An empty slot (loading).
    pub fn new() -> ModelSlot {
        ModelSlot {
            slot: Mutex::new(Slot::Loading),
            changed: Condvar::new(),
        }
    }

    fn set(&self, value: Slot) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = value;
        }
        self.changed.notify_all();
    }

    /// Blocks until the model is loaded; the reason it could not be, if it could not.
    pub fn wait(&self) -> Result<Arc<LoadedModel>, String> {
        let crashed = || "the model loader crashed".to_string();
        let mut slot = self.slot.lock().map_err(|_| crashed())?;
        loop {
            match &*slot {
                Slot::Ready(model) => return Ok(Arc::clone(model)),
                Slot::Failed(reason) => return Err(reason.clone()),
                Slot::Loading => slot = self.changed.wait(slot).map_err(|_| crashed())?,
            }
        }
    }

    /// Marks the model as unavailable for `reason`, releasing every job waiting for it.
    pub fn fail(&self, reason: String, sink: &EventSink) {
        sink.send(WorkerEvent::ModelFailed {
            reason: reason.clone(),
        });
        self.set(Slot::Failed(reason));
    }

    /// Loads the chosen model into the slot, reporting to the status bar.
    pub fn load(&self, choice: &ModelChoice, sink: &EventSink) {
        sink.send(WorkerEvent::ModelLoading {
            file_name: choice.file_name(),
        });
        let loaded = choice
            .load()
            .map(|(model, tokenizer)| LoadedModel {
                family: choice.family_for(&*model),
                model,
                tokenizer,
            })
            .map_err(|e| format!("{e:#}"));
        match loaded {
            Ok(loaded) => self.put(loaded, choice.source == ModelSource::Demo, sink),
            Err(reason) => {
                sink.send(WorkerEvent::ModelFailed {
                    reason: reason.clone(),
                });
                self.set(Slot::Failed(reason));
            }
        }
    }

    /// Puts a loaded model in the slot (`is_demo`: label it as the demo model even if its
    /// metadata does not), reporting it to the status bar and releasing waiting jobs.
    pub fn put(&self, loaded: LoadedModel, is_demo: bool, sink: &EventSink) {
        let info = loaded.model.info();
        sink.send(WorkerEvent::ModelLoaded(ModelBadge {
            name: info.name.clone(),
            n_params: info.n_params,
            precision: info.precision.clone(),
            device: info.device.clone(),
            is_demo: info.is_demo || is_demo,
        }));
        self.set(Slot::Ready(Arc::new(loaded)));
    }
}
