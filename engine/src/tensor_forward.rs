//! The RWKV-4 forward pass (engine/RWKV4.md §5) written with candle tensor ops only, so the same code runs
//! on whichever candle [`Device`] the weights are put on: the CPU in every build, a GPU with the
//! `cuda` feature. [`crate::Model`]'s own forward (`forward.rs`) stays the fast, exact CPU path; this
//! one exists to run a model on a GPU, and is tested against the reference and against `Model` on
//! the CPU so that only the kernels themselves differ on a GPU.
//!
//! The weights are copied from an already-loaded [`Model`], on the CPU device too (its matrices
//! again). The matrices — every block's and the head — take one of the forms of [`DeviceMatrices`]
//! (f32, f16 or Q8_0, see `tensor_forward/matrices.rs`); the embedding stays on the host and one row
//! per token is uploaded. The [`State`] stays the engine's plain host `f32` state: it is uploaded at
//! the start of each call and downloaded at the end, so checkpoints saved by either path resume in
//! the other. A call that fails, or is cancelled, leaves the state as it was.
//!
//! Memory on the device for the RWKV-4 14B shape (40 × 5120, vocabulary 50277): 13.89 G matrix
//! weights (13·C² per layer, the head V·C), so 14.76 GB in Q8_0 (34 bytes per 32 weights; 13.7 GiB),
//! 27.8 GB in f16 and 55.6 GB in f32, plus 13 MB of f32 vectors and the activations of one pass
//! (21 MB per `[T, 4C]` f32 intermediate at T = 256). `device_weight_bytes_for_14b_q8_0_fit_16_gb`
//! in the tests computes it.
//!
//! Differences from `forward.rs`, all within rounding: LayerNorm sums in f32 (two passes: the mean,
//! then the squared deviations) where `forward.rs` sums in f64; sigmoid uses the backend's exp. The
//! WKV scan is [`crate::wkv_op`], the same loop on the CPU as `forward.rs` runs.

mod matrices;

use candle_core::{Device, Tensor};

use crate::embedding::Embedding;
use crate::error::EngineError;
use crate::forward::Logits;
use crate::kernels::LN_EPS;
use crate::linear::Linear;
use crate::model::Model;
use crate::shape::ModelShape;
use crate::state::{LayerState, State};
use crate::weights::{Block, Mix, Norm};
use crate::wkv_op;
pub use matrices::DeviceMatrices;
use matrices::DeviceMatrix;

/// Tokens processed together by default: bounds the activations (T × F floats) whatever the input
/// length, as `forward.rs` does. A GPU may want more; see [`TensorModel::with_rows_per_pass`].
pub const DEFAULT_ROWS_PER_PASS: usize = 256;

/// Vectors per layer in the state, in [`LayerState`]'s order: att_x, aa, bb, pp, ffn_x.
const STATE_VECTORS: usize = 5;

/// LayerNorm weight and bias on the device.
#[derive(Debug, Clone)]
struct TensorNorm {
    weight: Tensor,
    bias: Tensor,
}

/// A token-shift mix and its complement on the device.
#[derive(Debug, Clone)]
struct TensorMix {
    mix: Tensor,
    one_minus: Tensor,
}

/// One block's weights on the device; matrices `[out, in]` as the checkpoint has them.
#[derive(Debug, Clone)]
struct TensorBlock {
    ln1: TensorNorm,
    ln2: TensorNorm,
    att_mix_k: TensorMix,
    att_mix_v: TensorMix,
    att_mix_r: TensorMix,
    /// `[2, C]`: w = −exp(time_decay), u = time_first — the first rows of the WKV op's parameters.
    decay_first: Tensor,
    att_key: DeviceMatrix,
    att_value: DeviceMatrix,
    att_receptance: DeviceMatrix,
    att_output: DeviceMatrix,
    ffn_mix_k: TensorMix,
    ffn_mix_r: TensorMix,
    ffn_key: DeviceMatrix,
    ffn_receptance: DeviceMatrix,
    ffn_value: DeviceMatrix,
}

/// An RWKV-4 model whose weights are candle tensors on one device. Built from a loaded [`Model`]
/// in any precision; takes and returns the same [`State`] as [`Model`].
#[derive(Debug, Clone)]
pub struct TensorModel {
    device: Device,
    shape: ModelShape,
    /// Kept on the host, like the reference does: a row per token is decoded and uploaded, so any
    /// stored precision works and the table (1 GB in f32 for 14B) costs no device memory.
    emb: Embedding,
    blocks: Vec<TensorBlock>,
    ln_out: TensorNorm,
    /// `[V, C]`.
    head: DeviceMatrix,
    matrices: DeviceMatrices,
    rows_per_pass: usize,
}

