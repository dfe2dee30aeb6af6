//! The library end to end with the demo model: ingest, search, from a hit to a state, skipping
//! unchanged files, re-ingesting changed ones, damaged and foreign checkpoints, cancellation.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::*;
use ingest::{Library, OutcomeStatus, ProgressEvent};
use std::sync::atomic::{AtomicBool, Ordering};

fn case_folder(dir: &std::path::Path) {
    write_file(dir, "lighthouse.txt", &prose("lighthouse", 8));
    write_file(dir, "sub/orchard.md", &prose("orchard", 8));
    write_file(
        dir,
        "ferry.html",
        &format!(
            "<html><title>Ferry</title><body><p>{}</p></body></html>",
            prose("ferry", 6).replace("\n\n", "</p><p>")
        ),
    );
}

fn id_of(summary: &ingest::Summary, name: &str) -> String {
    summary
        .files
        .iter()
        .find(|f| f.path.file_name().unwrap() == name)
        .and_then(|f| f.document_id.clone())
        .unwrap()
}

fn final_checkpoint_bytes(library: &Library, id: &str) -> Vec<u8> {
    let (model, _) = demo();
    let (found, warnings) = library.checkpoints(id, model.fingerprint()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let last = found.last().unwrap();
    assert!(last.header.is_final());
    std::fs::read(&last.path).unwrap()
}

#[test]
fn ingest_then_search_then_reach_the_state_after_a_hit_from_its_checkpoint() {
    let docs = tempfile::tempdir().unwrap();
    case_folder(docs.path());
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (summary, events) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    assert_eq!(summary.count(OutcomeStatus::Ingested), 3, "{summary:#?}");
    assert!(!summary.cancelled);
    let t = &summary.totals;
    assert_eq!((t.files_done, t.files_total), (3, 3));
    assert_eq!(t.tokens_done, t.tokens_total);
    assert!(t.tokens_total > 900 && t.tokens_per_second > 0.0, "{t:?}");
    let written = events
        .iter()
        .filter(|e| matches!(e.event, ProgressEvent::CheckpointWritten { .. }))
        .count();
    assert_eq!(written as u64, t.checkpoints_written);
    assert!(matches!(
        events[0].event,
        ProgressEvent::Discovered {
            files: 3,
            issues: 0
        }
    ));
    assert!(matches!(
        events.last().unwrap().event,
        ProgressEvent::Finished
    ));
    assert!(events.iter().any(|e| e.totals.eta.is_some()));

    // Search finds the right document, with pages and a highlighted snippet.
    let hits = writer.search("lighthouses inspected", 3, None).unwrap();
    assert!(!hits.is_empty());
    let hit = &hits[0];
    assert_eq!(hit.title, "lighthouse.txt");
    assert_eq!(hit.pages, (1, 1));
    let snippet = hit.snippet.as_ref().unwrap();
    assert!(snippet
        .highlights
        .iter()
        .any(|r| snippet.text[r.clone()].eq_ignore_ascii_case("lighthouse")));
    let ferry = writer.find_documents("ferry").unwrap();
    assert_eq!(ferry.len(), 1);
    assert!(writer
        .document_text(&ferry[0].id)
        .unwrap()
        .starts_with("Paragraph 0 about ferry."));

    // Every chunk is in the index exactly once.
    for doc in writer.documents().unwrap() {
        let expected: Vec<u32> = (0..doc.chunk_count).collect();
        assert_eq!(writer.indexed_chunks(&doc.id).unwrap(), expected);
        assert!(writer
            .reading_progress(&doc.id, demo().0.fingerprint())
            .unwrap()
            .is_complete());
    }

    // From a chunk to its state: nearest checkpoint at or before, then re-read to the chunk's
    // end; equals the checkpoint ingestion wrote after that chunk, bit for bit.
    let (model, tokenizer) = demo();
    let id = id_of(&summary, "lighthouse.txt");
    let chunks = writer.chunks(&id).unwrap();
    let text = writer.document_text(&id).unwrap();
    assert!(chunks.len() >= 6, "{}", chunks.len());
    let target = 4u32; // checkpoints every 2 chunks: at 2, 4, 6...; chunk 4 ends at 5 → not stored
    let mut start = writer.start_point(&id, model, target).unwrap();
    assert_eq!(start.chunks_read, 4);
    for chunk in &chunks[start.chunks_read as usize..=target as usize + 1] {
        model
            .read(
                &ingest::chunk_tokens(tokenizer, &text, chunk).unwrap(),
                &mut start.state,
            )
            .unwrap();
    }
    let cp6 = writer
        .nearest_checkpoint_at_or_before(&id, model.fingerprint(), 6)
        .unwrap()
        .unwrap();
    assert_eq!(cp6.header.chunks_read, 6);
    let (header, stored) = writer.load_checkpoint(&cp6, model).unwrap();
    assert_eq!(stored, start.state);
    assert_eq!(header.token_offset, chunks[6].token_offset);
    assert_eq!(header.byte_offset, chunks[5].byte_end);

    // The final state equals one straight read of every chunk from a fresh state.
    let mut state = model.new_state();
    for chunk in &chunks {
        model
            .read(
                &ingest::chunk_tokens(tokenizer, &text, chunk).unwrap(),
                &mut state,
            )
            .unwrap();
    }
    let (_, final_state) = writer.final_state(&id, model).unwrap().unwrap();
    assert_eq!(final_state, state);
}

#[test]
fn unchanged_files_are_skipped_and_changed_ones_replace_their_chunks() {
    let docs = tempfile::tempdir().unwrap();
    case_folder(docs.path());
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let folder = [docs.path().to_path_buf()];
    let (first, _) = ingest(&mut writer, &folder, &test_options());
    let id = id_of(&first, "lighthouse.txt");

    let (again, events) = ingest(&mut writer, &folder, &test_options());
    assert_eq!(again.count(OutcomeStatus::Skipped), 3, "{again:#?}");
    assert_eq!(again.totals.tokens_done, 0);
    assert!(!events
        .iter()
        .any(|e| matches!(e.event, ProgressEvent::ChunkRead { .. })));

    // Change one file: new text, fewer chunks, a word the old version never had.
    write_file(docs.path(), "lighthouse.txt", &prose("zeppelin", 3));
    let (changed, _) = ingest(&mut writer, &folder, &test_options());
    assert_eq!(changed.count(OutcomeStatus::Ingested), 1);
    assert_eq!(changed.count(OutcomeStatus::Skipped), 2);
    assert_eq!(id_of(&changed, "lighthouse.txt"), id, "same file, same id");
    let record = writer.document(&id).unwrap();
    let expected: Vec<u32> = (0..record.chunk_count).collect();
    assert_eq!(writer.indexed_chunks(&id).unwrap(), expected);
    assert!(writer
        .search("lighthouse", 10, Some(std::slice::from_ref(&id)))
        .unwrap()
        .is_empty());
    assert!(!writer.search("zeppelin", 10, None).unwrap().is_empty());
    // Only checkpoints of the new version remain on disk.
    let (found, _) = writer.checkpoints(&id, demo().0.fingerprint()).unwrap();
    let dir = found[0].path.parent().unwrap();
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), found.len());
    assert!(found
        .iter()
        .all(|c| c.header.document_digest == record.digest));
}

