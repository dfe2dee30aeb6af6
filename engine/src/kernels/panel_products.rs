//! Products of f32 activations with weights in panel order ([`PanelMatrix`]).
//!
//! * One row (generating a token): memory-bound, so the only aim is to stream every weight once at
//!   full bandwidth: each panel is read front to back into 16 sums, panels split across the pool.
//! * Several rows (reading a chunk): compute-bound, a register-tiled product in the manner of BLIS —
//!   a 6 × 16 tile of outputs lives in twelve AVX registers while 256 columns of six activation rows
//!   and of one panel stream through, the panel block (16 KiB) staying in L1 while every row tile
//!   of the task passes over it. The weights are already in the panel layout, so unlike a general
//!   matrix product nothing is repacked but the activations. Tasks own bands of whole output rows
//!   (two per pool thread: measured against four, and against bands of columns, at 169M's three
//!   matrix shapes); a prompt too short for that splits the panels instead.
//!
//! x86-64 CPUs with AVX2 and FMA run hand-vectorised kernels; others run the same loops in plain
//! Rust. The summation order differs from a plain dot product, so results match one to f32
//! rounding, not bit for bit.

use rayon::prelude::*;

use crate::kernels::panels::{PanelMatrix, PANEL};

/// Activation rows per register tile.
const TILE_ROWS: usize = 6;
/// Input columns per pass over a tile (the cache block): 16 KiB of a panel, 6 KiB of activations.
const DEPTH_BLOCK: usize = 256;
/// Panels per parallel task in the one-row product (64 output rows).
const MATVEC_PANELS_PER_TASK: usize = 4;
/// Parallel tasks per pool thread in the chunk product: enough that a slow thread's work can be
/// taken over, few enough that each task passes many row tiles over every panel block.
const TASKS_PER_THREAD: usize = 2;

/// `W · x` for one input vector (`x.len() == in`): `out` values.
pub fn matvec(w: &PanelMatrix, x: &[f32]) -> Vec<f32> {
    let k = w.in_features();
    assert_eq!(x.len(), k, "input width");
    let mut out = vec![0.0f32; w.panels() * PANEL];
    if k > 0 {
        out.par_chunks_mut(MATVEC_PANELS_PER_TASK * PANEL)
            .zip(w.data().par_chunks(MATVEC_PANELS_PER_TASK * PANEL * k))
            .for_each(|(sums, panels)| {
                for (sums, panel) in sums
                    .chunks_exact_mut(PANEL)
                    .zip(panels.chunks_exact(PANEL * k))
                {
                    panel_dot(panel, x, sums);
                }
            });
    }
    out.truncate(w.out_features());
    out
}

/// `x · Wᵀ` for `rows` input rows (`x` is `[rows, in]` row-major): `[rows, out]` row-major.
pub fn matmul(w: &PanelMatrix, x: &[f32], rows: usize) -> Vec<f32> {
    let (k, n) = (w.in_features(), w.out_features());
    assert_eq!(x.len(), rows * k, "input shape");
    let mut out = vec![0.0f32; rows * n];
    if rows == 0 || k == 0 || n == 0 {
        return out;
    }
    let tiles = rows.div_ceil(TILE_ROWS);
    let threads = rayon::current_num_threads();
    if tiles >= 2 * threads {
        // Enough rows: each task owns a band of whole output rows, so writes are disjoint slices.
        let tasks = (threads * TASKS_PER_THREAD).min(tiles);
        let rows_per_task = tiles.div_ceil(tasks) * TILE_ROWS;
        out.par_chunks_mut(rows_per_task * n)
            .zip(x.par_chunks(rows_per_task * k))
            .for_each(|(out_rows, x_rows)| {
                let packed = pack_rows(x_rows, x_rows.len() / k, k);
                for p in 0..w.panels() {
                    rows_times_panel(w, p, &packed, out_rows, n, p * PANEL);
                }
            });
    } else {
        // A few rows (a short prompt): split the panels instead, each task filling its own band
        // of columns, copied into place afterwards.
        let packed = pack_rows(x, rows, k);
        let panels = w.panels();
        let per_task = panels.div_ceil((threads * TASKS_PER_THREAD).min(panels));
        let bands: Vec<(usize, Vec<f32>)> = (0..panels)
            .step_by(per_task)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|first| {
                let count = per_task.min(panels - first);
                let width = (count * PANEL).min(n - first * PANEL);
                let mut band = vec![0.0f32; rows * width];
                for local in 0..count {
                    rows_times_panel(w, first + local, &packed, &mut band, width, local * PANEL);
                }
                (first * PANEL, band)
            })
            .collect();
        for (col, band) in bands {
            let width = band.len() / rows;
            for (out_row, band_row) in out.chunks_exact_mut(n).zip(band.chunks_exact(width)) {
                out_row[col..col + width].copy_from_slice(band_row);
            }
        }
    }
    out
}

