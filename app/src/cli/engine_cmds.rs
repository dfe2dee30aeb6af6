//! Engine-side subcommands: `bench` (throughput on a named shape or a checkpoint), `eval` (last
//! logits and final state to a safetensors file, for comparison with other implementations), and
//! `convert` (weights to another precision).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use super::bench_args::BenchArgs;
use super::Context;

/// `rwkv-reader eval`: run tokens through the model and write `logits_last` and the final state.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Token ids, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "text",
        required_unless_present = "text"
    )]
    pub tokens: Vec<u32>,
    /// Text to tokenize with the model's tokenizer.
    #[arg(long)]
    pub text: Option<String>,
    /// Tokens per forward call (0 = all at once).
    #[arg(long, default_value_t = 0)]
    pub chunk: usize,
    /// safetensors file to write (`logits_last`, `state.{i}.att_x|att_aa|att_bb|att_pp|ffn_x`).
    #[arg(long)]
    pub out: PathBuf,
}

/// `rwkv-reader convert`.
#[derive(Debug, Clone, Args)]
pub struct ConvertArgs {
    /// Weights to convert (.pth or .safetensors).
    pub input: PathBuf,
    /// File to write.
    pub output: PathBuf,
    /// Target precision.
    #[arg(long, default_value = "q8_0")]
    pub to: String,
}