impl TensorModel {
    /// Puts `model`'s weights on `device` as the model holds them ([`DeviceMatrices::of`] its
    /// precision): a Q8_0 model's blocks stay Q8_0, an f16 model's matrices become f16 again, f32
    /// stays f32. Fails with candle's error when the device cannot hold or receive them.
    pub fn new(model: &Model, device: &Device) -> Result<TensorModel, EngineError> {
        let matrices = DeviceMatrices::of(model.weights.precision);
        TensorModel::with_matrices(model, device, matrices)
    }

    /// Puts `model`'s weights on `device` with the matrices in the form `matrices`, whatever the
    /// model's own precision: f32 weights are rounded to f16 or quantized to Q8_0 (the same blocks
    /// as [`Model::to_precision`] makes), Q8_0 weights dequantized for f32 or f16.
    pub fn with_matrices(
        model: &Model,
        device: &Device,
        matrices: DeviceMatrices,
    ) -> Result<TensorModel, EngineError> {
        let w = &model.weights;
        let blocks = w
            .blocks
            .iter()
            .map(|b| TensorBlock::new(b, matrices, device))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TensorModel {
            device: device.clone(),
            shape: w.shape,
            emb: w.emb.clone(),
            blocks,
            ln_out: TensorNorm::new(&w.ln_out, device)?,
            head: DeviceMatrix::new(&w.head, matrices, device, "head")?,
            matrices,
            rows_per_pass: DEFAULT_ROWS_PER_PASS,
        })
    }

    /// The form the matrices are held in on the device.
    pub fn matrices(&self) -> DeviceMatrices {
        self.matrices
    }

    /// Bytes of weights held on the device: every matrix (the head included) in its form, and the
    /// norms, mixes and decays in f32. The embedding is on the host and not counted.
    pub fn device_weight_bytes(&self) -> usize {
        let vectors = |ts: &[&Tensor]| -> usize { ts.iter().map(|t| t.elem_count() * 4).sum() };
        let blocks: usize = self.blocks.iter().map(TensorBlock::device_bytes).sum();
        blocks + self.head.device_bytes() + vectors(&[&self.ln_out.weight, &self.ln_out.bias])
    }

    /// The same model, processing at most `rows` tokens per pass (at least 1). Only peak memory and
    /// speed change, not the results beyond rounding.
    pub fn with_rows_per_pass(mut self, rows: usize) -> TensorModel {
        self.rows_per_pass = rows.max(1);
        self
    }

    /// The device the weights are on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Dimensions.
    pub fn shape(&self) -> &ModelShape {
        &self.shape
    }

    /// The empty state (nothing read yet), the same as [`Model::new_state`].
    pub fn new_state(&self) -> State {
        State::new(&self.shape)
    }

    /// Feeds `tokens` (at least one), advancing `state`, and returns the logits after the last
    /// token (length = vocabulary), like [`Model::forward`].
    pub fn forward(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError> {
        if tokens.is_empty() {
            return Err(EngineError::NoTokens);
        }
        self.run(tokens, state, Logits::Last, None)
    }

    /// Feeds `tokens`, advancing `state`, without the output head, like [`Model::read`]. An empty
    /// slice changes nothing.
    pub fn read(&self, tokens: &[u32], state: &mut State) -> Result<(), EngineError> {
        self.run(tokens, state, Logits::None, None).map(|_| ())
    }

    /// [`TensorModel::read`] that calls `between_layers` before every layer of every pass, like
    /// [`Model::read_with`]: it may block (pausing the reading) and returns false to stop with
    /// [`EngineError::Cancelled`]. Unlike `Model`'s, a cancelled read leaves `state` as it was (the
    /// state lives on the device during a call and is written back only at the end).
    ///
    /// On a GPU the call returns to `between_layers` as soon as a layer's kernels are queued, not
    /// when they have run: a cancellation stops the queueing, and the work already queued (at most
    /// one pass) finishes first.
    pub fn read_with(
        &self,
        tokens: &[u32],
        state: &mut State,
        between_layers: &mut dyn FnMut() -> bool,
    ) -> Result<(), EngineError> {
        self.run(tokens, state, Logits::None, Some(between_layers))
            .map(|_| ())
    }

    /// The logits after every token, `[tokens.len() × vocab]` row-major, like [`Model::forward_all`].
    pub fn forward_all(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError> {
        self.run(tokens, state, Logits::All, None)
    }

    fn run(
        &self,
        tokens: &[u32],
        state: &mut State,
        logits: Logits,
        mut between_layers: Option<&mut dyn FnMut() -> bool>,
    ) -> Result<Vec<f32>, EngineError> {
        self.shape.check_input(tokens, state)?;
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let mut layer_states = self.upload_state(state)?;
        let mut out = Vec::new();
        let passes = tokens.len().div_ceil(self.rows_per_pass);
        for (i, part) in tokens.chunks(self.rows_per_pass).enumerate() {
            let mut x = self.embed(part)?;
            for (block, layer_state) in self.blocks.iter().zip(layer_states.iter_mut()) {
                if let Some(keep_going) = between_layers.as_deref_mut() {
                    if !keep_going() {
                        return Err(EngineError::Cancelled);
                    }
                }
                let (next_x, next_state) = block.forward(&x, layer_state)?;
                x = next_x;
                *layer_state = next_state;
            }
            match logits {
                Logits::All => out.extend(self.head(&x)?),
                Logits::Last if i + 1 == passes => {
                    out = self.head(&x.narrow(0, part.len() - 1, 1)?)?;
                }
                _ => {}
            }
        }
        self.download_state(&layer_states, state)?;
        state.tokens_consumed += tokens.len() as u64;
        Ok(out)
    }

    /// The state as one `[5, C]` tensor per layer, uploaded in a single transfer.
    fn upload_state(&self, state: &State) -> Result<Vec<Tensor>, EngineError> {
        let c = self.shape.n_embd;
        let mut host = Vec::with_capacity(self.shape.state_floats());
        for l in &state.layers {
            for v in l.vectors() {
                host.extend_from_slice(v);
            }
        }
        let all = Tensor::from_vec(host, (state.layers.len(), STATE_VECTORS, c), &self.device)?;
        Ok((0..state.layers.len())
            .map(|i| all.get(i))
            .collect::<Result<_, _>>()?)
    }

    /// Writes the per-layer `[5, C]` tensors back into `state`, in a single transfer.
    fn download_state(&self, layers: &[Tensor], state: &mut State) -> Result<(), EngineError> {
        let c = self.shape.n_embd;
        let host = Tensor::stack(layers, 0)?.flatten_all()?.to_vec1::<f32>()?;
        for (layer, values) in state
            .layers
            .iter_mut()
            .zip(host.chunks_exact(STATE_VECTORS * c))
        {
            let LayerState {
                att_x,
                aa,
                bb,
                pp,
                ffn_x,
            } = layer;
            for (dst, src) in [att_x, aa, bb, pp, ffn_x]
                .into_iter()
                .zip(values.chunks_exact(c))
            {
                dst.copy_from_slice(src);
            }
        }
        Ok(())
    }

    /// The embedding rows of `tokens` (checked to be in range), `[T, C]` on the device.
    fn embed(&self, tokens: &[u32]) -> Result<Tensor, EngineError> {
        let c = self.shape.n_embd;
        let mut rows = Vec::with_capacity(tokens.len() * c);
        for &t in tokens {
            self.emb.push_row(t as usize, &mut rows);
        }
        Ok(Tensor::from_vec(rows, (tokens.len(), c), &self.device)?)
    }

    /// `LN(x; ln_out) · headᵀ` for every row of `x`, downloaded row-major.
    fn head(&self, x: &Tensor) -> Result<Vec<f32>, EngineError> {
        let logits = self.head.forward(&layer_norm(x, &self.ln_out)?)?;
        Ok(logits.flatten_all()?.to_vec1::<f32>()?)
    }
}

impl TensorBlock {
    fn new(
        b: &Block,
        matrices: DeviceMatrices,
        device: &Device,
    ) -> Result<TensorBlock, EngineError> {
        let matrix =
            |linear: &Linear, name: &str| DeviceMatrix::new(linear, matrices, device, name);
        let c = b.att_first.len();
        let decay_first: Vec<f32> = b.att_decay.iter().chain(&b.att_first).copied().collect();
        Ok(TensorBlock {
            ln1: TensorNorm::new(&b.ln1, device)?,
            ln2: TensorNorm::new(&b.ln2, device)?,
            att_mix_k: TensorMix::new(&b.att_mix_k, device)?,
            att_mix_v: TensorMix::new(&b.att_mix_v, device)?,
            att_mix_r: TensorMix::new(&b.att_mix_r, device)?,
            decay_first: Tensor::from_vec(decay_first, (2, c), device)?,
            att_key: matrix(&b.att_key, "att.key")?,
            att_value: matrix(&b.att_value, "att.value")?,
            att_receptance: matrix(&b.att_receptance, "att.receptance")?,
            att_output: matrix(&b.att_output, "att.output")?,
            ffn_mix_k: TensorMix::new(&b.ffn_mix_k, device)?,
            ffn_mix_r: TensorMix::new(&b.ffn_mix_r, device)?,
            ffn_key: matrix(&b.ffn_key, "ffn.key")?,
            ffn_receptance: matrix(&b.ffn_receptance, "ffn.receptance")?,
            ffn_value: matrix(&b.ffn_value, "ffn.value")?,
        })
    }

    /// One block on `x` (`[T, C]`) from `state` (`[5, C]`); returns the new `x` and state.
    fn forward(&self, x: &Tensor, state: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let rows = x.dim(0)?;
        let att_x = state.narrow(0, 0, 1)?;
        let aa_bb_pp = state.narrow(0, 1, wkv_op::STATE_ROWS)?;
        let ffn_x = state.narrow(0, 4, 1)?;

        // Time mixing.
        let xx = layer_norm(x, &self.ln1)?;
        let sx = shifted(&xx, &att_x)?;
        let k = self.att_mix_k.project(&xx, &sx, &self.att_key)?;
        let v = self.att_mix_v.project(&xx, &sx, &self.att_value)?;
        let r = self.att_mix_r.project(&xx, &sx, &self.att_receptance)?;
        let r = candle_nn::ops::sigmoid(&r)?;
        let params = Tensor::cat(&[&self.decay_first, &aa_bb_pp], 0)?;
        let scan = wkv_op::wkv(&k, &v, &params)?;
        let wkv = scan.narrow(0, 0, rows)?;
        let x = x.add(&self.att_output.forward(&r.mul(&wkv)?)?)?;
        let new_att_x = xx.narrow(0, rows - 1, 1)?;
        let new_aa_bb_pp = scan.narrow(0, rows, wkv_op::STATE_ROWS)?;

        // Channel mixing.
        let xx = layer_norm(&x, &self.ln2)?;
        let sx = shifted(&xx, &ffn_x)?;
        let r = self.ffn_mix_r.project(&xx, &sx, &self.ffn_receptance)?;
        let r = candle_nn::ops::sigmoid(&r)?;
        let k = self.ffn_mix_k.project(&xx, &sx, &self.ffn_key)?;
        let k = k.relu()?.sqr()?;
        let x = x.add(&r.mul(&self.ffn_value.forward(&k)?)?)?;
        let new_ffn_x = xx.narrow(0, rows - 1, 1)?;

        let new_state = Tensor::cat(&[&new_att_x, &new_aa_bb_pp, &new_ffn_x], 0)?;
        Ok((x, new_state))
    }

    /// Bytes of this block's weights on the device.
    fn device_bytes(&self) -> usize {
        let matrices = [
            &self.att_key,
            &self.att_value,
            &self.att_receptance,
            &self.att_output,
            &self.ffn_key,
            &self.ffn_receptance,
            &self.ffn_value,
        ];
        let mut vectors = vec![&self.decay_first];
        for norm in [&self.ln1, &self.ln2] {
            vectors.extend([&norm.weight, &norm.bias]);
        }
        for mix in [
            &self.att_mix_k,
            &self.att_mix_v,
            &self.att_mix_r,
            &self.ffn_mix_k,
            &self.ffn_mix_r,
        ] {
            vectors.extend([&mix.mix, &mix.one_minus]);
        }
        matrices.iter().map(|m| m.device_bytes()).sum::<usize>()
            + vectors.iter().map(|t| t.elem_count() * 4).sum::<usize>()
    }
}

impl TensorNorm {
    fn new(norm: &Norm, device: &Device) -> Result<TensorNorm, EngineError> {
        Ok(TensorNorm {
            weight: vector(&norm.weight, device)?,
            bias: vector(&norm.bias, device)?,
        })
    }
}

impl TensorMix {
    fn new(mix: &Mix, device: &Device) -> Result<TensorMix, EngineError> {
        Ok(TensorMix {
            mix: vector(&mix.mix, device)?,
            one_minus: vector(&mix.one_minus, device)?,
        })
    }

    /// `xx·mix + sx·(1−mix)`, the reference's formula (engine/RWKV4.md §5.2).
    fn apply(&self, xx: &Tensor, sx: &Tensor) -> candle_core::Result<Tensor> {
        xx.broadcast_mul(&self.mix)?
            .add(&sx.broadcast_mul(&self.one_minus)?)
    }

    /// The mixed rows through `weight` (`[out, in]`): `mix(xx, sx) · weightᵀ`.
    fn project(
        &self,
        xx: &Tensor,
        sx: &Tensor,
        weight: &DeviceMatrix,
    ) -> candle_core::Result<Tensor> {
        weight.forward(&self.apply(xx, sx)?)
    }
}

fn vector(values: &[f32], device: &Device) -> Result<Tensor, EngineError> {
    Ok(Tensor::from_slice(values, values.len(), device)?)
}

/// The previous token's row for every row: `[carried; xx[0..T-1]]` (token shift).
fn shifted(xx: &Tensor, carried: &Tensor) -> candle_core::Result<Tensor> {
    let rows = xx.dim(0)?;
    if rows == 1 {
        return Ok(carried.clone());
    }
    Tensor::cat(&[carried, &xx.narrow(0, 0, rows - 1)?], 0)
}

/// LayerNorm of each row (biased variance, eps 1e-5) in two passes, the mean first, so that a row
/// with a large mean loses no precision (candle-nn's fused one uses E[x²] − E[x]²).
fn layer_norm(x: &Tensor, norm: &TensorNorm) -> candle_core::Result<Tensor> {
    let width = x.dim(1)? as f64;
    let mean = (x.sum_keepdim(1)? / width)?;
    let centered = x.broadcast_sub(&mean)?;
    let var = (centered.sqr()?.sum_keepdim(1)? / width)?;
    let inv_std = (var + LN_EPS)?.sqrt()?.recip()?;
    centered
        .broadcast_mul(&inv_std)?
        .broadcast_mul(&norm.weight)?
        .broadcast_add(&norm.bias)
}

/// The device a name stands for: `cpu`, `cuda` (GPU 0) or `cuda:N`. A build without the `cuda`
/// feature answers `cuda` with an error saying so.
pub fn device_by_name(name: &str) -> Result<Device, EngineError> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("cpu") {
        return Ok(Device::Cpu);
    }
    let ordinal = match name.to_ascii_lowercase().strip_prefix("cuda") {
        Some("") => 0,
        Some(rest) => rest
            .strip_prefix(':')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad_device(name))?,
        None => return Err(bad_device(name)),
    };
    if !cfg!(feature = "cuda") {
        return Err(EngineError::Device(
            "this build has no CUDA support (build with `--features cuda`)".to_string(),
        ));
    }
    Ok(Device::new_cuda(ordinal)?)
}

