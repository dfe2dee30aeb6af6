//! Damage at rest, one row at a time: each test damages a stored file of a small library the way
//! a disk error, a sync tool or a stray `rm` would, then shows that reading says so, that `check`
//! names the file and the remedy, and that `check --repair` or the next ingestion brings the
//! library back to exactly what an undamaged one holds.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod heal_support;

use heal_support::*;
use ingest::{Library, Part, Remedy};

fn only_problem(report: &ingest::CheckReport) -> &ingest::Problem {
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    &report.problems[0]
}

#[test]
fn deleted_index_is_noticed_by_readers_and_rebuilt_by_ingest_and_repair() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    assert!(
        check(&small.lib()).is_healthy(),
        "{:#?}",
        check(&small.lib())
    );
    std::fs::remove_dir_all(small.lib().join("index")).unwrap();

    // Readers neither create an empty index nor answer as if nothing were wrong.
    let library = Library::open(&small.lib()).unwrap();
    assert!(library.search("lighthouse", 5, None).unwrap().is_empty());
    assert!(!library.noticed().is_empty());
    match ask_lighthouse(&library) {
        Ok(answer) => assert!(warns(&answer), "{:?}", answer.notices),
        // No passage found: no answer at all, and the reason is noticed.
        Err(_) => assert!(library.noticed().iter().any(|n| n.contains("index"))),
    }
    assert!(!small.lib().join("index").exists());

    let problem = only_problem(&check(&small.lib())).clone();
    assert_eq!(
        (problem.part, &problem.remedy),
        (Part::Index, &Remedy::RebuildIndex)
    );

    // The next ingestion rebuilds it before anything else, and says so.
    let summary = small.ingest();
    assert!(summary
        .files
        .iter()
        .all(|f| f.status == ingest::OutcomeStatus::Skipped));
    assert_eq!(snapshot(&small.lib()), pristine);
    let library = Library::open(&small.lib()).unwrap();
    assert!(!library.search("lighthouse", 5, None).unwrap().is_empty());

    // `check --repair` does the same without the model.
    std::fs::remove_dir_all(small.lib().join("index")).unwrap();
    let repaired = repair(&small.lib());
    assert!(repaired.is_healthy(), "{:#?}", repaired.after);
    assert_eq!(snapshot(&small.lib()), pristine);
}

#[test]
fn damaged_index_files_are_found_and_rebuilt() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let index = small.lib().join("index");
    std::fs::write(index.join("meta.json"), b"{ garbage").unwrap();
    let library = Library::open(&small.lib()).unwrap();
    assert!(!library.index_usable());
    assert!(!library.noticed().is_empty());
    assert_eq!(only_problem(&check(&small.lib())).part, Part::Index);
    small.ingest();
    assert_eq!(snapshot(&small.lib()), pristine);

    // A segment file gone: opening fails, ingestion rebuilds.
    let segment = walk(&index)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    std::fs::remove_file(&segment).unwrap();
    assert_eq!(only_problem(&check(&small.lib())).part, Part::Index);
    small.ingest();
    assert_eq!(snapshot(&small.lib()), pristine);
    assert!(check(&small.lib()).is_healthy());
}

#[test]
fn truncated_or_edited_text_is_never_quoted_and_is_extracted_again() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let text_file = small.doc_file("lighthouse", "text.txt");
    let text = std::fs::read(&text_file).unwrap();

    for damaged in [
        text[..text.len() / 2].to_vec(),
        // Same length, one word changed: only the digest tells.
        String::from_utf8(text.clone())
            .unwrap()
            .replacen("lighthouse", "lighth0use", 1)
            .into_bytes(),
    ] {
        std::fs::write(&text_file, &damaged).unwrap();
        let library = Library::open(&small.lib()).unwrap();
        let hits = library.search("lighthouse", 5, None).unwrap();
        assert!(hits.iter().all(|h| !h.title.contains("lighthouse")));
        assert!(!library.noticed().is_empty());
        match ask_lighthouse(&library) {
            Ok(answer) => {
                assert!(warns(&answer), "{:?}", answer.notices);
                assert!(answer
                    .evidence
                    .iter()
                    .all(|e| !e.title.contains("lighthouse")));
            }
            Err(_) => assert!(!library.noticed().is_empty()),
        }
        let problem = only_problem(&check(&small.lib())).clone();
        assert_eq!(problem.path, text_file);
        assert_eq!(problem.remedy, Remedy::ReextractSource);
        let repaired = repair(&small.lib());
        assert!(repaired.is_healthy(), "{:#?}", repaired);
        assert_eq!(snapshot(&small.lib()), pristine);
    }

    // The next ingestion does the same on its own.
    std::fs::write(&text_file, &text[..10]).unwrap();
    small.ingest();
    assert_eq!(snapshot(&small.lib()), pristine);
}

