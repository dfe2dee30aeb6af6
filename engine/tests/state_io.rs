//! Saved states: bit-exact round trip, and refusal of damaged files and states of other models.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::fixture;
use engine::{Model, State, StateError};

#[test]
fn a_state_saved_mid_document_resumes_bit_exactly() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let tokens: Vec<u32> = (0..300u32).map(|i| (i * 31 + 7) % 512).collect();
    let mut state = model.new_state();
    model.read(&tokens[..150], &mut state).expect("read");
    let bytes = state.to_bytes(model.fingerprint());
    let mut restored = State::from_bytes(&bytes, model.fingerprint()).expect("loads");
    assert_eq!(restored, state);
    assert_eq!(restored.tokens_consumed, 150);
    let a = model.forward(&tokens[150..], &mut state).expect("forward");
    let b = model
        .forward(&tokens[150..], &mut restored)
        .expect("forward");
    assert_eq!(a, b);
    assert_eq!(restored, state);
}

#[test]
fn states_of_other_models_and_damaged_states_are_refused() {
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let other = Model::load(&fixture("tiny-bf16.pth")).expect("loads");
    let mut state = model.new_state();
    model.read(&[1, 2, 3], &mut state).expect("read");
    let bytes = state.to_bytes(model.fingerprint());
    assert!(matches!(
        State::from_bytes(&bytes, other.fingerprint()),
        Err(StateError::WrongModel { .. })
    ));
    assert!(State::from_bytes(&bytes[..bytes.len() - 40], model.fingerprint()).is_err());
    let mut flipped = bytes.clone();
    let at = bytes.len() / 3;
    flipped[at] ^= 1;
    assert!(State::from_bytes(&flipped, model.fingerprint()).is_err());
    assert!(matches!(
        State::from_bytes(b"not a state at all", model.fingerprint()),
        Err(StateError::BadMagic)
    ));
}
