//! Activations quantized to 8-bit integers per block of 32 values, as ggml's Q8_0 does it: for a
//! block `x`, `d = max|x| / 127` (an f32) and `q = round(x / d)`, so `x ≈ d · q` with `|q| ≤ 127`.
//!
//! The chunk product (`q8_0_products::matmul`) quantizes its activation rows once and hands
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
        unsafe { avx2::pack_tile(tile_x, width, tile_rows, coding, bytes, scales) };
        return;
    }
    pack_tile_with(
        tile_x,
        width,
        tile_rows,
        coding,
        bytes,
        scales,
        |xs, flip, out| {
            let mut q = [0i8; Q8_0_BLOCK_VALUES];
            let d = quantize_block(xs, &mut q);
            for (o, &v) in out.iter_mut().zip(&q) {
                *o = (v as u8) ^ flip;
            }
            d
        },
    );
}

/// Packs a tile, `quantize(block, flip, out)` giving each block's scale and its 32 bytes in order
/// (`q`, or `q + 128` when `flip` is 0x80: flipping the top bit of a signed byte adds 128).
#[inline(always)]
fn pack_tile_with(
    tile_x: &[f32],
    width: usize,
    tile_rows: usize,
    coding: ByteCoding,
    bytes: &mut [u8],
    scales: &mut [f32],
    quantize: impl Fn(&[f32], u8, &mut [u8; Q8_0_BLOCK_VALUES]) -> f32,
) {
    let flip = pad_byte(coding);
    let block_bytes = Q8_0_BLOCK_VALUES * tile_rows;
    let mut q = [0u8; Q8_0_BLOCK_VALUES];
    for (r, row) in tile_x.chunks_exact(width).enumerate() {
        for (b, xs) in row.chunks_exact(Q8_0_BLOCK_VALUES).enumerate() {
            scales[b * tile_rows + r] = quantize(xs, flip, &mut q);
            let block = &mut bytes[b * block_bytes..(b + 1) * block_bytes];
            for (g, values) in q.chunks_exact(GROUP_VALUES).enumerate() {
                let at = (g * tile_rows + r) * GROUP_VALUES;
                block[at..at + GROUP_VALUES].copy_from_slice(values);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{pack_tile_with, ByteCoding, Q8_0_BLOCK_VALUES};

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn pack_tile(
        tile_x: &[f32],
        width: usize,
        tile_rows: usize,
        coding: ByteCoding,
        bytes: &mut [u8],
        scales: &mut [f32],
    ) {
        pack_tile_with(
            tile_x,
            width,
            tile_rows,
            coding,
            bytes,
            scales,
            |xs, flip, out| {
                // SAFETY: the features are enabled in this function; `xs` holds a whole block.
                unsafe { quantize_block(xs, flip, out) }
            },
        )
    }

    /// `super::quantize_block` in vector registers, with the same operations (maximum of the
    /// magnitudes, `d = max / 127`, `x · (1/d)` rounded to the nearest integer, ties to even), so
    /// the same bytes and scale; the bytes flipped by `flip`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn quantize_block(xs: &[f32], flip: u8, out: &mut [u8; Q8_0_BLOCK_VALUES]) -> f32 {
        debug_assert!(xs.len() >= Q8_0_BLOCK_VALUES);
        let p = xs.as_ptr();
        let v = [
            _mm256_loadu_ps(p),
            _mm256_loadu_ps(p.add(8)),
            _mm256_loadu_ps(p.add(16)),
            _mm256_loadu_ps(p.add(24)),
        ];
        let sign = _mm256_set1_ps(-0.0);
        let m = v.iter().fold(_mm256_setzero_ps(), |m, &x| {
            _mm256_max_ps(m, _mm256_andnot_ps(sign, x))
        });
        let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
        let d = amax / 127.0;
        let inverse = _mm256_set1_ps(if d != 0.0 { 1.0 / d } else { 0.0 });
        // Rounds to nearest, ties to even (the default mode), as the scalar code's 1.5·2^23 trick.
        let q = v.map(|x| _mm256_cvtps_epi32(_mm256_mul_ps(x, inverse)));
        // packs work within 128-bit halves: the bytes come out as dwords 0, 2, 4, 6 | 1, 3, 5, 7
        // of the block; the permutation puts them back in order.
        let bytes = _mm256_packs_epi16(
            _mm256_packs_epi32(q[0], q[1]),
            _mm256_packs_epi32(q[2], q[3]),
        );
        let bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        let bytes = _mm256_xor_si256(bytes, _mm256_set1_epi8(flip as i8));
        _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, bytes);
        d
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
    fn vector_and_plain_quantizers_give_the_same_bytes() {
        // Values of many magnitudes and signs, and zeros.
        let x: Vec<f32> = (0..64 * 32)
            .map(|i| match i % 97 {
                0 => 0.0,
                1 => 127.0,
                2 => 0.5,
                3 => -1.5,
                _ => ((i * 7919) % 2001) as f32 / 1000.0 - 1.0,
            } * (1.0 + (i / 32) as f32))
            .collect();
        let width = 2 * 32;
        let rows = x.len() / width;
        for coding in [ByteCoding::Signed, ByteCoding::Offset128] {
            let (mut fast, mut fast_scales) = (vec![0u8; x.len()], vec![0f32; x.len() / 32]);
            pack_tile(&x, width, rows, coding, &mut fast, &mut fast_scales);
            let (mut plain, mut plain_scales) = (vec![0u8; x.len()], vec![0f32; x.len() / 32]);
            pack_tile_with(
                &x,
                width,
                rows,
                coding,
                &mut plain,
                &mut plain_scales,
                |xs, flip, out| {
                    let mut q = [0i8; 32];
                    let d = quantize_block(xs, &mut q);
                    for (o, &v) in out.iter_mut().zip(&q) {
                        *o = (v as u8) ^ flip;
                    }
                    d
                },
            );
            assert_eq!(fast, plain);
            assert_eq!(fast_scales, plain_scales);
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
