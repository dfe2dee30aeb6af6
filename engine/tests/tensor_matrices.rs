//! The forms a `TensorModel` can hold its matrices in on a device (`DeviceMatrices`): Q8_0 against
//! the CPU engine's own Q8_0, f16 against f32, over 2,000 tokens of the bundled demo model (trained:
//! peaked logits, as a real model's) and of the tiny fixture (random-init: flat logits, so the top
//! token flips at the slightest change); the device memory they take; and cancellation between
//! layers.
//!
//! They run on the CPU device, or on the device `RWKV_TEST_DEVICE` names (`scripts/gpu_check.sh`
//! sets `cuda`): the tolerances were measured on the CPU device, and hold there with a margin that
//! leaves room for a GPU's different summation order (and, for Q8_0, CUDA's Q8_1 activations).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use std::path::Path;

use common::{argmax, fixture, rel_to_max, test_device};
use engine::{DeviceMatrices, EngineError, Model, ModelShape, TensorModel, WeightPrecision};

/// The demo model (4 × 256, vocabulary 4096) and the first 2,000 tokens of the sample novella.
fn demo() -> (Model, Vec<u32>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let weights = root.join("models/demo/rwkv4-demo.safetensors");
    let model = Model::load(&weights).expect("demo model loads");
    let text = std::fs::read_to_string(root.join("sample-docs/the-keeper-of-tallow-point.txt"))
        .expect("sample text");
    let mut tokens = engine::Tokenizer::for_model(&weights)
        .and_then(|t| t.encode(&text))
        .expect("tokenizes");
    assert!(tokens.len() >= 2000, "{} tokens", tokens.len());
    tokens.truncate(2000);
    (model, tokens)
}

/// The tiny fixture (3 × 64, vocabulary 512) and 2,000 seeded tokens uniform over its vocabulary.
fn tiny() -> (Model, Vec<u32>) {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("fixture loads");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let tokens = (0..2000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 512) as u32
        })
        .collect();
    (model, tokens)
}

/// The largest logit minus the second largest.
fn top_two_gap(row: &[f32]) -> f32 {
    let (mut first, mut second) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &v in row {
        if v > first {
            second = first;
            first = v;
        } else if v > second {
            second = v;
        }
    }
    first - second
}

/// How far two runs' logits (`[tokens × vocab]`) are apart.
struct Agreement {
    /// Positions with the same top token.
    top1: f64,
    /// The same among positions where the reference's top two logits are at least 1 % of its
    /// largest logit apart: where the top token is decided, not a near-tie any rounding flips.
    decided_top1: f64,
    /// How many positions were decided.
    decided: usize,
    /// Mean over positions of max|Δlogit| / max|logit|.
    mean_rel: f32,
    /// The worst position's max|Δlogit| / max|logit|.
    max_rel: f32,
}

fn agreement(got: &[f32], want: &[f32], vocab: usize) -> Agreement {
    assert_eq!(got.len(), want.len());
    let (mut agree, mut sum_rel, mut max_rel) = (0usize, 0f32, 0f32);
    let (mut decided, mut decided_agree) = (0usize, 0usize);
    for (g, w) in got.chunks(vocab).zip(want.chunks(vocab)) {
        let same = argmax(g) == argmax(w);
        agree += usize::from(same);
        if top_two_gap(w) >= 0.01 * w.iter().fold(0.0f32, |m, v| m.max(v.abs())) {
            decided += 1;
            decided_agree += usize::from(same);
        }
        let rel = rel_to_max(g, w);
        sum_rel += rel;
        max_rel = max_rel.max(rel);
    }
    let positions = want.len() / vocab;
    Agreement {
        top1: agree as f64 / positions as f64,
        decided_top1: decided_agree as f64 / decided.max(1) as f64,
        decided,
        mean_rel: sum_rel / positions as f32,
        max_rel,
    }
}

