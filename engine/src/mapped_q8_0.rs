//! Q8_0 weights that stay in the memory-mapped file, exposed to candle as a `QuantizedType` so that a
//! `QTensor`/`QMatMul` multiplies them in place.
//!
//! candle's own CPU `QTensor`s own a `Vec` of blocks: loading one means copying it out of the file
//! (for a 14B model, 14.8 GB of anonymous memory next to the same bytes in the page cache). Backing
//! the tensor with the map instead makes start-up take milliseconds and keeps one copy of the weights
//! in memory, shared with the page cache and reclaimable. The matrix product is candle's own
//! `k_quants::matmul` (int8 dot products, parallel over output columns) — what `QMatMul` runs for a
//! `Vec`-backed Q8_0 tensor.

use candle_core::quantized::k_quants::{self, BlockQ8_0, GgmlType};
use candle_core::quantized::{GgmlDType, QuantizedType};
use candle_core::CpuStorage;
use half::f16;

use crate::gguf::MappedBytes;
use crate::precision::{q8_0_blocks, Q8_0_BLOCK_VALUES};

/// Q8_0 blocks in a memory map, checked to be whole and 2-aligned when built.
pub(crate) struct MappedQ8_0 {
    bytes: MappedBytes,
}

impl MappedQ8_0 {
    /// Wraps `bytes` if they are a whole number of 2-aligned Q8_0 blocks.
    pub(crate) fn new(bytes: MappedBytes) -> Option<MappedQ8_0> {
        q8_0_blocks(bytes.as_slice())?;
        Some(MappedQ8_0 { bytes })
    }

    fn blocks(&self) -> &[BlockQ8_0] {
        // Checked in `new`; the map never changes.
        q8_0_blocks(self.bytes.as_slice()).unwrap_or(&[])
    }

    fn dequantize_rows(&self, rows: impl Iterator<Item = usize>, hidden: usize) -> Vec<f32> {
        let row_blocks = hidden / Q8_0_BLOCK_VALUES;
        let blocks = self.blocks();
        let mut out = Vec::new();
        for row in rows {
            let start = out.len();
            out.resize(start + hidden, 0.0);
            if let Some(src) = blocks.get(row * row_blocks..(row + 1) * row_blocks) {
                BlockQ8_0::to_float(src, &mut out[start..]);
            }
        }
        out
    }
}

impl QuantizedType for MappedQ8_0 {
    fn dtype(&self) -> GgmlDType {
        GgmlDType::Q8_0
    }

    fn matmul_t(
        &self,
        mkn: (usize, usize, usize),
        lhs: &[f32],
        dst: &mut [f32],
    ) -> candle_core::Result<()> {
        let (_, k, n) = mkn;
        if !k.is_multiple_of(Q8_0_BLOCK_VALUES)
            || self.blocks().len() != n * (k / Q8_0_BLOCK_VALUES)
        {
            candle_core::bail!("mapped q8_0 weights do not match a {n}x{k} matrix");
        }
        k_quants::matmul(mkn, lhs, self.blocks(), dst)
    }

    fn matmul_t_f16(
        &self,
        mkn: (usize, usize, usize),
        lhs: &[f16],
        dst: &mut [f16],
    ) -> candle_core::Result<()> {
        let (_, k, n) = mkn;
        if !k.is_multiple_of(Q8_0_BLOCK_VALUES)
            || self.blocks().len() != n * (k / Q8_0_BLOCK_VALUES)
        {
            candle_core::bail!("mapped q8_0 weights do not match a {n}x{k} matrix");
        }
        k_quants::matmul_f16(mkn, lhs, self.blocks(), dst)
    }

    fn embedding(
        &self,
        ids: &[u32],
        rows: usize,
        hidden: usize,
    ) -> candle_core::Result<CpuStorage> {
        if !hidden.is_multiple_of(Q8_0_BLOCK_VALUES)
            || self.blocks().len() * Q8_0_BLOCK_VALUES != rows * hidden
        {
            candle_core::bail!("mapped q8_0 weights are not a {rows}x{hidden} table");
        }
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= rows) {
            candle_core::bail!("embedding id {bad} is out of range for {rows} rows");
        }
        Ok(CpuStorage::F32(self.dequantize_rows(
            ids.iter().map(|&id| id as usize),
            hidden,
        )))
    }

    fn dequantize(&self, elem_count: usize) -> candle_core::Result<CpuStorage> {
        let mut out = vec![0.0f32; elem_count];
        BlockQ8_0::to_float(self.blocks(), &mut out);
        Ok(CpuStorage::F32(out))
    }

    fn storage_size_in_bytes(&self) -> usize {
        self.bytes.len()
    }

    fn as_ptr(&self) -> *const u8 {
        self.bytes.as_slice().as_ptr()
    }

    fn block_size(&self) -> usize {
        Q8_0_BLOCK_VALUES
    }

    fn from_float(&mut self, _xs: &[f32]) {
        // Read-only weights: candle only quantizes into storage it allocated itself, never into an
        // existing tensor's, so this is unreachable through candle's API.
    }

    fn from_float_imatrix(&mut self, _xs: &[f32], _imatrix: &[f32], _n_per_row: usize) {
        // Read-only weights, as in `from_float`.
    }

    fn size(&self) -> usize {
        self.bytes.len()
    }
}