/// Runs `bench`.
pub fn bench(ctx: &Context, args: BenchArgs) -> Result<ExitCode> {
    engine::tools::bench::configure_threads(args.threads)?;
    if let Some(name) = &args.q8_path {
        let path = engine::Q8Path::from_name(name)
            .with_context(|| format!("--q8-path {name}: use avx512-vnni, avx2 or portable"))?;
        if !path.is_available() {
            bail!("--q8-path {name}: this CPU cannot run it");
        }
        engine::limit_q8_path(path);
    }
    if args.ask {
        return super::ask_bench_cmd::bench_ask(ctx, &args);
    }
    if let Some(questions) = &args.retrieval {
        return super::retrieval_bench_cmd::bench_retrieval(ctx, &args, questions);
    }
    let started = Instant::now();
    let model = match args
        .bench_model
        .clone()
        .or_else(|| ctx.global.model.clone())
    {
        Some(path) => {
            if let Some(quant) = &args.quant {
                bail!(
                    "--quant {quant} applies to random-init shapes; {} is measured in its own \
                     precision. Convert it first: rwkv-reader convert {} OUT.gguf --to {quant}",
                    path.display(),
                    path.display()
                );
            }
            engine::Model::load(&path).with_context(|| format!("loading {}", path.display()))?
        }
        None => {
            let shape =
                engine::tools::random_init::named_shape(&args.shape).with_context(|| {
                    format!(
                        "unknown shape {:?} (try 169m, 430m, 1b5, 3b, 14b or 12x768)",
                        args.shape
                    )
                })?;
            let quant = args.quant.as_deref().unwrap_or("f32");
            let precision: engine::WeightPrecision = quant
                .parse()
                .map_err(|e| anyhow::anyhow!("--quant {quant}: {e:?} (use f32, f16 or q8_0)"))?;
            if precision == engine::WeightPrecision::F32 {
                let weights = engine::tools::random_init::random_weights(shape, args.seed)?;
                engine::Model::from_weights(
                    weights,
                    format!("random-init {}", args.shape),
                    "random".into(),
                    false,
                )
            } else {
                let dir = args
                    .cache_dir
                    .clone()
                    .unwrap_or_else(|| std::env::temp_dir().join("rwkv-reader-bench"));
                let path = engine::tools::quant_random::ensure_random_gguf(
                    shape, args.seed, precision, &dir,
                )?;
                let loading = Instant::now();
                let model = engine::Model::load(&path)
                    .with_context(|| format!("loading {}", path.display()))?;
                eprintln!(
                    "loaded {} in {:.2} s",
                    path.display(),
                    loading.elapsed().as_secs_f64()
                );
                model
            }
        }
    };
    let load_seconds = started.elapsed().as_secs_f64();
    let config = engine::tools::bench::BenchConfig {
        read_tokens: args.tokens,
        chunk_tokens: args.chunk,
        gen_tokens: args.gen,
        seed: args.seed,
    };
    let name = ctx.device();
    let device = engine::device_by_name(&name).with_context(|| format!("--device {name}"))?;
    let mut report = if device.is_cpu() {
        engine::tools::bench::run_bench(&model, &config)?
    } else {
        let placing = Instant::now();
        let on_device = engine::DeviceModel::new(&model, &device)
            .with_context(|| format!("putting the model on {name}"))?;
        eprintln!(
            "weights on {name} in {:.2} s",
            placing.elapsed().as_secs_f64()
        );
        engine::tools::bench::run_bench_on_device(&model, &on_device, &config)?
    };
    report.load_seconds = load_seconds;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("model       {} ({})", report.model, report.shape);
        println!("precision   {}", report.precision);
        println!("threads     {}", report.threads);
        println!("load        {:.2} s", report.load_seconds);
        println!(
            "read        {:.1} tokens/s ({} tokens in chunks of {})",
            report.read_tokens_per_s, report.read_tokens, report.chunk_tokens
        );
        println!(
            "generate    {:.1} tokens/s ({} tokens)",
            report.gen_tokens_per_s, report.gen_tokens
        );
        println!("kernels     {}", report.read_kernel);
        match report.int8_peak_gops {
            Some(int8_peak) => println!(
                "compute     reading does {:.1} GOP/s (8-bit integer); the threads peak at {:.1} GOP/s \
                 integer, {:.1} GFLOP/s f32",
                report.read_gflops, int8_peak, report.peak_gflops
            ),
            None => println!(
                "compute     reading does {:.1} GFLOP/s; the threads peak at {:.1} GFLOP/s",
                report.read_gflops, report.peak_gflops
            ),
        }
        println!(
            "memory      generation reads {:.1} GB/s of weights; the threads stream {:.1} GB/s",
            report.gen_gb_per_s, report.stream_gb_per_s
        );
        if let Some(rss) = report.peak_rss_bytes {
            println!("peak RSS    {:.1} MiB", rss as f64 / (1024.0 * 1024.0));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `eval`.
pub fn eval(ctx: &Context, args: EvalArgs) -> Result<ExitCode> {
    let choice = ctx.model_choice()?;
    let model = engine::Model::load(&choice.path)
        .with_context(|| format!("loading {}", choice.path.display()))?;
    let tokens = match &args.text {
        Some(text) => {
            let tokenizer = match &choice.tokenizer {
                Some(path) => engine::Tokenizer::from_file(path)?,
                None => engine::Tokenizer::for_model(&choice.path)?,
            };
            tokenizer.encode(text)?
        }
        None => args.tokens.clone(),
    };
    if tokens.is_empty() {
        bail!("nothing to evaluate: give --tokens or a non-empty --text");
    }
    let output = engine::tools::eval::evaluate(&model, &tokens, args.chunk)?;
    engine::tools::eval::write_eval(&output, &args.out)?;
    // What was written is the command's result: stdout.
    println!(
        "wrote {} ({} tokens, {} layers, vocabulary {})",
        args.out.display(),
        tokens.len(),
        output.state.layers.len(),
        output.logits_last.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `convert`.
pub fn convert(_ctx: &Context, args: ConvertArgs) -> Result<ExitCode> {
    let target: engine::WeightPrecision = args
        .to
        .parse()
        .map_err(|e| anyhow::anyhow!("--to {}: {e:?} (use q8_0, f16 or f32)", args.to))?;
    // The output's folder is made if missing: the README converts into `target/`, which a fresh
    // checkout built with another CARGO_TARGET_DIR does not have.
    if let Some(folder) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("making the folder {}", folder.display()))?;
    }
    let report = engine::convert(&args.input, &args.output, target).with_context(|| {
        format!(
            "converting {} to {}",
            args.input.display(),
            args.output.display()
        )
    })?;
    println!(
        "wrote {} ({}, {} tensors, {:.1} MiB) in {:.1} s",
        report.output.display(),
        report.precision,
        report.tensors,
        report.bytes_written as f64 / (1024.0 * 1024.0),
        report.seconds
    );
    Ok(ExitCode::SUCCESS)
}