/// Every packed row tile times panel `p`, written to columns `col..col + 16` (fewer at the right
/// edge) of `out`, which holds the tiles' rows with a row stride of `width`. The depth is walked in
/// blocks so that a block of the panel stays in L1 while every tile passes over it.
fn rows_times_panel(
    w: &PanelMatrix,
    p: usize,
    packed: &[f32],
    out: &mut [f32],
    width: usize,
    col: usize,
) {
    let k = w.in_features();
    let panel = &w.data()[p * k * PANEL..][..k * PANEL];
    let tiles = packed.len() / (k * TILE_ROWS);
    let mut sums = vec![[0.0f32; TILE_ROWS * PANEL]; tiles];
    for depth in (0..k).step_by(DEPTH_BLOCK) {
        let len = DEPTH_BLOCK.min(k - depth);
        let b = &panel[depth * PANEL..][..len * PANEL];
        for (t, tile) in sums.iter_mut().enumerate() {
            let a = &packed[(t * k + depth) * TILE_ROWS..][..len * TILE_ROWS];
            tile_product(len, a, b, tile, depth > 0);
        }
    }
    let rows = out.len() / width;
    let cols = PANEL.min(width - col);
    for (t, tile) in sums.iter().enumerate() {
        let first = t * TILE_ROWS;
        for r in 0..TILE_ROWS.min(rows - first) {
            let at = (first + r) * width + col;
            out[at..at + cols].copy_from_slice(&tile[r * PANEL..r * PANEL + cols]);
        }
    }
}

/// `x` (`rows × k`) as tiles of six rows, each stored column by column (`k` groups of 6 values),
/// the last tile padded with zero rows.
fn pack_rows(x: &[f32], rows: usize, k: usize) -> Vec<f32> {
    let tiles = rows.div_ceil(TILE_ROWS);
    let mut packed = vec![0.0f32; tiles * k * TILE_ROWS];
    packed
        .par_chunks_mut(k * TILE_ROWS)
        .zip(x.par_chunks(k * TILE_ROWS))
        .for_each(|(tile, tile_rows)| {
            for (lane, row) in tile_rows.chunks_exact(k).enumerate() {
                for (col, &v) in row.iter().enumerate() {
                    tile[col * TILE_ROWS + lane] = v;
                }
            }
        });
    packed
}

/// `sums[j] = Σ_k panel[k·16 + j] · x[k]` for one panel.
fn panel_dot(panel: &[f32], x: &[f32], sums: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::has_avx2_fma() {
        // SAFETY: the CPU features were detected.
        unsafe { avx2::panel_dot(panel, x, sums) };
        return;
    }
    portable::panel_dot(panel, x, sums);
}

/// `tile` (6 rows × 16, row-major) set to — or, with `accumulate`, increased by — the product of
/// `len` packed activation columns `a` (`len × 6`) and panel columns `b` (`len × 16`).
pub fn tile_product(
    len: usize,
    a: &[f32],
    b: &[f32],
    tile: &mut [f32; TILE_ROWS * PANEL],
    accumulate: bool,
) {
    assert!(a.len() >= len * TILE_ROWS && b.len() >= len * PANEL);
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::has_avx2_fma() {
        // SAFETY: the CPU features were detected; the slice lengths were checked above.
        unsafe { avx2::tile_product(len, a, b, tile, accumulate) };
        return;
    }
    portable::tile_product(len, a, b, tile, accumulate);
}

