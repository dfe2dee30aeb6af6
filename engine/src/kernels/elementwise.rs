//! The per-element work of a forward pass on plain `&[f32]`: layer norm, token-shift mixing, the WKV
//! recurrence. Each hot loop is written once as plain Rust and compiled several times
//! with different target features, picked at run time (AVX-512, AVX2, or baseline x86-64/other).
//! No fused multiply-adds are used, so every variant computes bit-identical results.

use crate::state::LayerState;

/// LayerNorm epsilon used by every RWKV-4 LayerNorm (engine/RWKV4.md §5.1).
pub const LN_EPS: f64 = 1e-5;

/// Instruction-set level chosen once per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdLevel {
    /// AVX-512F.
    Avx512,
    /// AVX2.
    Avx2,
    /// Whatever the compile target guarantees.
    Baseline,
}

/// The best instruction set this CPU offers.
pub fn simd_level() -> SimdLevel {
    static LEVEL: std::sync::OnceLock<SimdLevel> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return SimdLevel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Baseline
    })
}

/// Whether this CPU has AVX2 with FMA, which the hand-vectorised matrix kernels (`panel_kernels`,
/// `q8_0_products`) use; the standard library caches the answer.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Declares `pub fn $name(args) -> ret` that runs `$body` compiled for the best available level.
macro_rules! dispatch {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident : $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }
                match simd_level() {
                    // SAFETY: the feature was detected at run time.
                    SimdLevel::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the feature was detected at run time.
                    SimdLevel::Avx2 => return unsafe { avx2($($arg),*) },
                    SimdLevel::Baseline => {}
                }
            }
            generic($($arg),*)
        }
    };
}

/// e^x for f32 in plain arithmetic (Cephes `expf`: range reduction by ln 2, degree-6 polynomial),
/// so loops calling it vectorise. Relative error ≈ 1e-7; exactly 0 below e^-87.3 (no denormals).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2^23: adding it rounds to an integer n held in the low mantissa bits of `t`; subtracting it
    // again gives n as a float. Both steps are plain float adds, so the loop vectorises.
    const ROUND: f32 = 12_582_912.0;
    // max/min rather than clamp: they compile to vector min/max instructions.
    #[allow(clippy::manual_clamp)]
    let clamped = x.max(-87.3).min(88.3);
    let t = clamped * LOG2E + ROUND;
    let n = t - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let r2 = r * r;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let y = p * r2 + r + 1.0;
    // 2^n built from its exponent bits: (n + 127) << 23. The bits of `t` are 0x4B40_0000 + n, whose low
    // nine bits are n's, and n + 127 ∈ [1, 254] after the clamp.
    let scale = f32::from_bits(t.to_bits().wrapping_add(127) << 23);
    if x < -87.3 {
        0.0
    } else {
        y * scale
    }
}

/// Logistic function using [`exp`].
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// LayerNorm of each `width`-long row of `x` into `out` (biased variance, eps 1e-5), with the mean and
/// variance accumulated in f64 so the result does not depend on summation order.
pub fn layer_norm_rows(x: &[f32], weight: &[f32], bias: &[f32], out: &mut [f32]) {
    let width = weight.len();
    for (row, out_row) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / width as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / width as f64;
        let inv_std = (1.0 / (var + LN_EPS).sqrt()) as f32;
        let mean = mean as f32;
        for (((o, &v), &w), &b) in out_row.iter_mut().zip(row).zip(weight).zip(bias) {
            *o = (v - mean) * inv_std * w + b;
        }
    }
}

/// Token-shift mixing for a chunk: `out[t] = xx[t]·mix + prev[t]·(1−mix)` where `prev[0] = shifted_in`
/// (the previous chunk's last row, from the state) and `prev[t] = xx[t−1]`. `one_minus_mix` = 1 − mix,
/// computed once at load (the reference computes it in f32 too).
pub fn token_shift_mix(
    xx: &[f32],
    shifted_in: &[f32],
    mix: &[f32],
    one_minus_mix: &[f32],
    out: &mut [f32],
) {
    let width = mix.len();
    for (t, (row, out_row)) in xx
        .chunks_exact(width)
        .zip(out.chunks_exact_mut(width))
        .enumerate()
    {
        let prev = if t == 0 {
            shifted_in
        } else {
            &xx[(t - 1) * width..t * width]
        };
        mix_row(row, prev, mix, one_minus_mix, out_row);
    }
}

dispatch! {
    /// One row of [`token_shift_mix`].
    pub fn mix_row(row: &[f32], prev: &[f32], mix: &[f32], one_minus_mix: &[f32], out: &mut [f32]) {
        for ((((o, &x), &p), &m), &n) in out.iter_mut().zip(row).zip(prev).zip(mix).zip(one_minus_mix) {
            *o = x * m + p * n;
        }
    }
}

