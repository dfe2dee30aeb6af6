//! The 20B tokenizer gives the same ids as the Python `tokenizers` library, and streamed decoding
//! never splits a character.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::fixture;
use engine::{TextStream, Tokenizer};

#[test]
fn ids_match_the_python_tokenizer() {
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tokenizer-20b.ref.json")).expect("fixture"),
    )
    .expect("json");
    let text = reference["text"].as_str().expect("text");
    let want: Vec<u32> = reference["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_u64().unwrap_or(u64::MAX) as u32)
        .collect();
    let tokenizer = Tokenizer::from_file(&fixture("20B_tokenizer.json")).expect("loads");
    assert_eq!(tokenizer.vocab_size(), 50277);
    assert_eq!(tokenizer.encode(text).expect("encodes"), want);
    assert_eq!(tokenizer.decode(&want), text);
}

#[test]
fn streaming_decode_waits_for_whole_characters() {
    let tokenizer = Tokenizer::from_file(&fixture("20B_tokenizer.json")).expect("loads");
    let text = "Tea at the café — 日本語 😀 and done.";
    let ids = tokenizer.encode(text).expect("encodes");
    // Some character must be split across tokens, or the test proves nothing.
    assert!(
        (1..ids.len()).any(|i| tokenizer.decode(&ids[..i]).ends_with('\u{FFFD}')),
        "no character of the sample spans two tokens"
    );
    let mut stream = TextStream::new(&tokenizer);
    let mut pieces = Vec::new();
    for &id in &ids {
        let piece = stream.push(id);
        assert!(
            !piece.contains('\u{FFFD}'),
            "partial character emitted: {piece:?}"
        );
        pieces.push(piece);
    }
    pieces.push(stream.finish());
    assert_eq!(pieces.concat(), text);
}

#[test]
fn the_tokenizer_next_to_the_weights_is_found() {
    let dir = std::env::temp_dir().join(format!("rwkv-tok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tempdir");
    std::fs::copy(
        fixture("20B_tokenizer.json"),
        dir.join("20B_tokenizer.json"),
    )
    .expect("copy");
    let found = Tokenizer::for_model(&dir.join("model.pth")).expect("found");
    assert!(found.path().ends_with("20B_tokenizer.json"));
    let missing = Tokenizer::for_model(std::path::Path::new("/nonexistent/dir/model.pth"));
    assert!(missing.is_err());
    let _ = std::fs::remove_dir_all(dir);
}
