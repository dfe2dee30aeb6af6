//! Activations quantized to 8-bit integers per block of 32 values, as ggml's Q8_0 does it: for a
//! block `x`, `d = max|x| / 127` (an f32) and `q = round(x / d)`, so `x ≈ d · q` with `|q| ≤ 127`.
//!
//! The chunk product ([`crate::q8_0_kernels::matmul`]) quantizes its activation rows once and hands
//! them to the integer kernels (`q8_dot_kernels`) in tiles of a few rows, laid out so that the
//! kernel broadcasts four consecutive values of one row at a time: per tile and per block, for
//! each group of 4 values, the 4 bytes of row 0, then of row 1, … . The bytes are stored either as
//! signed `q` (the AVX2 and portable kernels) or as `q + 128` (AVX-512 VNNI, whose `vpdpbusd`
//! multiplies unsigned by signed bytes; the kernel takes the offset back out exactly).

use rayon::prelude::*;

use crate::precision::Q8_0_BLOCK_VALUES;

/// Values a kernel reads from one activation row at a time (one 32-bit lane).
pub(crate) const GROUP_VALUES: usize = 4;
/// Groups of [`GROUP_VALUES`] in a block.
pub(crate) const GROUPS_PER_BLOCK: usize = Q8_0_BLOCK_VALUES / GROUP_VALUES;

/// Adding and subtracting 1.5·2^23 rounds an f32 of magnitude below 2^22 to the nearest integer
/// (ties to even) in plain arithmetic, which vectorises (`f32::round` is a libm call).
const ROUND: f32 = 12_582_912.0;

/// How quantized values are stored as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteCoding {
    /// `q` as a signed byte.
    Signed,
    /// `q + 128` as an unsigned byte (1..=255).
    Offset128,
}

/// Quantizes one block of 32 values into `q`; returns its scale `d` (0 for an all-zero block).
#[inline(always)]
pub(crate) fn quantize_block(xs: &[f32], q: &mut [i8]) -> f32 {
    let amax = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let inverse = if d != 0.0 { 1.0 / d } else { 0.0 };
    for (qv, &xv) in q.iter_mut().zip(xs) {
        *qv = ((xv * inverse + ROUND) - ROUND) as i8;
    }
    d
}

/// `rows` activation rows of `blocks · 32` values, quantized and packed in tiles of `tile_rows`
/// rows (the last tile padded with rows of zeros, whose scale is 0).
pub(crate) struct ActivationTiles {
    tile_rows: usize,
    blocks: usize,
    tiles: usize,
    coding: ByteCoding,
    /// Per tile, per block, per group: `tile_rows × 4` bytes.
    bytes: Vec<u8>,
    /// Per tile, per block: `tile_rows` scales.
    scales: Vec<f32>,
}

impl ActivationTiles {
    /// Quantizes `x` (`rows × blocks·32`, row-major).
    pub(crate) fn new(
        x: &[f32],
        rows: usize,
        blocks: usize,
        tile_rows: usize,
        coding: ByteCoding,
    ) -> ActivationTiles {
        let width = blocks * Q8_0_BLOCK_VALUES;
        debug_assert_eq!(x.len(), rows * width);
        let tiles = rows.div_ceil(tile_rows);
        let tile_bytes = blocks * Q8_0_BLOCK_VALUES * tile_rows;
        let tile_scales = blocks * tile_rows;
        let mut packed = ActivationTiles {
            tile_rows,
            blocks,
            tiles,
            coding,
            bytes: vec![pad_byte(coding); tiles * tile_bytes],
            scales: vec![0.0; tiles * tile_scales],
        };
        if width == 0 {
            return packed;
        }
        packed
            .bytes
            .par_chunks_mut(tile_bytes)
            .zip(packed.scales.par_chunks_mut(tile_scales))
            .zip(x.par_chunks(tile_rows * width))
            .for_each(|((bytes, scales), tile_x)| {
                pack_tile(tile_x, width, tile_rows, coding, bytes, scales)
            });
        packed
    }

    /// Rows per tile.
    pub(crate) fn tile_rows(&self) -> usize {
        self.tile_rows
    }

    /// Tiles (rows rounded up to whole tiles).
    pub(crate) fn tiles(&self) -> usize {
        self.tiles
    }

    /// How the bytes are stored.
    pub(crate) fn coding(&self) -> ByteCoding {
        self.coding
    }

    /// Bytes of tile `tile` from block `first_block` on: groups of `tile_rows × 4` bytes.
    pub(crate) fn tile_bytes(&self, tile: usize, first_block: usize) -> &[u8] {
        let per_block = Q8_0_BLOCK_VALUES * self.tile_rows;
        &self.bytes
            [(tile * self.blocks + first_block) * per_block..(tile + 1) * self.blocks * per_block]
    }

