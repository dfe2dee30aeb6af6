//! The device-generic forward (`TensorModel`, f32 matrices) against the reference fixtures and
//! against `Model`'s own CPU forward, on the CPU device in every build, and on a GPU with
//! `--features cuda`: the device `RWKV_TEST_DEVICE` names (`cuda`, `cuda:N`; it must then open),
//! else GPU 0 when there is one (skipped, with a message, when there is none). Same tolerances as
//! `tests/reference.rs`. The f16 and Q8_0 forms are in `tests/tensor_matrices.rs`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use candle_core::Device;
use common::{
    chunking_tokens, compare_state, fixture, forward_in_uneven_splits, load_reference,
    max_abs_diff, state_rel_diff, Reference,
};
use engine::{DeviceMatrices, Model, State, TensorModel, WeightPrecision};

/// Feeds the reference's tokens in the reference's chunks; checks the logits after every chunk
/// (max abs ≤ 1e-5) and every vector of the final state (≤ 1e-4 of its max).
fn check_against_reference(model: &TensorModel, reference: &Reference) {
    let mut state = model.new_state();
    let mut start = 0;
    for (k, &end) in reference.chunks.iter().enumerate() {
        let logits = model
            .forward(&reference.tokens[start..end], &mut state)
            .expect("forward");
        let abs = max_abs_diff(&logits, &reference.logits_pos[k]);
        eprintln!(
            "{:?} chunk ending at {end}: logits max abs diff {abs:e}",
            model.device().location()
        );
        assert!(abs <= 1e-5, "chunk ending at {end}: max abs {abs}");
        start = end;
    }
    assert_eq!(state.tokens_consumed, reference.tokens.len() as u64);
    compare_state(&state, reference, 1e-4);
}

/// Whole input vs `Model`, then uneven splits (crossing the 256-row passes, single tokens) vs the
/// whole input, and a state made by `Model` resumed by the tensor model.
fn check_against_model_and_chunking(model: &Model, tensor: &TensorModel) {
    let tokens = chunking_tokens();

    let mut cpu_state = model.new_state();
    let cpu_logits = model.forward(&tokens, &mut cpu_state).expect("forward");
    let mut whole = tensor.new_state();
    let whole_logits = tensor.forward(&tokens, &mut whole).expect("forward");
    let diff = max_abs_diff(&whole_logits, &cpu_logits);
    assert!(diff <= 1e-5, "tensor vs Model: logits differ by {diff}");
    let rel = state_rel_diff(&whole, &cpu_state);
    eprintln!("tensor vs Model: logits max abs diff {diff:e}, state {rel:e} of max");
    assert!(rel <= 1e-4, "tensor vs Model: state differs by {rel}");
    assert_eq!(whole.tokens_consumed, cpu_state.tokens_consumed);

    let mut split = tensor.new_state();
    let split_logits = forward_in_uneven_splits(&tokens, |part| {
        tensor.forward(part, &mut split).expect("forward")
    });
    let diff = max_abs_diff(&split_logits, &whole_logits);
    assert!(diff <= 1e-5, "uneven splits: logits differ by {diff}");
    let rel = state_rel_diff(&split, &whole);
    assert!(rel <= 1e-5, "uneven splits: state differs by {rel}");
    assert_eq!(split.tokens_consumed, tokens.len() as u64);

    // States are interchangeable: read half with Model, the rest with the tensor model.
    let (first, second) = tokens.split_at(333);
    let mut mixed = model.new_state();
    model.read(first, &mut mixed).expect("read");
    let mixed_logits = tensor.forward(second, &mut mixed).expect("forward");
    let diff = max_abs_diff(&mixed_logits, &cpu_logits);
    assert!(diff <= 1e-5, "Model then tensor: logits differ by {diff}");
    assert!(state_rel_diff(&mixed, &cpu_state) <= 1e-4);

    // forward_all's last row is forward's logits; read leaves the same state as forward.
    let mut all_state = tensor.new_state();
    let all = tensor
        .forward_all(&tokens[..40], &mut all_state)
        .expect("forward_all");
    let mut last_state = tensor.new_state();
    let last = tensor
        .forward(&tokens[..40], &mut last_state)
        .expect("forward");
    let vocab = last.len();
    assert_eq!(all.len(), 40 * vocab);
    // One head row or forty: the matrix product may block differently, so rounding may differ.
    let diff = max_abs_diff(&all[39 * vocab..], &last);
    assert!(diff <= 1e-5, "forward_all's last row differs by {diff}");
    let mut read_state = tensor.new_state();
    tensor.read(&tokens[..40], &mut read_state).expect("read");
    assert_eq!(read_state, last_state);
}

fn check_errors_leave_the_state_alone(tensor: &TensorModel) {
    let mut state = tensor.new_state();
    tensor.forward(&[1, 2, 3], &mut state).expect("forward");
    let before: State = state.clone();
    assert!(tensor.forward(&[], &mut state).is_err());
    assert!(
        tensor.forward(&[4, 512], &mut state).is_err(),
        "token id past the vocabulary"
    );
    assert_eq!(state, before);
    tensor.read(&[], &mut state).expect("empty read");
    assert_eq!(state, before);
    let other = Model::load(&fixture("bad/ok-1layer.safetensors")).expect("loads");
    let mut wrong = other.new_state();
    assert!(
        tensor.forward(&[1], &mut wrong).is_err(),
        "state of another shape"
    );
}

