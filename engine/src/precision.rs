//! The precisions weights can be stored in (`f32`, `f16`, `q8_0`) and how each lays its values out
//! in bytes, as in GGUF files: little-endian f32 / f16, and ggml's Q8_0 — blocks of 32 values, each a
//! little-endian f16 scale `d` followed by 32 signed bytes `q`, value = `d · q`.

use std::fmt;
use std::str::FromStr;

use candle_core::quantized::k_quants::{BlockQ8_0, GgmlType};
use candle_core::quantized::GgmlDType;
use half::f16;

/// Values per Q8_0 block.
pub const Q8_0_BLOCK_VALUES: usize = 32;
/// Bytes per Q8_0 block: an f16 scale and 32 signed bytes.
pub const Q8_0_BLOCK_BYTES: usize = 34;

// The byte view of `BlockQ8_0` below relies on candle's layout (repr(C), f16 then [i8; 32], no
// padding).
const _: () = assert!(std::mem::size_of::<BlockQ8_0>() == Q8_0_BLOCK_BYTES);

/// How a model's matrices (and embedding) are stored and multiplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightPrecision {
    /// IEEE single precision: exact.
    F32,
    /// IEEE half precision; widened to f32 when loaded on the CPU.
    F16,
    /// ggml Q8_0 (8.5 bits per value); multiplied in integers by the engine's own kernels
    /// (`kernels/q8_0_products.rs`, `kernels/q8_dot_kernels.rs`).
    Q8_0,
}

/// A precision name that is not one of `f32`, `f16`, `q8_0`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown weight precision {0:?} (expected q8_0, f16 or f32)")]
pub struct UnknownPrecision(pub String);

impl FromStr for WeightPrecision {
    type Err = UnknownPrecision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "fp32" => Ok(WeightPrecision::F32),
            "f16" | "fp16" => Ok(WeightPrecision::F16),
            "q8_0" | "q8" => Ok(WeightPrecision::Q8_0),
            _ => Err(UnknownPrecision(s.to_string())),
        }
    }
}

impl fmt::Display for WeightPrecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl WeightPrecision {
    /// Lower-case name, as in `ModelInfo::precision` and the fingerprint: `f32`, `f16`, `q8_0`.
    pub fn name(self) -> &'static str {
        match self {
            WeightPrecision::F32 => "f32",
            WeightPrecision::F16 => "f16",
            WeightPrecision::Q8_0 => "q8_0",
        }
    }

    /// The ggml tensor type of this precision.
    pub fn ggml_dtype(self) -> GgmlDType {
        match self {
            WeightPrecision::F32 => GgmlDType::F32,
            WeightPrecision::F16 => GgmlDType::F16,
            WeightPrecision::Q8_0 => GgmlDType::Q8_0,
        }
    }

    /// The ggml type number written in GGUF tensor tables (`ggml_type` in ggml.h).
    pub fn ggml_type_id(self) -> u32 {
        match self {
            WeightPrecision::F32 => 0,
            WeightPrecision::F16 => 1,
            WeightPrecision::Q8_0 => 8,
        }
    }

    /// The precision of a ggml tensor type, if it is one of ours.
    pub fn from_ggml_dtype(dtype: GgmlDType) -> Option<WeightPrecision> {
        match dtype {
            GgmlDType::F32 => Some(WeightPrecision::F32),
            GgmlDType::F16 => Some(WeightPrecision::F16),
            GgmlDType::Q8_0 => Some(WeightPrecision::Q8_0),
            _ => None,
        }
    }

    /// Values that are stored together (a row must be a whole number of them).
    pub fn block_values(self) -> usize {
        match self {
            WeightPrecision::F32 | WeightPrecision::F16 => 1,
            WeightPrecision::Q8_0 => Q8_0_BLOCK_VALUES,
        }
    }

    /// Bytes taken by `n_values` values, or `None` if `n_values` is not a whole number of blocks
    /// or the size overflows.
    pub fn bytes_for(self, n_values: usize) -> Option<usize> {
        match self {
            WeightPrecision::F32 => n_values.checked_mul(4),
            WeightPrecision::F16 => n_values.checked_mul(2),
            WeightPrecision::Q8_0 => {
                if !n_values.is_multiple_of(Q8_0_BLOCK_VALUES) {
                    return None;
                }
                (n_values / Q8_0_BLOCK_VALUES).checked_mul(Q8_0_BLOCK_BYTES)
            }
        }
    }

    /// Appends `values` in this precision to `out`. `values.len()` must be a whole number of blocks
    /// (callers check the shape first); a partial last block is dropped.
    pub fn encode(self, values: &[f32], out: &mut Vec<u8>) {
        match self {
            WeightPrecision::F32 => {
                out.reserve(values.len() * 4);
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            WeightPrecision::F16 => {
                out.reserve(values.len() * 2);
                for v in values {
                    out.extend_from_slice(&f16::from_f32(*v).to_le_bytes());
                }
            }
            WeightPrecision::Q8_0 => {
                let whole = values.len() / Q8_0_BLOCK_VALUES * Q8_0_BLOCK_VALUES;
                let blocks = quantize_q8_0(&values[..whole]);
                out.extend_from_slice(q8_0_bytes(&blocks));
            }
        }
    }

    /// Value `index` of a tensor stored in this precision. `bytes` must hold it.
    pub fn decode_at(self, bytes: &[u8], index: usize) -> f32 {
        match self {
            WeightPrecision::F32 => {
                let b = &bytes[index * 4..index * 4 + 4];
                f32::from_le_bytes([b[0], b[1], b[2], b[3]])
            }
            WeightPrecision::F16 => {
                f16::from_le_bytes([bytes[index * 2], bytes[index * 2 + 1]]).to_f32()
            }
            WeightPrecision::Q8_0 => {
                let block = &bytes[index / Q8_0_BLOCK_VALUES * Q8_0_BLOCK_BYTES..];
                let scale = f16::from_le_bytes([block[0], block[1]]).to_f32();
                (block[2 + index % Q8_0_BLOCK_VALUES] as i8) as f32 * scale
            }
        }
    }

    /// Decodes `out.len()` consecutive values from the start of `bytes` (one embedding row).
    pub fn decode_into(self, bytes: &[u8], out: &mut [f32]) {
        match self {
            WeightPrecision::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            WeightPrecision::F16 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
            WeightPrecision::Q8_0 => {
                for (o, block) in out
                    .chunks_mut(Q8_0_BLOCK_VALUES)
                    .zip(bytes.chunks_exact(Q8_0_BLOCK_BYTES))
                {
                    let scale = f16::from_le_bytes([block[0], block[1]]).to_f32();
                    for (v, &q) in o.iter_mut().zip(&block[2..]) {
                        *v = (q as i8) as f32 * scale;
                    }
                }
            }
        }
    }
}

