//! Asking questions of an ingested library with the real demo model: citations point at the
//! right page, checkpoints are never changed, questions never leak into each other, the text
//! re-read is bounded by the checkpoint spacing, as-of-page never looks ahead, a document still
//! being read answers from what was read.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod qa_support;

use ingest::qa::{
    ask, ask_each, summarize, AskEvent, DocumentAnswerOutcome, EvidenceRole, QaError,
    SummaryOptions,
};
use qa_support::*;

/// One ingestion of the book serves these checks (reading it is the slow part); asking must
/// leave every checkpoint file as it was, whatever was asked.
#[test]
fn questions_about_a_read_book() {
    let fx = Fixture::build(&[("book.txt", book())], None);
    let checkpoints_dir = fx.library_dir.join("checkpoints");
    let before = digests(&checkpoints_dir);
    assert!(
        before.len() > 10,
        "expected many checkpoints, got {}",
        before.len()
    );

    evidence_cites_the_page_the_words_are_on(&fx);
    tokens_reread_are_bounded_by_spacing_passage_and_prompt(&fx);
    as_of_page_never_cites_later_pages(&fx);
    asking_about_one_section(&fx);
    questions_never_leak(&fx);

    assert_eq!(
        digests(&checkpoints_dir),
        before,
        "a checkpoint file changed"
    );
}

fn evidence_cites_the_page_the_words_are_on(fx: &Fixture) {
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");
    let mut events = Vec::new();
    let answer = ask(
        &ctx,
        "What did the cannery pay for salt?",
        &ask_options(id),
        &mut |e| {
            events.push(match e {
                AskEvent::Evidence { evidence, .. } => format!("evidence:{}", evidence.len()),
                AskEvent::Text(t) => format!("text:{t}"),
                AskEvent::Skipped { .. } => "skipped".into(),
            });
            true
        },
    )
    .unwrap();
    let best = &answer.evidence[0];
    assert_eq!(best.role, EvidenceRole::Read);
    assert_eq!(best.document_id, id);
    assert!(
        best.pages.0 <= 9 && 9 <= best.pages.1,
        "cited {:?}",
        best.pages
    );
    let snippet = best.snippet.as_ref().expect("snippet");
    let marked: Vec<String> = snippet
        .highlights
        .iter()
        .map(|r| snippet.text[r.clone()].to_lowercase())
        .collect();
    assert!(
        marked.iter().any(|w| w == "cannery" || w == "salt"),
        "{marked:?}"
    );
    // Evidence is announced before any answer text, and the streamed text is the answer.
    assert!(events[0].starts_with("evidence:"), "{events:?}");
    let streamed: String = events[1..]
        .iter()
        .map(|e| e.trim_start_matches("text:"))
        .collect();
    assert_eq!(streamed.trim(), answer.text);
    // The state came from a checkpoint at or before the passage.
    let ckpt = answer.provenance.checkpoint.as_ref().expect("a checkpoint");
    assert!(ckpt.chunks_read <= best.chunk_index);
    assert!(answer.provenance.reading.complete);
    assert!(answer.notices.iter().any(|n| n.contains("demo model")));
    // The answer is in the document's notes.
    let notes = ingest::qa::load_notes(&library, id).unwrap();
    assert_eq!(notes.answers.last().unwrap().question, answer.question);
}