#[test]
fn text_damaged_with_its_source_gone_needs_a_new_ingestion() {
    let small = Small::build();
    let text_file = small.doc_file("orchard", "text.txt");
    std::fs::write(&text_file, b"nothing like it").unwrap();
    std::fs::remove_file(small.docs().join("orchard.txt")).unwrap();
    let problem = only_problem(&check(&small.lib())).clone();
    assert!(
        matches!(&problem.remedy, Remedy::Reingest { reason } if reason.contains("gone")),
        "{problem:?}"
    );
    let repaired = repair(&small.lib());
    assert!(!repaired.is_healthy());
    assert!(!repaired.actions[0].repaired);
    assert_eq!(repaired.after.needing_reingest().count(), 1);
}

#[test]
fn truncated_chunk_list_is_rebuilt_and_never_blocks_ingestion() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let chunks_file = small.doc_file("lighthouse", "chunks.json");
    let bytes = std::fs::read(&chunks_file).unwrap();
    std::fs::write(&chunks_file, &bytes[..bytes.len() / 2]).unwrap();

    // Asking about the damaged document says so instead of answering from another book.
    let library = Library::open(&small.lib()).unwrap();
    if let Ok(answer) = ask_lighthouse(&library) {
        assert!(warns(&answer), "{:?}", answer.notices);
    }
    let problem = only_problem(&check(&small.lib())).clone();
    assert_eq!(
        (problem.part, &problem.remedy),
        (Part::Chunks, &Remedy::RebuildChunks)
    );
    let repaired = repair(&small.lib());
    assert!(repaired.is_healthy(), "{:#?}", repaired);
    assert_eq!(snapshot(&small.lib()), pristine);

    std::fs::write(&chunks_file, &bytes[..bytes.len() / 2]).unwrap();
    let summary = small.ingest();
    assert!(
        summary.count(ingest::OutcomeStatus::Failed) == 0,
        "{summary:#?}"
    );
    assert_eq!(snapshot(&small.lib()), pristine);
}

#[test]
fn deleted_mid_document_checkpoint_is_rebuilt() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let victim = ingest::layout::checkpoint_path(&small.checkpoint_dir("lighthouse"), 2);
    assert!(victim.is_file());
    std::fs::remove_file(&victim).unwrap();
    let problem = only_problem(&check(&small.lib())).clone();
    assert_eq!(problem.path, victim);
    assert!(matches!(problem.remedy, Remedy::RereadCheckpoints { .. }));

    let summary = small.ingest();
    let lighthouse = summary
        .files
        .iter()
        .find(|f| f.path.ends_with("lighthouse.txt"))
        .unwrap();
    assert_ne!(lighthouse.status, ingest::OutcomeStatus::Skipped);
    assert_eq!(snapshot(&small.lib()), pristine);

    std::fs::remove_file(&victim).unwrap();
    let repaired = repair(&small.lib());
    assert!(repaired.is_healthy(), "{:#?}", repaired);
    assert_eq!(snapshot(&small.lib()), pristine);
}

#[test]
fn garbage_library_file_is_noticed_and_rewritten() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let file = small.lib().join("library.json");
    for garbage in [&b"\x00\x01garbage"[..], b"{\n  \"format_version\": 9\n}"] {
        std::fs::write(&file, garbage).unwrap();
        let library = Library::open(&small.lib()).unwrap();
        assert!(!library.noticed().is_empty());
        assert!(!library.documents().unwrap().is_empty());
        assert_eq!(only_problem(&check(&small.lib())).part, Part::LibraryFile);
        assert!(repair(&small.lib()).is_healthy());
        assert_eq!(snapshot(&small.lib()), pristine);
    }
}

#[test]
fn damaged_record_is_left_out_with_a_warning_and_extracted_again() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let record_file = small.doc_file("lighthouse", "record.json");
    let record = std::fs::read_to_string(&record_file).unwrap();
    // A changed field that still parses: only the record's own digest tells.
    std::fs::write(
        &record_file,
        record.replacen("\"chunk_count\": ", "\"chunk_count\": 1", 1),
    )
    .unwrap();
    let library = Library::open(&small.lib()).unwrap();
    assert_eq!(library.documents().unwrap().len(), 1);
    assert!(!library.noticed().is_empty());
    let problem = only_problem(&check(&small.lib())).clone();
    assert_eq!(
        (problem.part, &problem.remedy),
        (Part::Record, &Remedy::ReextractSource)
    );
    assert!(repair(&small.lib()).is_healthy());
    assert_eq!(snapshot(&small.lib()), pristine);
}

#[test]
fn records_of_older_builds_are_unverified_until_their_digests_are_filled_in() {
    let small = Small::build();
    let pristine = snapshot(&small.lib());
    let record_file = small.doc_file("orchard", "record.json");
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record_file).unwrap()).unwrap();
    for field in ["text_sha256", "chunks_sha256", "record_sha256"] {
        value.as_object_mut().unwrap().remove(field);
    }
    std::fs::write(&record_file, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let library = Library::open(&small.lib()).unwrap();
    assert_eq!(
        library.documents().unwrap().len(),
        2,
        "old records still read"
    );
    let problem = only_problem(&check(&small.lib())).clone();
    assert_eq!(problem.remedy, Remedy::RecordDigests);
    small.ingest();
    assert_eq!(snapshot(&small.lib()), pristine);
}