    /// Scales of tile `tile` from block `first_block` on: `tile_rows` per block.
    pub(crate) fn tile_scales(&self, tile: usize, first_block: usize) -> &[f32] {
        &self.scales[(tile * self.blocks + first_block) * self.tile_rows
            ..(tile + 1) * self.blocks * self.tile_rows]
    }
}

/// The byte of a zero value.
fn pad_byte(coding: ByteCoding) -> u8 {
    match coding {
        ByteCoding::Signed => 0,
        ByteCoding::Offset128 => 128,
    }
}

fn pack_tile(
    tile_x: &[f32],
    width: usize,
    tile_rows: usize,
    coding: ByteCoding,
    bytes: &mut [u8],
    scales: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::has_avx2_fma() {
        // SAFETY: the CPU features were detected.
        unsafe { pack_tile_avx2(tile_x, width, tile_rows, coding, bytes, scales) };
        return;
    }
    pack_tile_plain(tile_x, width, tile_rows, coding, bytes, scales);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_tile_avx2(
    tile_x: &[f32],
    width: usize,
    tile_rows: usize,
    coding: ByteCoding,
    bytes: &mut [u8],
    scales: &mut [f32],
) {
    pack_tile_plain(tile_x, width, tile_rows, coding, bytes, scales)
}

#[inline(always)]
fn pack_tile_plain(
    tile_x: &[f32],
    width: usize,
    tile_rows: usize,
    coding: ByteCoding,
    bytes: &mut [u8],
    scales: &mut [f32],
) {
    let flip = pad_byte(coding);
    let block_bytes = Q8_0_BLOCK_VALUES * tile_rows;
    let mut q = [0i8; Q8_0_BLOCK_VALUES];
    for (r, row) in tile_x.chunks_exact(width).enumerate() {
        for (b, xs) in row.chunks_exact(Q8_0_BLOCK_VALUES).enumerate() {
            scales[b * tile_rows + r] = quantize_block(xs, &mut q);
            let block = &mut bytes[b * block_bytes..(b + 1) * block_bytes];
            for (g, values) in q.chunks_exact(GROUP_VALUES).enumerate() {
                let at = (g * tile_rows + r) * GROUP_VALUES;
                for (dst, &v) in block[at..at + GROUP_VALUES].iter_mut().zip(values) {
                    *dst = (v as u8) ^ flip;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_hold_each_row_s_blocks_in_groups_of_four() {
        let (rows, blocks, tile_rows) = (5, 2, 4);
        let x: Vec<f32> = (0..rows * blocks * 32)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        for coding in [ByteCoding::Signed, ByteCoding::Offset128] {
            let tiles = ActivationTiles::new(&x, rows, blocks, tile_rows, coding);
            assert_eq!(tiles.tiles(), 2);
            for r in 0..rows {
                for b in 0..blocks {
                    let start = (r * blocks + b) * 32;
                    let mut q = [0i8; 32];
                    let d = quantize_block(&x[start..start + 32], &mut q);
                    let (t, lane) = (r / tile_rows, r % tile_rows);
                    assert_eq!(tiles.tile_scales(t, b)[lane], d);
                    let bytes = tiles.tile_bytes(t, b);
                    for (i, &want) in q.iter().enumerate() {
                        let got = bytes[((i / 4) * tile_rows + lane) * 4 + i % 4];
                        let got = match coding {
                            ByteCoding::Signed => got as i8 as i32,
                            ByteCoding::Offset128 => got as i32 - 128,
                        };
                        assert_eq!(got, want as i32);
                    }
                }
            }
            // The padding rows of the last tile are zeros with a zero scale.
            for b in 0..blocks {
                let scales = &tiles.tile_scales(1, b)[..tile_rows];
                assert!(scales[0] != 0.0 && scales[1..].iter().all(|&d| d == 0.0));
            }
        }
    }

    #[test]
    fn quantized_blocks_round_to_the_nearest_step() {
        let xs: Vec<f32> = (0..32).map(|i| (i as f32 - 15.5) * 0.1).collect();
        let mut q = [0i8; 32];
        let d = quantize_block(&xs, &mut q);
        assert_eq!(d, xs[31] / 127.0);
        assert_eq!((q[0], q[31]), (-127, 127));
        for (&v, &x) in q.iter().zip(&xs) {
            assert!((v as f32 * d - x).abs() <= 0.5 * d * 1.0001, "{v} {x}");
        }
        assert_eq!(quantize_block(&[0.0; 32], &mut q), 0.0);
        assert!(q.iter().all(|&v| v == 0));
    }
}