fn asking_about_one_section(fx: &Fixture) {
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");
    let sections = ingest::qa::document_sections(&library, demo().0.fingerprint(), id).unwrap();
    let (chapter2, chapter3) = (&sections[1], &sections[2]);
    let mut o = ask_options(id);
    o.within_bytes = Some(chapter2.byte_range.clone());
    let a = ask(
        &ctx,
        "Where was the brass astrolabe buried?",
        &o,
        &mut |_| true,
    )
    .unwrap();
    let e = &a.evidence[0];
    assert!(
        e.byte_range.start < chapter2.byte_range.end
            && e.byte_range.end > chapter2.byte_range.start
    );
    assert!(
        a.evidence.iter().all(|e| e.pages.1 <= 4),
        "{:?}",
        a.evidence
    );
    // Nothing in chapter 3 matches: the model reads the chapter itself.
    o.within_bytes = Some(chapter3.byte_range.clone());
    let a = ask(&ctx, "What colour was the sky?", &o, &mut |_| true).unwrap();
    assert_eq!(a.evidence.len(), 1);
    assert_eq!(a.evidence[0].byte_range, chapter3.byte_range);
    assert_eq!(a.evidence[0].pages, (5, 6));
    assert_eq!(
        a.provenance.material.as_ref().unwrap().byte_range.end,
        chapter3.byte_range.end
    );
    assert!(a
        .notices
        .iter()
        .any(|n| n.contains("read the section itself")));
}

fn questions_never_leak(fx: &Fixture) {
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");
    let opts = ask_options(id);
    let q = "Where was the brass astrolabe buried?";
    let first = ask(&ctx, q, &opts, &mut |_| true).unwrap();
    let others = [
        "What did the cannery pay for salt?",
        "Who repaired the cupola of the beacon?",
        "Who found the astrolabe near the weir?",
        "What happened in the market square?",
    ];
    for (i, other) in others.iter().enumerate() {
        let mut o = opts.clone();
        o.sampler.seed = 100 + i as u64;
        o.whole = i % 2 == 1;
        o.as_of_page = (i == 2).then_some(10);
        ask(&ctx, other, &o, &mut |_| true).unwrap();
    }
    let again = ask(&ctx, q, &opts, &mut |_| true).unwrap();
    assert_eq!(again.text, first.text);
    assert_eq!(again.evidence, first.evidence);
    assert_eq!(again.provenance.checkpoint, first.provenance.checkpoint);
    assert_eq!(again.provenance.material, first.provenance.material);
    assert_eq!(
        again.provenance.generated_tokens,
        first.provenance.generated_tokens
    );

    // Another process (a fresh library handle) gets the same answer too.
    let library2 = fx.library();
    let third = ask(&context(&library2), q, &opts, &mut |_| true).unwrap();
    assert_eq!(third.text, first.text);
}

fn tokens_reread_are_bounded_by_spacing_passage_and_prompt(fx: &Fixture) {
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");
    let chunks = library.chunks(id).unwrap();
    let total_tokens: u64 = chunks.iter().map(|c| u64::from(c.token_count)).sum();
    // The most tokens between two checkpoints.
    let spacing_tokens: u64 = chunks
        .windows(CHECKPOINT_EVERY)
        .map(|w| w.iter().map(|c| u64::from(c.token_count)).sum::<u64>())
        .max()
        .unwrap();
    let (_, tokenizer) = demo();
    for q in [
        "Where was the brass astrolabe buried?",
        "What did the cannery pay for salt?",
        "Who found the astrolabe near the weir?",
        "Who repaired the cupola of the beacon?",
    ] {
        let a = ask(&ctx, q, &ask_options(id), &mut |_| true).unwrap();
        let p = &a.provenance;
        // Tokens of the chunks a passage overlaps: what reading it can cost at most.
        let chunk_tokens = |range: &std::ops::Range<u64>| -> u64 {
            chunks
                .iter()
                .filter(|c| c.byte_start < range.end && range.start < c.byte_end)
                .map(|c| u64::from(c.token_count))
                .sum()
        };
        // The best passage is read from a checkpoint at most one spacing before it.
        let passage_tokens = chunk_tokens(&a.evidence[0].byte_range);
        let first = p.passages[0].span.tokens;
        assert!(
            first <= spacing_tokens + passage_tokens,
            "{q}: re-read {first} > spacing {spacing_tokens} + passage {passage_tokens}"
        );
        // Each further passage costs at most its own text, and nothing else is re-read.
        for further in &p.passages[1..] {
            let own = chunk_tokens(&a.evidence[further.evidence_index].byte_range);
            assert!(further.span.tokens <= own + 8, "{q}: {further:?}");
        }
        assert_eq!(
            p.reread_tokens,
            p.passages.iter().map(|r| r.span.tokens).sum::<u64>()
        );
        let ckpt = p.checkpoint.as_ref().expect("checkpoint");
        let passage = &chunks[a.evidence[0].chunk_index as usize];
        assert!(passage.index - ckpt.chunks_read < CHECKPOINT_EVERY as u32);
        // The prompt is the question twice, a few words of template and a page label per
        // passage.
        let question_tokens = tokenizer.encode(q).unwrap().len() as u64;
        let labels = 10 * p.passages.len() as u64;
        assert!(
            p.prompt_tokens <= 2 * question_tokens + 40 + labels,
            "{q}: prompt {}",
            p.prompt_tokens
        );
        // On a long document the best passage read from its checkpoint is a small part of it.
        let mut one = ask_options(id);
        one.passages_read = 1;
        let a = ask(&ctx, q, &one, &mut |_| true).unwrap();
        let fed = a.provenance.reread_tokens + a.provenance.prompt_tokens;
        assert!(fed * 8 < total_tokens, "{q}: fed {fed} of {total_tokens}");
    }
    // The whole-document state needs no re-reading at all.
    let mut o = ask_options(id);
    o.whole = true;
    let gist = ask(&ctx, "What is this book about?", &o, &mut |_| true).unwrap();
    assert_eq!(gist.provenance.reread_tokens, 0);
    assert!(gist
        .evidence
        .iter()
        .all(|e| e.role == EvidenceRole::AlsoMatched));
}