/// Multiply-adds per second this thread can issue, in GFLOP/s (two per multiply-add): twelve
/// independent accumulators, as in the tile kernel, with nothing loaded from memory. The compute
/// ceiling the chunk product is measured against.
pub fn fma_peak_gflops(steps: usize) -> f64 {
    let start = std::time::Instant::now();
    #[cfg(target_arch = "x86_64")]
    let lanes = if crate::kernels::has_avx2_fma() {
        // SAFETY: the CPU features were detected.
        unsafe { avx2::fma_loop(steps) }
    } else {
        portable::fma_loop(steps)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let lanes = portable::fma_loop(steps);
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    std::hint::black_box(lanes);
    (steps * TILE_ROWS * PANEL * 2) as f64 / seconds / 1e9
}

/// The kernels in plain Rust, for every CPU (and as the tests' second opinion).
mod portable {
    use super::{PANEL, TILE_ROWS};

    pub(super) fn fma_loop(steps: usize) -> f32 {
        let mut acc = [[0.0f32; PANEL]; TILE_ROWS];
        let (scale, add) = (
            std::hint::black_box(0.999f32),
            std::hint::black_box(1e-4f32),
        );
        for _ in 0..steps {
            for row in acc.iter_mut() {
                for v in row.iter_mut() {
                    *v = v.mul_add(scale, add);
                }
            }
        }
        acc.iter().flatten().sum()
    }

    pub(super) fn panel_dot(panel: &[f32], x: &[f32], sums: &mut [f32]) {
        let mut acc = [0.0f32; PANEL];
        for (column, &xk) in panel.chunks_exact(PANEL).zip(x) {
            for (a, &w) in acc.iter_mut().zip(column) {
                *a += w * xk;
            }
        }
        sums[..PANEL].copy_from_slice(&acc);
    }

    pub(super) fn tile_product(
        len: usize,
        a: &[f32],
        b: &[f32],
        tile: &mut [f32; TILE_ROWS * PANEL],
        accumulate: bool,
    ) {
        let mut acc = [[0.0f32; PANEL]; TILE_ROWS];
        for (col_a, col_b) in a
            .chunks_exact(TILE_ROWS)
            .zip(b.chunks_exact(PANEL))
            .take(len)
        {
            for (row, &av) in acc.iter_mut().zip(col_a) {
                for (v, &bv) in row.iter_mut().zip(col_b) {
                    *v += av * bv;
                }
            }
        }
        for (out, row) in tile.chunks_exact_mut(PANEL).zip(&acc) {
            for (o, &v) in out.iter_mut().zip(row) {
                *o = if accumulate { *o + v } else { v };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{PANEL, TILE_ROWS};

    /// `steps` rounds of a multiply-add on each of twelve registers.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn fma_loop(steps: usize) -> f32 {
        let scale = _mm256_set1_ps(std::hint::black_box(0.999));
        let add = _mm256_set1_ps(std::hint::black_box(1e-4));
        let mut acc = [_mm256_setzero_ps(); 2 * TILE_ROWS];
        for _ in 0..steps {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, scale, add);
            }
        }
        let mut lanes = [0.0f32; 8];
        let total = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, &a| _mm256_add_ps(s, a));
        _mm256_storeu_ps(lanes.as_mut_ptr(), total);
        lanes.iter().sum()
    }

    /// Four columns per step into four pairs of sums, so four multiply-add chains run at once.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn panel_dot(panel: &[f32], x: &[f32], sums: &mut [f32]) {
        let k = x.len();
        debug_assert!(panel.len() >= k * PANEL && sums.len() >= PANEL);
        let w = panel.as_ptr();
        let mut acc = [_mm256_setzero_ps(); 8];
        let mut col = 0;
        while col + 4 <= k {
            for u in 0..4 {
                let xv = _mm256_set1_ps(*x.get_unchecked(col + u));
                let p = w.add((col + u) * PANEL);
                acc[2 * u] = _mm256_fmadd_ps(_mm256_loadu_ps(p), xv, acc[2 * u]);
                acc[2 * u + 1] = _mm256_fmadd_ps(_mm256_loadu_ps(p.add(8)), xv, acc[2 * u + 1]);
            }
            col += 4;
        }
        while col < k {
            let xv = _mm256_set1_ps(*x.get_unchecked(col));
            let p = w.add(col * PANEL);
            acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(p), xv, acc[0]);
            acc[1] = _mm256_fmadd_ps(_mm256_loadu_ps(p.add(8)), xv, acc[1]);
            col += 1;
        }
        let lo = _mm256_add_ps(_mm256_add_ps(acc[0], acc[2]), _mm256_add_ps(acc[4], acc[6]));
        let hi = _mm256_add_ps(_mm256_add_ps(acc[1], acc[3]), _mm256_add_ps(acc[5], acc[7]));
        _mm256_storeu_ps(sums.as_mut_ptr(), lo);
        _mm256_storeu_ps(sums.as_mut_ptr().add(8), hi);
    }

    /// Twelve accumulators (6 rows × 2 vectors), two panel loads and six broadcasts per column.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile_product(
        len: usize,
        a: &[f32],
        b: &[f32],
        tile: &mut [f32; TILE_ROWS * PANEL],
        accumulate: bool,
    ) {
        let (a, b) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 2 * TILE_ROWS];
        let step = |acc: &mut [__m256; 2 * TILE_ROWS], col: usize| {
            let b0 = _mm256_loadu_ps(b.add(col * PANEL));
            let b1 = _mm256_loadu_ps(b.add(col * PANEL + 8));
            let col_a = a.add(col * TILE_ROWS);
            for r in 0..TILE_ROWS {
                let av = _mm256_broadcast_ss(&*col_a.add(r));
                acc[2 * r] = _mm256_fmadd_ps(av, b0, acc[2 * r]);
                acc[2 * r + 1] = _mm256_fmadd_ps(av, b1, acc[2 * r + 1]);
            }
        };
        // Four columns per loop iteration: the loop's own instructions would otherwise take a
        // sixth of the issue slots the multiply-adds need.
        let mut col = 0;
        while col + 4 <= len {
            step(&mut acc, col);
            step(&mut acc, col + 1);
            step(&mut acc, col + 2);
            step(&mut acc, col + 3);
            col += 4;
        }
        while col < len {
            step(&mut acc, col);
            col += 1;
        }
        let out = tile.as_mut_ptr();
        for r in 0..TILE_ROWS {
            let (mut v0, mut v1) = (acc[2 * r], acc[2 * r + 1]);
            if accumulate {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(out.add(r * PANEL)));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(out.add(r * PANEL + 8)));
            }
            _mm256_storeu_ps(out.add(r * PANEL), v0);
            _mm256_storeu_ps(out.add(r * PANEL + 8), v1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(out: usize, inp: usize) -> Vec<f32> {
        (0..out * inp)
            .map(|i| ((i * 7919) % 211) as f32 / 105.0 - 1.0)
            .collect()
    }

    fn naive(w: &[f32], x: &[f32], rows: usize, out: usize, inp: usize) -> Vec<f64> {
        let mut y = vec![0.0f64; rows * out];
        for r in 0..rows {
            for o in 0..out {
                y[r * out + o] = (0..inp)
                    .map(|k| w[o * inp + k] as f64 * x[r * inp + k] as f64)
                    .sum();
            }
        }
        y
    }

    fn assert_close(got: &[f32], want: &[f64], inp: usize, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        // Inputs are within ±1, so each sum's rounding error is a few ulps of `inp`.
        let tolerance = 4e-7 * inp as f64;
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!((g as f64 - w).abs() <= tolerance, "{what}[{i}]: {g} vs {w}");
        }
    }

    #[test]
    fn products_match_plain_sums_for_awkward_shapes() {
        // Output widths off the panel size, row counts off the tile, depths past one cache block.
        for (out, inp) in [(1, 1), (17, 3), (40, 300), (33, 513), (50, 768)] {
            let w = matrix(out, inp);
            let packed = PanelMatrix::from_row_major(&w, out, inp);
            for rows in [1, 2, 6, 7, 13, 40, 97] {
                let x: Vec<f32> = (0..rows * inp).map(|i| ((i as f32) * 0.37).sin()).collect();
                let want = naive(&w, &x, rows, out, inp);
                assert_close(&matmul(&packed, &x, rows), &want, inp, "matmul");
                if rows == 1 {
                    assert_close(&matvec(&packed, &x), &want, inp, "matvec");
                }
            }
        }
    }

    #[test]
    fn portable_kernels_agree_with_the_dispatched_ones() {
        let inp = 37;
        let w = matrix(PANEL, inp);
        let packed = PanelMatrix::from_row_major(&w, PANEL, inp);
        let x: Vec<f32> = (0..TILE_ROWS * inp)
            .map(|i| (i as f32 * 0.11).cos())
            .collect();
        let a = pack_rows(&x, TILE_ROWS, inp);
        let (mut fast, mut plain) = ([0.0f32; TILE_ROWS * PANEL], [0.0f32; TILE_ROWS * PANEL]);
        for accumulate in [false, true] {
            tile_product(inp, &a, packed.data(), &mut fast, accumulate);
            portable::tile_product(inp, &a, packed.data(), &mut plain, accumulate);
        }
        for (f, p) in fast.iter().zip(&plain) {
            assert!((f - p).abs() <= 1e-5 * (1.0 + p.abs()), "{f} vs {p}");
        }
        let (mut fast, mut plain) = ([0.0f32; PANEL], [0.0f32; PANEL]);
        panel_dot(packed.data(), &x[..inp], &mut fast);
        portable::panel_dot(packed.data(), &x[..inp], &mut plain);
        for (f, p) in fast.iter().zip(&plain) {
            assert!((f - p).abs() <= 1e-5 * (1.0 + p.abs()), "{f} vs {p}");
        }
    }
}
