//! Library subcommands: `ingest`, `search`, `ask`, `summarize`, `export`, and the hidden PDF
//! extraction worker that ingestion re-executes this binary as. (`check` is in `check_cmd`.)

use anyhow::{Context as _, Result};
use clap::Args;
use ingest::qa::{marked_snippet, page_label, SupportingSentence};
use ingest::{Library, OutcomeStatus, Summary};
use std::ffi::OsString;
use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::library_access::{load_model, matching_documents, open_library};
use super::progress_line::ProgressLine;
use super::terminal_text::{highlight_marks, inert};
use super::{stop_signal, Context};
use crate::tui::draw::format_count;
use crate::tui::inert_text::inert_name;

/// Exit status of `ingest` when every file was read (or was already).
pub const INGEST_OK: u8 = 0;
/// Exit status of `ingest` when some input failed (the others were read).
pub const INGEST_SOME_FAILED: u8 = 1;
/// Exit status of `ingest` for a usage error or a problem with the library itself.
pub const INGEST_ERROR: u8 = 2;

/// `rwkv-reader ingest PATH...`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Exit status: 0 every file read (or unchanged), 1 some input failed (nonexistent, empty, unreadable, unsupported...; the rest was read), 2 usage error or a problem with the library or the model, 128+N stopped by signal N (Ctrl-C: 130): the state from before the chunk being read is saved and the next run resumes there."
)]
pub struct IngestArgs {
    /// Files or folders to read (recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Save the model's state every N chunks of ~512 tokens [default: spaced so an answer
    /// starts within `answer_wait_s` (config, 15 s) at the model's measured reading speed, at
    /// most every 8 chunks (about 4,096 tokens), within `checkpoint_budget_mb` (256) a document].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: Option<u64>,
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

/// Runs `ingest`: a progress bar on stderr (lines when it is not a terminal), then one line
/// per file (or, with `--json`, the summary as JSON on stdout). The exit status says whether
/// every input was read (see [`IngestArgs`]'s help).
pub fn ingest(ctx: &Context, args: IngestArgs) -> Result<ExitCode> {
    match ingest_files(ctx, &args) {
        Ok(code) => Ok(code),
        Err(error) => {
            eprintln!("rwkv-reader: {error:#}");
            Ok(ExitCode::from(INGEST_ERROR))
        }
    }
}

fn ingest_files(ctx: &Context, args: &IngestArgs) -> Result<ExitCode> {
    let dir = ctx.library_dir()?;
    let (model, tokenizer) = load_model(ctx)?;
    eprintln!("model: {}", model.info().label());
    let mut writer = Library::open_writer(&dir)
        .with_context(|| format!("opening the library {} for writing", dir.display()))?;
    let mut options = ctx.config.ingest_options();
    if let Some(every) = args.checkpoint_every {
        // An explicit spacing replaces the one chosen for the wait.
        options.checkpoint_every_chunks = usize::try_from(every).unwrap_or(usize::MAX);
        options.spacing = None;
    }
    let mut progress = ProgressLine::new(std::io::stderr().is_terminal(), args.json);
    let stop = stop_signal::install();
    let summary = ingest::run(
        &args.paths,
        &mut writer,
        &*model,
        &tokenizer,
        &options,
        &mut |p| progress.update(&p),
        stop,
    )
    .context("ingesting")?;
    progress.finish();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        print_outcomes(&mut out, &summary)?;
    }
    Ok(ExitCode::from(ingest_status(
        &summary,
        stop_signal::received(),
    )))
}

/// The exit status of an ingestion run (see [`IngestArgs`]'s help).
pub fn ingest_status(summary: &Summary, stopped_by: Option<i32>) -> u8 {
    match stopped_by {
        Some(signal) if summary.cancelled => stop_signal::exit_code(signal),
        _ if summary.count(OutcomeStatus::Failed) > 0 => INGEST_SOME_FAILED,
        _ => INGEST_OK,
    }
}

fn print_outcomes(out: &mut impl Write, summary: &Summary) -> Result<()> {
    for f in &summary.files {
        let status = match f.status {
            OutcomeStatus::Ingested => "ingested",
            OutcomeStatus::Skipped => "unchanged",
            OutcomeStatus::Failed => "FAILED",
            OutcomeStatus::Interrupted => "interrupted",
        };
        writeln!(
            out,
            "{status:<11} {:>4} pages {:>9} tokens {:>3} checkpoints  {}",
            f.pages,
            format_count(f.tokens),
            f.checkpoints,
            inert_name(&f.path.display().to_string())
        )?;
        if let Some(reason) = &f.reason {
            writeln!(out, "            reason: {}", inert_name(reason))?;
        }
        for warning in &f.warnings {
            writeln!(out, "            warning: {}", inert_name(warning))?;
        }
    }
    let t = &summary.totals;
    writeln!(
        out,
        "{} ingested, {} unchanged, {} failed{} · {} tokens read at {:.0} tok/s · {} checkpoints written",
        summary.count(OutcomeStatus::Ingested),
        summary.count(OutcomeStatus::Skipped),
        summary.count(OutcomeStatus::Failed),
        match summary.count(OutcomeStatus::Interrupted) {
            0 => String::new(),
            n => format!(", {n} interrupted (the next run resumes)"),
        },
        format_count(t.tokens_done),
        t.tokens_per_second,
        t.checkpoints_written
    )?;
    Ok(())
}