fn as_of_page_never_cites_later_pages(fx: &Fixture) {
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");
    let q = "Who found the brass astrolabe near the weir?";
    // Without a limit the best passage is on page 12.
    let unlimited = ask(&ctx, q, &ask_options(id), &mut |_| true).unwrap();
    assert!(
        unlimited.evidence[0].pages.1 >= 12,
        "{:?}",
        unlimited.evidence[0].pages
    );

    let limit_end = page_end(&library, id, 8);
    for whole in [false, true] {
        let mut o = ask_options(id);
        o.as_of_page = Some(8);
        o.whole = whole;
        o.passages = 10;
        let a = ask(&ctx, q, &o, &mut |_| true).unwrap();
        assert!(!a.evidence.is_empty());
        for e in &a.evidence {
            assert!(e.pages.1 <= 8, "cited {:?} as of page 8", e.pages);
            assert!(e.byte_range.end <= limit_end);
            let s = e.snippet.as_ref().unwrap();
            assert!(s.byte_start + s.text.len() as u64 <= limit_end);
        }
        if !whole {
            assert!(a.evidence[0].pages.0 <= 3 && 3 <= a.evidence[0].pages.1);
        }
        let p = &a.provenance;
        assert_eq!(p.as_of_page, Some(8));
        assert!(p.visible_until_byte <= limit_end);
        assert!(p.checkpoint.as_ref().unwrap().page <= 8);
        let passages = p.passages.iter().map(|r| &r.span);
        for span in [&p.material, &p.lead_in]
            .into_iter()
            .flatten()
            .chain(passages)
        {
            assert!(
                span.byte_range.end <= limit_end && span.pages.1 <= 8,
                "{span:?}"
            );
        }
        assert!(a.notices.iter().any(|n| n.contains("up to page 8")));
    }
    // Words that only appear after page 8: no passage; without the fallback that is an error,
    // with it the answer comes from the state at page 8 and says so.
    let mut o = ask_options(id);
    o.as_of_page = Some(8);
    o.fallback_to_whole = false;
    let err = ask(&ctx, "Who repaired the cupola?", &o, &mut |_| true).unwrap_err();
    assert!(matches!(err, QaError::NoMatch { .. }), "{err}");
    o.fallback_to_whole = true;
    let a = ask(&ctx, "Who repaired the cupola?", &o, &mut |_| true).unwrap();
    assert!(a.evidence.is_empty());
    assert!(a.provenance.visible_until_byte <= limit_end);
    assert!(a.notices.iter().any(|n| n.contains("No passage matched")));
}

