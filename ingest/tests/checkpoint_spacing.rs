//! Checkpoints spaced for a wait: a target the model cannot meet puts one after every chunk, a
//! disk budget spaces them further apart, and a document resumed keeps the spacing it was read
//! with whatever the options say now.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::*;
use ingest::{IngestOptions, SpacingTarget};

fn spaced(answer_wait_ms: u64, budget_bytes: u64, max_every: usize) -> IngestOptions {
    IngestOptions {
        checkpoint_every_chunks: max_every,
        spacing: Some(SpacingTarget {
            answer_wait_ms,
            budget_bytes,
        }),
        ..test_options()
    }
}

/// (chunks_read, schedule) of every checkpoint of the only document, in order.
fn checkpoints(lib: &std::path::Path) -> Vec<(u32, u32)> {
    let library = open_library(lib);
    let doc = &library.documents().unwrap()[0];
    let (found, damaged) = library
        .checkpoints(&doc.id, demo().0.fingerprint())
        .unwrap();
    assert!(damaged.is_empty(), "{damaged:?}");
    let mut found: Vec<(u32, u32)> = found
        .iter()
        .map(|c| (c.header.chunks_read, c.header.checkpoint_every_chunks))
        .collect();
    found.sort();
    found
}

fn chunk_count(lib: &std::path::Path) -> u32 {
    let library = open_library(lib);
    let doc = &library.documents().unwrap()[0];
    library.chunks(&doc.id).unwrap().len() as u32
}

#[test]
fn a_wait_no_model_can_meet_puts_a_checkpoint_after_every_chunk() {
    let src = tempfile::tempdir().unwrap();
    let file = write_file(src.path(), "book.txt", &prose("harbour", 40));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = ingest::Library::open_writer(lib.path()).unwrap();
    ingest(&mut writer, &[file], &spaced(1, 1 << 30, 8));
    drop(writer);
    let n = chunk_count(lib.path());
    assert!(n >= 6, "the test needs several chunks, got {n}");
    let found = checkpoints(lib.path());
    assert_eq!(found.len() as u32, n, "one per chunk: {found:?}");
    assert!(found.iter().all(|&(_, every)| every == 1), "{found:?}");
}

#[test]
fn a_long_wait_keeps_the_configured_spacing_and_a_small_budget_widens_it() {
    let src = tempfile::tempdir().unwrap();
    let file = write_file(src.path(), "book.txt", &prose("lighthouse", 40));

    let lib = tempfile::tempdir().unwrap();
    let mut writer = ingest::Library::open_writer(lib.path()).unwrap();
    ingest(
        &mut writer,
        std::slice::from_ref(&file),
        &spaced(3_600_000, 1 << 30, 3),
    );
    drop(writer);
    let n = chunk_count(lib.path());
    let found = checkpoints(lib.path());
    let expected: Vec<u32> = (1..=n).filter(|c| c % 3 == 0 || *c == n).collect();
    assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), expected);

    // A budget of three states: the spacing grows until at most three files are written.
    let state_bytes = demo().0.new_state().to_bytes(demo().0.fingerprint()).len() as u64;
    let lib = tempfile::tempdir().unwrap();
    let mut writer = ingest::Library::open_writer(lib.path()).unwrap();
    ingest(&mut writer, &[file], &spaced(3_600_000, 3 * state_bytes, 1));
    drop(writer);
    let found = checkpoints(lib.path());
    assert!(found.len() <= 3, "{found:?}");
    assert_eq!(
        found.last().map(|f| f.0),
        Some(n),
        "the end is always saved"
    );
    assert!(
        found.iter().all(|&(_, every)| every == n.div_ceil(3)),
        "{found:?}"
    );
}

#[test]
fn a_resumed_document_keeps_the_spacing_it_was_read_with() {
    let src = tempfile::tempdir().unwrap();
    let first = write_file(src.path(), "book.txt", &prose("tide", 40));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = ingest::Library::open_writer(lib.path()).unwrap();
    // Read with a spacing of 2, then stopped after the first few chunks.
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut chunks_seen = 0;
    let (model, tokenizer) = demo();
    let options = spaced(3_600_000, 1 << 30, 2);
    ingest::run(
        std::slice::from_ref(&first),
        &mut writer,
        model,
        tokenizer,
        &options,
        &mut |p| {
            if matches!(p.event, ingest::ProgressEvent::ChunkRead { .. }) {
                chunks_seen += 1;
                if chunks_seen == 5 {
                    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        },
        &cancel,
    )
    .unwrap();
    // Resumed with options that would choose one per chunk: the document keeps every 2.
    ingest(&mut writer, &[first], &spaced(1, 1 << 30, 8));
    drop(writer);
    let n = chunk_count(lib.path());
    let found = checkpoints(lib.path());
    assert!(found.iter().all(|&(_, every)| every == 2), "{found:?}");
    let positions: Vec<u32> = found.iter().map(|f| f.0).collect();
    assert!(positions.contains(&n), "{positions:?}");
    assert!(
        positions.iter().all(|&p| p % 2 == 0 || p == n || p == 5),
        "{positions:?}"
    );
}
