//! A linear layer `y = x · Wᵀ` with W stored as the checkpoint has it, `[out, in]` row-major.
//!
//! A chunk of T > 1 rows goes through candle's matmul (gemm, multi-threaded). A single row —
//! generating one token at a time — is a matrix-vector product that is memory-bound, and candle runs
//! it on one thread, so it is done here as row dot products split across the rayon pool.

use candle_core::{Device, Storage, Tensor};
use rayon::prelude::*;

use crate::error::EngineError;
use crate::kernels;

/// Output rows per parallel task in the matrix-vector product: large enough to amortise scheduling,
/// small enough to balance two to sixteen cores.
const MATVEC_ROWS_PER_TASK: usize = 64;

/// A dense f32 weight matrix.
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[out, in]`, contiguous, on the CPU.
    weight: Tensor,
    out_features: usize,
    in_features: usize,
}

impl Linear {
    /// Wraps `[out, in]` row-major weights.
    pub fn new(
        data: Vec<f32>,
        out_features: usize,
        in_features: usize,
    ) -> Result<Linear, EngineError> {
        let weight = Tensor::from_vec(data, (out_features, in_features), &Device::Cpu)?;
        Ok(Linear {
            weight,
            out_features,
            in_features,
        })
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// Input width.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// The weights as a candle tensor `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Applies the layer to `rows` rows of `in_features` values each.
    pub fn forward(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, EngineError> {
        debug_assert_eq!(x.len(), rows * self.in_features);
        if rows == 1 {
            return self.matvec(x);
        }
        let input = Tensor::from_slice(x, (rows, self.in_features), &Device::Cpu)?;
        let output = input.matmul(&self.weight.t()?)?;
        Ok(output.flatten_all()?.to_vec1::<f32>()?)
    }

    /// Runs `f` on the weights as one `[out·in]` row-major slice, without copying.
    pub fn with_values<R>(&self, f: impl FnOnce(&[f32]) -> R) -> Result<R, EngineError> {
        let (storage, layout) = self.weight.storage_and_layout();
        let Storage::Cpu(cpu) = &*storage else {
            return Err(EngineError::Candle(candle_core::Error::Msg(
                "weights are not on the CPU".into(),
            )));
        };
        let all = cpu.as_slice::<f32>()?;
        let start = layout.start_offset();
        let len = self.out_features * self.in_features;
        let values = all.get(start..start + len).ok_or_else(|| {
            EngineError::Candle(candle_core::Error::Msg("weight storage too short".into()))
        })?;
        Ok(f(values))
    }

    /// `W · x` for one input vector, parallel over output rows.
    fn matvec(&self, x: &[f32]) -> Result<Vec<f32>, EngineError> {
        let in_features = self.in_features;
        let mut out = vec![0.0f32; self.out_features];
        self.with_values(|weights| {
            out.par_chunks_mut(MATVEC_ROWS_PER_TASK)
                .zip(weights.par_chunks(MATVEC_ROWS_PER_TASK * in_features))
                .for_each(|(out_rows, weight_rows)| {
                    for (o, row) in out_rows
                        .iter_mut()
                        .zip(weight_rows.chunks_exact(in_features))
                    {
                        *o = kernels::dot(row, x);
                    }
                });
        })?;
        Ok(out)
    }
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
}
