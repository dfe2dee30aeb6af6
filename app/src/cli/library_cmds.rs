//! Library subcommands: `ingest`, `search`, `ask`, `summarize`, `export`, and the hidden PDF
//! extraction worker that ingestion re-executes this binary as.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;

use super::Context;

/// `rwkv-reader ingest PATH...`.
#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Files or folders to read (recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Save the model's state every N chunks [default: about every 4,096 tokens].
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Print the per-file outcome summary as JSON instead of a progress bar and a table.
    #[arg(long)]
    pub json: bool,
}

/// `rwkv-reader search QUERY`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Words to search for.
    pub query: String,
    /// Only this document (name or id).
    #[arg(long, value_name = "NAME")]
    pub doc: Option<String>,
    /// Hits to print at most.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print the hits as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rwkv-reader ask QUESTION`.
#[derive(Debug, Clone, Args)]
pub struct AskArgs {
    /// The question.
    pub question: String,
    /// Only this document (name or id).
    #[arg(long, value_name = "NAME")]
    pub doc: Option<String>,
    /// Ask the document's final state (gist questions) instead of the best passage.
    #[arg(long)]
    pub whole: bool,
    /// Use only text and checkpoints up to this page.
    #[arg(long, value_name = "N")]
    pub as_of_page: Option<u32>,
    /// Ask every document in the library, each from its own passage.
    #[arg(long, conflicts_with = "doc")]
    pub all: bool,
    /// Most tokens in the answer.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    /// Print the answer, citations and provenance as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rwkv-reader summarize`.
#[derive(Debug, Clone, Args)]
pub struct SummarizeArgs {
    /// The document (name or id) [default: the only one in the library].
    #[arg(long, value_name = "NAME")]
    pub doc: Option<String>,
    /// Write the summaries again even if they exist.
    #[arg(long)]
    pub refresh: bool,
    /// Print the summaries as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rwkv-reader export --doc NAME`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The document (name or id).
    #[arg(long, value_name = "NAME")]
    pub doc: String,
    /// File to write [default: standard output].
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `ingest`.
pub fn ingest(_ctx: &Context, _args: IngestArgs) -> Result<ExitCode> {
    bail!("`ingest` is not built yet")
}

/// Runs `search`.
pub fn search(_ctx: &Context, _args: SearchArgs) -> Result<ExitCode> {
    bail!("`search` is not built yet")
}

/// Runs `ask`.
pub fn ask(ctx: &Context, args: AskArgs) -> Result<ExitCode> {
    super::qa_cmds::ask(ctx, &args)
}

/// Runs `summarize`.
pub fn summarize(ctx: &Context, args: SummarizeArgs) -> Result<ExitCode> {
    super::qa_cmds::summarize(ctx, &args)
}

/// Runs `export`.
pub fn export(ctx: &Context, args: ExportArgs) -> Result<ExitCode> {
    super::qa_cmds::export(ctx, &args)
}

/// The hidden `__extract-pdf` worker: extracts a PDF page by page for the parent process.
pub fn extract_pdf_worker(args: &[OsString]) -> ExitCode {
    let code = ingest::pdf::worker_main(args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
