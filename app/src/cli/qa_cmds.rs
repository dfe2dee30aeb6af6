//! `ask`, `summarize` and `export`: the command-line face of `ingest::qa`. Answers stream to
//! stdout as they are generated; then the evidence (document, pages, highlighted snippet) and
//! the provenance (checkpoint, tokens re-read) are printed, even when the answer is weak. With
//! `--json` the whole result is printed instead, as one JSON document.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use ingest::qa::marked_snippet;
use ingest::qa::provenance_line;
use ingest::qa::{
    self, Answer, AskEvent, AskOptions, DocumentAnswerOutcome, EvidenceRole, QaContext,
    SummaryEvent, SummaryOptions,
};
use std::path::PathBuf;

use super::library_access::{matching_documents, one_document, open_library, print_noticed};
use super::terminal_text::{highlight_marks, inert};
use super::Context;
use crate::tui::inert_text::inert_name;

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
    /// Passages the model reads before answering (1-16): the best one from its checkpoint, then
    /// the next best of the same document in document order [default: `passages_read` in the
    /// config, else 3].
    #[arg(long, value_name = "N", value_parser = parse_passages)]
    pub passages: Option<usize>,
    /// Print the answer, citations and provenance as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_passages(text: &str) -> Result<usize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of passages"))?;
    crate::config::check_passages_read(n).map_err(|e| e.to_string())
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

fn print_piece(piece: &str) -> bool {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) ends generation instead of failing later.
    write!(out, "{}", inert(piece)).is_ok() && out.flush().is_ok()
}

/// Runs `ask`.
pub fn ask(ctx: &Context, args: &AskArgs) -> Result<ExitCode> {
    let library = open_library(ctx)?;
    let choice = ctx.model_choice()?;
    let (model, tokenizer) = choice.load()?;
    let qa_ctx =
        QaContext::new(&library, &*model, &tokenizer).with_family(choice.family_for(&*model));
    let mut opts = AskOptions {
        whole: args.whole,
        as_of_page: args.as_of_page,
        ..ctx.config.ask_options()
    };
    if let Some(n) = args.passages {
        opts.passages_read = n;
    }
    if let Some(n) = args.max_tokens {
        opts.sampler.max_tokens = n;
    }
    if let Some(name) = &args.doc {
        let ids = matching_documents(&library, name)?
            .into_iter()
            .map(|d| d.id)
            .collect();
        opts.documents = Some(ids);
    }
    if args.all {
        return ask_all(&qa_ctx, args, &opts);
    }
    let stream = !args.json;
    let answer = qa::ask(&qa_ctx, &args.question, &opts, &mut |event| match event {
        AskEvent::Evidence { document, .. } if stream => {
            println!("{}:", inert_name(&document.title));
            true
        }
        AskEvent::Text(piece) if stream => print_piece(piece),
        _ => true,
    })
    .inspect_err(|_| print_noticed(&library))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!();
        print_citations(&answer);
    }
    Ok(ExitCode::SUCCESS)
}