#[test]
fn a_document_still_being_read_answers_from_what_was_read() {
    let fx = Fixture::build(&[("book.txt", book())], Some(16));
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("book.txt");
    let progress = library
        .reading_progress(id, demo().0.fingerprint())
        .unwrap();
    assert!(
        !progress.is_complete() && progress.chunks_read >= 16,
        "{progress:?}"
    );
    let read_until = library.chunks(id).unwrap()[progress.chunks_read as usize - 1].byte_end;

    let a = ask(
        &ctx,
        "Where was the brass astrolabe buried?",
        &ask_options(id),
        &mut |_| true,
    )
    .unwrap();
    assert!(!a.provenance.reading.complete);
    assert!(
        a.notices.iter().any(|n| n.contains("still being read")),
        "{:?}",
        a.notices
    );
    assert!(a.evidence.iter().all(|e| e.byte_range.end <= read_until));
    assert!(a.evidence[0].pages.0 <= 3 && 3 <= a.evidence[0].pages.1);

    // The gist of what was read: from the latest checkpoint, nothing re-read.
    let mut o = ask_options(id);
    o.whole = true;
    let gist = ask(&ctx, "What has happened so far?", &o, &mut |_| true).unwrap();
    assert_eq!(gist.provenance.reread_tokens, 0);
    assert_eq!(
        gist.provenance.checkpoint.as_ref().unwrap().chunks_read,
        progress.chunks_read
    );

    // Summaries cover the sections read so far; the others wait.
    let mut so = SummaryOptions::default();
    so.sampler.max_tokens = 4;
    let report = summarize(&ctx, id, &so, &mut |_| true).unwrap();
    assert!(!report.summaries.is_empty() && !report.pending.is_empty());
    assert!(report
        .summaries
        .iter()
        .all(|s| s.section.byte_range.end <= read_until));
    assert!(report
        .notices
        .iter()
        .any(|n| n.contains("still being read")));
}