/// The tensor model's logits after every token against the CPU engine's on the same tokens.
fn tensor_vs_engine(tensor: &TensorModel, engine: &Model, tokens: &[u32], what: &str) -> Agreement {
    let got = tensor
        .forward_all(tokens, &mut tensor.new_state())
        .expect("tensor forward");
    let want = engine
        .forward_all(tokens, &mut engine.new_state())
        .expect("engine forward");
    let a = agreement(&got, &want, engine.shape().n_vocab);
    eprintln!(
        "{what} on {:?}, {} tokens: top-1 agreement {:.4} ({:.4} at the {} decided positions), relative logit error mean {:.2e} max {:.2e}",
        tensor.device().location(),
        tokens.len(),
        a.top1,
        a.decided_top1,
        a.decided,
        a.mean_rel,
        a.max_rel
    );
    a
}

/// Q8_0 on the device (candle's quantized kernels over the model's own blocks) against the CPU
/// engine's Q8_0 (its integer kernels over the same blocks). Both quantize the activations per
/// block of 32, but candle rounds each block's scale to f16 (CUDA: Q8_1 blocks) where the engine
/// keeps it f32, so values near a rounding boundary land on different integers: the two differ by
/// about as much as either differs from f32 (`tests/quantized.rs`).
///
/// Measured on the CPU device: demo 99.60 % top-1 (100 % at the decided positions), relative logit
/// error 7.4e-3 mean, 2.0e-2 max; tiny 98.45 % (100 % decided), 9.2e-3 mean, 1.6e-2 max. The tiny
/// model is random-init with nearly flat logits, where the engine's own Q8_0 agrees with its f32 at
/// only 98.25 %: there the 99 % criterion is checked at the decided positions, and the raw rate
/// against 98 %.
#[test]
fn q8_0_on_the_device_agrees_with_the_cpu_engines_q8_0_over_2000_tokens() {
    let device = test_device();
    for (name, (model, tokens), min_top1) in [("demo", demo(), 0.99), ("tiny", tiny(), 0.98)] {
        let q8 = model
            .to_precision(WeightPrecision::Q8_0)
            .expect("quantizes");
        let tensor = TensorModel::new(&q8, &device).expect("weights on the device");
        assert_eq!(tensor.matrices(), DeviceMatrices::Q8_0);
        let a = tensor_vs_engine(
            &tensor,
            &q8,
            &tokens,
            &format!("q8_0 vs engine q8_0, {name}"),
        );
        assert!(a.top1 >= min_top1, "{name}: top-1 agreement {}", a.top1);
        assert!(
            a.decided_top1 >= 0.99 && a.decided >= 1000,
            "{name}: top-1 agreement {} at {} decided positions",
            a.decided_top1,
            a.decided
        );
        assert!(
            a.mean_rel <= 1.5e-2 && a.max_rel <= 4e-2,
            "{name}: relative error {} / {}",
            a.mean_rel,
            a.max_rel
        );
    }
}

/// f16 matrices (operands rounded to f16 around each product, scaled per row) against the CPU
/// engine's f32. Measured on the CPU device: demo 100 % top-1, relative logit error 4.0e-4 mean,
/// 8.8e-4 max; tiny 99.90 % (100 % decided), 5.3e-4 mean, 9.4e-4 max. The bound is 4e-3 of the largest logit —
/// twice the f16-weights CPU engine's own bound against f32 (`tests/quantized.rs`), since here the
/// activations are rounded too — and 99 % top-1.
#[test]
fn f16_on_the_device_stays_within_4e_3_of_f32_over_2000_tokens() {
    let device = test_device();
    for (name, (model, tokens)) in [("demo", demo()), ("tiny", tiny())] {
        let tensor = TensorModel::with_matrices(&model, &device, DeviceMatrices::F16)
            .expect("weights on the device");
        let a = tensor_vs_engine(
            &tensor,
            &model,
            &tokens,
            &format!("f16 vs engine f32, {name}"),
        );
        assert!(a.top1 >= 0.99, "{name}: top-1 agreement {}", a.top1);
        assert!(a.max_rel <= 4e-3, "{name}: relative error {}", a.max_rel);
    }
}