#[test]
fn damaged_checkpoints_are_reported_skipped_and_rebuilt_identically() {
    let docs = tempfile::tempdir().unwrap();
    write_file(docs.path(), "a.txt", &prose("granary", 8));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (first, _) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    let id = id_of(&first, "a.txt");
    let (model, _) = demo();
    let original = final_checkpoint_bytes(&writer, &id);
    let (found, _) = writer.checkpoints(&id, model.fingerprint()).unwrap();
    // Damage the state of the last two checkpoints (checksum catches it) and the header of one.
    for info in &found[found.len() - 2..] {
        let mut bytes = std::fs::read(&info.path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&info.path, bytes).unwrap();
    }
    std::fs::write(&found[0].path, b"RWKVRDCK garbage").unwrap();
    let (listed, warnings) = writer.checkpoints(&id, model.fingerprint()).unwrap();
    assert_eq!(listed.len(), found.len() - 1);
    assert_eq!(warnings.len(), 1);
    // A reader (ask) passes over the damaged files to the latest good checkpoint.
    let start = writer.start_point(&id, model, u32::MAX).unwrap();
    assert_eq!(start.chunks_read, found[found.len() - 3].header.chunks_read);
    assert_eq!(start.warnings.len(), 3, "{:?}", start.warnings);
    // Ingestion rebuilds all of them: it resumes before the earliest damaged one (chunk 2).
    let resumed_from = 0;

    let (second, events) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    let o = &second.files[0];
    assert_eq!(o.status, OutcomeStatus::Ingested, "{o:?}");
    assert_eq!(
        o.warnings.iter().filter(|w| w.contains("damaged")).count(),
        3,
        "{:?}",
        o.warnings
    );
    assert!(events.iter().any(|e| matches!(&e.event, ProgressEvent::ReadingStarted { from_chunk, .. } if *from_chunk == resumed_from)));
    assert_eq!(final_checkpoint_bytes(&writer, &id), original);
    let (rebuilt, damaged) = writer.checkpoints(&id, model.fingerprint()).unwrap();
    assert!(damaged.is_empty());
    assert_eq!(
        rebuilt.iter().map(|c| c.header.clone()).collect::<Vec<_>>(),
        found.iter().map(|c| c.header.clone()).collect::<Vec<_>>()
    );
    let (third, _) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    assert_eq!(third.files[0].status, OutcomeStatus::Skipped);
}

