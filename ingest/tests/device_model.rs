//! The whole ingest → ask flow through `engine::LanguageModel` with the model run as candle tensor
//! operations (`engine::DeviceModel` on candle's CPU device — the code a GPU runs, on the CPU), on
//! the sample case files, against the CPU engine: same checkpoints within the stated tolerance,
//! same citations, and a library read on one resumed by the other.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use engine::LanguageModel;
use ingest::qa::{ask, AskOptions, QaContext, QaError};
use ingest::{IngestOptions, Library, PdfOptions, WorkerCommand};

/// States computed with f32 matrices on different devices agree to this relative tolerance
/// (engine/RWKV4.md §7): |a − b| ≤ TOL · (1 + |a|) for every float of every checkpoint.
const STATE_TOLERANCE: f32 = 1e-4;

fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo/rwkv4-demo.safetensors")
}

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-docs/cases")
}

fn options() -> IngestOptions {
    IngestOptions {
        checkpoint_every_chunks: 2,
        spacing: None,
        // The test harness cannot host the PDF extraction subcommand; this package's
        // test-support binary does.
        pdf: PdfOptions {
            worker: Some(WorkerCommand::with_program(env!(
                "CARGO_BIN_EXE_ingest-test-worker"
            ))),
            ..PdfOptions::default()
        },
        ..IngestOptions::default()
    }
}

