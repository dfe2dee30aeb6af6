//! [`LanguageModel`]: what everything above the engine needs of a loaded model — read a chunk
//! (cancellable between layers), run a prompt to logits, and say what it is — whichever way it
//! computes: [`crate::Model`], the CPU engine, or [`crate::DeviceModel`], candle tensor operations
//! on a device (a GPU). Reading, asking, summarizing, benchmarks and the TUI's workers take a
//! `&dyn LanguageModel`, so there is one copy of each of them for every device.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::EngineError;
use crate::fingerprint::Fingerprint;
use crate::model::Model;
use crate::shape::{ModelInfo, ModelShape};
use crate::state::State;

/// A loaded RWKV-4 model, immutable and shareable between threads, each thread with its own
/// [`State`]. States are plain host f32 whatever computes them, so one saved by any
/// implementation can be fed to any other whose [`LanguageModel::fingerprint`] is the same.
pub trait LanguageModel: Send + Sync + std::fmt::Debug {
    /// What users are shown: name, size, precision, device.
    fn info(&self) -> &ModelInfo;

    /// Dimensions.
    fn shape(&self) -> &ModelShape;

    /// Identity of the numbers this model computes: the weights, their precision and, where
    /// that changes the results beyond a stated tolerance, the device. Saved states carry it;
    /// a state is resumed only by a model with the same fingerprint.
    fn fingerprint(&self) -> &Fingerprint;

    /// Feeds `tokens` (at least one), advancing `state`, and returns the logits after the last
    /// token (length = vocabulary).
    fn forward(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError>;

    /// Feeds `tokens` without computing the output head (reading a document), calling
    /// `between_layers` before every layer of every pass: it may block (pausing the reading) and
    /// returns false to stop with [`EngineError::Cancelled`], leaving `state` part-way through a
    /// layer stack (throw it away). An empty slice changes nothing.
    fn read_with(
        &self,
        tokens: &[u32],
        state: &mut State,
        between_layers: &mut dyn FnMut() -> bool,
    ) -> Result<(), EngineError>;

    /// Where it computes (its [`ModelInfo::device`]): `cpu` for the CPU engine; `cuda:0`, … for a
    /// GPU; `candle-cpu` for candle's tensor operations on the CPU (the GPU's code path, for tests).
    fn device(&self) -> &str {
        &self.info().device
    }

    /// The empty state (nothing read yet).
    fn new_state(&self) -> State {
        State::new(self.shape())
    }

    /// [`LanguageModel::read_with`] that never stops early.
    fn read(&self, tokens: &[u32], state: &mut State) -> Result<(), EngineError> {
        self.read_with(tokens, state, &mut || true)
    }

    /// [`LanguageModel::read_with`] that stops soon after `cancel` is set — between two layers, so
    /// within a fraction of a second even for the largest models — with
    /// [`EngineError::Cancelled`]; throw the state away then.
    fn read_cancellable(
        &self,
        tokens: &[u32],
        state: &mut State,
        cancel: &AtomicBool,
    ) -> Result<(), EngineError> {
        self.read_with(tokens, state, &mut || !cancel.load(Ordering::Relaxed))
    }
}

impl LanguageModel for Model {
    fn info(&self) -> &ModelInfo {
        Model::info(self)
    }

    fn shape(&self) -> &ModelShape {
        Model::shape(self)
    }

    fn fingerprint(&self) -> &Fingerprint {
        Model::fingerprint(self)
    }

    fn forward(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError> {
        Model::forward(self, tokens, state)
    }

    fn read_with(
        &self,
        tokens: &[u32],
        state: &mut State,
        between_layers: &mut dyn FnMut() -> bool,
    ) -> Result<(), EngineError> {
        Model::read_with(self, tokens, state, between_layers)
    }
}