/// The name [`device_by_name`] reads for `device` (`cpu`, `cuda:0`, …), for reports.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

fn bad_device(name: &str) -> EngineError {
    EngineError::Device(format!(
        "unknown device {name:?}: expected cpu, cuda or cuda:N"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        assert!(matches!(device_by_name("cpu"), Ok(Device::Cpu)));
        assert!(matches!(device_by_name(" CPU "), Ok(Device::Cpu)));
        for bad in ["gpu", "cuda:", "cuda:x", "cudax", ""] {
            assert!(device_by_name(bad).is_err(), "{bad}");
        }
        #[cfg(not(feature = "cuda"))]
        assert!(device_by_name("cuda").is_err());
    }

    #[test]
    fn two_pass_layer_norm_keeps_precision_with_a_large_mean() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let row: Vec<f32> = (0..8).map(|i| 100.0 + i as f32 * 0.1).collect();
        let norm = TensorNorm {
            weight: Tensor::ones(8, candle_core::DType::F32, &dev)?,
            bias: Tensor::zeros(8, candle_core::DType::F32, &dev)?,
        };
        let got = layer_norm(&Tensor::from_slice(&row, (1, 8), &dev)?, &norm)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let mut want = vec![0.0f32; 8];
        crate::kernels::layer_norm_rows(&row, &[1.0; 8], &[0.0; 8], &mut want);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-3, "{g} vs {w}");
        }
        Ok(())
    }
}