fn ingest_with(model: &dyn LanguageModel, tokenizer: &engine::Tokenizer, dir: &Path) {
    let mut writer = Library::open_writer(dir).unwrap();
    let summary = ingest::run(
        &[cases()],
        &mut writer,
        model,
        tokenizer,
        &options(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(
        summary.count(ingest::OutcomeStatus::Failed),
        0,
        "{:?}",
        summary.files
    );
    assert!(summary.count(ingest::OutcomeStatus::Ingested) >= 8);
}

/// Every checkpoint of `library` as (document id, chunks read, state).
fn states(library: &Library, model: &dyn LanguageModel) -> Vec<(String, u32, engine::State)> {
    let mut out = Vec::new();
    for doc in library.documents().unwrap() {
        let (found, damaged) = library.checkpoints(&doc.id, model.fingerprint()).unwrap();
        assert!(damaged.is_empty());
        for info in found {
            let (_, bytes) =
                ingest::layout::read_checkpoint(&info.path, &model.fingerprint().0, &doc.digest)
                    .unwrap();
            let state = engine::State::from_bytes(&bytes, model.fingerprint()).unwrap();
            out.push((doc.id.clone(), info.header.chunks_read, state));
        }
    }
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    out
}

fn answer(
    library: &Library,
    model: &dyn LanguageModel,
    tokenizer: &engine::Tokenizer,
) -> ingest::qa::Answer {
    let ctx = QaContext::new(library, model, tokenizer);
    let mut options = AskOptions::default();
    options.sampler.max_tokens = 8;
    options.sampler.seed = 5;
    let answer = ask(
        &ctx,
        "What was the liability cap in the lease?",
        &options,
        &mut |_| true,
    )
    .unwrap();
    assert_eq!(answer.provenance.device, model.device());
    answer
}

fn cited(
    library: &Library,
    model: &dyn LanguageModel,
    tokenizer: &engine::Tokenizer,
) -> Vec<String> {
    answer(library, model, tokenizer)
        .evidence
        .iter()
        .map(|e| {
            format!(
                "{} p.{}-{} {:?}",
                e.document_id, e.pages.0, e.pages.1, e.role
            )
        })
        .collect()
}

#[test]
fn reading_and_asking_on_a_candle_device_match_the_cpu_engine() {
    let path = demo_path();
    let cpu = engine::Model::load(&path).unwrap();
    let tokenizer = engine::Tokenizer::for_model(&path).unwrap();
    let device = engine::device_by_name("cpu").unwrap();
    let on_device = engine::DeviceModel::new(&cpu, &device).unwrap();
    assert_eq!(on_device.device(), "candle-cpu");
    // f32 matrices compute the same numbers within rounding: one fingerprint, shared checkpoints.
    assert_eq!(on_device.fingerprint(), cpu.fingerprint());

    let root = tempfile::tempdir().unwrap();
    let (cpu_dir, device_dir) = (root.path().join("cpu"), root.path().join("device"));
    ingest_with(&cpu, &tokenizer, &cpu_dir);
    ingest_with(&on_device, &tokenizer, &device_dir);
    let (cpu_lib, device_lib) = (
        Library::open(&cpu_dir).unwrap(),
        Library::open(&device_dir).unwrap(),
    );

    let (a, b) = (states(&cpu_lib, &cpu), states(&device_lib, &on_device));
    assert!(a.len() > 10, "{} checkpoints", a.len());
    assert_eq!(a.len(), b.len());
    let mut worst = 0.0f32;
    for ((doc_a, at_a, sa), (doc_b, at_b, sb)) in a.iter().zip(&b) {
        assert_eq!((doc_a, at_a), (doc_b, at_b));
        for (la, lb) in sa.layers.iter().zip(&sb.layers) {
            for (va, vb) in la.vectors().into_iter().zip(lb.vectors()) {
                for (x, y) in va.iter().zip(vb.iter()) {
                    worst = worst.max((x - y).abs() / (1.0 + x.abs()));
                }
            }
        }
    }
    assert!(
        worst <= STATE_TOLERANCE,
        "states differ by {worst} (relative)"
    );
    eprintln!("worst relative difference of a checkpoint float: {worst:e}");

    // Same passages cited, each model in its own library and across: the engine answers from
    // the checkpoints the device read, and the device from the engine's.
    let want = cited(&cpu_lib, &cpu, &tokenizer);
    assert!(!want.is_empty());
    assert_eq!(cited(&device_lib, &on_device, &tokenizer), want);
    assert_eq!(cited(&device_lib, &cpu, &tokenizer), want);
    assert_eq!(cited(&cpu_lib, &on_device, &tokenizer), want);
}

#[test]
fn a_library_read_in_f32_is_never_resumed_by_q8_0_matrices_on_a_device() {
    let path = demo_path();
    let cpu = engine::Model::load(&path).unwrap();
    let tokenizer = engine::Tokenizer::for_model(&path).unwrap();
    let device = engine::device_by_name("cpu").unwrap();
    let q8 =
        engine::DeviceModel::with_matrices(&cpu, &device, engine::DeviceMatrices::Q8_0).unwrap();
    assert_ne!(q8.fingerprint(), cpu.fingerprint());
    assert!(
        q8.fingerprint().0.contains("q8_0candlecpu"),
        "{}",
        q8.fingerprint()
    );
    assert_eq!(q8.info().precision, "q8_0");

    let root = tempfile::tempdir().unwrap();
    ingest_with(&cpu, &tokenizer, root.path());
    let library = Library::open(root.path()).unwrap();
    // The engine answers from its checkpoints; the Q8_0 device model finds none of its own and
    // says so, instead of forking a state computed with other numbers.
    let from_engine = answer(&library, &cpu, &tokenizer);
    assert!(from_engine.provenance.checkpoint.is_some());
    let ctx = QaContext::new(&library, &q8, &tokenizer);
    let refused = ask(
        &ctx,
        "What was the liability cap in the lease?",
        &AskOptions::default(),
        &mut |_| true,
    );
    match refused {
        Err(QaError::NotReadByThisModel { model }) => {
            assert!(model.contains("q8_0 on candle-cpu"), "{model}")
        }
        other => panic!("expected NotReadByThisModel, got {other:?}"),
    }

    // Read with it, the library holds both models' checkpoints side by side, and each answers
    // from its own.
    ingest_with(&q8, &tokenizer, root.path());
    let library = Library::open(root.path()).unwrap();
    let from_q8 = answer(&library, &q8, &tokenizer);
    assert!(from_q8.provenance.checkpoint.is_some());
    assert_eq!(from_q8.provenance.model_fingerprint, q8.fingerprint().0);
    // The engine's own answer is unchanged by the other model's checkpoints.
    let mut again = answer(&library, &cpu, &tokenizer);
    again.provenance.timing = from_engine.provenance.timing;
    assert_eq!(again.provenance, from_engine.provenance);
    assert_eq!(again.text, from_engine.text);
}