fn run_all(device: &Device) {
    let reference = load_reference("tiny-fp32.ref.safetensors");
    for file in [
        "tiny-fp32.pth",
        "tiny-fp32.safetensors",
        "tiny-hf.safetensors",
    ] {
        let model = Model::load(&fixture(file)).expect("loads");
        let tensor = TensorModel::new(&model, device).expect("weights on the device");
        check_against_reference(&tensor, &reference);
    }
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let tensor = TensorModel::new(&model, device).expect("weights on the device");
    check_against_model_and_chunking(&model, &tensor);
    check_errors_leave_the_state_alone(&tensor);
    // Smaller passes change nothing beyond rounding.
    let narrow = tensor.clone().with_rows_per_pass(7);
    let (mut a, mut b) = (tensor.new_state(), narrow.new_state());
    let tokens = &chunking_tokens()[..50];
    let wide_logits = tensor.forward(tokens, &mut a).expect("forward");
    let narrow_logits = narrow.forward(tokens, &mut b).expect("forward");
    assert!(max_abs_diff(&wide_logits, &narrow_logits) <= 1e-5);
    assert!(state_rel_diff(&a, &b) <= 1e-5);
}

#[test]
fn cpu_tensor_forward_matches_reference_model_and_chunking() {
    run_all(&Device::Cpu);
}

#[test]
fn models_go_on_the_device_in_their_own_precision_unless_told_otherwise() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    for (precision, matrices) in [
        (WeightPrecision::F32, DeviceMatrices::F32),
        (WeightPrecision::F16, DeviceMatrices::F16),
        (WeightPrecision::Q8_0, DeviceMatrices::Q8_0),
    ] {
        let converted = model.to_precision(precision).expect("converts");
        let tensor = TensorModel::new(&converted, &Device::Cpu).expect("weights on the device");
        assert_eq!(tensor.matrices(), matrices);
        assert_eq!(matrices.to_string(), precision.to_string());
        // Any form from any precision.
        let f32 = TensorModel::with_matrices(&converted, &Device::Cpu, DeviceMatrices::F32)
            .expect("weights on the device");
        assert_eq!(f32.matrices(), DeviceMatrices::F32);
    }
}

/// Says why a GPU test does nothing (the error's first line: candle appends a backtrace).
#[cfg(feature = "cuda")]
fn skip(e: &candle_core::Error) {
    let reason = e.to_string();
    let first_line = reason.lines().next().unwrap_or_default();
    eprintln!("skipping: no CUDA device ({first_line})");
}

/// The GPU the CUDA tests use: `RWKV_TEST_DEVICE` when set (it must open), else GPU 0 if there is
/// one; `None` (after saying why) when there is none.
#[cfg(feature = "cuda")]
fn cuda_device() -> Option<Device> {
    if std::env::var("RWKV_TEST_DEVICE").is_ok_and(|name| !name.trim().is_empty()) {
        return Some(common::test_device());
    }
    match Device::new_cuda(0) {
        Ok(device) => Some(device),
        Err(e) => {
            skip(&e);
            None
        }
    }
}

/// The same checks on a GPU. Needs `--features cuda`; prints why and passes when no GPU is present
/// and none was asked for.
#[cfg(feature = "cuda")]
#[test]
fn cuda_tensor_forward_matches_reference_model_and_chunking() {
    if let Some(device) = cuda_device() {
        run_all(&device);
    }
}

/// The WKV kernel against the CPU scan on inputs with large exponents (where the max-trick matters),
/// over a state carried between calls.
#[cfg(feature = "cuda")]
#[test]
fn cuda_wkv_kernel_matches_the_cpu_scan() {
    use candle_core::Tensor;
    use engine::tools::{wkv, PARAM_ROWS};
    let Some(device) = cuda_device() else {
        return;
    };
    let (rows, width) = (37, 300);
    let wave = |n: usize, f: f32, a: f32| -> Vec<f32> {
        (0..n).map(|i| (i as f32 * f).sin() * a).collect()
    };
    let (k, v) = (
        wave(rows * width, 0.37, 40.0),
        wave(rows * width, 0.11, 3.0),
    );
    let mut params = wave(width, 0.5, 1.0)
        .into_iter()
        .map(|d| -d.exp())
        .collect::<Vec<f32>>();
    params.extend(wave(width, 0.3, 2.0));
    params.extend(vec![0.0; width]);
    params.extend(vec![0.0; width]);
    params.extend(vec![-1e30; width]);
    let run = |dev: &Device| -> Vec<f32> {
        let scan = wkv(
            &Tensor::from_slice(&k, (rows, width), dev).expect("k"),
            &Tensor::from_slice(&v, (rows, width), dev).expect("v"),
            &Tensor::from_slice(&params, (PARAM_ROWS, width), dev).expect("params"),
        )
        .expect("wkv");
        scan.flatten_all()
            .expect("flatten")
            .to_vec1::<f32>()
            .expect("download")
    };
    let (cpu, gpu) = (run(&Device::Cpu), run(&device));
    assert_eq!(cpu.len(), gpu.len());
    for (i, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
        assert!(
            (c - g).abs() <= 1e-5 * (1.0 + c.abs()),
            "element {i}: cpu {c}, gpu {g}"
        );
    }
}
