//! The retrieval benchmark in `cargo test`, documents ingested with the bundled demo model and
//! questions asked through the retrieval `ask` uses:
//!
//! - the 30 questions of `eval/retrieval/sample-questions.jsonl` over `sample-docs/`. Fails when
//!   the passage the model reads first (from its checkpoint to its end) holds the answer less
//!   often than measured: 23 of 30 at rank 1 and 24 of 30 in the first three, mean reciprocal
//!   rank 0.799 (less one question of slack for each; for the mean, about one question falling
//!   from rank 1 to 2), or when the passages the model reads before answering hold it for fewer
//!   than 27 of 30 less one (24 when the further passages were chosen among the three shown
//!   only). On these 30 questions the re-ranking by meaning changes little;
//! - the 115 questions of the real set (`eval/retrieval/questions.jsonl`) on its four court
//!   papers (the two books would take minutes to read in a test build): 94 of 115 at rank 1,
//!   MRR 0.880; by words alone, 90 and 0.858 — so this one fails when the re-ranking by meaning
//!   breaks.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

use ingest::qa::{run_retrieval_bench, RetrievalBenchOptions, RetrievalReport};
use ingest::{IngestOptions, PdfOptions, WorkerCommand};
use std::path::{Path, PathBuf};

/// Least share of questions whose first passage holds every keyword.
const MIN_RECALL_AT_1: f64 = 22.0 / 30.0;
/// Least share with every keyword in one of the first three passages.
const MIN_RECALL_AT_3: f64 = 23.0 / 30.0;
/// Least mean reciprocal rank of the passage holding the answer.
const MIN_MRR: f64 = 0.78;
/// Least share whose passages read before the answer hold every keyword between them.
const MIN_RECALL_READ: f64 = 26.0 / 30.0;
/// The real set's books, whose questions the court-papers test leaves out.
const BOOKS: &[&str] = &[
    "\"doc\": \"pride-and-prejudice.txt\"",
    "\"doc\": \"walden.txt\"",
];
/// Court-paper questions at rank 1: measured 94, less one of slack (words alone: 90).
const MIN_COURT_AT_1: usize = 93;
/// Their mean reciprocal rank: measured 0.880, less one question's fall from rank 1 to 2
/// (words alone: 0.858).
const MIN_COURT_MRR: f64 = 0.875;

/// Runs the retrieval benchmark for `questions` (their documents in `docs`) in a fresh library.
fn bench(questions: &Path, docs: &Path) -> RetrievalReport {
    bench_runs(questions, docs, &[false]).remove(0)
}

/// Runs the retrieval benchmark for `questions` once per entry of `within_document` (asking
/// each question of its own document, or of the whole library), in one fresh library.
fn bench_runs(questions: &Path, docs: &Path, within_document: &[bool]) -> Vec<RetrievalReport> {
    let root = repo_root();
    let model_path = root.join("models/demo/rwkv4-demo.safetensors");
    let model = engine::Model::load(&model_path).expect("demo model loads");
    let tokenizer = engine::Tokenizer::for_model(&model_path).expect("demo tokenizer loads");
    let library = tempfile::tempdir().expect("temp dir");
    let mut opts = RetrievalBenchOptions {
        questions: questions.to_path_buf(),
        docs_dir: docs.to_path_buf(),
        library_dir: library.path().to_path_buf(),
        ingest: IngestOptions {
            // The test harness cannot host the PDF extraction subcommand; this package's
            // test-support binary does.
            pdf: PdfOptions {
                worker: Some(WorkerCommand::with_program(env!(
                    "CARGO_BIN_EXE_ingest-test-worker"
                ))),
                ..PdfOptions::default()
            },
            ..IngestOptions::default()
        },
        within_document: false,
    };
    within_document
        .iter()
        .map(|&within| {
            opts.within_document = within;
            run_retrieval_bench(&model, &tokenizer, &opts, &mut |_| {}).expect("bench runs")
        })
        .collect()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The questions that missed at rank 1, one per line, for a failure's message.
fn misses(report: &RetrievalReport) -> String {
    report
        .misses()
        .map(|m| format!("{} ({:?}): {}", m.id, m.answer_rank, m.question))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_passage_read_first_holds_the_answer_for_most_sample_questions() {
    let root = repo_root();
    let mut reports = bench_runs(
        &root.join("eval/retrieval/sample-questions.jsonl"),
        &root.join("sample-docs"),
        &[false, true],
    );
    let within = reports.remove(1);
    let report = reports.remove(0);
    assert_eq!(report.questions, 30);
    // Asked of its own document, every question gets passages of that document only, and at
    // least as many find the answer first as when the whole library is asked.
    assert!(within.within_document && !report.within_document);
    assert_eq!(within.right_document_rate, 1.0);
    assert!(within.recall_at_1 >= report.recall_at_1);
    // The first passage is always read: what it holds, the model has read.
    for o in &report.outcomes {
        assert!(o.answer_rank != Some(1) || o.answer_read, "{}", o.id);
    }
    assert!(
        report.recall_read >= MIN_RECALL_READ,
        "the passages read hold the answer for {:.3} (at least {MIN_RECALL_READ:.3})",
        report.recall_read
    );
    assert!(
        report.recall_at_1 >= MIN_RECALL_AT_1
            && report.recall_at_3 >= MIN_RECALL_AT_3
            && report.mrr >= MIN_MRR,
        "recall@1 {:.3} (at least {MIN_RECALL_AT_1:.3}), recall@3 {:.3} (at least \
         {MIN_RECALL_AT_3:.3}), MRR {:.3} (at least {MIN_MRR:.2}); missed at rank 1:\n{}",
        report.recall_at_1,
        report.recall_at_3,
        report.mrr,
        misses(&report)
    );
    // Every evidence passage names its supporting sentence, inside the passage.
    for outcome in &report.outcomes {
        for p in &outcome.passages {
            let sentence = p
                .supporting_sentence
                .as_deref()
                .expect("a supporting sentence");
            assert!(
                p.text.contains(sentence),
                "{sentence:?} not in {:?}",
                p.text
            );
        }
    }
}

#[test]
fn the_court_papers_of_the_real_set_need_the_re_ranking_by_meaning() {
    let root = repo_root();
    let all = std::fs::read_to_string(root.join("eval/retrieval/questions.jsonl")).unwrap();
    let court: Vec<&str> = all
        .lines()
        .filter(|line| !BOOKS.iter().any(|book| line.contains(book)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let questions = dir.path().join("court-questions.jsonl");
    std::fs::write(&questions, court.join("\n")).unwrap();
    let report = bench(&questions, &root.join("eval/retrieval/docs"));
    assert_eq!(report.questions, 115);
    let at_1 = report
        .outcomes
        .iter()
        .filter(|o| o.answer_rank == Some(1))
        .count();
    assert!(
        at_1 >= MIN_COURT_AT_1 && report.mrr >= MIN_COURT_MRR,
        "{at_1} of 115 at rank 1 (at least {MIN_COURT_AT_1}), MRR {:.3} (at least \
         {MIN_COURT_MRR}); missed at rank 1:\n{}",
        report.mrr,
        misses(&report)
    );
}