dispatch! {
    /// The WKV recurrence (engine/RWKV4.md §5.3) over a chunk of `k.len() / width` tokens, sequential in time,
    /// vectorised across channels. Writes `wkv` for every token and advances the state's `aa`, `bb`, `pp`.
    /// `decay` is −exp(time_decay), `first` is time_first ("u").
    pub fn wkv_chunk(
        k: &[f32], v: &[f32], first: &[f32], decay: &[f32], state: &mut LayerState, wkv: &mut [f32]
    ) {
        let width = first.len();
        let LayerState { aa, bb, pp, .. } = state;
        // Re-slicing everything to `width` lets the compiler drop the bounds checks and vectorise.
        let (aa, bb, pp) = (&mut aa[..width], &mut bb[..width], &mut pp[..width]);
        let decay = &decay[..width];
        for ((k_t, v_t), out_t) in k.chunks_exact(width).zip(v.chunks_exact(width)).zip(wkv.chunks_exact_mut(width)) {
            let (k_t, v_t, out_t) = (&k_t[..width], &v_t[..width], &mut out_t[..width]);
            for c in 0..width {
                let (kc, vc) = (k_t[c], v_t[c]);
                let (a, b, p_old) = (aa[c], bb[c], pp[c]);
                let ww = first[c] + kc;
                let p = if p_old > ww { p_old } else { ww };
                let e1 = exp(p_old - p);
                let e2 = exp(ww - p);
                out_t[c] = (e1 * a + e2 * vc) / (e1 * b + e2);
                let ww = decay[c] + p_old;
                let p = if ww > kc { ww } else { kc };
                let e1 = exp(ww - p);
                let e2 = exp(kc - p);
                aa[c] = e1 * a + e2 * vc;
                bb[c] = e1 * b + e2;
                pp[c] = p;
            }
        }
    }
}

dispatch! {
    /// Σ x, with 32 independent partial sums (so it vectorises, and streams memory as fast as
    /// the core can: the bandwidth probe of the benchmark).
    pub fn sum(x: &[f32]) -> f32 {
        let mut lanes = [0.0f32; 32];
        let mut blocks = x.chunks_exact(32);
        for block in &mut blocks {
            for (lane, &v) in lanes.iter_mut().zip(block) {
                *lane += v;
            }
        }
        lanes.iter().sum::<f32>() + blocks.remainder().iter().sum::<f32>()
    }
}

dispatch! {
    /// `out[i] = sigmoid(x[i])`, in place.
    pub fn sigmoid_in_place(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = sigmoid(*v);
        }
    }
}

dispatch! {
    /// `out[i] = max(x[i], 0)²`, in place (RWKV-4's squared-ReLU channel mix).
    pub fn relu_squared_in_place(x: &mut [f32]) {
        for v in x.iter_mut() {
            let r = if *v > 0.0 { *v } else { 0.0 };
            *v = r * r;
        }
    }
}

dispatch! {
    /// `x[i] += a[i] * b[i]`.
    pub fn add_product(x: &mut [f32], a: &[f32], b: &[f32]) {
        for ((o, &p), &q) in x.iter_mut().zip(a).zip(b) {
            *o += p * q;
        }
    }
}

dispatch! {
    /// `x[i] += y[i]`.
    pub fn add_in_place(x: &mut [f32], y: &[f32]) {
        for (o, &v) in x.iter_mut().zip(y) {
            *o += v;
        }
    }
}

dispatch! {
    /// `x[i] *= y[i]`.
    pub fn mul_in_place(x: &mut [f32], y: &[f32]) {
        for (o, &v) in x.iter_mut().zip(y) {
            *o *= v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_and_flushes_underflow() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let got = exp(x) as f64;
            let want = (x as f64).exp();
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(-1e30), 0.0);
        assert_eq!(exp(-100.0), 0.0);
        assert!(exp(0.0) == 1.0);
    }

    #[test]
    fn sum_adds_every_value() {
        let x: Vec<f32> = (0..1000).map(|i| (i % 7) as f32).collect();
        assert_eq!(sum(&x), x.iter().map(|&v| v as f64).sum::<f64>() as f32);
        assert_eq!(sum(&x[..5]), 10.0);
    }

    #[test]
    fn wkv_of_first_token_is_its_value() {
        // With an empty state (pp = -1e30) the first output is exactly v: (0·aa + e2·v)/(0·bb + e2).
        let (k, v) = (vec![0.3f32, -2.0], vec![1.5f32, -0.25]);
        let (first, decay) = (vec![0.1f32, 0.2], vec![-0.5f32, -1.0]);
        let mut state = LayerState {
            att_x: vec![0.0; 2],
            aa: vec![0.0; 2],
            bb: vec![0.0; 2],
            pp: vec![-1e30; 2],
            ffn_x: vec![0.0; 2],
        };
        let mut out = vec![0.0; 2];
        wkv_chunk(&k, &v, &first, &decay, &mut state, &mut out);
        assert_eq!(out, v);
        assert_eq!(state.bb, vec![1.0, 1.0]);
        assert_eq!(state.pp, k);
    }

    #[test]
    fn layer_norm_normalises() {
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut out = [0.0f32; 4];
        layer_norm_rows(&x, &[1.0; 4], &[0.0; 4], &mut out);
        let mean: f32 = out.iter().sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6);
        assert!((out[3] - 1.341_636).abs() < 1e-5);
    }
}
