//! Sections, summaries, notes and export with the real demo model: chapters and legal headings
//! are found (spans between checkpoints otherwise), summaries start from the checkpoint at the
//! section's start and are stored and reused, notes survive concurrent writers while the
//! ingest lock is held, and the Markdown export carries questions, answers and citations.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod qa_support;

use ingest::qa::escape_markdown as escape;
use ingest::qa::{
    ask, document_sections, export_markdown, load_notes, summarize, SectionKind, SummaryEvent,
    SummaryOptions,
};
use qa_support::*;

fn quick_summaries() -> SummaryOptions {
    let mut o = SummaryOptions::default();
    o.sampler.max_tokens = 6;
    o.sampler.seed = 3;
    o
}

#[test]
fn sections_of_a_book_a_legal_filing_and_a_text_without_headings() {
    let fx = Fixture::book_order_and_plain_text();
    let library = fx.library();
    let fingerprint = demo().0.fingerprint();

    let book = document_sections(&library, fingerprint, fx.id("book.txt")).unwrap();
    let titles: Vec<&str> = book.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, CHAPTER_TITLES);
    for (k, s) in book.iter().enumerate() {
        assert_eq!(s.kind, SectionKind::Chapter);
        assert_eq!(s.pages, (2 * k as u32 + 1, 2 * k as u32 + 2), "{}", s.title);
    }
    assert_eq!(
        book[0].byte_range.start, 0,
        "the title page belongs to chapter 1"
    );

    let order = document_sections(&library, fingerprint, fx.id("order.txt")).unwrap();
    let found: Vec<(&str, SectionKind)> =
        order.iter().map(|s| (s.title.as_str(), s.kind)).collect();
    assert_eq!(
        found,
        [
            ("UNITED STATES DISTRICT COURT", SectionKind::Caption),
            ("BACKGROUND", SectionKind::Legal),
            ("DISCUSSION", SectionKind::Legal),
            ("A. The Storage Agreement", SectionKind::Numbered),
            ("ORDER", SectionKind::Legal),
        ]
    );

    // No headings: spans that start exactly where checkpoints stand.
    let plain_id = fx.id("plain.txt");
    let plain = document_sections(&library, fingerprint, plain_id).unwrap();
    let (checkpoints, _) = library.checkpoints(plain_id, fingerprint).unwrap();
    let inner: Vec<u64> = checkpoints
        .iter()
        .filter(|c| !c.header.is_final())
        .map(|c| c.header.byte_offset)
        .collect();
    let starts: Vec<u64> = plain.iter().skip(1).map(|s| s.byte_range.start).collect();
    assert!(plain.len() > 3);
    assert_eq!(starts, inner);
    assert!(plain.iter().all(|s| s.kind == SectionKind::Span));
    // Sections tile the text.
    let text_len = library.document(plain_id).unwrap().text_bytes;
    assert_eq!(plain.last().unwrap().byte_range.end, text_len);
    for w in plain.windows(2) {
        assert_eq!(w[0].byte_range.end, w[1].byte_range.start);
    }
}

