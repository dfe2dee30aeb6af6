//! Reading the same tokens in one call, token by token, or in any split gives the same logits and state.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::{chunking_tokens, fixture, forward_in_uneven_splits, max_abs_diff, state_rel_diff};
use engine::{LanguageModel, Model};

#[test]
fn one_call_token_by_token_and_uneven_splits_agree() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let tokens = chunking_tokens();

    let mut whole = model.new_state();
    let whole_logits = model.forward(&tokens, &mut whole).expect("forward");

    let mut single = model.new_state();
    let mut single_logits = Vec::new();
    for t in &tokens {
        single_logits = model
            .forward(std::slice::from_ref(t), &mut single)
            .expect("forward");
    }

    let mut split = model.new_state();
    let split_logits = forward_in_uneven_splits(&tokens, |part| {
        model.forward(part, &mut split).expect("forward")
    });

    for (name, logits, state) in [
        ("token by token", &single_logits, &single),
        ("uneven splits", &split_logits, &split),
    ] {
        let diff = max_abs_diff(logits, &whole_logits);
        assert!(diff <= 1e-5, "{name}: logits differ by {diff}");
        let rel = state_rel_diff(state, &whole);
        assert!(rel <= 1e-5, "{name}: state differs by {rel}");
        assert_eq!(state.tokens_consumed, tokens.len() as u64);
    }
}

#[test]
fn read_without_head_leaves_the_same_state_as_forward() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let tokens = chunking_tokens();
    let mut read = model.new_state();
    model.read(&tokens, &mut read).expect("read");
    let mut forward = model.new_state();
    model.forward(&tokens, &mut forward).expect("forward");
    assert_eq!(read, forward);
    // The cancellable read is the same read while its flag is clear, and stops when it is set.
    let flag = std::sync::atomic::AtomicBool::new(false);
    let mut cancellable = model.new_state();
    model
        .read_cancellable(&tokens, &mut cancellable, &flag)
        .expect("read");
    assert_eq!(cancellable, read);
    flag.store(true, std::sync::atomic::Ordering::Relaxed);
    let stopped = model.read_cancellable(&tokens, &mut model.new_state(), &flag);
    assert!(matches!(stopped, Err(engine::EngineError::Cancelled)));
}

#[test]
fn forward_all_rows_match_incremental_logits() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let tokens = &chunking_tokens()[..40];
    let mut all_state = model.new_state();
    let all = model
        .forward_all(tokens, &mut all_state)
        .expect("forward_all");
    let mut state = model.new_state();
    for (i, t) in tokens.iter().enumerate() {
        let logits = model
            .forward(std::slice::from_ref(t), &mut state)
            .expect("forward");
        let row = &all[i * 512..(i + 1) * 512];
        assert!(max_abs_diff(&logits, row) <= 1e-5, "row {i}");
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let mut state = model.new_state();
    assert!(model.forward(&[], &mut state).is_err());
    assert!(
        model.forward(&[512], &mut state).is_err(),
        "token id past the vocabulary"
    );
    let other = Model::load(&fixture("bad/ok-1layer.safetensors")).expect("loads");
    let mut wrong = other.new_state();
    assert!(
        model.forward(&[1], &mut wrong).is_err(),
        "state of another shape"
    );
}
