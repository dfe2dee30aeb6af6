//! Time to the first answer token on synthetic documents of different lengths (same model, same
//! checkpoint spacing). Run it through `scripts/bench_ask.sh`, or:
//!
//! ```text
//! cargo run --release -p rwkv-ingest --example bench_ask -- \
//!     [--tokens 10000,1000000] [--dir target/bench-ask] [--model models/demo/rwkv4-demo.safetensors]
//!     [--repeats 2] [--answer-tokens 8] [--json]
//! ```
//! Documents and libraries are kept in `--dir`: a second run skips ingestion (unchanged files).

use ingest::qa::bench::{run_ask_bench, AskBenchOptions};
use ingest::IngestOptions;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut tokens = vec![10_000u64, 1_000_000];
    let mut dir = root.join("target").join("bench-ask");
    let mut model_path = root.join("models/demo/rwkv4-demo.safetensors");
    let mut repeats = 2usize;
    let mut answer_tokens = 8usize;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--tokens" => {
                tokens = value()?
                    .split(',')
                    .map(|t| t.trim().parse::<u64>())
                    .collect::<Result<_, _>>()?
            }
            "--dir" => dir = PathBuf::from(value()?),
            "--model" => model_path = PathBuf::from(value()?),
            "--repeats" => repeats = value()?.parse()?,
            "--answer-tokens" => answer_tokens = value()?.parse()?,
            "--json" => json = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let model = engine::Model::load(&model_path)?;
    let tokenizer = engine::Tokenizer::for_model(&model_path)?;
    let opts = AskBenchOptions {
        document_tokens: tokens,
        work_dir: dir,
        ingest: IngestOptions::default(),
        repeats,
        answer_tokens,
    };
    let report = run_ask_bench(&model, &tokenizer, &opts, &mut |line| eprintln!("{line}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "model {} · chunks of {} tokens · checkpoint every {} chunks",
        report.model, report.target_chunk_tokens, report.checkpoint_every_chunks
    );
    println!("| document tokens | chunks | ingest (this run) | first answer token (median / max) | passage found (median) | prompt ready (median) | tokens re-read (median / max) | needle pages cited |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in &report.rows {
        println!(
            "| {} | {} | {:.0} s | {:.0} ms / {:.0} ms | {:.0} ms | {:.0} ms | {} / {} | {} |",
            r.document_tokens,
            r.chunks,
            r.ingest_s,
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
    println!("| document tokens | fit: fixed + per 1,000 tokens re-read | first token at {:.0} tokens re-read |", report.common_reread_tokens);
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
    Ok(())
}