/// Bytes a model of `shape` takes on the device in `matrices`: the block matrices (4C² in time
/// mixing, 2·C·F + C² in channel mixing) and the head, plus the f32 vectors (16 C per block:
/// two norms, five mixes and their complements, decay and first; 2 C for the final norm).
fn expected_device_bytes(shape: &ModelShape, matrices: DeviceMatrices) -> u64 {
    let (l, c, f, v) = (
        shape.n_layer as u64,
        shape.n_embd as u64,
        shape.n_ffn as u64,
        shape.n_vocab as u64,
    );
    let weights = l * (5 * c * c + 2 * c * f) + v * c;
    let matrix_bytes = match matrices {
        DeviceMatrices::F32 => weights * 4,
        DeviceMatrices::F16 => weights * 2,
        DeviceMatrices::Q8_0 => weights / 32 * 34,
    };
    matrix_bytes + (16 * l * c + 2 * c) * 4
}

#[test]
fn device_weight_bytes_for_14b_q8_0_fit_16_gb() {
    let (model, _) = tiny();
    for matrices in [
        DeviceMatrices::F32,
        DeviceMatrices::F16,
        DeviceMatrices::Q8_0,
    ] {
        let tensor = TensorModel::with_matrices(&model, &test_device(), matrices)
            .expect("weights on the device");
        assert_eq!(
            tensor.device_weight_bytes() as u64,
            expected_device_bytes(model.shape(), matrices),
            "{matrices}"
        );
    }
    let shape = engine::tools::random_init::named_shape("14b").expect("known shape");
    let q8 = expected_device_bytes(&shape, DeviceMatrices::Q8_0);
    let f16 = expected_device_bytes(&shape, DeviceMatrices::F16);
    eprintln!(
        "14b ({}x{}, vocabulary {}): {:.2} GB of weights on the device in q8_0, {:.2} GB in f16",
        shape.n_layer,
        shape.n_embd,
        shape.n_vocab,
        q8 as f64 / 1e9,
        f16 as f64 / 1e9
    );
    assert!(q8 <= 16_000_000_000, "{q8} bytes");
}

#[test]
fn read_with_asks_before_every_layer_of_every_pass_and_stops_when_told() {
    let (model, tokens) = tiny();
    let tokens = &tokens[..600];
    for matrices in [DeviceMatrices::F32, DeviceMatrices::Q8_0] {
        let tensor = TensorModel::with_matrices(&model, &test_device(), matrices)
            .expect("weights on the device")
            .with_rows_per_pass(256);
        let layers = model.shape().n_layer;

        // Never stopped: asked before each of 3 layers in each of 3 passes, and the same state as read.
        let mut asked = 0;
        let mut state = tensor.new_state();
        tensor
            .read_with(tokens, &mut state, &mut || {
                asked += 1;
                true
            })
            .expect("read");
        assert_eq!(asked, 3 * layers);
        let mut plain = tensor.new_state();
        tensor.read(tokens, &mut plain).expect("read");
        assert_eq!(state, plain);

        // Stopped in the second pass: Cancelled, the state untouched, nothing asked after.
        let mut asked = 0;
        let before = state.clone();
        let result = tensor.read_with(tokens, &mut state, &mut || {
            asked += 1;
            asked < layers + 2
        });
        assert!(
            matches!(result, Err(EngineError::Cancelled)),
            "{matrices}: {result:?}"
        );
        assert_eq!(asked, layers + 2);
        assert_eq!(state, before);
    }
}

#[test]
fn the_device_bench_names_the_form_of_the_matrices_and_their_bytes() {
    let (model, _) = tiny();
    let on_device =
        engine::DeviceModel::with_matrices(&model, &test_device(), DeviceMatrices::Q8_0)
            .expect("weights on the device");
    let tensor = on_device.tensor_model();
    let config = engine::tools::bench::BenchConfig {
        read_tokens: 64,
        chunk_tokens: 32,
        gen_tokens: 4,
        seed: 1,
    };
    let report =
        engine::tools::bench::run_bench_on_device(&model, &on_device, &config).expect("bench");
    assert!(
        report.precision.starts_with("q8_0 on ") && report.precision.ends_with(" (candle ops)"),
        "{}",
        report.precision
    );
    assert_eq!(
        report.device_weight_bytes,
        Some(tensor.device_weight_bytes() as u64)
    );
    assert!(report.read_tokens_per_s > 0.0 && report.gen_tokens_per_s > 0.0);
}
