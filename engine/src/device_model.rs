//! [`DeviceModel`]: a [`TensorModel`] with the identity the rest of the product needs — info,
//! fingerprint, device name — so that it is a [`LanguageModel`] like the CPU engine; and
//! [`load_model`], which opens a checkpoint for the device a user names.
//!
//! Which states a device model shares with the CPU engine (engine/RWKV4.md §7): f32 matrices
//! compute the same numbers within rounding on every device, so an f32 device model keeps the CPU
//! engine's fingerprint and resumes its checkpoints (and the other way round); f16 or Q8_0
//! matrices on a device round differently from the CPU engine's (another activation
//! quantization, another order of sums), so their fingerprint names the matrices and the kind of
//! device, and a library read with one is re-read, not resumed, by the other.

use std::path::Path;
use std::sync::Arc;

use candle_core::{Device, DeviceLocation};

use crate::error::EngineError;
use crate::fingerprint::{fingerprint, Digest, Fingerprint};
use crate::language_model::LanguageModel;
use crate::model::Model;
use crate::shape::{ModelInfo, ModelShape};
use crate::state::State;
use crate::tensor_forward::{device_by_name, device_name, DeviceMatrices, TensorModel};

/// A model run with candle tensor operations on one device.
#[derive(Debug)]
pub struct DeviceModel {
    tensor: TensorModel,
    info: ModelInfo,
    fingerprint: Fingerprint,
}

impl DeviceModel {
    /// Puts `model`'s weights on `device` in the form they have (Q8_0 stays Q8_0, f16 stays f16,
    /// f32 stays f32).
    pub fn new(model: &Model, device: &Device) -> Result<DeviceModel, EngineError> {
        Ok(DeviceModel::wrap(model, TensorModel::new(model, device)?))
    }

    /// Puts `model`'s weights on `device` as `matrices` (rounded or quantized from f32, or
    /// dequantized exactly from Q8_0).
    pub fn with_matrices(
        model: &Model,
        device: &Device,
        matrices: DeviceMatrices,
    ) -> Result<DeviceModel, EngineError> {
        Ok(DeviceModel::wrap(
            model,
            TensorModel::with_matrices(model, device, matrices)?,
        ))
    }

    fn wrap(model: &Model, tensor: TensorModel) -> DeviceModel {
        let matrices = tensor.matrices();
        // candle's CPU device is named apart from the CPU engine, which is plain `cpu`.
        let device = if tensor.device().is_cpu() {
            "candle-cpu".to_string()
        } else {
            device_name(tensor.device())
        };
        let shares_cpu_numbers = matrices == DeviceMatrices::F32 && model.info().precision == "f32";
        let fingerprint = if shares_cpu_numbers {
            model.fingerprint().clone()
        } else {
            device_fingerprint(model, matrices, tensor.device())
        };
        let info = ModelInfo {
            precision: matrices.name().to_string(),
            device,
            ..model.info().clone()
        };
        DeviceModel {
            tensor,
            info,
            fingerprint,
        }
    }

    /// The tensor model inside.
    pub fn tensor_model(&self) -> &TensorModel {
        &self.tensor
    }
}

/// The fingerprint of `model`'s weights as `matrices` on a device of `device`'s kind: the same
/// shape and weights digest folded with the precision and kind, so it is never the CPU engine's.
fn device_fingerprint(model: &Model, matrices: DeviceMatrices, device: &Device) -> Fingerprint {
    let kind = match device.location() {
        DeviceLocation::Cpu => "candlecpu",
        DeviceLocation::Cuda { .. } => "cuda",
        DeviceLocation::Metal { .. } => "metal",
    };
    let mut digest = Digest::default();
    digest.update(model.fingerprint().0.as_bytes());
    let label = format!("{}{kind}", matrices.name());
    fingerprint(model.shape(), &label, &digest)
}

impl LanguageModel for DeviceModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn shape(&self) -> &ModelShape {
        self.tensor.shape()
    }

    fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    fn forward(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError> {
        self.tensor.forward(tokens, state)
    }

    fn read_with(
        &self,
        tokens: &[u32],
        state: &mut State,
        between_layers: &mut dyn FnMut() -> bool,
    ) -> Result<(), EngineError> {
        self.tensor.read_with(tokens, state, between_layers)
    }
}

/// Opens the checkpoint at `path` for `device`: `cpu` gives the CPU engine ([`Model::load`]),
/// `cuda` / `cuda:N` a [`DeviceModel`] on that GPU (a build with the `cuda` feature; otherwise
/// the error says so).
pub fn load_model(path: &Path, device: &str) -> Result<Arc<dyn LanguageModel>, EngineError> {
    let candle_device = device_by_name(device)?;
    let model = Model::load(path)?;
    if candle_device.is_cpu() {
        return Ok(Arc::new(model));
    }
    Ok(Arc::new(DeviceModel::new(&model, &candle_device)?))
}
