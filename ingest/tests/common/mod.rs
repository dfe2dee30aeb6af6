//! Shared helpers of the ingest integration tests: the bundled demo model, the test worker
//! binary, small-chunk options and a quick ingestion call.
#![allow(dead_code)] // each test binary uses a different subset

use ingest::{IngestOptions, Library, LibraryWriter, PdfOptions, Progress, Summary, WorkerCommand};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn demo_model_path() -> PathBuf {
    repo_root().join("models/demo/rwkv4-demo.safetensors")
}

/// The demo model and its tokenizer, loaded once per test binary.
pub fn demo() -> &'static (engine::Model, engine::Tokenizer) {
    static DEMO: OnceLock<(engine::Model, engine::Tokenizer)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let path = demo_model_path();
        let model = engine::Model::load(&path).expect("demo model loads");
        let tokenizer = engine::Tokenizer::for_model(&path).expect("demo tokenizer loads");
        (model, tokenizer)
    })
}

pub fn worker_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ingest-test-worker"))
}

/// Small chunks and frequent checkpoints so short texts exercise everything; the PDF worker is
/// the test binary (the test harness cannot host the subcommand); hangs are cut after 3 s.
pub fn test_options() -> IngestOptions {
    IngestOptions {
        target_chunk_tokens: 64,
        // Exactly every 2 chunks: tests count and place checkpoints (checkpoint_spacing.rs tests
        // the spacing chosen for a wait).
        checkpoint_every_chunks: 2,
        spacing: None,
        pdf: PdfOptions {
            worker: Some(WorkerCommand::with_program(worker_binary())),
            stall_timeout: Duration::from_secs(3),
            ..PdfOptions::default()
        },
        ..IngestOptions::default()
    }
}

/// Runs an ingestion of `paths`, collecting the progress events.
pub fn ingest(
    writer: &mut LibraryWriter,
    paths: &[PathBuf],
    options: &IngestOptions,
) -> (Summary, Vec<Progress>) {
    let (model, tokenizer) = demo();
    let mut events = Vec::new();
    let cancel = AtomicBool::new(false);
    let summary = ingest::run(
        paths,
        writer,
        model,
        tokenizer,
        options,
        &mut |p| events.push(p),
        &cancel,
    )
    .expect("ingestion run");
    (summary, events)
}

/// Writes `text` to `dir/name`, creating folders.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// A few paragraphs of distinct, searchable prose, about `paragraphs * 60` tokens.
pub fn prose(topic: &str, paragraphs: usize) -> String {
    let mut s = String::new();
    for p in 0..paragraphs {
        s.push_str(&format!(
            "Paragraph {p} about {topic}. The witness described the {topic} in detail, and counsel \
             asked whether the {topic} had been inspected before the lease was signed. The answer \
             was recorded on the transcript, page {p}, and the court noted it.\n\n"
        ));
    }
    s
}

pub fn open_library(dir: &Path) -> Library {
    Library::open(dir).expect("library opens")
}
