//! `rwkv-reader bench --retrieval QUESTIONS.jsonl`: how often the passage the model reads holds
//! the answer (`ingest::qa::run_retrieval_bench` does the measuring). Prints the figures
//! BENCHMARKS.md records and, for every question missed at rank 1, the passages returned.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use ingest::qa::{run_retrieval_bench, RetrievalBenchOptions, RetrievalReport};
use ingest::IngestOptions;

use super::bench_args::BenchArgs;
use super::terminal_text::inert;
use super::Context;

/// Characters of a missed passage printed (the JSON output has all of it).
const PASSAGE_PREVIEW_CHARS: usize = 160;

/// Runs the retrieval benchmark on `questions` with the model from `--bench-model`, `--model`,
/// the config or the demo.
pub fn bench_retrieval(ctx: &Context, args: &BenchArgs, questions: &Path) -> Result<ExitCode> {
    let mut choice = ctx.model_choice()?;
    if let Some(path) = &args.bench_model {
        choice.path = path.clone();
    }
    let (model, tokenizer) = choice.load()?;
    let docs_dir = match &args.docs {
        Some(dir) => dir.clone(),
        None => questions
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("docs"),
    };
    let library_dir = match &ctx.global.library {
        Some(dir) => dir.clone(),
        None => default_library(questions, &model.fingerprint().0, args.chunk_tokens),
    };
    let opts = RetrievalBenchOptions {
        questions: questions.to_path_buf(),
        docs_dir: docs_dir.clone(),
        library_dir,
        ingest: IngestOptions {
            target_chunk_tokens: args.chunk_tokens,
            ..IngestOptions::default()
        },
        within_document: args.within_document,
    };
    let report = run_retrieval_bench(&*model, &tokenizer, &opts, &mut |line| eprintln!("{line}"))
        .with_context(|| {
        format!(
            "retrieval benchmark of {} (documents in {})",
            questions.display(),
            docs_dir.display()
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &model.info().label(), args.chunk_tokens);
    }
    Ok(ExitCode::SUCCESS)
}

/// A library per question file, model and chunk size in the system temp folder, kept between
/// runs so that documents are read once.
fn default_library(questions: &Path, fingerprint: &str, chunk_tokens: usize) -> PathBuf {
    let stem = questions
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "questions".into());
    let model: String = fingerprint.chars().take(12).collect();
    std::env::temp_dir()
        .join("rwkv-reader-bench-retrieval")
        .join(format!("{stem}-{model}-{chunk_tokens}"))
}

fn print_report(report: &RetrievalReport, model: &str, chunk_tokens: usize) {
    for miss in report.misses() {
        let rank = miss
            .answer_rank
            .map_or("not in the first 10".to_string(), |r| format!("rank {r}"));
        println!(
            "MISS {} ({rank}): {}  [{}]",
            inert(&miss.id),
            inert(&miss.question),
            inert(&miss.keywords.join(" | "))
        );
        for (i, p) in miss.passages.iter().enumerate() {
            let preview: String = p.text.chars().take(PASSAGE_PREVIEW_CHARS).collect();
            println!(
                "  {}. {}{}, {}: {}…",
                i + 1,
                if p.holds_answer { "(holds it) " } else { "" },
                inert(&p.title),
                p.pages,
                inert(&preview)
            );
        }
    }
    println!();
    println!(
        "model {model} · chunks of {chunk_tokens} tokens · {} documents · {} questions ({}){}",
        report.documents,
        report.questions,
        report.questions_file.display(),
        if report.within_document {
            " · each asked of its own document"
        } else {
            ""
        }
    );
    println!(
        "| recall@1 | recall@3 | MRR@10 | in what is read | right document | first passage, median | re-read, median | retrieval, median |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} bytes | {} tokens | {:.1} ms |",
        report.recall_at_1,
        report.recall_at_3,
        report.mrr,
        report.recall_read,
        report.right_document_rate,
        report.median_first_passage_bytes,
        report.median_tokens_read,
        report.median_retrieval_ms
    );
}
