//! Progress a user can trust while a large file is prepared: before any reading, the run reports
//! hashing, extracting, tokenizing (with the bytes done, as it goes) and indexing.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::*;
use ingest::{Library, PrepareStage, ProgressEvent};
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn preparing_a_large_file_reports_each_stage_and_the_bytes_tokenized() {
    let docs = tempfile::tempdir().unwrap();
    // About 2.5 MB: tokenizing reports every megabyte or so.
    let paragraph = prose("cargo manifest", 1);
    let text = paragraph.repeat(2_500_000 / paragraph.len() + 1);
    let path = write_file(docs.path(), "large.txt", &text);
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (model, tokenizer) = demo();
    let cancel = AtomicBool::new(false);
    let mut events = Vec::new();
    // Stop once it is prepared: reading 600,000 tokens is not what this test is about.
    ingest::run(
        &[path],
        &mut writer,
        model,
        tokenizer,
        &test_options(),
        &mut |p| {
            if matches!(p.event, ProgressEvent::FilePrepared { .. }) {
                cancel.store(true, Ordering::Relaxed);
            }
            events.push(p.event);
        },
        &cancel,
    )
    .unwrap();

    let prepared_at = events
        .iter()
        .position(|e| matches!(e, ProgressEvent::FilePrepared { .. }))
        .unwrap();
    let stages: Vec<(PrepareStage, u64, u64)> = events[..prepared_at]
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Preparing {
                stage, done, total, ..
            } => Some((*stage, *done, *total)),
            _ => None,
        })
        .collect();
    let mut order: Vec<PrepareStage> = stages.iter().map(|s| s.0).collect();
    order.dedup();
    assert_eq!(
        order,
        [
            PrepareStage::Hashing,
            PrepareStage::Extracting,
            PrepareStage::Chunking,
            PrepareStage::Indexing
        ]
    );
    let tokenized: Vec<u64> = stages
        .iter()
        .filter(|s| s.0 == PrepareStage::Chunking && s.1 > 0)
        .map(|s| s.1)
        .collect();
    assert!(tokenized.len() >= 2, "{stages:?}");
    assert!(tokenized.windows(2).all(|w| w[0] < w[1]), "{tokenized:?}");
    let total = stages
        .iter()
        .find(|s| s.0 == PrepareStage::Chunking)
        .unwrap()
        .2;
    assert!(total >= 2_500_000 && tokenized.iter().all(|d| *d <= total));
}

#[test]
fn extracting_a_pdf_reports_every_page_as_it_arrives() {
    let pdf = repo_root().join("sample-docs/the-keeper-of-tallow-point.pdf");
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (model, tokenizer) = demo();
    let cancel = AtomicBool::new(false);
    let mut pages_seen = Vec::new();
    let mut pages_prepared = 0;
    ingest::run(
        &[pdf],
        &mut writer,
        model,
        tokenizer,
        &test_options(),
        &mut |p| match p.event {
            ProgressEvent::Preparing {
                stage: PrepareStage::ExtractingPages,
                done,
                total,
                ..
            } => pages_seen.push((done, total)),
            ProgressEvent::FilePrepared { pages, .. } => {
                pages_prepared = pages;
                cancel.store(true, Ordering::Relaxed);
            }
            _ => {}
        },
        &cancel,
    )
    .unwrap();
    assert!(pages_prepared > 1, "{pages_prepared}");
    let expected: Vec<(u64, u64)> = (1..=u64::from(pages_prepared))
        .map(|n| (n, u64::from(pages_prepared)))
        .collect();
    assert_eq!(pages_seen, expected);
}
