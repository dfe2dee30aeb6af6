//! Generation: seeded and reproducible, honours stop strings and limits, and never touches the state
//! it was forked from.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::fixture;
use engine::{generate, Generation, Model, SamplerConfig, State, StopReason, Tokenizer};

fn demo() -> (Model, Tokenizer) {
    // The tiny reference model has a 512-token vocabulary; pair it with the 20B tokenizer restricted
    // to ids below 512 (single bytes and common merges), which is all generation needs.
    let model = Model::load(&fixture("tiny-fp32.safetensors")).expect("loads");
    let tokenizer = Tokenizer::from_file(&fixture("20B_tokenizer.json")).expect("loads");
    (model, tokenizer)
}

#[test]
fn same_seed_same_text_and_the_source_state_is_untouched() {
    let (model, tokenizer) = demo();
    let mut state = model.new_state();
    let logits = model.forward(&[10, 20, 30], &mut state).expect("forward");
    let before = state.clone();
    let config = SamplerConfig {
        max_tokens: 30,
        seed: 42,
        end_of_text: None,
        ..Default::default()
    };
    let run = || {
        let mut fork = state.clone();
        let mut streamed = String::new();
        let out = generate(
            &model,
            &tokenizer,
            &mut fork,
            logits.clone(),
            &config,
            &mut |p| {
                streamed.push_str(p);
                true
            },
        )
        .expect("generates");
        assert_eq!(streamed, out.text, "streamed pieces add up to the text");
        out
    };
    let a = run();
    let b = run();
    assert_eq!(a, b);
    assert_eq!(a.tokens.len(), 30);
    assert_eq!(a.stop_reason, StopReason::MaxTokens);
    assert_eq!(
        state, before,
        "generation forked the state; the original must not change"
    );
    let other = {
        let mut fork = state.clone();
        generate(
            &model,
            &tokenizer,
            &mut fork,
            logits.clone(),
            &SamplerConfig {
                seed: 43,
                ..config.clone()
            },
            &mut |_| true,
        )
        .expect("generates")
    };
    assert_ne!(other.tokens, a.tokens);
}

/// Feeds `prompt`, then generates `max_tokens` freely (no stop strings, no end-of-text) from a
/// copy of the state: the state and logits after the prompt, the config, and the free text.
fn free_run(
    model: &Model,
    tokenizer: &Tokenizer,
    prompt: &[u32],
    max_tokens: usize,
    seed: u64,
) -> (State, Vec<f32>, SamplerConfig, Generation) {
    let mut state = model.new_state();
    let logits = model.forward(prompt, &mut state).expect("forward");
    let config = SamplerConfig {
        max_tokens,
        seed,
        end_of_text: None,
        ..Default::default()
    };
    let free = generate(
        model,
        tokenizer,
        &mut state.clone(),
        logits.clone(),
        &config,
        &mut |_| true,
    )
    .expect("gen");
    (state, logits, config, free)
}

#[test]
fn stop_strings_end_generation_and_are_not_returned() {
    let (model, tokenizer) = demo();
    let (state, logits, config, free) = free_run(&model, &tokenizer, &[1, 2, 3], 60, 3);
    // Use a piece of the free-running text as the stop string: generation must end right before it.
    let chars: Vec<char> = free.text.chars().collect();
    let stop: String = chars[chars.len() / 2..chars.len() / 2 + 2].iter().collect();
    let cut = free.text.find(&stop).expect("present");
    let stopped = generate(
        &model,
        &tokenizer,
        &mut state.clone(),
        logits,
        &SamplerConfig {
            stop: vec![stop.clone()],
            ..config
        },
        &mut |_| true,
    )
    .expect("gen");
    assert_eq!(stopped.stop_reason, StopReason::StopString);
    assert_eq!(stopped.text, free.text[..cut]);
}

#[test]
fn cancelling_from_the_callback_stops_at_once() {
    let (model, tokenizer) = demo();
    let mut state = model.new_state();
    let logits = model.forward(&[5], &mut state).expect("forward");
    let config = SamplerConfig {
        max_tokens: 100,
        end_of_text: None,
        ..Default::default()
    };
    let mut calls = 0;
    let out = generate(&model, &tokenizer, &mut state, logits, &config, &mut |_| {
        calls += 1;
        calls < 3
    })
    .expect("gen");
    assert_eq!(out.stop_reason, StopReason::Cancelled);
    assert!(out.tokens.len() < 100);
}

#[test]
fn the_callback_hears_every_token_even_when_all_text_is_held_back() {
    let (model, tokenizer) = demo();
    let (mut state, logits, config, free) = free_run(&model, &tokenizer, &[7, 8], 40, 5);
    // A stop string that the whole free text begins: nothing can be shown until the end, yet a
    // cancel must still be heard after each token.
    let held = SamplerConfig {
        stop: vec![format!("{}\u{1}", free.text)],
        ..config
    };
    let mut calls = 0;
    let out = generate(
        &model,
        &tokenizer,
        &mut state,
        logits,
        &held,
        &mut |piece| {
            assert!(piece.is_empty(), "held-back text was shown: {piece:?}");
            calls += 1;
            calls < 3
        },
    )
    .expect("gen");
    assert_eq!(out.stop_reason, StopReason::Cancelled);
    assert_eq!(out.tokens.len(), 3);
}
