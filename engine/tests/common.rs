//! Helpers shared by the engine's integration tests: fixture paths and reading reference outputs.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

/// `engine/tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Reference outputs recorded by `scripts/make_reference_fixtures.py`.
pub struct Reference {
    /// The token ids the reference read.
    pub tokens: Vec<u32>,
    /// Exclusive chunk ends.
    pub chunks: Vec<usize>,
    /// Logits after each chunk.
    pub logits_pos: Vec<Vec<f32>>,
    /// Logits after the last token.
    pub logits_last: Vec<f32>,
    /// `state.{i}.{att_x,att_aa,att_bb,att_pp,ffn_x}`.
    pub tensors: HashMap<String, Vec<f32>>,
}

/// Reads the reference fixture `name` (a safetensors file under `tests/fixtures/`).
pub fn load_reference(name: &str) -> Reference {
    let bytes = std::fs::read(fixture(name)).expect("reference fixture is committed");
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
    let f32s = |n: &str| -> Vec<f32> {
        let view = st.tensor(n).expect("tensor present");
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let i64s = |n: &str| -> Vec<i64> {
        let view = st.tensor(n).expect("tensor present");
        view.data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect()
    };
    let tokens = i64s("tokens").into_iter().map(|t| t as u32).collect();
    let chunks: Vec<usize> = i64s("chunks").into_iter().map(|c| c as usize).collect();
    let logits_last = f32s("logits_last");
    let vocab = logits_last.len();
    let logits_pos = f32s("logits_pos")
        .chunks(vocab)
        .map(<[f32]>::to_vec)
        .collect();
    let tensors = st
        .names()
        .into_iter()
        .filter(|n| n.starts_with("state."))
        .map(|n| (n.to_string(), f32s(n)))
        .collect();
    Reference {
        tokens,
        chunks,
        logits_pos,
        logits_last,
        tensors,
    }
}

/// max |a − b|.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// max |a − b| / max |b| (0 when b is all zeros and a equals it).
pub fn rel_to_max(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().map(|v| v.abs()).fold(0.0, f32::max);
    let diff = max_abs_diff(a, b);
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

/// Per-vector comparison of two states: the worst of |a − b| / max|b| over every vector.
pub fn state_rel_diff(a: &engine::State, b: &engine::State) -> f32 {
    let mut worst = 0.0f32;
    for (la, lb) in a.layers.iter().zip(&b.layers) {
        for (va, vb) in la.vectors().into_iter().zip(lb.vectors()) {
            worst = worst.max(rel_to_max(va, vb));
        }
    }
    worst
}

/// The 700 tokens (below the tiny fixture's 512-id vocabulary) the chunking tests feed.
pub fn chunking_tokens() -> Vec<u32> {
    (0..700u32).map(|i| (i * 7919 + 13) % 512).collect()
}

/// Feeds `tokens` through `forward` in uneven pieces (1, 2, 255, 256, 257, 3, 100 tokens, over
/// and over: crossing the 256-row passes and single tokens); the logits after the last piece.
pub fn forward_in_uneven_splits(
    tokens: &[u32],
    mut forward: impl FnMut(&[u32]) -> Vec<f32>,
) -> Vec<f32> {
    let mut logits = Vec::new();
    let mut start = 0;
    for size in [1usize, 2, 255, 256, 257, 3, 100].iter().cycle() {
        if start >= tokens.len() {
            break;
        }
        let end = (start + size).min(tokens.len());
        logits = forward(&tokens[start..end]);
        start = end;
    }
    logits
}

/// Asserts every vector of `state` is within `tol` of the reference's, relative to its max |value|.
pub fn compare_state(state: &engine::State, reference: &Reference, tol: f32) {
    for (i, layer) in state.layers.iter().enumerate() {
        for (name, got) in [
            ("att_x", &layer.att_x),
            ("att_aa", &layer.aa),
            ("att_bb", &layer.bb),
            ("att_pp", &layer.pp),
            ("ffn_x", &layer.ffn_x),
        ] {
            let want = &reference.tensors[&format!("state.{i}.{name}")];
            let rel = rel_to_max(got, want);
            assert!(
                rel <= tol,
                "state.{i}.{name}: relative difference {rel} > {tol}"
            );
        }
    }
}

/// The device the tensor-path tests run on: `RWKV_TEST_DEVICE` (`cpu`, `cuda`, `cuda:N`) when set
/// — and then it must open, so a GPU check cannot pass on the CPU by mistake — else the CPU.
pub fn test_device() -> candle_core::Device {
    match std::env::var("RWKV_TEST_DEVICE") {
        Ok(name) if !name.trim().is_empty() => {
            engine::device_by_name(&name).unwrap_or_else(|e| panic!("RWKV_TEST_DEVICE={name}: {e}"))
        }
        _ => candle_core::Device::Cpu,
    }
}

/// Index of the largest value (the first of equals).
pub fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}
