//! A linear layer `y = x · Wᵀ`, W being `[out, in]` as the checkpoint has it, held in f32 (in
//! panel order, see `panels`) or quantized to Q8_0.
//!
//! f32: one row — generating a token — and a chunk of rows — reading — run on the kernels in
//! `panel_kernels`, which read the weights in the order they are stored, across the rayon pool.
//!
//! Q8_0: ggml's block format (the bytes candle's `QTensor` holds), either owned (quantized in memory)
//! or borrowed from a memory-mapped GGUF file; the products are in `q8_0_products`.

use std::sync::Arc;

use candle_core::{Device, Tensor};

use crate::error::EngineError;
use crate::fingerprint::Digest;
use crate::formats::gguf::MappedBytes;
use crate::kernels::huge_pages;
use crate::kernels::panel_products;
use crate::kernels::panels::PanelMatrix;
use crate::kernels::q8_0_products;
use crate::precision::{WeightPrecision, Q8_0_BLOCK_VALUES};

/// Q8_0 blocks, rows of `in / 32` blocks.
#[derive(Debug, Clone)]
enum Q8Bytes {
    Owned(Arc<Vec<u8>>),
    Mapped(MappedBytes),
}

impl Q8Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Q8Bytes::Owned(v) => v,
            Q8Bytes::Mapped(m) => m.as_slice(),
        }
    }
}

/// How the weights are held.
#[derive(Debug, Clone)]
enum Kind {
    /// f32 in panel order.
    F32(PanelMatrix),
    /// Q8_0, checked to be exactly `out × in / 32` blocks.
    Q8_0(Q8Bytes),
}

/// A dense weight matrix.
#[derive(Debug, Clone)]
pub struct Linear {
    kind: Kind,
    out_features: usize,
    in_features: usize,
}

impl Linear {
    /// Takes `[out, in]` row-major f32 weights (`out · in` values).
    pub fn new(
        data: Vec<f32>,
        out_features: usize,
        in_features: usize,
    ) -> Result<Linear, EngineError> {
        if out_features.checked_mul(in_features) != Some(data.len()) {
            return Err(EngineError::Candle(candle_core::Error::Msg(format!(
                "{} values are not a {out_features}x{in_features} matrix",
                data.len()
            ))));
        }
        Ok(Linear {
            kind: Kind::F32(PanelMatrix::from_row_major(
                &data,
                out_features,
                in_features,
            )),
            out_features,
            in_features,
        })
    }

    /// Quantizes `[out, in]` row-major f32 weights to Q8_0 (`in` must be a multiple of 32).
    pub fn q8_0_from_f32(
        data: &[f32],
        out_features: usize,
        in_features: usize,
    ) -> Result<Linear, EngineError> {
        check_q8_0_shape(out_features, in_features, data.len())?;
        let mut bytes = Vec::new();
        WeightPrecision::Q8_0.encode(data, &mut bytes);
        huge_pages::advise(&bytes);
        Ok(Linear {
            kind: Kind::Q8_0(Q8Bytes::Owned(Arc::new(bytes))),
            out_features,
            in_features,
        })
    }

    /// Q8_0 weights read in place from a memory-mapped file: `bytes` must hold exactly
    /// `out × in / 32` blocks.
    pub fn q8_0_mapped(
        bytes: MappedBytes,
        out_features: usize,
        in_features: usize,
    ) -> Result<Linear, EngineError> {
        let numel = out_features.saturating_mul(in_features);
        check_q8_0_shape(out_features, in_features, numel)?;
        if WeightPrecision::Q8_0.bytes_for(numel) != Some(bytes.len()) {
            return Err(q8_0_error(format!(
                "{} bytes do not hold a {out_features}x{in_features} q8_0 matrix",
                bytes.len()
            )));
        }
        Ok(Linear {
            kind: Kind::Q8_0(Q8Bytes::Mapped(bytes)),
            out_features,
            in_features,
        })
    }