/// Runs `search`: document, pages and a highlighted snippet per hit (or the hits as JSON).
pub fn search(ctx: &Context, args: SearchArgs) -> Result<ExitCode> {
    let library = open_library(ctx)?;
    let only: Option<Vec<String>> = match &args.doc {
        Some(name) => Some(
            matching_documents(&library, name)?
                .into_iter()
                .map(|d| d.id)
                .collect(),
        ),
        None => None,
    };
    let mut hits = library
        .search(&args.query, args.limit, only.as_deref())
        .context("searching")?;
    // Plain words are all required; a natural question rarely has every one of them in one
    // passage, so it is asked again with any of its words.
    let mut relaxed_note = None;
    if hits.is_empty() {
        if let Some(any) = ingest::qa::any_word_query(&args.query) {
            hits = library
                .search(&any, args.limit, only.as_deref())
                .context("searching")?;
            if !hits.is_empty() {
                relaxed_note = Some(format!(
                    "No passage has every word of {:?}; ranked by any of its words instead ({any}).",
                    args.query
                ));
            }
        }
    }
    let supporting = supporting_sentences(&library, &hits, &args.query)?;
    // Documents left out as damaged, an unusable index: a script must see it as well as a person.
    let warnings = library.noticed();
    let mut out = std::io::stdout().lock();
    if args.json {
        let with_support: Vec<HitWithSupport> = hits
            .iter()
            .zip(&supporting)
            .map(|(hit, s)| HitWithSupport {
                hit,
                supporting_sentence: s.as_ref(),
            })
            .collect();
        let result = serde_json::json!({
            "hits": with_support,
            "warnings": warnings,
            "note": relaxed_note,
        });
        serde_json::to_writer_pretty(&mut out, &result)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(note) = &relaxed_note {
        writeln!(out, "{}", inert(note))?;
    }
    if hits.is_empty() {
        writeln!(
            out,
            "No hits for {}.",
            inert_name(&format!("{:?}", args.query))
        )?;
    }
    let (open, close) = highlight_marks();
    for (i, hit) in hits.iter().enumerate() {
        writeln!(
            out,
            "{}. {}, {} (score {:.1})",
            i + 1,
            inert_name(&hit.title),
            page_label(hit.pages),
            hit.score
        )?;
        if let Some(snippet) = &hit.snippet {
            writeln!(out, "   {}", inert(&marked_snippet(snippet, open, close)))?;
        }
        if let Some(sentence) = &supporting[i] {
            writeln!(out, "   {open}“{}”{close}", inert(&sentence.text))?;
        }
    }
    for warning in &warnings {
        writeln!(out, "Warning: {}", inert_name(warning))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A search hit as `search --json` prints it: the hit and its supporting sentence.
#[derive(serde::Serialize)]
struct HitWithSupport<'a> {
    #[serde(flatten)]
    hit: &'a ingest::SearchHit,
    supporting_sentence: Option<&'a SupportingSentence>,
}

/// Each hit's sentence that best matches the query's words (each document's text read once).
fn supporting_sentences(
    library: &Library,
    hits: &[ingest::SearchHit],
    query: &str,
) -> Result<Vec<Option<SupportingSentence>>> {
    let words = ingest::qa::content_words(query);
    let mut texts: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        if !texts.contains_key(hit.document_id.as_str()) {
            // A text that cannot be read (damaged, being replaced) only loses its sentence; the
            // library's own warnings say why.
            let Ok(text) = library.document_text(&hit.document_id) else {
                out.push(None);
                continue;
            };
            texts.insert(&hit.document_id, text);
        }
        let text = &texts[hit.document_id.as_str()];
        out.push(
            ingest::qa::supporting_sentence(library, text, &hit.byte_range, &words)
                .context("finding the supporting sentence")?,
        );
    }
    Ok(out)
}

/// The hidden `__extract-pdf` worker: extracts a PDF page by page for the parent process.
pub fn extract_pdf_worker(args: &[OsString]) -> ExitCode {
    let code = ingest::worker_main(args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