#[test]
fn checkpoints_of_another_model_are_never_used() {
    let docs = tempfile::tempdir().unwrap();
    write_file(docs.path(), "a.txt", &prose("quarry", 4));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (first, _) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    let id = id_of(&first, "a.txt");
    let (demo_model, tokenizer) = demo();
    let weights = engine::tools::random_init::random_weights(*demo_model.shape(), 99).unwrap();
    let other = engine::Model::from_weights(weights, "other".into(), "random".into(), false);
    assert_ne!(other.fingerprint(), demo_model.fingerprint());

    // Plant the demo model's final checkpoint where the other model's would be.
    let (demo_cps, _) = writer.checkpoints(&id, demo_model.fingerprint()).unwrap();
    let planted = lib
        .path()
        .join("checkpoints")
        .join(&other.fingerprint().0)
        .join(&id);
    std::fs::create_dir_all(&planted).unwrap();
    let last = demo_cps.last().unwrap();
    std::fs::copy(&last.path, planted.join(last.path.file_name().unwrap())).unwrap();
    let start = writer.start_point(&id, &other, u32::MAX).unwrap();
    assert_eq!(
        start.chunks_read, 0,
        "a state of another model must never be a start point"
    );
    assert!(writer
        .load_checkpoint(last, &other)
        .unwrap_err()
        .to_string()
        .contains("not by the model in use"));

    let mut events = Vec::new();
    let cancel = AtomicBool::new(false);
    let summary = ingest::run(
        &[docs.path().to_path_buf()],
        &mut writer,
        &other,
        tokenizer,
        &test_options(),
        &mut |p| events.push(p),
        &cancel,
    )
    .unwrap();
    assert_eq!(summary.files[0].status, OutcomeStatus::Ingested);
    assert!(events
        .iter()
        .any(|e| matches!(e.event, ProgressEvent::ReadingStarted { from_chunk: 0, .. })));
    let (theirs, _) = writer.checkpoints(&id, other.fingerprint()).unwrap();
    assert!(theirs
        .iter()
        .all(|c| c.header.model_fingerprint == other.fingerprint().0));
    let (ours_after, _) = writer.checkpoints(&id, demo_model.fingerprint()).unwrap();
    assert_eq!(
        ours_after, demo_cps,
        "the demo model's checkpoints are untouched"
    );
}

#[test]
fn cancelling_writes_a_checkpoint_and_the_next_run_finishes_identically() {
    cancel_then_resume(false);
}

/// A cancel inside a chunk (between two layers: a large model's chunk can take minutes) stops
/// at once and saves the state from before that chunk.
#[test]
fn cancelling_between_layers_saves_the_state_before_the_chunk() {
    cancel_then_resume(true);
}

