//! The hostile-document folder (made by scripts/make_hostile_docs.py): every bad file gets its
//! own clear outcome, good files around them are ingested, and the run never stops.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::*;
use ingest::{OutcomeStatus, PageStatus};
use std::path::PathBuf;

fn hostile_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

#[test]
fn every_hostile_file_has_its_outcome_and_good_files_are_ingested() {
    let lib = tempfile::tempdir().unwrap();
    let mut writer = ingest::Library::open_writer(lib.path()).unwrap();
    let (summary, _) = ingest(&mut writer, &[hostile_dir()], &test_options());
    let outcome = |name: &str| {
        summary
            .files
            .iter()
            .find(|f| f.path.file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("{name} missing from the summary"))
    };
    let failed_with = |name: &str, needle: &str| {
        let o = outcome(name);
        assert_eq!(o.status, OutcomeStatus::Failed, "{name}: {o:?}");
        let reason = o.reason.as_deref().unwrap_or("");
        assert!(
            reason.contains(needle),
            "{name}: reason {reason:?} lacks {needle:?}"
        );
    };
    failed_with("truncated.pdf", "not a readable PDF");
    failed_with("bitflipped.pdf", "not a readable PDF");
    failed_with("empty.pdf", "not a readable PDF");
    failed_with("encrypted.pdf", "encrypted: needs a password");
    failed_with("encrypted_cloned.pdf", "encrypted: needs a password");
    failed_with("scanned.pdf", "scanned PDF (needs OCR)");
    failed_with("zero_pages.pdf", "no pages");
    failed_with("parent_loop.pdf", "made no progress");
    failed_with("binary.txt", "binary content");
    assert_eq!(summary.files.len(), 15);

    for name in [
        "good.pdf",
        "latin1.pdf",
        "latin1.txt",
        "partly_scanned.pdf",
        "encrypted_empty_password.pdf",
        "hyphenated.pdf",
    ] {
        assert_eq!(
            outcome(name).status,
            OutcomeStatus::Ingested,
            "{name}: {:?}",
            outcome(name)
        );
        assert!(outcome(name).checkpoints >= 1);
    }
    assert_eq!(outcome("good.pdf").pages, 3);
    // Encrypted with only an owner password: opened with the empty user password, same text.
    let text_of = |name: &str| {
        let id = outcome(name).document_id.clone().unwrap();
        writer.document_text(&id).unwrap()
    };
    assert_eq!(text_of("encrypted_empty_password.pdf"), text_of("good.pdf"));

    // A scanned page inside a text PDF is reported, not fatal, and pages stay right.
    let partly = outcome("partly_scanned.pdf");
    assert_eq!(
        partly.warnings,
        ["page 2: no text layer (scanned image; needs OCR)"]
    );
    let id = partly.document_id.clone().unwrap();
    let record = writer.document(&id).unwrap();
    assert_eq!(
        record.pages[1].status,
        PageStatus::NoTextLayer { has_images: true }
    );
    let hits = writer.search("summary judgment", 5, Some(&[id])).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].pages, (3, 3), "page 3 text, page 2 being a scan");

    // Latin-1, in a PDF's WinAnsi font and in a text file, comes out as the same words.
    for name in ["latin1.pdf", "latin1.txt"] {
        let id = outcome(name).document_id.clone().unwrap();
        let text = writer.document_text(&id).unwrap();
        assert!(
            text.contains("Société Générale c. Müller"),
            "{name}: {text:?}"
        );
    }

    // A word broken at a line end is one word again; a compound keeps its hyphen.
    let typeset = text_of("hyphenated.pdf");
    let flat = typeset.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("made a warrantless entry into the garage"),
        "{typeset:?}"
    );
    assert!(flat.contains("The in- person hearing"), "{typeset:?}");

    // Failed documents are listed in the library with their reason (for the TUI's Library).
    let docs = writer.documents().unwrap();
    let enc = docs.iter().find(|d| d.title == "encrypted.pdf").unwrap();
    assert!(enc.failure().unwrap().contains("password"));

    // A second run skips the unchanged files, including the slow failures (no new 3 s hang).
    let started = std::time::Instant::now();
    let (again, _) = ingest(&mut writer, &[hostile_dir()], &test_options());
    assert!(
        started.elapsed().as_secs_f64() < 2.5,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(again.count(OutcomeStatus::Skipped), 6);
    assert_eq!(again.count(OutcomeStatus::Failed), 9);
}

#[test]
fn the_worker_stops_a_hanging_pdf_and_keeps_pages_of_a_good_one() {
    let options = common::test_options().pdf;
    let pages = ingest::extract_pdf(&hostile_dir().join("good.pdf"), &options).unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.status == PageStatus::Ok));
    assert!(pages[2].text.contains("summary judgment"));

    let started = std::time::Instant::now();
    let looped = ingest::extract_pdf(&hostile_dir().join("parent_loop.pdf"), &options).unwrap();
    assert!(
        matches!(&looped[0].status, PageStatus::Failed { reason } if reason.contains("no progress"))
    );
    assert!(started.elapsed().as_secs() < 10);

    let missing = ingest::extract_pdf(
        &hostile_dir().join("good.pdf"),
        &ingest::PdfOptions {
            worker: Some(ingest::WorkerCommand::with_program("/nonexistent/worker")),
            ..options
        },
    );
    assert!(matches!(
        missing,
        Err(ingest::PdfError::WorkerUnavailable { .. })
    ));
}

#[test]
fn cancelling_stops_a_pdf_worker_at_once_and_records_nothing_about_the_file() {
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let setter = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    let started = std::time::Instant::now();
    // parent_loop.pdf hangs the extractor: only cancellation can end this before the 3 s stall.
    let result = ingest::extract_pdf_cancellable(
        &hostile_dir().join("parent_loop.pdf"),
        &common::test_options().pdf,
        &cancel,
    );
    setter.join().unwrap();
    assert_eq!(result, Err(ingest::PdfError::Cancelled));
    assert!(
        started.elapsed().as_millis() < 1500,
        "{:?}",
        started.elapsed()
    );

    // In a run, the file is reported interrupted and no failure is recorded for it.
    let docs = tempfile::tempdir().unwrap();
    std::fs::copy(
        hostile_dir().join("parent_loop.pdf"),
        docs.path().join("loop.pdf"),
    )
    .unwrap();
    let lib = tempfile::tempdir().unwrap();
    let mut writer = ingest::Library::open_writer(lib.path()).unwrap();
    let (model, tokenizer) = demo();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let summary = ingest::run(
        &[docs.path().to_path_buf()],
        &mut writer,
        model,
        tokenizer,
        &test_options(),
        &mut |p| {
            if matches!(p.event, ingest::ProgressEvent::Discovered { .. }) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
        &stop,
    )
    .unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.files[0].status, OutcomeStatus::Interrupted);
    assert!(writer.documents().unwrap().is_empty());
}
