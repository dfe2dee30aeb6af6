//! `rwkv-reader bench --ask`: time to the first answer token on a short and a very long synthetic
//! document, read with the same model and checkpoint spacing. An answer starts from the nearest
//! checkpoint, so the two times must be close whatever the lengths; this prints the figures
//! BENCHMARKS.md records (`ingest::qa::bench` does the measuring).

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use ingest::tools::ask_bench::{run_ask_bench, AskBenchOptions, AskBenchReport};
use ingest::IngestOptions;

use super::bench_args::BenchArgs;
use super::Context;

/// Runs the ask benchmark with the model from `--bench-model`, `--model`, the config or the demo.
pub fn bench_ask(ctx: &Context, args: &BenchArgs) -> Result<ExitCode> {
    let mut choice = ctx.model_choice()?;
    if let Some(path) = &args.bench_model {
        choice.path = path.clone();
    }
    let (model, tokenizer) = choice.load()?;
    let work_dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("rwkv-reader-bench-ask"));
    let opts = AskBenchOptions {
        document_tokens: args.doc_tokens.clone(),
        work_dir: work_dir.clone(),
        ingest: IngestOptions::default(),
        repeats: args.repeats,
        answer_tokens: args.answer_tokens,
        passages_read: args.passages,
    };
    let report = run_ask_bench(&*model, &tokenizer, &opts, &mut |line| eprintln!("{line}"))
        .with_context(|| format!("ask benchmark in {}", work_dir.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_tables(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as the Markdown tables BENCHMARKS.md uses.
fn print_tables(report: &AskBenchReport) {
    println!(
        "model {} · chunks of {} tokens · checkpoint every {} chunks · {} passage(s) read per answer",
        report.model,
        report.target_chunk_tokens,
        report.checkpoint_every_chunks,
        report.passages_read
    );
    println!(
        "| document tokens | chunks | ingest (this run) | questions | first answer token (median / max) \
         | passage found (median) | prompt ready (median) | tokens re-read (median / max) | needle pages cited |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in &report.rows {
        println!(
            "| {} | {} | {:.0} s | {} | {:.0} ms / {:.0} ms | {:.0} ms | {:.0} ms | {} / {} | {} |",
            r.document_tokens,
            r.chunks,
            r.ingest_s,
            r.questions,
            r.first_token_ms_median,
            r.first_token_ms_max,
            r.retrieved_ms_median,
            r.prompt_ready_ms_median,
            r.reread_tokens_median,
            r.reread_tokens_max,
            if r.cited_needle_pages { "yes" } else { "no" }
        );
    }
    println!();
    println!(
        "| document tokens | fit: fixed + per 1,000 tokens re-read | first token at {:.0} tokens re-read |",
        report.common_reread_tokens
    );
    println!("|---:|---:|---:|");
    for r in &report.rows {
        println!(
            "| {} | {:.0} ms + {:.0} ms | {:.0} ms |",
            r.document_tokens, r.fit_ms.0, r.fit_ms.1, r.first_token_ms_at_common_reread
        );
    }
    println!(
        "ratio largest / smallest: {:.2} (medians), {:.2} (same distance from a checkpoint)",
        report.ratio_largest_to_smallest, report.ratio_at_common_reread
    );
}
