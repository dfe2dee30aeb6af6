//! Products of Q8_0 weights (stored bytes, owned or memory-mapped) with f32 activations.
//!
//! Activations are quantized per block of 32 values (`q = round(x / d)`, `d = max|x| / 127`,
//! `q8_activations`), as ggml does, and each output is `Σ_blocks d_w · d_x · Σ q_w · q_x`, the
//! inner sums in integers:
//! * one row (generating): memory-bound; integer dot products over the rows as they are stored,
//!   AVX2 when the CPU has it, parallel over output rows;
//! * several rows (reading a chunk): compute-bound; register-tiled integer kernels
//!   (`q8_dot_kernels`: AVX-512 VNNI, AVX2, portable). Each task repacks one panel of 16 weight
//!   rows at a time into a small buffer (`q8_panels`) and passes every tile of quantized activation
//!   rows over it, a block of depth at a time so the panel's part stays in L1. The weights are read
//!   once per product, in place; nothing the size of a matrix is copied.
//!
//! The two agree to f32 rounding (≈1e-6 relative: the same integers, scaled and summed in another
//! order). Every kernel path of the chunk product gives the same bits.
//!
//! candle's own `QMatMul` was measured on a 2-core AVX2 machine at 17–22 GFLOP/s for a 256-row
//! chunk against 88–105 for f32 gemm; its spinning thread pool stalls when another process holds a
//! core; and on VNNI machines it keeps a repacked copy of every matrix next to the original (a 14B
//! model would need 29 GB). Hence these kernels.

use rayon::prelude::*;

use crate::kernels::q8_activations::{quantize_block, ActivationTiles};
use crate::kernels::q8_dot_kernels::{q8_path, tile_product, Q8Path};
use crate::kernels::q8_panels::{WeightPanel, PANEL_OUTPUTS};
use crate::precision::{Q8_0_BLOCK_BYTES, Q8_0_BLOCK_VALUES};

/// Output rows per parallel task in the one-row product.
const ROWS_PER_TASK: usize = 64;
/// Blocks of depth per pass of the activation tiles over a panel: 16 KiB of the panel (and
/// 8 KiB of an 8-row tile) stay in L1 while every tile passes.
const DEPTH_BLOCKS: usize = 32;
/// Parallel tasks per pool thread in the chunk product (each a band of panels): enough that a
/// slow thread's share can be taken over.
const TASKS_PER_THREAD: usize = 4;

/// Activation rows quantized to Q8_0: per block of 32 values, a scale and 32 signed bytes.
pub(crate) struct QuantizedRows {
    qs: Vec<i8>,
    scales: Vec<f32>,
}

impl QuantizedRows {
    /// Quantizes `x` (a whole number of blocks).
    pub(crate) fn new(x: &[f32]) -> QuantizedRows {
        let blocks = x.len() / Q8_0_BLOCK_VALUES;
        let mut rows = QuantizedRows {
            qs: vec![0i8; blocks * Q8_0_BLOCK_VALUES],
            scales: vec![0.0f32; blocks],
        };
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU features were detected.
            unsafe { quantize_avx2(x, &mut rows) };
            return rows;
        }
        quantize(x, &mut rows);
        rows
    }
}

