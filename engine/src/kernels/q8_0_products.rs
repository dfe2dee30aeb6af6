//! Products of Q8_0 weights (stored bytes, owned or memory-mapped) with f32 activations.
//!
//! Activations are quantized per block of 32 values (`q = round(x / d)`, `d = max|x| / 127`), as
//! ggml does, and each output is `Σ_blocks d_w · d_x · Σ q_w · q_x`:
//! * one row (generating): integer dot products, AVX2 when the CPU has it, parallel over output rows;
//! * several rows (reading a chunk): the same numbers computed as an f32 matrix product — the
//!   activations are rounded to their Q8_0 values, tiles of weights are dequantized (exactly: an
//!   f16 scale times a byte fits in f32) and multiplied with `gemm`. So one token at a time and a
//!   whole chunk agree to f32 rounding (≈1e-6), as the f32 model's paths do.
//!
//! candle's own `QMatMul` was measured on this 2-core AVX2 machine (no AVX-512 VNNI) at 17–22
//! GFLOP/s for a 256-row chunk against 88–105 for f32 gemm; its spinning thread pool stalls when
//! another process holds a core; and on VNNI machines it keeps a repacked copy of every matrix
//! next to the original (a 14B model would need 29 GB). Hence these kernels.

use std::cell::Cell;

use rayon::prelude::*;

use crate::precision::{Q8_0_BLOCK_BYTES, Q8_0_BLOCK_VALUES};

/// Output rows per parallel task in the one-row product.
const ROWS_PER_TASK: usize = 64;
/// Largest dequantized weight tile of the chunk product, in f32 values (32 MiB).
const TILE_VALUES: usize = 8 << 20;

/// Adding and subtracting 1.5·2^23 rounds an f32 of magnitude below 2^22 to the nearest integer
/// (ties to even) in plain arithmetic, which vectorises (`f32::round` is a libm call).
const ROUND: f32 = 12_582_912.0;

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

/// `x` rounded to its Q8_0 values (`d · q`, in f32): what the integer products see, for the chunk
/// product.
fn quantized_values(x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU features were detected.
        unsafe { quantized_values_avx2(x, &mut out) };
        return out;
    }
    round_to_q8_0(x, &mut out);
    out
}

/// Scale of one block and its inverse (0 for an all-zero block).
#[inline(always)]
fn block_scale(xs: &[f32]) -> (f32, f32) {
    let amax = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    (d, if d != 0.0 { 1.0 / d } else { 0.0 })
}

#[inline(always)]
fn quantize(x: &[f32], rows: &mut QuantizedRows) {
    for ((xs, q), d) in x
        .chunks_exact(Q8_0_BLOCK_VALUES)
        .zip(rows.qs.chunks_exact_mut(Q8_0_BLOCK_VALUES))
        .zip(&mut rows.scales)
    {
        let (scale, inverse) = block_scale(xs);
        *d = scale;
        for (qv, &xv) in q.iter_mut().zip(xs) {
            *qv = ((xv * inverse + ROUND) - ROUND) as i8;
        }
    }
}

#[inline(always)]
fn round_to_q8_0(x: &[f32], out: &mut [f32]) {
    for (xs, o) in x
        .chunks_exact(Q8_0_BLOCK_VALUES)
        .zip(out.chunks_exact_mut(Q8_0_BLOCK_VALUES))
    {
        let (scale, inverse) = block_scale(xs);
        for (ov, &xv) in o.iter_mut().zip(xs) {
            *ov = ((xv * inverse + ROUND) - ROUND) * scale;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_avx2(x: &[f32], rows: &mut QuantizedRows) {
    quantize(x, rows)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantized_values_avx2(x: &[f32], out: &mut [f32]) {
    round_to_q8_0(x, out)
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

/// `X · Wᵀ` for `rows` activation rows `x` (`rows × in_features`), returned `rows × out_features`.
pub(crate) fn matmul(
    weights: &[u8],
    out_features: usize,
    in_features: usize,
    x: &[f32],
    rows: usize,
) -> Vec<f32> {
    // The dequantized tile is kept per thread between calls. It is taken out for the call, not
    // borrowed: while this thread waits inside the parallel loops below, rayon may hand it another
    // job that lands here again (another layer of another model), which then simply allocates.
    thread_local! {
        static TILE: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    }
    let k = in_features;
    let row_bytes = k / Q8_0_BLOCK_VALUES * Q8_0_BLOCK_BYTES;
    let lhs = quantized_values(x);
    let mut out = vec![0.0f32; rows * out_features];
    let tile_rows = (TILE_VALUES / k.max(1)).clamp(1, out_features.max(1));
    let mut tile = TILE.take();
    tile.resize(tile_rows * k, 0.0);
    for start in (0..out_features).step_by(tile_rows) {
        let n = tile_rows.min(out_features - start);
        let tile = &mut tile[..n * k];
        tile.par_chunks_mut(ROWS_PER_TASK * k)
            .zip(
                weights[start * row_bytes..(start + n) * row_bytes]
                    .par_chunks(ROWS_PER_TASK * row_bytes),
            )
            .for_each(|(dst, src)| dequantize(src, dst));
        let parallelism = match rayon::current_num_threads() {
            1 => gemm::Parallelism::None,
            threads => gemm::Parallelism::Rayon(threads),
        };
        // SAFETY: out is rows × out_features (row stride out_features); columns
        // start..start+n are written. lhs is rows × k row-major; the tile is n rows of k,
        // read as its transpose (k × n: row stride 1, column stride k). All in bounds.
        unsafe {
            gemm::gemm(
                rows,
                n,
                k,
                out.as_mut_ptr().add(start),
                1,
                out_features as isize,
                false,
                lhs.as_ptr(),
                1,
                k as isize,
                tile.as_ptr(),
                k as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    }
    TILE.set(tile);
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

/// Decodes whole blocks of `src` into `dst` (as many as both hold).
fn dequantize(src: &[u8], dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU features were detected; only whole blocks present in both are touched.
        unsafe { avx2::dequantize(src, dst) };
        return;
    }
    crate::precision::WeightPrecision::Q8_0.decode_into(src, dst);
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

    /// Decodes as many whole blocks as both `src` and `dst` hold.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn dequantize(src: &[u8], dst: &mut [f32]) {
        let blocks = (src.len() / Q8_0_BLOCK_BYTES).min(dst.len() / Q8_0_BLOCK_VALUES);
        for b in 0..blocks {
            let block = src.as_ptr().add(b * Q8_0_BLOCK_BYTES);
            let d = scale(block);
            let q = _mm256_loadu_si256(block.add(2) as *const __m256i);
            let lo = _mm256_castsi256_si128(q);
            let hi = _mm256_extracti128_si256(q, 1);
            let out = dst.as_mut_ptr().add(b * Q8_0_BLOCK_VALUES);
            for (i, part) in [lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)]
                .into_iter()
                .enumerate()
            {
                let values = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part));
                _mm256_storeu_ps(out.add(8 * i), _mm256_mul_ps(d, values));
            }
        }
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
            let xq = quantized_values(xr);
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
            let mut fast_rows = vec![0.0; in_f];
            let mut plain_rows = vec![0.0; in_f];
            dequantize(row, &mut fast_rows);
            WeightPrecision::Q8_0.decode_into(row, &mut plain_rows);
            assert_eq!(fast_rows, plain_rows);
        }
    }
}