fn ask_all(qa_ctx: &QaContext<'_>, args: &AskArgs, opts: &AskOptions) -> Result<ExitCode> {
    let stream = !args.json;
    let mut started = false;
    let results = qa::ask_each(qa_ctx, &args.question, opts, &mut |event| {
        if !stream {
            return true;
        }
        match event {
            AskEvent::Evidence { document, .. } => {
                if started {
                    println!();
                }
                started = true;
                println!("== {}", inert_name(&document.title));
                true
            }
            AskEvent::Text(piece) => print_piece(piece),
            AskEvent::Skipped { document, reason } => {
                if started {
                    println!();
                }
                started = true;
                println!(
                    "== {}: skipped ({})",
                    inert_name(&document.title),
                    inert_name(reason)
                );
                true
            }
        }
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("\n");
    let mut answered = 0;
    for r in &results {
        if let DocumentAnswerOutcome::Answered { answer } = &r.outcome {
            answered += 1;
            println!("== {} — citations", inert_name(&r.document.title));
            print_citations(answer);
        }
    }
    println!("{answered} of {} documents answered.", results.len());
    Ok(ExitCode::SUCCESS)
}

/// Evidence, provenance and notices of an answer, for people.
fn print_citations(answer: &Answer) {
    let (open, close) = highlight_marks();
    if answer.evidence.is_empty() {
        println!("Evidence: no passage matched.");
    } else {
        println!("Evidence:");
        let read = &answer.provenance.passages;
        for (i, e) in answer.evidence.iter().enumerate() {
            // Read passages say their place in the reading order and what they cost.
            let role = match (e.role, read.iter().position(|p| p.evidence_index == i)) {
                // Inside the text read from the checkpoint for the best passage.
                (EvidenceRole::Read, Some(at)) if read[at].span.tokens == 0 => {
                    format!("read {}/{}, within 1/{}", at + 1, read.len(), read.len())
                }
                (EvidenceRole::Read, Some(at)) => {
                    format!(
                        "read {}/{}, {} tokens",
                        at + 1,
                        read.len(),
                        read[at].span.tokens
                    )
                }
                (EvidenceRole::Read, None) => "read".to_string(),
                (EvidenceRole::AlsoMatched, _) => "also".to_string(),
            };
            // The supporting sentence, in bold, is what to check the answer against; a passage
            // without one (a whole section) shows its snippet.
            let snippet = match (&e.supporting_sentence, &e.snippet) {
                (Some(s), _) => format!(" — {open}“{}”{close}", inert(&s.text)),
                (None, Some(s)) => format!(" — “{}”", inert(&marked_snippet(s, open, close))),
                (None, None) => String::new(),
            };
            println!(
                "  [{role}] {}, {}{snippet}",
                inert_name(&e.title),
                e.page_label()
            );
        }
    }
    let p = &answer.provenance;
    let first = p
        .timing
        .first_text_ms
        .map(|ms| format!(" · first words after {ms:.0} ms"))
        .unwrap_or_default();
    println!(
        "Provenance: {}{first}",
        provenance_line(p).replace('\\', "")
    );
    for n in &answer.notices {
        println!("Note: {}", inert_name(n));
    }
}

/// Runs `summarize`.
pub fn summarize(ctx: &Context, args: &SummarizeArgs) -> Result<ExitCode> {
    let library = open_library(ctx)?;
    let record = one_document(&library, args.doc.as_deref())?;
    let choice = ctx.model_choice()?;
    let (model, tokenizer) = choice.load()?;
    let qa_ctx =
        QaContext::new(&library, &*model, &tokenizer).with_family(choice.family_for(&*model));
    let opts = SummaryOptions {
        refresh: args.refresh,
        ..SummaryOptions::default()
    };
    let stream = !args.json;
    if stream {
        println!("# {}\n", inert_name(&record.title));
    }
    let report = qa::summarize(&qa_ctx, &record.id, &opts, &mut |event| {
        if !stream {
            return true;
        }
        match event {
            SummaryEvent::Sections(_) => true,
            SummaryEvent::Started(section) => {
                println!(
                    "## {} ({})",
                    inert(&section.title),
                    qa::page_label(section.pages)
                );
                true
            }
            SummaryEvent::Text(piece) => print_piece(piece),
            SummaryEvent::Finished { summary, reused } => {
                if reused {
                    let s = &summary.section;
                    println!("## {} ({})", inert(&s.title), qa::page_label(s.pages));
                    println!("{}", inert(&summary.text));
                    println!("(stored summary; --refresh writes it again)\n");
                } else {
                    println!("\n");
                }
                true
            }
        }
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} section(s): {} written, {} reused, {} not read yet.",
            report.summaries.len() + report.pending.len(),
            report.generated,
            report.reused,
            report.pending.len()
        );
        for n in &report.notices {
            println!("Note: {}", inert_name(n));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `export`.
pub fn export(ctx: &Context, args: &ExportArgs) -> Result<ExitCode> {
    let library = open_library(ctx)?;
    let record = one_document(&library, Some(&args.doc))?;
    let markdown = qa::export_markdown(&library, &record.id)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, markdown)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{markdown}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_text_cannot_drive_the_terminal() {
        assert_eq!(inert("a\x1b[2Jb\x07c\nd\te"), "a[2Jbc\nd\te");
        // A right-to-left override cannot turn "paid 1000" into something else on screen.
        assert_eq!(
            inert("paid \u{202e}0001\u{202c}"),
            "paid \u{fffd}0001\u{fffd}"
        );
        assert_eq!(
            inert("\u{2067}x\u{2069} \u{200f}"),
            "\u{fffd}x\u{fffd} \u{fffd}"
        );
    }
}
