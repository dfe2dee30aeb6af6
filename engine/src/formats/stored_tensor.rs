//! How a tensor is stored in a checkpoint file: its element type and shape, and the conversion of
//! its raw bytes to f32. Shared by the container readers (`.pth`, `.safetensors`).

use half::{bf16, f16};

/// Element type of a tensor as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredDType {
    /// IEEE single precision.
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16 (the top 16 bits of an f32).
    BF16,
    /// Anything else (integers, f64): not usable as RWKV-4 weights.
    Other,
}

impl StoredDType {
    /// Bytes per element (0 for `Other`).
    pub fn size_bytes(self) -> usize {
        match self {
            StoredDType::F32 => 4,
            StoredDType::F16 | StoredDType::BF16 => 2,
            StoredDType::Other => 0,
        }
    }

    /// Lower-case name as users know it.
    pub fn name(self) -> &'static str {
        match self {
            StoredDType::F32 => "f32",
            StoredDType::F16 => "f16",
            StoredDType::BF16 => "bf16",
            StoredDType::Other => "unsupported",
        }
    }

    /// Rounds an f32 to this precision and back (nearest-even), as torch does when it stores a
    /// result computed in f32 into a bf16/f16 tensor.
    pub fn round_trip(self, value: f32) -> f32 {
        match self {
            StoredDType::BF16 => bf16::from_f32(value).to_f32(),
            StoredDType::F16 => f16::from_f32(value).to_f32(),
            StoredDType::F32 | StoredDType::Other => value,
        }
    }
}

/// Shape and element type of one stored tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorMeta {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Stored element type.
    pub dtype: StoredDType,
}

/// Converts little-endian raw bytes of `dtype` to f32.
pub(crate) fn bytes_to_f32(bytes: &[u8], dtype: StoredDType) -> Vec<f32> {
    match dtype {
        StoredDType::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        StoredDType::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        StoredDType::BF16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        StoredDType::Other => Vec::new(),
    }
}
