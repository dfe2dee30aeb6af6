//! Integer kernels of the Q8_0 chunk product: a tile of activation rows (8-bit, `q8_activations`)
//! times one panel of 16 weight rows (8-bit, `q8_panels`), for a run of 32-value blocks.
//!
//! For each row `r`, output `o` and block `b` the kernel forms the exact integer
//! `S = Σ q_x · q_w` over the block's 32 values, then adds `(d_w · d_x) · S` to the f32 output with
//! one fused multiply-add. Every path computes the same integers and the same rounded f32
//! operations in the same order, so all paths give bit-identical results (the tests check it).
//!
//! * AVX-512 VNNI: `vpdpbusd` multiplies 4 unsigned activation bytes (`q + 128`) by 4 signed
//!   weight bytes and adds them to a 32-bit lane, 64 multiply-adds per instruction; the integer sum
//!   of a block starts at `−128 · Σ q_w` (the panel's offsets), which takes the `+128` back out.
//!   A tile is 8 rows × 16 outputs: 8 integer and 8 f32 accumulators in registers.
//! * AVX2: `vpmaddubsw` (unsigned × signed bytes, pairs summed to 16 bits) with the sign moved from
//!   the weight onto the activation (`|w| · sign(w)·x`: no 16-bit sum can saturate, |w| ≤ 128 and
//!   |x| ≤ 127), then `vpmaddwd` by ones to 32 bits: 32 multiply-adds per three instructions. A
//!   tile is 4 rows × 8 outputs at a time (16 registers), both halves of the panel in turn.
//! * portable: the same sums in plain Rust, for other CPUs and as the tests' reference.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::kernels::q8_activations::{ActivationTiles, ByteCoding};
use crate::kernels::q8_panels::{WeightPanel, PANEL_OUTPUTS};

/// Which kernel computes the chunk product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Q8Path {
    /// Plain Rust.
    Portable,
    /// AVX2 (`vpmaddubsw` + `vpmaddwd`), with FMA and F16C.
    Avx2,
    /// AVX-512F/BW with VNNI (`vpdpbusd`).
    Avx512Vnni,
}

impl Q8Path {
    /// Every path, slowest first.
    pub const ALL: [Q8Path; 3] = [Q8Path::Portable, Q8Path::Avx2, Q8Path::Avx512Vnni];

