//! # rwkv-ingest: the document library of rwkv-reader
//!
//! Turns books and folders of case files into a library that can be questioned without
//! re-reading: each document's text with page spans, its chunks (~512 tokens, cut at paragraph
//! or sentence boundaries), the model's state checkpointed every few chunks, and a tantivy index
//! of the chunks. It never touches a terminal; progress is a typed value ([`Progress`]).
//!
//! Stages, one module each: `discover` → `extract` (`decode`, `html`, `gutenberg`, `pdf` in a
//! worker process, `hyphenation`) → `chunk` → read through the model with `checkpoint`s →
//! `index`. [`run`] (`pipeline`) drives them; [`Library`] answers queries; `check` verifies
//! every stored part and `repair` rebuilds what is damaged. On-disk layout: `LAYOUT.md`.
//!
//! ## Ingest a folder, then search it
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use ingest::{IngestOptions, Library};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = engine::Model::load("models/demo/rwkv4-demo.safetensors".as_ref())?;
//! let tokenizer = engine::Tokenizer::for_model("models/demo/rwkv4-demo.safetensors".as_ref())?;
//! let mut writer = Library::open_writer(&Library::default_dir())?; // "library in use" if taken
//! let cancel = AtomicBool::new(false); // set it from another thread to stop; the next run resumes
//! let summary = ingest::run(
//!     &["cases/".into()], &mut writer, &model, &tokenizer, &IngestOptions::default(),
//!     &mut |p| eprintln!("{:?} {:.0} tok/s", p.event, p.totals.tokens_per_second),
//!     &cancel,
//! )?;
//! for f in &summary.files {
//!     println!("{} {:?} {}", f.path.display(), f.status, f.reason.as_deref().unwrap_or(""));
//! }
//!
//! // Readers work while a writer is busy, in this process or another.
//! let library = Library::open(&Library::default_dir())?;
//! for hit in library.search("summary judgment", 5, None)? {
//!     println!("{} pp. {}-{}: {:?}", hit.title, hit.pages.0, hit.pages.1, hit.snippet.map(|s| s.text));
//! }
//! # Ok(()) }
//! ```
//!
//! ## From a hit to a state (what `ask` does)
//! ```no_run
//! # fn f(library: &ingest::Library, model: &dyn engine::LanguageModel, tokenizer: &engine::Tokenizer,
//! #      hit: &ingest::SearchHit) -> Result<(), ingest::IngestError> {
//! let text = library.document_text(&hit.document_id)?;
//! let chunks = library.chunks(&hit.document_id)?;
//! // Nearest checkpoint at or before the hit's chunk (damaged ones skipped), or a fresh state.
//! let mut start = library.start_point(&hit.document_id, model, hit.chunk_index)?;
//! for chunk in &chunks[start.chunks_read as usize..=hit.chunk_index as usize] {
//!     let tokens = ingest::chunk_tokens(tokenizer, &text, chunk)?;
//!     model.read(&tokens, &mut start.state).map_err(|e| ingest::IngestError::Model(e.to_string()))?;
//! }
//! // start.state is now the state right after the hit's chunk; checkpoints are never modified.
//! # Ok(()) }
//! ```
//!
//! ## The PDF worker
//! PDFs are extracted in a child process. The binary that uses this crate must dispatch the hidden
//! subcommand first thing in `main`:
//! ```no_run
//! let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
//! if args.get(1).is_some_and(|a| a == ingest::WORKER_SUBCOMMAND) {
//!     std::process::exit(ingest::worker_main(&args[2..]));
//! }
//! ```

mod atomic_file;
mod check;
mod checkpoint;
mod chunk;
mod decode;
mod digest;
mod discover;
mod document;
mod error;
mod extract;
mod gutenberg;
mod html;
mod hyphenation;
mod ignore_file;
mod index;
mod index_check;
mod library;
mod library_writer;
mod lock;
mod pdf;
mod pipeline;
mod progress;
pub mod qa;
mod repair;
mod semantic;

pub use check::{check_library, CheckReport, Part, Problem, Remedy};
pub use checkpoint::{CheckpointHeader, CheckpointInfo};
pub use chunk::{page_at_byte, Chunk, TextEncoder};
pub use discover::DocumentKind;
pub use document::{document_id_for_path, DocumentRecord, DocumentStatus};
pub use error::{IngestError, Result};
pub use extract::PageSpan;
pub use ignore_file::IGNORE_FILE_NAME;
pub use index::Snippet;
pub use library::{chunk_tokens, Library, ReadingProgress, SearchHit, StartPoint};
pub use library_writer::LibraryWriter;
pub use pdf::{
    extract_pdf, extract_pdf_cancellable, remove_page_furniture, run_worker_if_asked, worker_main,
    PageStatus, PdfError, PdfOptions, PdfPage, WorkerCommand, WORKER_SUBCOMMAND,
};
pub use pipeline::{read_stored, run, IngestOptions, SpacingTarget};
pub use progress::{
    FileOutcome, OutcomeStatus, PrepareStage, Progress, ProgressEvent, Summary, Totals,
};
pub use repair::{repair_library, RepairAction, RepairReport, RepairTools};

/// Measuring helpers that reading a document does not need: the time-to-first-answer benchmark
/// on synthetic documents (`rwkv-reader bench --ask`).
pub mod tools {
    /// Time to the first answer token on synthetic documents with planted questions.
    pub mod ask_bench {
        pub use crate::qa::bench::*;
    }
}

/// The library's files as `ingest/LAYOUT.md` describes them, for tools and tests that look inside
/// a library: where a checkpoint lives and how one is read, the digest every stored part is
/// checked with, and what the index holds.
pub mod layout {
    pub use crate::checkpoint::{checkpoint_dir, checkpoint_path, read_checkpoint};
    pub use crate::digest::sha256_hex;
    pub use crate::index_check::read_index_contents;
}