/// Quantizes whole blocks with candle's own Q8_0 quantizer (the one `QTensor::quantize` uses), so a
/// model quantized in memory and one converted to a file hold the same numbers. Blocks are
/// independent, so large tensors are quantized in parallel.
pub(crate) fn quantize_q8_0(values: &[f32]) -> Vec<BlockQ8_0> {
    use rayon::prelude::*;
    const BLOCKS_PER_TASK: usize = 4096;
    let mut blocks = vec![BlockQ8_0::zeros(); values.len() / Q8_0_BLOCK_VALUES];
    blocks
        .par_chunks_mut(BLOCKS_PER_TASK)
        .zip(values.par_chunks(BLOCKS_PER_TASK * Q8_0_BLOCK_VALUES))
        .for_each(|(out, xs)| BlockQ8_0::from_float(&xs[..out.len() * Q8_0_BLOCK_VALUES], out));
    blocks
}

/// The bytes of Q8_0 blocks, as stored in a file.
pub(crate) fn q8_0_bytes(blocks: &[BlockQ8_0]) -> &[u8] {
    // SAFETY: BlockQ8_0 is repr(C), 34 bytes without padding (asserted above); every byte is
    // initialised, and u8 has no alignment requirement.
    unsafe {
        std::slice::from_raw_parts(blocks.as_ptr().cast::<u8>(), std::mem::size_of_val(blocks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for p in [
            WeightPrecision::F32,
            WeightPrecision::F16,
            WeightPrecision::Q8_0,
        ] {
            assert_eq!(p.name().parse::<WeightPrecision>(), Ok(p));
        }
        assert!("q4_0".parse::<WeightPrecision>().is_err());
    }

    #[test]
    fn encode_then_decode_round_trips_within_the_format_precision() {
        let values: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) / 7.0).collect();
        for (p, tol) in [
            (WeightPrecision::F32, 0.0),
            (WeightPrecision::F16, 3e-3),
            (WeightPrecision::Q8_0, 0.02),
        ] {
            let mut bytes = Vec::new();
            p.encode(&values, &mut bytes);
            assert_eq!(Some(bytes.len()), p.bytes_for(values.len()));
            let mut row = vec![0.0; values.len()];
            p.decode_into(&bytes, &mut row);
            for (i, (&got, &want)) in row.iter().zip(&values).enumerate() {
                assert!((got - want).abs() <= tol, "{p} value {i}: {got} vs {want}");
                assert_eq!(p.decode_at(&bytes, i), got);
            }
        }
    }

    #[test]
    fn q8_0_sizes_need_whole_blocks() {
        assert_eq!(WeightPrecision::Q8_0.bytes_for(64), Some(68));
        assert_eq!(WeightPrecision::Q8_0.bytes_for(65), None);
        assert_eq!(WeightPrecision::F32.bytes_for(usize::MAX), None);
    }
}