/// Quits (as the TUI does) in the second document after its third chunk — at once, or two
/// layers into the fourth chunk — then resumes; the final checkpoints must be the same bytes as
/// an uninterrupted run's.
fn cancel_then_resume(mid_chunk: bool) {
    let docs = tempfile::tempdir().unwrap();
    case_folder(docs.path());
    let folder = [docs.path().to_path_buf()];
    let reference = tempfile::tempdir().unwrap();
    let mut ref_writer = Library::open_writer(reference.path()).unwrap();
    let (ref_summary, _) = ingest(&mut ref_writer, &folder, &test_options());

    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (model, tokenizer) = demo();
    let cancel = AtomicBool::new(false);
    let mut documents_started = 0;
    let mut cancelled_in = None;
    // Mid-chunk: layers begun after the third chunk was read, until the cancel.
    let mut layers_after = None;
    let summary = ingest::run(
        &folder,
        &mut writer,
        model,
        tokenizer,
        &test_options(),
        &mut |p| match &p.event {
            ProgressEvent::ReadingStarted { .. } => documents_started += 1,
            // Quit (as the TUI does) after 3 chunks of the second document: an odd position, so the
            // checkpoint found afterwards can only be the one written on cancellation.
            ProgressEvent::ChunkRead {
                path,
                chunks_read: 3,
                ..
            } if documents_started == 2 => {
                if mid_chunk {
                    layers_after = Some(0);
                } else {
                    cancel.store(true, Ordering::Relaxed);
                }
                cancelled_in = Some(path.clone());
            }
            ProgressEvent::BetweenLayers => {
                if let Some(n) = layers_after.as_mut() {
                    *n += 1;
                    if *n == 2 {
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
            }
            _ => {}
        },
        &cancel,
    )
    .unwrap();
    assert!(summary.cancelled);
    if mid_chunk {
        assert_eq!(layers_after, Some(2), "reading stopped at the next layer");
    }
    assert_eq!(summary.count(OutcomeStatus::Interrupted), 2, "{summary:#?}");
    assert_eq!(summary.count(OutcomeStatus::Ingested), 1, "{summary:#?}");
    let cancelled_in = cancelled_in.unwrap();
    let interrupted = summary
        .files
        .iter()
        .find(|f| f.path == cancelled_in)
        .unwrap();
    assert!(interrupted
        .reason
        .as_deref()
        .unwrap()
        .contains("resumes next run"));
    let id = interrupted.document_id.clone().unwrap();
    assert_eq!(
        writer
            .reading_progress(&id, model.fingerprint())
            .unwrap()
            .chunks_read,
        3
    );

    drop(writer);
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (resumed, _) = ingest(&mut writer, &folder, &test_options());
    assert!(!resumed.cancelled);
    for f in &ref_summary.files {
        let id = f.document_id.clone().unwrap();
        assert_eq!(
            final_checkpoint_bytes(&writer, &id),
            final_checkpoint_bytes(&ref_writer, &id),
            "{}",
            f.path.display()
        );
    }
}

#[test]
fn a_second_writer_is_refused_while_readers_keep_working() {
    let docs = tempfile::tempdir().unwrap();
    write_file(docs.path(), "a.txt", &prose("windmill", 2));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());

    let err = Library::open_writer(lib.path()).unwrap_err();
    assert!(matches!(err, ingest::IngestError::LibraryInUse { .. }));
    let reader = Library::open(lib.path()).unwrap();
    assert!(!reader.search("windmill", 5, None).unwrap().is_empty());

    // Another process gets the same clear message.
    let out = std::process::Command::new(worker_binary())
        .args(["ingest", "--library"])
        .arg(lib.path())
        .arg("--model")
        .arg(demo_model_path())
        .arg(docs.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("library in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(writer);
    Library::open_writer(lib.path()).unwrap();
}

#[test]
fn removing_a_document_removes_its_files_chunks_and_checkpoints() {
    let docs = tempfile::tempdir().unwrap();
    write_file(docs.path(), "keep.txt", &prose("harbour", 2));
    write_file(docs.path(), "drop.txt", &prose("quarry", 2));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (summary, _) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    let gone = id_of(&summary, "drop.txt");
    let (model, _) = demo();
    let (cps, _) = writer.checkpoints(&gone, model.fingerprint()).unwrap();
    let cp_dir = cps[0].path.parent().unwrap().to_path_buf();

    writer.remove_document(&gone).unwrap();
    assert!(matches!(
        writer.document(&gone),
        Err(ingest::IngestError::UnknownDocument(_))
    ));
    assert_eq!(writer.documents().unwrap().len(), 1);
    assert!(writer.search("quarry", 10, None).unwrap().is_empty());
    assert!(writer.indexed_chunks(&gone).unwrap().is_empty());
    assert!(!cp_dir.exists());
    assert!(!writer.search("harbour", 10, None).unwrap().is_empty());
}

#[test]
fn a_project_gutenberg_book_is_listed_by_its_title_and_found_by_its_file_name() {
    let docs = tempfile::tempdir().unwrap();
    let book = format!(
        "The Project Gutenberg eBook of The Lighthouse\r\n\r\nTitle: The Lighthouse\r\n\r\n\
         Author: Ada Whitcombe\r\n\r\n*** START OF THE PROJECT GUTENBERG EBOOK THE LIGHTHOUSE \
         ***\r\n\r\n{}\r\n*** END OF THE PROJECT GUTENBERG EBOOK THE LIGHTHOUSE ***\r\n\r\n\
         Section 1. General Terms of Use\r\n",
        prose("lighthouse", 4)
    );
    write_file(docs.path(), "pg4242.txt", &book);
    write_file(docs.path(), "orchard.txt", &prose("orchard", 4));
    let lib = tempfile::tempdir().unwrap();
    let mut writer = Library::open_writer(lib.path()).unwrap();
    let (summary, _) = ingest(&mut writer, &[docs.path().to_path_buf()], &test_options());
    assert_eq!(summary.count(OutcomeStatus::Ingested), 2, "{summary:#?}");
    drop(writer);
    let library = open_library(lib.path());
    let mut titles: Vec<String> = library
        .documents()
        .unwrap()
        .into_iter()
        .map(|d| d.title)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "The Lighthouse, by Ada Whitcombe (pg4242.txt)",
            "orchard.txt"
        ]
    );
    // `--doc` still finds it by the file's name, and now by the book's.
    for name in ["pg4242", "lighthouse, by"] {
        let found = library.find_documents(name).unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert!(found[0].source_path.ends_with("pg4242.txt"));
    }
}
