//! One panel of Q8_0 weights — [`PANEL_OUTPUTS`] output rows — repacked from the GGUF rows for the
//! chunk product's integer kernels (`q8_dot_kernels`).
//!
//! A Q8_0 row is a run of 34-byte blocks (an f16 scale, 32 signed bytes). The kernels want, for
//! each group of 4 input values, the 4 bytes of each of the 16 output rows side by side (64 bytes:
//! one AVX-512 register, two AVX2 registers, each 32-bit lane one output), and the 16 scales of a
//! block as f32 next to each other. The chunk product repacks one panel at a time into a buffer
//! of its own (16 rows: 10 KiB at a width of 768, 85 KiB at 5120) and passes every activation
//! tile over it, so the weights are read from memory once per product and never copied whole.

use crate::kernels::q8_activations::{GROUPS_PER_BLOCK, GROUP_VALUES};
use crate::precision::{Q8_0_BLOCK_BYTES, Q8_0_BLOCK_VALUES};

/// Output rows per panel.
pub(crate) const PANEL_OUTPUTS: usize = 16;
/// Bytes of one block of a panel: 16 rows × 32 values.
pub(crate) const PANEL_BLOCK_BYTES: usize = PANEL_OUTPUTS * Q8_0_BLOCK_VALUES;

/// A repacked panel; rows past the matrix's last are zeros.
pub(crate) struct WeightPanel {
    blocks: usize,
    /// Per block, per group of 4 values: 16 rows × 4 bytes.
    bytes: Vec<u8>,
    /// Per block: the 16 rows' scales.
    scales: Vec<f32>,
    /// Per block: `−128 · Σ q` of each row, which undoes the `+128` of activations stored as
    /// unsigned bytes (`Σ (q_x + 128) · q_w − 128 · Σ q_w = Σ q_x · q_w`).
    offsets: Vec<i32>,
}

impl WeightPanel {
    /// An empty panel (filled by [`WeightPanel::pack`]).
    pub(crate) fn new() -> WeightPanel {
        WeightPanel {
            blocks: 0,
            bytes: Vec::new(),
            scales: Vec::new(),
            offsets: Vec::new(),
        }
    }

    /// Repacks up to 16 rows of `blocks` Q8_0 blocks each (`rows` holds whole rows).
    pub(crate) fn pack(&mut self, rows: &[u8], blocks: usize) {
        self.blocks = blocks;
        self.bytes.clear();
        self.bytes.resize(blocks * PANEL_BLOCK_BYTES, 0);
        self.scales.clear();
        self.scales.resize(blocks * PANEL_OUTPUTS, 0.0);
        self.offsets.clear();
        self.offsets.resize(blocks * PANEL_OUTPUTS, 0);
        if blocks == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::has_avx2_fma() && std::arch::is_x86_feature_detected!("f16c") {
            // SAFETY: the CPU features were detected.
            unsafe { self.pack_avx2(rows, blocks) };
            return;
        }
        self.pack_rows(rows, blocks, |block| {
            half::f16::from_le_bytes([block[0], block[1]]).to_f32()
        });
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn pack_avx2(&mut self, rows: &[u8], blocks: usize) {
        use std::arch::x86_64::*;
        self.pack_rows(rows, blocks, |block| {
            let bits = u16::from_le_bytes([block[0], block[1]]);
            // The closure inherits this function's target features (F16C).
            _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
        });
    }

    /// The repacking, `scale(block)` decoding a block's f16 scale.
    #[inline(always)]
    fn pack_rows(&mut self, rows: &[u8], blocks: usize, scale: impl Fn(&[u8]) -> f32) {
        let row_bytes = blocks * Q8_0_BLOCK_BYTES;
        for (o, row) in rows.chunks_exact(row_bytes).take(PANEL_OUTPUTS).enumerate() {
            for (b, block) in row.chunks_exact(Q8_0_BLOCK_BYTES).enumerate() {
                self.scales[b * PANEL_OUTPUTS + o] = scale(block);
                let values = &block[2..];
                let sum: i32 = values.iter().map(|&v| v as i8 as i32).sum();
                self.offsets[b * PANEL_OUTPUTS + o] = -128 * sum;
                let dst = &mut self.bytes[b * PANEL_BLOCK_BYTES..(b + 1) * PANEL_BLOCK_BYTES];
                // Fixed-size views, so the 8 four-byte moves compile without bounds checks.
                let (Ok(groups), Ok(dst)) = (
                    <&[u8; Q8_0_BLOCK_VALUES]>::try_from(values),
                    <&mut [u8; PANEL_BLOCK_BYTES]>::try_from(dst),
                ) else {
                    continue;
                };
                let lane = o.min(PANEL_OUTPUTS - 1) * GROUP_VALUES;
                for g in 0..GROUPS_PER_BLOCK {
                    let at = g * PANEL_OUTPUTS * GROUP_VALUES + lane;
                    let src = g * GROUP_VALUES;
                    dst[at..at + GROUP_VALUES].copy_from_slice(&groups[src..src + GROUP_VALUES]);
                }
            }
        }
        debug_assert_eq!(
            GROUPS_PER_BLOCK * PANEL_OUTPUTS * GROUP_VALUES,
            PANEL_BLOCK_BYTES
        );
    }

    /// Blocks per row.
    pub(crate) fn blocks(&self) -> usize {
        self.blocks
    }

    /// Bytes from block `first_block` on.
    pub(crate) fn bytes_from(&self, first_block: usize) -> &[u8] {
        &self.bytes[first_block * PANEL_BLOCK_BYTES..]
    }

    /// Scales from block `first_block` on.
    pub(crate) fn scales_from(&self, first_block: usize) -> &[f32] {
        &self.scales[first_block * PANEL_OUTPUTS..]
    }

    /// Offsets from block `first_block` on.
    pub(crate) fn offsets_from(&self, first_block: usize) -> &[i32] {
        &self.offsets[first_block * PANEL_OUTPUTS..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precision::WeightPrecision;

    #[test]
    fn a_panel_holds_every_row_s_values_and_scales_and_pads_with_zeros() {
        let (rows, blocks) = (5, 3);
        let w: Vec<f32> = (0..rows * blocks * 32)
            .map(|i| ((i * 7919) % 255) as f32 / 127.0 - 1.0)
            .collect();
        let mut bytes = Vec::new();
        WeightPrecision::Q8_0.encode(&w, &mut bytes);
        let mut panel = WeightPanel::new();
        panel.pack(&bytes, blocks);
        assert_eq!(panel.blocks(), blocks);
        for o in 0..PANEL_OUTPUTS {
            for b in 0..blocks {
                let scale = panel.scales_from(b)[o];
                let mut sum = 0;
                for i in 0..32 {
                    let q = panel.bytes_from(b)[((i / 4) * PANEL_OUTPUTS + o) * 4 + i % 4] as i8;
                    sum += q as i32;
                    let want = if o < rows {
                        WeightPrecision::Q8_0.decode_at(&bytes, (o * blocks + b) * 32 + i)
                    } else {
                        0.0
                    };
                    assert_eq!(scale * q as f32, want, "row {o} block {b} value {i}");
                }
                assert_eq!(panel.offsets_from(b)[o], -128 * sum);
            }
        }
    }
}