    /// This layer with its weights quantized to Q8_0 (a copy; already-Q8_0 layers are shared).
    pub fn to_q8_0(&self) -> Result<Linear, EngineError> {
        match &self.kind {
            Kind::Q8_0(_) => Ok(self.clone()),
            Kind::F32(_) => self.with_values(|values| {
                Linear::q8_0_from_f32(values, self.out_features, self.in_features)
            })?,
        }
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// Input width.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Bytes the weights take in memory (a product reads them all once).
    pub fn bytes(&self) -> usize {
        match &self.kind {
            Kind::F32(weights) => std::mem::size_of_val(weights.data()),
            Kind::Q8_0(bytes) => bytes.as_slice().len(),
        }
    }

    /// How the weights are stored: `F32` or `Q8_0`.
    pub fn precision(&self) -> WeightPrecision {
        match self.kind {
            Kind::F32(_) => WeightPrecision::F32,
            Kind::Q8_0(_) => WeightPrecision::Q8_0,
        }
    }

    /// The Q8_0 blocks (ggml's layout, rows of `in / 32` blocks) of a quantized layer, as held:
    /// owned or in the memory-mapped file. `None` for f32 layers. For the device path, which hands
    /// these very bytes to candle's quantized tensors.
    pub(crate) fn q8_0_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::F32(_) => None,
            Kind::Q8_0(bytes) => Some(bytes.as_slice()),
        }
    }

    /// A copy of the f32 weights as a candle tensor `[out, in]` on `device`; quantized layers have
    /// none: an error.
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor, EngineError> {
        let Kind::F32(weights) = &self.kind else {
            return Err(quantized_error());
        };
        // Built on the CPU from the one row-major copy (no second copy there), then moved.
        let shape = (self.out_features, self.in_features);
        Ok(Tensor::from_vec(weights.to_row_major(), shape, &Device::Cpu)?.to_device(device)?)
    }

    /// Applies the layer to `rows` rows of `in_features` values each.
    pub fn forward(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, EngineError> {
        debug_assert_eq!(x.len(), rows * self.in_features);
        match &self.kind {
            Kind::F32(weights) if rows == 1 => Ok(panel_products::matvec(weights, x)),
            Kind::F32(weights) => Ok(panel_products::matmul(weights, x, rows)),
            Kind::Q8_0(bytes) if rows == 1 => Ok(q8_0_products::matvec(
                bytes.as_slice(),
                self.out_features,
                x,
            )),
            Kind::Q8_0(bytes) => Ok(q8_0_products::matmul(
                bytes.as_slice(),
                self.out_features,
                self.in_features,
                x,
                rows,
            )),
        }
    }

    /// Runs `f` on a copy of the f32 weights in `[out, in]` row-major order. Quantized layers have
    /// no such values: an error.
    pub fn with_values<R>(&self, f: impl FnOnce(&[f32]) -> R) -> Result<R, EngineError> {
        match &self.kind {
            Kind::F32(weights) => Ok(f(&weights.to_row_major())),
            Kind::Q8_0(_) => Err(quantized_error()),
        }
    }

    /// Feeds a sample of the weights, as the forward pass sees them, into `digest` (for the
    /// fingerprint). For f32 layers this is exactly `Digest::update_sampled` of the values.
    pub fn digest_into(&self, digest: &mut Digest) -> Result<(), EngineError> {
        match &self.kind {
            Kind::F32(weights) => {
                let len = self.out_features * self.in_features;
                digest.update_sampled_by(len, |i| weights.value_at(i));
                Ok(())
            }
            Kind::Q8_0(bytes) => {
                let bytes = bytes.as_slice();
                digest.update_sampled_by(self.out_features * self.in_features, |i| {
                    WeightPrecision::Q8_0.decode_at(bytes, i)
                });
                Ok(())
            }
        }
    }
}

