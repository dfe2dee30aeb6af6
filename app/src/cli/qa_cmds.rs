//! `ask`, `summarize` and `export`: the command-line face of `ingest::qa`. Answers stream to
//! stdout as they are generated; then the evidence (document, pages, highlighted snippet) and
//! the provenance (checkpoint, tokens re-read) are printed, even when the answer is weak. With
//! `--json` the whole result is printed instead, as one JSON document.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use ingest::qa::marked_snippet;
use ingest::qa::provenance_line;
use ingest::qa::{
    self, Answer, AskEvent, AskOptions, DocumentAnswerOutcome, EvidenceRole, QaContext,
    SummaryEvent, SummaryOptions,
};
use ingest::{DocumentRecord, Library};

use super::library_cmds::{AskArgs, ExportArgs, SummarizeArgs};
use super::Context;
use crate::model_choice::ModelChoice;
use crate::tui::inert_text::inert_name;

/// The model and tokenizer chosen by the options and config.
pub(super) fn load_model(ctx: &Context) -> Result<(engine::Model, engine::Tokenizer)> {
    load_chosen_model(&ctx.model_choice()?)
}

/// Loads `choice`'s weights and tokenizer.
pub(super) fn load_chosen_model(
    choice: &ModelChoice,
) -> Result<(engine::Model, engine::Tokenizer)> {
    let model = engine::Model::load(&choice.path)
        .with_context(|| format!("loading the model {}", choice.path.display()))?;
    let tokenizer = match &choice.tokenizer {
        Some(path) => engine::Tokenizer::from_file(path),
        None => engine::Tokenizer::for_model(&choice.path),
    }
    .context("loading the tokenizer")?;
    Ok((model, tokenizer))
}

pub(super) fn open_library(ctx: &Context) -> Result<Library> {
    let dir = ctx.library_dir()?;
    // Only reading: a folder without a library is refused, not turned into an empty one.
    Library::open_existing(&dir).with_context(|| format!("opening the library {}", dir.display()))
}

/// Documents matching `--doc NAME` (all of them), or an error naming what the library holds.
pub(super) fn matching_documents(library: &Library, name: &str) -> Result<Vec<DocumentRecord>> {
    let found = library.find_documents(name)?;
    if found.is_empty() {
        let titles: Vec<String> = library.documents()?.into_iter().map(|d| d.title).collect();
        bail!(
            "no document in the library matches {name:?} (it holds: {})",
            if titles.is_empty() {
                "nothing yet".to_string()
            } else {
                titles.join(", ")
            }
        );
    }
    Ok(found)
}

/// Exactly one document: `--doc NAME`, or the only document in the library.
fn one_document(library: &Library, name: Option<&str>) -> Result<DocumentRecord> {
    let found = match name {
        Some(name) => matching_documents(library, name)?,
        None => library.documents()?,
    };
    let names = found
        .iter()
        .map(|d| d.title.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let count = found.len();
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => bail!("the library is empty: add documents with `rwkv-reader ingest PATH`"),
        (Some(_), Some(_)) => bail!("{count} documents match; name one with --doc: {names}"),
    }
}

/// Text from a document or the model made safe for a terminal: control characters (escape
/// sequences included) are dropped, except newlines and tabs; bidirectional controls, which would
/// reorder what follows them, are shown as `�` (as the TUI shows them).
pub(super) fn inert(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| {
            if crate::tui::inert_text::is_bidi_control(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// Damage the library noticed (documents left out, an unusable index), on stderr: for when no
/// answer carries it.
pub(super) fn print_noticed(library: &Library) {
    for warning in library.noticed() {
        eprintln!("warning: {}", inert_name(&warning));
    }
}

/// Bold on a terminal, Markdown-style stars otherwise.
pub(super) fn highlight_marks() -> (&'static str, &'static str) {
    if std::io::stdout().is_terminal() {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("**", "**")
    }
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
    let (model, tokenizer) = load_chosen_model(&choice)?;
    let qa_ctx =
        QaContext::new(&library, &model, &tokenizer).with_family(choice.family_for(&model));
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
            let snippet = e
                .snippet
                .as_ref()
                .map(|s| format!(" — “{}”", inert(&marked_snippet(s, open, close))))
                .unwrap_or_default();
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
    let (model, tokenizer) = load_chosen_model(&choice)?;
    let qa_ctx =
        QaContext::new(&library, &model, &tokenizer).with_family(choice.family_for(&model));
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