#[test]
fn summaries_are_stored_reused_refreshed_and_exported_with_citations() {
    let fx = Fixture::build(&[("book.txt", book())], None);
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");

    // First run: every chapter summarised, from the checkpoint at or before its start.
    let mut started = 0;
    let report = summarize(&ctx, id, &quick_summaries(), &mut |e| {
        if let SummaryEvent::Started(_) = e {
            started += 1;
        }
        true
    })
    .unwrap();
    assert_eq!((report.generated, report.reused, started), (8, 0, 8));
    assert!(report.pending.is_empty());
    for s in &report.summaries {
        let p = &s.provenance;
        let ckpt_chunks = p.checkpoint.as_ref().map_or(0, |c| c.chunks_read);
        assert!(ckpt_chunks <= s.section.chunks.start, "{}", s.section.title);
        let lead_in = p.lead_in.as_ref().unwrap();
        assert_eq!(lead_in.byte_range.end, s.section.byte_range.start);
        assert_eq!(
            p.material.as_ref().unwrap().byte_range,
            s.section.byte_range
        );
    }
    assert_eq!(load_notes(&library, id).unwrap().summaries.len(), 8);

    // Second run: all reused, nothing generated.
    let again = summarize(&ctx, id, &quick_summaries(), &mut |e| {
        assert!(
            !matches!(e, SummaryEvent::Started(_)),
            "regenerated without refresh"
        );
        true
    })
    .unwrap();
    assert_eq!((again.generated, again.reused), (0, 8));
    // (Timings are floats that JSON does not round-trip exactly; everything else is equal.)
    let key = |s: &ingest::qa::SectionSummary| {
        (
            s.section.clone(),
            s.text.clone(),
            s.created_at_unix_s,
            s.provenance.checkpoint.clone(),
        )
    };
    let first: Vec<_> = report.summaries.iter().map(key).collect();
    assert_eq!(again.summaries.iter().map(key).collect::<Vec<_>>(), first);

    // Refresh one section: regenerated (same seed, same state: same text), others untouched.
    let mut refresh = quick_summaries();
    refresh.refresh = true;
    refresh.only_section = Some(2);
    let one = summarize(&ctx, id, &refresh, &mut |_| true).unwrap();
    assert_eq!((one.generated, one.reused), (1, 0));
    assert_eq!(one.summaries[0].text, report.summaries[2].text);
    assert!(one.summaries[0].created_at_unix_s >= report.summaries[2].created_at_unix_s);
    let notes = load_notes(&library, id).unwrap();
    assert_eq!(notes.summaries.len(), 8);

    // Export: questions, answers, citations, summaries.
    let answer = ask(
        &ctx,
        "What did the cannery pay for salt?",
        &ask_options(id),
        &mut |_| true,
    )
    .unwrap();
    let md = export_markdown(&library, id).unwrap();
    assert!(md.starts_with("# book.txt\n"));
    assert!(
        md.contains("### 1. What did the cannery pay for salt?"),
        "{md}"
    );
    assert!(md.contains(&escape(answer.text.lines().next().unwrap_or(""))));
    let cite = format!(
        "book.txt, {} (read by the model)",
        answer.evidence[0].page_label()
    );
    assert!(md.contains(&cite), "missing {cite:?} in\n{md}");
    assert!(
        md.contains("**cannery**") || md.contains("**salt**"),
        "{md}"
    );
    assert!(
        md.contains("### Chapter 5: The Harbor Ledger (pp. 9–10)"),
        "{md}"
    );
    assert!(md.contains("re-read"));
}

#[test]
fn notes_survive_concurrent_askers_while_the_writer_lock_is_held() {
    let fx = Fixture::build(&[("order.txt", legal_filing())], None);
    let id = fx.id("order.txt").to_string();
    let library = fx.library();
    let ctx = context(&library);
    let mut o = ask_options(&id);
    o.save_to_notes = false;
    let answer = ask(&ctx, "What did the court order?", &o, &mut |_| true).unwrap();

    // Another process ingesting holds the writer lock; notes are written anyway.
    let _writer = ingest::Library::open_writer(&fx.library_dir).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (answer, dir) = (answer.clone(), fx.library_dir.clone());
            scope.spawn(move || {
                let library = ingest::Library::open(&dir).unwrap();
                for i in 0..10 {
                    let mut a = answer.clone();
                    a.question = format!("thread {t} question {i}");
                    ingest::qa::append_answer(&library, &a).unwrap();
                }
            });
        }
    });
    let notes = load_notes(&library, &id).unwrap();
    assert_eq!(notes.answers.len(), 40, "an update was lost");
    for t in 0..4 {
        for i in 0..10 {
            let q = format!("thread {t} question {i}");
            assert!(notes.answers.iter().any(|a| a.question == q), "{q} lost");
        }
    }
    // A damaged notes file is set aside, not overwritten, and a fresh one started.
    let path = ingest::qa::notes_path(&library, &id);
    std::fs::write(&path, b"{ damaged").unwrap();
    assert!(load_notes(&library, &id).is_err());
    ingest::qa::append_answer(&library, &answer).unwrap();
    assert_eq!(load_notes(&library, &id).unwrap().answers.len(), 1);
    let aside = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("notes.damaged-")
        })
        .count();
    assert_eq!(aside, 1);
}