#[inline(always)]
fn quantize(x: &[f32], rows: &mut QuantizedRows) {
    for ((xs, q), d) in x
        .chunks_exact(Q8_0_BLOCK_VALUES)
        .zip(rows.qs.chunks_exact_mut(Q8_0_BLOCK_VALUES))
        .zip(&mut rows.scales)
    {
        *d = quantize_block(xs, q);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_avx2(x: &[f32], rows: &mut QuantizedRows) {
    quantize(x, rows)
}

/// `W · x` for one activation row: `weights` holds `out_features` rows of `x.len() / 32` blocks.
pub(crate) fn matvec(weights: &[u8], out_features: usize, x: &[f32]) -> Vec<f32> {
    let row_bytes = x.len() / Q8_0_BLOCK_VALUES * Q8_0_BLOCK_BYTES;
    let xq = QuantizedRows::new(x);
    let mut out = vec![0.0f32; out_features];
    out.par_chunks_mut(ROWS_PER_TASK)
        .zip(weights.par_chunks(ROWS_PER_TASK * row_bytes))
        .for_each(|(out_rows, weight_rows)| {
            for (o, row) in out_rows.iter_mut().zip(weight_rows.chunks_exact(row_bytes)) {
                *o = dot(row, &xq);
            }
        });
    out
}

/// `X · Wᵀ` for `rows` activation rows `x` (`rows × in_features`), returned `rows × out_features`,
/// on the best kernel path this CPU has ([`q8_path`]).
pub(crate) fn matmul(
    weights: &[u8],
    out_features: usize,
    in_features: usize,
    x: &[f32],
    rows: usize,
) -> Vec<f32> {
    matmul_on(q8_path(), weights, out_features, in_features, x, rows)
}

/// [`matmul`] on kernel path `path` (which must be available).
pub(crate) fn matmul_on(
    path: Q8Path,
    weights: &[u8],
    out_features: usize,
    in_features: usize,
    x: &[f32],
    rows: usize,
) -> Vec<f32> {
    let n = out_features;
    let blocks = in_features / Q8_0_BLOCK_VALUES;
    let row_bytes = blocks * Q8_0_BLOCK_BYTES;
    let mut out = vec![0.0f32; rows * n];
    if rows == 0 || n == 0 || blocks == 0 {
        return out;
    }
    let acts = ActivationTiles::new(x, rows, blocks, path.tile_rows(), path.coding());
    let (tiles, tile_rows) = (acts.tiles(), acts.tile_rows());
    let tile_values = tile_rows * PANEL_OUTPUTS;
    let panels = n.div_ceil(PANEL_OUTPUTS);
    let tasks = (rayon::current_num_threads() * TASKS_PER_THREAD).min(panels);
    let panels_per_task = panels.div_ceil(tasks);
    // Results panel by panel (each `tiles × tile_rows` rows of 16), so that every task writes its
    // own contiguous slice; put in row order afterwards.
    let panel_values = tiles * tile_values;
    let mut by_panel = vec![0.0f32; panels * panel_values];
    by_panel
        .par_chunks_mut(panels_per_task * panel_values)
        .enumerate()
        .for_each(|(task, results)| {
            let mut panel = WeightPanel::new();
            for (i, result) in results.chunks_exact_mut(panel_values).enumerate() {
                let first = (task * panels_per_task + i) * PANEL_OUTPUTS;
                let last = (first + PANEL_OUTPUTS).min(n);
                panel.pack(&weights[first * row_bytes..last * row_bytes], blocks);
                for depth in (0..blocks).step_by(DEPTH_BLOCKS) {
                    let len = DEPTH_BLOCKS.min(blocks - depth);
                    for (t, tile) in result.chunks_exact_mut(tile_values).enumerate() {
                        tile_product(path, &panel, &acts, t, depth..depth + len, tile, depth > 0);
                    }
                }
            }
        });
    out.par_chunks_mut(n).enumerate().for_each(|(r, out_row)| {
        for (p, dst) in out_row.chunks_mut(PANEL_OUTPUTS).enumerate() {
            let at = p * panel_values + r * PANEL_OUTPUTS;
            dst.copy_from_slice(&by_panel[at..at + dst.len()]);
        }
    });
    out
}

/// Whether the AVX2 kernels can run here: AVX2 and FMA, and F16C for the blocks' f16 scales.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::kernels::has_avx2_fma() && is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Dot product of one weight row (whole blocks) with quantized activations.
fn dot(row: &[u8], x: &QuantizedRows) -> f32 {
    let blocks = x.scales.len().min(row.len() / Q8_0_BLOCK_BYTES);
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU features were detected; `blocks` blocks fit in both `row` and `x`.
        return unsafe { avx2::dot(row, &x.qs, &x.scales, blocks) };
    }
    let mut sum = 0.0f32;
    for b in 0..blocks {
        let block = &row[b * Q8_0_BLOCK_BYTES..(b + 1) * Q8_0_BLOCK_BYTES];
        let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let q = &x.qs[b * Q8_0_BLOCK_VALUES..(b + 1) * Q8_0_BLOCK_VALUES];
        let ints: i32 = block[2..]
            .iter()
            .zip(q)
            .map(|(&w, &v)| (w as i8) as i32 * v as i32)
            .sum();
        sum += scale * x.scales[b] * ints as f32;
    }
    sum
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use crate::precision::{Q8_0_BLOCK_BYTES, Q8_0_BLOCK_VALUES};

    /// The scale of block `b` (an f16 at its start) as f32, broadcast.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn scale(block: *const u8) -> __m256 {
        let bits = u16::from_le_bytes([*block, *block.add(1)]);
        _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
    }

    /// Σ_b d_w[b]·d_x[b]·Σ q_w·q_x over `blocks` blocks. Caller guarantees `row` holds `blocks`
    /// Q8_0 blocks and `qs`/`scales` `blocks` activation blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn dot(row: &[u8], qs: &[i8], scales: &[f32], blocks: usize) -> f32 {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_ps(); 4];
        for b in 0..blocks {
            let block = row.as_ptr().add(b * Q8_0_BLOCK_BYTES);
            let d = _mm256_mul_ps(scale(block), _mm256_set1_ps(*scales.get_unchecked(b)));
            let w = _mm256_loadu_si256(block.add(2) as *const __m256i);
            let x = _mm256_loadu_si256(qs.as_ptr().add(b * Q8_0_BLOCK_VALUES) as *const __m256i);
            // maddubs multiplies unsigned by signed bytes: move w's sign onto x. |w| ≤ 128 and
            // |x| ≤ 127, so the paired 16-bit sums (≤ 32512) cannot saturate.
            let products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
            let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(products, ones));
            acc[b & 3] = _mm256_fmadd_ps(d, sums, acc[b & 3]);
        }
        let total = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let half = _mm_add_ps(
            _mm256_castps256_ps128(total),
            _mm256_extractf128_ps(total, 1),
        );
        let pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precision::WeightPrecision;

    fn weights(out_f: usize, in_f: usize) -> (Vec<f32>, Vec<u8>) {
        let w: Vec<f32> = (0..out_f * in_f)
            .map(|i| ((i * 7919) % 1001) as f32 / 500.0 - 1.0)
            .collect();
        let mut bytes = Vec::new();
        WeightPrecision::Q8_0.encode(&w, &mut bytes);
        (w, bytes)
    }

    #[test]
    fn chunk_products_run_side_by_side_on_the_pool() {
        // Several callers at once, each from inside the pool (as the forward pass calls it): a
        // worker waiting in one product may be handed another. This panicked ("already
        // borrowed") when the per-thread tile was borrowed across the parallel loops.
        let (out_f, in_f, rows) = (512, 256, 24);
        let (_, bytes) = weights(out_f, in_f);
        let x: Vec<f32> = (0..rows * in_f).map(|i| (i as f32 * 0.01).sin()).collect();
        let want = matmul(&bytes, out_f, in_f, &x, rows);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..25 {
                        let got = rayon::scope(|_| matmul(&bytes, out_f, in_f, &x, rows));
                        assert_eq!(got, want);
                    }
                });
            }
        });
    }

    #[test]
    fn one_row_and_chunk_products_agree_and_match_a_plain_loop() {
        let (out_f, in_f, rows) = (70, 96, 5);
        let (_, bytes) = weights(out_f, in_f);
        let x: Vec<f32> = (0..rows * in_f)
            .map(|i| ((i * 104_729) % 37) as f32 / 18.0 - 1.0)
            .collect();
        let chunk = matmul(&bytes, out_f, in_f, &x, rows);
        for r in 0..rows {
            let xr = &x[r * in_f..(r + 1) * in_f];
            let single = matvec(&bytes, out_f, xr);
            let rounded = QuantizedRows::new(xr);
            let xq: Vec<f32> = rounded
                .qs
                .iter()
                .enumerate()
                .map(|(i, &q)| q as f32 * rounded.scales[i / 32])
                .collect();
            for o in 0..out_f {
                let mut w = vec![0.0; in_f];
                WeightPrecision::Q8_0.decode_into(&bytes[o * 3 * 34..(o + 1) * 3 * 34], &mut w);
                let plain: f32 = w.iter().zip(&xq).map(|(a, b)| a * b).sum();
                let got = [single[o], chunk[r * out_f + o]];
                for g in got {
                    assert!(
                        (g - plain).abs() <= 1e-4 * (1.0 + plain.abs()),
                        "{g} vs {plain}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_avx2_and_plain_kernels_agree() {
        let (out_f, in_f) = (3, 256);
        let (_, bytes) = weights(out_f, in_f);
        let x: Vec<f32> = (0..in_f).map(|i| (i as f32 * 0.37).sin()).collect();
        let xq = QuantizedRows::new(&x);
        for row in bytes.chunks_exact(in_f / 32 * 34) {
            let fast = dot(row, &xq);
            let mut plain = 0.0f32;
            for (b, block) in row.chunks_exact(34).enumerate() {
                let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
                let ints: i32 = block[2..]
                    .iter()
                    .zip(&xq.qs[b * 32..(b + 1) * 32])
                    .map(|(&w, &v)| (w as i8) as i32 * v as i32)
                    .sum();
                plain += scale * xq.scales[b] * ints as f32;
            }
            assert!((fast - plain).abs() <= 1e-5 * (1.0 + plain.abs()));
        }
    }

    /// `Σ_b d_w · d_x · Σ q_w · q_x` in f64, and `Σ_b |d_w · d_x · Σ q_w · q_x|` (the size of the
    /// rounding error an f32 sum of the terms may have).
    fn exact_products(
        bytes: &[u8],
        out_f: usize,
        in_f: usize,
        x: &[f32],
        rows: usize,
    ) -> Vec<(f64, f64)> {
        let blocks = in_f / 32;
        let mut out = Vec::with_capacity(rows * out_f);
        for r in 0..rows {
            let xq = QuantizedRows::new(&x[r * in_f..(r + 1) * in_f]);
            for o in 0..out_f {
                let (mut sum, mut size) = (0.0f64, 0.0f64);
                for b in 0..blocks {
                    let block = &bytes[(o * blocks + b) * 34..(o * blocks + b + 1) * 34];
                    let dw = half::f16::from_le_bytes([block[0], block[1]]).to_f32() as f64;
                    let ints: i64 = block[2..]
                        .iter()
                        .zip(&xq.qs[b * 32..(b + 1) * 32])
                        .map(|(&w, &v)| (w as i8) as i64 * v as i64)
                        .sum();
                    let term = dw * xq.scales[b] as f64 * ints as f64;
                    sum += term;
                    size += term.abs();
                }
                out.push((sum, size));
            }
        }
        out
    }

    #[test]
    fn integer_chunk_products_give_the_same_bits_on_every_path_this_cpu_has() {
        // Output widths off the panel size, row counts off every tile size, depths past one pass.
        let (ran, skipped): (Vec<Q8Path>, Vec<Q8Path>) =
            Q8Path::ALL.into_iter().partition(|p| p.is_available());
        eprintln!(
            "q8 chunk-product paths run: {:?}; skipped (this CPU lacks them): {:?}",
            ran.iter().map(|p| p.name()).collect::<Vec<_>>(),
            skipped.iter().map(|p| p.name()).collect::<Vec<_>>()
        );
        for (out_f, in_f) in [(1, 32), (17, 64), (40, 1056), (33, 2080)] {
            let (_, bytes) = weights(out_f, in_f);
            for rows in [2, 5, 8, 9, 27] {
                // Activations with blocks of very different sizes (and an all-zero block).
                let x: Vec<f32> = (0..rows * in_f)
                    .map(|i| {
                        let block = i / 32;
                        if block % 7 == 3 {
                            0.0
                        } else {
                            (i as f32 * 0.37).sin() * (1 + block % 5) as f32
                        }
                    })
                    .collect();
                let want = exact_products(&bytes, out_f, in_f, &x, rows);
                let reference = matmul_on(Q8Path::Portable, &bytes, out_f, in_f, &x, rows);
                for (i, (&got, &(sum, size))) in reference.iter().zip(&want).enumerate() {
                    let tolerance = 1e-6 * size * (in_f / 32) as f64 + 1e-30;
                    assert!(
                        (got as f64 - sum).abs() <= tolerance,
                        "{out_f}x{in_f}, {rows} rows, [{i}]: {got} vs {sum}"
                    );
                }
                for &path in &ran {
                    let got = matmul_on(path, &bytes, out_f, in_f, &x, rows);
                    assert!(
                        got.iter()
                            .zip(&reference)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{} differs from portable at {out_f}x{in_f}, {rows} rows",
                        path.name()
                    );
                }
            }
        }
    }

    #[test]
    fn the_weights_full_range_never_saturates_the_16_bit_sums() {
        // Weights of ±127 and -128 (which a GGUF from elsewhere may hold) against activations of
        // ±127: the pairs AVX2 adds in 16 bits reach ±32,512, still below 32,767.
        let (out_f, in_f, rows) = (16, 64, 8);
        let mut bytes = Vec::new();
        for o in 0..out_f {
            for b in 0..in_f / 32 {
                bytes.extend_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
                let value: i8 = match (o + b) % 3 {
                    0 => 127,
                    1 => -127,
                    _ => -128,
                };
                bytes.extend(std::iter::repeat_n(value as u8, 32));
            }
        }
        let x: Vec<f32> = (0..rows * in_f)
            .map(|i| if (i / 2 + i / 64) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let want = exact_products(&bytes, out_f, in_f, &x, rows);
        for path in Q8Path::ALL.into_iter().filter(|p| p.is_available()) {
            let got = matmul_on(path, &bytes, out_f, in_f, &x, rows);
            for (&g, &(sum, size)) in got.iter().zip(&want) {
                assert!(
                    (g as f64 - sum).abs() <= 1e-6 * size,
                    "{}: {g} vs {sum}",
                    path.name()
                );
            }
        }
    }
}