fn check_q8_0_shape(
    out_features: usize,
    in_features: usize,
    numel: usize,
) -> Result<(), EngineError> {
    if in_features == 0 || !in_features.is_multiple_of(Q8_0_BLOCK_VALUES) {
        return Err(q8_0_error(format!(
            "a q8_0 matrix needs an input width that is a multiple of {Q8_0_BLOCK_VALUES}, not {in_features}"
        )));
    }
    if out_features.checked_mul(in_features) != Some(numel) {
        return Err(q8_0_error(format!(
            "{numel} values are not a {out_features}x{in_features} matrix"
        )));
    }
    Ok(())
}

fn quantized_error() -> EngineError {
    EngineError::Candle(candle_core::Error::Msg(
        "weights are quantized, not f32".into(),
    ))
}

fn q8_0_error(reason: String) -> EngineError {
    EngineError::Candle(candle_core::Error::Msg(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_and_many_rows_agree() -> Result<(), EngineError> {
        let (out_f, in_f) = (130, 70);
        let w: Vec<f32> = (0..out_f * in_f)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let x: Vec<f32> = (0..3 * in_f)
            .map(|i| ((i * 104_729) % 37) as f32 / 18.0 - 1.0)
            .collect();
        let lin = Linear::new(w.clone(), out_f, in_f)?;
        let batched = lin.forward(&x, 3)?;
        for r in 0..3 {
            let single = lin.forward(&x[r * in_f..(r + 1) * in_f], 1)?;
            for o in 0..out_f {
                let naive: f32 = (0..in_f).map(|i| w[o * in_f + i] * x[r * in_f + i]).sum();
                assert!((single[o] - naive).abs() < 1e-4);
                assert!((batched[r * out_f + o] - naive).abs() < 1e-4);
            }
        }
        Ok(())
    }

    #[test]
    fn q8_0_layers_stay_close_to_f32_for_one_and_many_rows() -> Result<(), EngineError> {
        let (out_f, in_f) = (70, 96);
        let w: Vec<f32> = (0..out_f * in_f)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let x: Vec<f32> = (0..4 * in_f)
            .map(|i| ((i * 104_729) % 37) as f32 / 18.0 - 1.0)
            .collect();
        let exact = Linear::new(w.clone(), out_f, in_f)?;
        let quant = exact.to_q8_0()?;
        assert_eq!(quant.precision(), WeightPrecision::Q8_0);
        let want = exact.forward(&x, 4)?;
        let got = quant.forward(&x, 4)?;
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 0.02 * scale, "{g} vs {w}");
        }
        // One row and a chunk (both integer products, summed in different orders) agree to rounding.
        let one = quant.forward(&x[..in_f], 1)?;
        for (a, b) in one.iter().zip(&got[..out_f]) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!(Linear::q8_0_from_f32(&w[..out_f * 70], out_f, 70).is_err());
        Ok(())
    }

    #[test]
    fn q8_0_bytes_mean_what_candle_means_by_them() -> Result<(), EngineError> {
        use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
        use candle_core::Module;
        let (out_f, in_f) = (40, 64);
        let w: Vec<f32> = (0..out_f * in_f)
            .map(|i| ((i * 31) % 53) as f32 / 26.0 - 1.0)
            .collect();
        let x: Vec<f32> = (0..2 * in_f).map(|i| (i as f32 * 0.3).cos()).collect();
        let ours = Linear::q8_0_from_f32(&w, out_f, in_f)?.forward(&x, 2)?;
        let tensor = Tensor::from_slice(&w, (out_f, in_f), &Device::Cpu)?;
        let candle = QMatMul::from_qtensor(QTensor::quantize(&tensor, GgmlDType::Q8_0)?)?
            .forward(&Tensor::from_slice(&x, (2, in_f), &Device::Cpu)?)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        for (a, b) in ours.iter().zip(&candle) {
            // candle rounds the activation scale to f16; we keep it in f32.
            assert!((a - b).abs() <= 2e-3 * (1.0 + b.abs()), "{a} vs {b}");
        }
        Ok(())
    }
}
