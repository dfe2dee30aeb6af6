//! Benchmarks of quantized weights, one phase per process so each reports its own peak memory:
//!
//! ```sh
//! # write a random-init model of a named shape straight into a .gguf (q8_0, f16 or f32)
//! cargo run --release -p rwkv-engine --example quant_bench -- write 14b q8_0 /tmp/rwkv-14b-q8_0.gguf
//! # load a model (any format) and time start-up, chunked reading and generation
//! cargo run --release -p rwkv-engine --example quant_bench -- run /tmp/rwkv-14b-q8_0.gguf
//! # the same for an in-memory random-init model (f32, or quantized in memory)
//! cargo run --release -p rwkv-engine --example quant_bench -- random 169m f32
//! # convert a checkpoint
//! cargo run --release -p rwkv-engine --example quant_bench -- convert IN.pth OUT.gguf q8_0
//! ```
//!
//! Options (after the positional arguments): `--threads N` (default 2), `--tokens N` (512),
//! `--chunk N` (256), `--gen N` (16), `--seed N` (1). Prints one JSON object per run.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use engine::convert_with_progress;
use engine::tools::bench::{configure_threads, peak_rss_bytes, run_bench, BenchConfig};
use engine::tools::quant_random::write_random_gguf_with_progress;
use engine::tools::random_init::{named_shape, random_weights};
use engine::{EngineError, Model, WeightPrecision};

struct Options {
    threads: usize,
    tokens: usize,
    chunk: usize,
    gen: usize,
    seed: u64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quant_bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (positional, options) = parse(args)?;
    configure_threads(options.threads).map_err(|e| e.to_string())?;
    let shape_of = |name: &str| named_shape(name).ok_or_else(|| format!("unknown shape {name}"));
    let precision_of = |name: &str| name.parse::<WeightPrecision>().map_err(|e| e.to_string());
    let progress = |done: usize, total: usize, name: &str| {
        if done.is_multiple_of(50) || done == total {
            eprintln!("  {done}/{total} {name}");
        }
    };
    match positional.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", shape, precision, out] => {
            let report = write_random_gguf_with_progress(
                shape_of(shape)?,
                options.seed,
                precision_of(precision)?,
                Path::new(out),
                &mut { progress },
            )
            .map_err(|e| e.to_string())?;
            print_json(&serde_json::to_value(&report).map_err(|e| e.to_string())?);
        }
        ["convert", input, out, precision] => {
            let report = convert_with_progress(
                Path::new(input),
                Path::new(out),
                precision_of(precision)?,
                &mut { progress },
            )
            .map_err(|e| e.to_string())?;
            print_json(&serde_json::to_value(&report).map_err(|e| e.to_string())?);
        }
        ["load", path] => {
            let started = Instant::now();
            let model = Model::load(Path::new(path)).map_err(|e| e.to_string())?;
            let load_seconds = started.elapsed().as_secs_f64();
            print_json(&serde_json::json!({
                "model": model.info().label(),
                "format": model.info().format,
                "load_seconds": load_seconds,
                "peak_rss_bytes": peak_rss_bytes(),
            }));
        }
        ["run", path] => {
            let started = Instant::now();
            let model = Model::load(Path::new(path)).map_err(|e| e.to_string())?;
            bench(&model, started, &options).map_err(|e| e.to_string())?;
        }
        ["random", shape, precision] => {
            let started = Instant::now();
            let weights = random_weights(shape_of(shape)?, options.seed).map_err(|e| e.to_string())?;
            let model = Model::from_weights(weights, format!("random {shape}"), "random".into(), false)
                .to_precision(precision_of(precision)?)
                .map_err(|e| e.to_string())?;
            bench(&model, started, &options).map_err(|e| e.to_string())?;
        }
        _ => return Err("usage: quant_bench (write SHAPE PRECISION OUT | convert IN OUT PRECISION | load PATH | run PATH | random SHAPE PRECISION) [--threads N] [--tokens N] [--chunk N] [--gen N] [--seed N]".into()),
    }
    Ok(())
}

fn bench(model: &Model, started: Instant, options: &Options) -> Result<(), EngineError> {
    let load_seconds = started.elapsed().as_secs_f64();
    let config = BenchConfig {
        read_tokens: options.tokens,
        chunk_tokens: options.chunk,
        gen_tokens: options.gen,
        seed: options.seed,
    };
    let mut report = run_bench(model, &config)?;
    report.load_seconds = load_seconds;
    print_json(&serde_json::to_value(&report).unwrap_or_default());
    Ok(())
}

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string(value).unwrap_or_default());
}

fn parse(args: &[String]) -> Result<(Vec<String>, Options), String> {
    let mut options = Options {
        threads: 2,
        tokens: 512,
        chunk: 256,
        gen: 16,
        seed: 1,
    };
    let mut positional = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            positional.push(arg.clone());
            continue;
        };
        let value = iter
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("--{flag} needs a number"))?;
        match flag {
            "threads" => options.threads = value as usize,
            "tokens" => options.tokens = value as usize,
            "chunk" => options.chunk = value as usize,
            "gen" => options.gen = value as usize,
            "seed" => options.seed = value,
            _ => return Err(format!("unknown option --{flag}")),
        }
    }
    Ok((positional, options))
}
