//! The engine against the reference implementation (PyPI `rwkv` 0.8.32, `cpu fp32`) on committed
//! random-init fixtures, in every checkpoint format.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::{compare_state, fixture, load_reference, max_abs_diff, rel_to_max, Reference};
use engine::Model;

/// Feeds the reference's tokens with the reference's chunking; checks logits at every chunk end and
/// the final state.
fn check_against(
    model: &Model,
    reference: &Reference,
    logits_tol_abs: f32,
    logits_tol_rel: f32,
    state_tol: f32,
) {
    let mut state = model.new_state();
    let mut start = 0;
    for (k, &end) in reference.chunks.iter().enumerate() {
        let logits = model
            .forward(&reference.tokens[start..end], &mut state)
            .expect("forward");
        let want = &reference.logits_pos[k];
        let abs = max_abs_diff(&logits, want);
        let rel = rel_to_max(&logits, want);
        assert!(
            abs <= logits_tol_abs || rel <= logits_tol_rel,
            "chunk ending at {end}: max abs {abs}, rel {rel}"
        );
        start = end;
    }
    assert_eq!(state.tokens_consumed, reference.tokens.len() as u64);
    compare_state(&state, reference, state_tol);
}

#[test]
fn fp32_pth_matches_reference() {
    let model = Model::load(&fixture("tiny-fp32.pth")).expect("loads");
    check_against(
        &model,
        &load_reference("tiny-fp32.ref.safetensors"),
        1e-5,
        0.0,
        1e-4,
    );
}

#[test]
fn fp32_blinkdl_safetensors_matches_reference() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    check_against(
        &model,
        &load_reference("tiny-fp32.ref.safetensors"),
        1e-5,
        0.0,
        1e-4,
    );
}

#[test]
fn hugging_face_safetensors_matches_reference() {
    let model = Model::load(&fixture("tiny-hf.safetensors")).expect("loads");
    assert!(
        model.info().format.contains("Hugging Face"),
        "{}",
        model.info().format
    );
    check_against(
        &model,
        &load_reference("tiny-fp32.ref.safetensors"),
        1e-5,
        0.0,
        1e-4,
    );
}

#[test]
fn bf16_pth_computed_in_f32_matches_reference_on_the_same_file() {
    let model = Model::load(&fixture("tiny-bf16.pth")).expect("loads");
    assert_eq!(model.info().stored_precision, "bf16");
    assert_eq!(model.info().precision, "f32");
    check_against(
        &model,
        &load_reference("tiny-bf16.ref.safetensors"),
        0.0,
        2e-4,
        1e-4,
    );
}

#[test]
fn same_weights_in_every_format_have_one_fingerprint() {
    let fingerprints: Vec<_> = [
        "tiny-fp32.pth",
        "tiny-fp32.safetensors",
        "tiny-hf.safetensors",
    ]
    .iter()
    .map(|f| {
        Model::load(&fixture(f))
            .expect("loads")
            .fingerprint()
            .clone()
    })
    .collect();
    assert!(
        fingerprints.windows(2).all(|w| w[0] == w[1]),
        "{fingerprints:?}"
    );
    let bf16 = Model::load(&fixture("tiny-bf16.pth")).expect("loads");
    assert_ne!(bf16.fingerprint(), &fingerprints[0]);
}

#[test]
fn shape_is_inferred_from_tensors() {
    let model = Model::load(&fixture("tiny-fp32.pth")).expect("loads");
    let info = model.info();
    assert_eq!(
        (info.n_layer, info.n_embd, info.n_ffn, info.n_vocab),
        (3, 64, 256, 512)
    );
    assert_eq!(info.n_params, 227_648);
}