    /// Short name, as `bench` prints it and `--q8-path` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Q8Path::Portable => "portable",
            Q8Path::Avx2 => "avx2",
            Q8Path::Avx512Vnni => "avx512-vnni",
        }
    }

    /// The path called `name` ([`Q8Path::name`]).
    pub fn from_name(name: &str) -> Option<Q8Path> {
        Q8Path::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether this CPU can run the path.
    pub fn is_available(self) -> bool {
        match self {
            Q8Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Q8Path::Avx2 => {
                crate::kernels::has_avx2_fma() && std::arch::is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "x86_64")]
            Q8Path::Avx512Vnni => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Activation rows per tile.
    pub(crate) fn tile_rows(self) -> usize {
        match self {
            Q8Path::Avx512Vnni => 8,
            Q8Path::Avx2 | Q8Path::Portable => 4,
        }
    }

    /// How the path wants the activation bytes.
    pub(crate) fn coding(self) -> ByteCoding {
        match self {
            Q8Path::Avx512Vnni => ByteCoding::Offset128,
            Q8Path::Avx2 | Q8Path::Portable => ByteCoding::Signed,
        }
    }
}

/// The highest path allowed, as its index in [`Q8Path::ALL`] (set by [`limit_q8_path`]).
static CEILING: AtomicU8 = AtomicU8::new(2);

/// Caps the path the chunk product uses (e.g. AVX2 on an AVX-512 machine, to measure what a CPU
/// without AVX-512 would do). Results do not change: every path computes the same numbers.
pub fn limit_q8_path(ceiling: Q8Path) {
    let index = Q8Path::ALL.iter().position(|&p| p == ceiling).unwrap_or(0);
    CEILING.store(index as u8, Ordering::Relaxed);
}

/// The path the chunk product uses: the best this CPU has, under the ceiling.
pub fn q8_path() -> Q8Path {
    let ceiling = CEILING.load(Ordering::Relaxed) as usize;
    Q8Path::ALL[..=ceiling.min(Q8Path::ALL.len() - 1)]
        .iter()
        .rev()
        .copied()
        .find(|p| p.is_available())
        .unwrap_or(Q8Path::Portable)
}

/// `out` (`tile_rows × 16`, row-major) set to — or, with `accumulate`, increased by — the product
/// of activation tile `tile` and `panel` over the blocks `depth`. `acts` must be laid out for
/// `path` ([`Q8Path::tile_rows`], [`Q8Path::coding`]).
pub(crate) fn tile_product(
    path: Q8Path,
    panel: &WeightPanel,
    acts: &ActivationTiles,
    tile: usize,
    depth: std::ops::Range<usize>,
    out: &mut [f32],
    accumulate: bool,
) {
    let (first_block, blocks) = (depth.start, depth.len());
    let rows = path.tile_rows();
    assert!(
        acts.tile_rows() == rows
            && acts.coding() == path.coding()
            && first_block + blocks <= panel.blocks()
            && acts.tile_bytes(tile, first_block).len() >= blocks * 32 * rows
            && out.len() >= rows * PANEL_OUTPUTS,
        "operands laid out for another kernel"
    );
    let (w, dw, offsets) = (
        panel.bytes_from(first_block),
        panel.scales_from(first_block),
        panel.offsets_from(first_block),
    );
    let (x, dx) = (
        acts.tile_bytes(tile, first_block),
        acts.tile_scales(tile, first_block),
    );
    match path {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the sizes were checked above; the CPU features are checked here.
        Q8Path::Avx512Vnni if path.is_available() => unsafe {
            avx512::tile(w, dw, offsets, x, dx, blocks, out, accumulate)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the sizes were checked above; the CPU features are checked here.
        Q8Path::Avx2 if path.is_available() => unsafe {
            avx2::tile(w, dw, x, dx, blocks, out, accumulate)
        },
        Q8Path::Portable => portable_tile(w, dw, x, dx, blocks, out, accumulate),
        _ => panic!("the {} kernel cannot run on this CPU", path.name()),
    }
}

/// The portable kernel: 4 rows of signed activations.
fn portable_tile(
    w: &[u8],
    dw: &[f32],
    x: &[u8],
    dx: &[f32],
    blocks: usize,
    out: &mut [f32],
    accumulate: bool,
) {
    const ROWS: usize = 4;
    let mut acc = [[0.0f32; PANEL_OUTPUTS]; ROWS];
    if accumulate {
        for (r, row) in acc.iter_mut().enumerate() {
            row.copy_from_slice(&out[r * PANEL_OUTPUTS..(r + 1) * PANEL_OUTPUTS]);
        }
    }
    for b in 0..blocks {
        let wb = &w[b * PANEL_OUTPUTS * 32..(b + 1) * PANEL_OUTPUTS * 32];
        let xb = &x[b * ROWS * 32..(b + 1) * ROWS * 32];
        for (r, row) in acc.iter_mut().enumerate() {
            for (o, value) in row.iter_mut().enumerate() {
                let mut sum = 0i32;
                for g in 0..8 {
                    let xs = &xb[(g * ROWS + r) * 4..][..4];
                    let ws = &wb[(g * PANEL_OUTPUTS + o) * 4..][..4];
                    for (&a, &c) in xs.iter().zip(ws) {
                        sum += a as i8 as i32 * c as i8 as i32;
                    }
                }
                let scale = dw[b * PANEL_OUTPUTS + o] * dx[b * ROWS + r];
                *value = (sum as f32).mul_add(scale, *value);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        out[r * PANEL_OUTPUTS..(r + 1) * PANEL_OUTPUTS].copy_from_slice(row);
    }
}

/// Integer multiply-adds per second this thread can issue on `path`, in GOP/s (two operations per
/// multiply-add, as for f32): independent accumulators, nothing loaded from memory. The ceiling of
/// the chunk product, as `panel_products::fma_peak_gflops` is for f32.
pub fn int8_peak_gops(path: Q8Path, steps: usize) -> f64 {
    let start = std::time::Instant::now();
    let multiply_adds = match path {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU features are checked here.
        Q8Path::Avx512Vnni if path.is_available() => unsafe { avx512::peak_loop(steps) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU features are checked here.
        Q8Path::Avx2 if path.is_available() => unsafe { avx2::peak_loop(steps) },
        _ => portable_peak_loop(steps),
    };
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    2.0 * multiply_adds as f64 / seconds / 1e9
}

fn portable_peak_loop(steps: usize) -> u64 {
    let mut acc = [0i32; 64];
    let (a, b) = (std::hint::black_box(3i8), std::hint::black_box(-5i8));
    for _ in 0..steps {
        for v in acc.iter_mut() {
            *v = v.wrapping_add(a as i32 * b as i32);
        }
    }
    std::hint::black_box(acc);
    steps as u64 * 64
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::PANEL_OUTPUTS;

    const ROWS: usize = 8;

    /// 8 rows × 16 outputs; `x` holds `q + 128`.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn tile(
        w: &[u8],
        dw: &[f32],
        offsets: &[i32],
        x: &[u8],
        dx: &[f32],
        blocks: usize,
        out: &mut [f32],
        accumulate: bool,
    ) {
        let (w, dw, offsets, x, dx) = (
            w.as_ptr(),
            dw.as_ptr(),
            offsets.as_ptr(),
            x.as_ptr(),
            dx.as_ptr(),
        );
        let out = out.as_mut_ptr();
        let mut acc = [_mm512_setzero_ps(); ROWS];
        if accumulate {
            for (r, a) in acc.iter_mut().enumerate() {
                *a = _mm512_loadu_ps(out.add(r * PANEL_OUTPUTS));
            }
        }
        for b in 0..blocks {
            let wb = w.add(b * PANEL_OUTPUTS * 32);
            let xb = x.add(b * ROWS * 32);
            let start = _mm512_loadu_si512(offsets.add(b * PANEL_OUTPUTS) as *const __m512i);
            let mut sums = [start; ROWS];
            for g in 0..8 {
                let wv = _mm512_loadu_si512(wb.add(g * 64) as *const __m512i);
                for (r, s) in sums.iter_mut().enumerate() {
                    let xv = (xb.add((g * ROWS + r) * 4) as *const i32).read_unaligned();
                    *s = _mm512_dpbusd_epi32(*s, _mm512_set1_epi32(xv), wv);
                }
            }
            let d = _mm512_loadu_ps(dw.add(b * PANEL_OUTPUTS));
            for (r, (a, s)) in acc.iter_mut().zip(&sums).enumerate() {
                let scale = _mm512_mul_ps(d, _mm512_set1_ps(*dx.add(b * ROWS + r)));
                *a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(*s), scale, *a);
            }
        }
        for (r, a) in acc.iter().enumerate() {
            _mm512_storeu_ps(out.add(r * PANEL_OUTPUTS), *a);
        }
    }

    /// `steps` rounds of `vpdpbusd` on each of 16 registers; returns the multiply-adds done.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn peak_loop(steps: usize) -> u64 {
        let a = _mm512_set1_epi8(std::hint::black_box(3));
        let b = _mm512_set1_epi8(std::hint::black_box(-5));
        let mut acc = [_mm512_setzero_si512(); 16];
        for _ in 0..steps {
            for s in acc.iter_mut() {
                *s = _mm512_dpbusd_epi32(*s, a, b);
            }
        }
        let total = acc
            .iter()
            .fold(_mm512_setzero_si512(), |t, &s| _mm512_add_epi32(t, s));
        std::hint::black_box(_mm512_reduce_add_epi32(total));
        steps as u64 * 16 * 64
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::PANEL_OUTPUTS;

    const ROWS: usize = 4;
    /// Outputs per register (half a panel).
    const LANES: usize = 8;

    /// 4 rows × 16 outputs, as two halves of 8; `x` holds signed `q`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile(
        w: &[u8],
        dw: &[f32],
        x: &[u8],
        dx: &[f32],
        blocks: usize,
        out: &mut [f32],
        accumulate: bool,
    ) {
        let (w, dw, x, dx) = (w.as_ptr(), dw.as_ptr(), x.as_ptr(), dx.as_ptr());
        let out = out.as_mut_ptr();
        let ones = _mm256_set1_epi16(1);
        for half in 0..2 {
            let column = half * LANES;
            let mut acc = [_mm256_setzero_ps(); ROWS];
            if accumulate {
                for (r, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_loadu_ps(out.add(r * PANEL_OUTPUTS + column));
                }
            }
            for b in 0..blocks {
                let wb = w.add(b * PANEL_OUTPUTS * 32 + column * 4);
                let xb = x.add(b * ROWS * 32);
                let mut sums = [_mm256_setzero_si256(); ROWS];
                for g in 0..8 {
                    let wv = _mm256_loadu_si256(wb.add(g * 64) as *const __m256i);
                    let magnitude = _mm256_sign_epi8(wv, wv);
                    for (r, s) in sums.iter_mut().enumerate() {
                        let xv = (xb.add((g * ROWS + r) * 4) as *const i32).read_unaligned();
                        let signed = _mm256_sign_epi8(_mm256_set1_epi32(xv), wv);
                        let pairs = _mm256_maddubs_epi16(magnitude, signed);
                        *s = _mm256_add_epi32(*s, _mm256_madd_epi16(pairs, ones));
                    }
                }
                let d = _mm256_loadu_ps(dw.add(b * PANEL_OUTPUTS + column));
                for (r, (a, s)) in acc.iter_mut().zip(&sums).enumerate() {
                    let scale = _mm256_mul_ps(d, _mm256_set1_ps(*dx.add(b * ROWS + r)));
                    *a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(*s), scale, *a);
                }
            }
            for (r, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(out.add(r * PANEL_OUTPUTS + column), *a);
            }
        }
    }

    /// `steps` rounds of `vpmaddubsw` + `vpmaddwd` + add on each of 8 registers; returns the
    /// multiply-adds done.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn peak_loop(steps: usize) -> u64 {
        let a = _mm256_set1_epi8(std::hint::black_box(3));
        let source = [[-5i8; 32]; 8];
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_si256(); 8];
        for _ in 0..steps {
            // Operands loaded every round (load ports, not the multipliers'), one per register,
            // so no product can be computed once and reused.
            let source = std::hint::black_box(&source);
            for (s, b) in acc.iter_mut().zip(source) {
                let b = _mm256_loadu_si256(b.as_ptr() as *const __m256i);
                let pairs = _mm256_maddubs_epi16(a, b);
                *s = _mm256_add_epi32(*s, _mm256_madd_epi16(pairs, ones));
            }
        }
        let total = acc
            .iter()
            .fold(_mm256_setzero_si256(), |t, &s| _mm256_add_epi32(t, s));
        let mut lanes = [0i32; 8];
        _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, total);
        std::hint::black_box(lanes);
        steps as u64 * 8 * 32
    }
}