#[test]
fn ask_each_answers_every_document_from_its_own_passage() {
    let fx = Fixture::book_order_and_plain_text();
    let library = fx.library();
    let ctx = context(&library);
    let mut o = ask_options(fx.id("book.txt"));
    o.documents = None;
    let mut skipped = Vec::new();
    let results = ask_each(&ctx, "What did the cannery pay for salt?", &o, &mut |e| {
        if let AskEvent::Skipped { document, .. } = e {
            skipped.push(document.title.clone());
        }
        true
    })
    .unwrap();
    assert_eq!(results.len(), 3);
    for r in &results {
        match (&r.outcome, r.document.title.as_str()) {
            (DocumentAnswerOutcome::Answered { answer }, "book.txt") => {
                assert_eq!(answer.evidence[0].document_id, r.document.id);
            }
            (DocumentAnswerOutcome::Skipped { reason }, "order.txt" | "plain.txt") => {
                assert!(reason.contains("no passage matches"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    skipped.sort();
    assert_eq!(skipped, ["order.txt", "plain.txt"]);
    // Every outcome serialises for --json.
    let json = serde_json::to_string(&results).unwrap();
    assert!(json.contains("\"status\":\"answered\"") && json.contains("\"status\":\"skipped\""));
}

#[test]
fn a_damaged_checkpoint_is_passed_over_with_a_warning() {
    let fx = Fixture::build(&[("order.txt", legal_filing())], None);
    let library = fx.library();
    let ctx = context(&library);
    let id = fx.id("order.txt");
    let q = "Was the motion granted or denied for these reasons?";
    let clean = ask(&ctx, q, &ask_options(id), &mut |_| true).unwrap();
    let used = clean.provenance.checkpoint.clone().expect("a checkpoint");
    let (infos, _) = library.checkpoints(id, demo().0.fingerprint()).unwrap();
    let path = &infos
        .iter()
        .find(|c| c.header.chunks_read == used.chunks_read)
        .unwrap()
        .path;
    // Flip one byte of the state: the checksum no longer matches.
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0xff;
    std::fs::write(path, &bytes).unwrap();

    let a = ask(&ctx, q, &ask_options(id), &mut |_| true).unwrap();
    assert_eq!(a.evidence[0].chunk_index, clean.evidence[0].chunk_index);
    let fallback = a
        .provenance
        .checkpoint
        .as_ref()
        .map_or(0, |c| c.chunks_read);
    assert!(
        fallback < used.chunks_read,
        "the damaged checkpoint was used"
    );
    // The best passage is re-read from further back (further passages may then be covered by
    // it, so the total is compared for the best passage alone).
    let material_tokens = |a: &ingest::qa::Answer| a.provenance.material.as_ref().unwrap().tokens;
    assert!(material_tokens(&a) > material_tokens(&clean));
    assert!(
        a.notices.iter().any(|n| n.contains("damaged")),
        "{:?}",
        a.notices
    );
}

#[test]
fn a_question_naming_the_author_reads_the_passage_not_the_title_page() {
    // A memoir says "I": its author's surname stands only on the title page, beside the words
    // of the title and contents that the question shares.
    let memoir = format!(
        "A YEAR AT THE POND\n\nBy Ada Whitcombe\n\n\nContents\n\n1. The Pond\n2. Beans\n\n\n{}\n\n\
         That spring I planted beans along the pond, seven long rows, and hoed them every \
         morning before the heat.\n\n{}",
        filler(7, 4_000),
        filler(8, 600)
    );
    let fx = Fixture::build(&[("memoir.txt", memoir)], None);
    let library = fx.library();
    let ctx = context(&library);
    let answer = ask(
        &ctx,
        "What did Whitcombe plant near the pond?",
        &ask_options(fx.id("memoir.txt")),
        &mut |_| true,
    )
    .unwrap();
    let support = answer.evidence[0].supporting_sentence.as_ref().unwrap();
    assert!(
        support.text.contains("planted beans"),
        "the first passage is the title page: {support:?}"
    );
}

#[test]
fn a_question_naming_no_document_goes_to_the_one_about_its_words() {
    // A long book holds every word of the question once somewhere, four of them together; a
    // short decision is about the union and its president from start to end.
    let pieces = [
        "The union of the two farms was remembered.",
        "The president of the guild came in spring.",
        "It was a long winter.",
        "At dusk the former gate was locked, and the carters went back to pay the miller.",
    ];
    let mut book = String::new();
    for (k, piece) in pieces.iter().enumerate() {
        book.push_str(&filler(20 + k as u64, 3_000));
        book.push_str("\n\n");
        book.push_str(piece);
        book.push_str("\n\n");
    }
    book.push_str(&filler(30, 3_000));
    let decision = "DECISION AND ORDER\n\n\
        The plaintiffs are members of the correction officers' union. They sue the union's \
        president and its board.\n\n\
        The union's president steered the union's funds into a hedge fund, and the union lost \
        its money. The board of the union did nothing.\n\n\
        Seabrook, once president of the union, was convicted in federal court. He was \
        sentenced to five years of prison and ordered to repay $19 million.\n\n\
        The members asked the union's board to sue the president; the board refused. The motion \
        to dismiss is denied."
        .to_string();
    let fx = Fixture::build(&[("book.txt", book), ("decision.txt", decision)], None);
    let library = fx.library();
    let ctx = context(&library);
    let mut options = ask_options(fx.id("book.txt"));
    options.documents = None;
    let answer = ask(
        &ctx,
        "How long was the former union president locked up, and what did he have to pay back?",
        &options,
        &mut |_| true,
    )
    .unwrap();
    let first = &answer.evidence[0];
    assert_eq!(
        first.title, "decision.txt",
        "the first passage is the book's: {:?}",
        first.supporting_sentence
    );
}
