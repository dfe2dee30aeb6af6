//! Throughput measurement: chunked reading (no head) and one-token generation (head + sampling),
//! with the process's peak resident memory. Used by `rwkv-reader bench`.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::device_model::DeviceModel;
use crate::error::EngineError;
use crate::language_model::LanguageModel;
pub use crate::memory_usage::peak_rss_bytes;
use crate::model::Model;
use crate::rng::SplitMix64;
use crate::sampler::{Sampler, SamplerConfig};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Tokens read, in chunks of `chunk_tokens`.
    pub read_tokens: usize,
    /// Tokens per `read` call.
    pub chunk_tokens: usize,
    /// Tokens generated one at a time.
    pub gen_tokens: usize,
    /// Seed of the random token stream.
    pub seed: u64,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            read_tokens: 1024,
            chunk_tokens: 256,
            gen_tokens: 64,
            seed: 1,
        }
    }
}

/// Results, serialised as the `--json` output of `rwkv-reader bench`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    /// Model label.
    pub model: String,
    /// Blocks × width.
    pub shape: String,
    /// Compute precision.
    pub precision: String,
    /// Worker threads in the pool.
    pub threads: usize,
    /// Chunk size used for reading.
    pub chunk_tokens: usize,
    /// Seconds spent building or loading the model (filled in by the caller).
    pub load_seconds: f64,
    /// Tokens read.
    pub read_tokens: usize,
    /// Reading throughput.
    pub read_tokens_per_s: f64,
    /// Tokens generated.
    pub gen_tokens: usize,
    /// Generation throughput (forward of one token with logits, plus a greedy choice).
    pub gen_tokens_per_s: f64,
    /// Peak resident set size of the process (VmHWM), if the OS reports it.
    pub peak_rss_bytes: Option<u64>,
    /// `read_tokens_per_s ×` the floating-point operations of the matrix products per token read.
    pub read_gflops: f64,
    /// What the pool's threads can compute, in GFLOP/s (see [`compute_peak_gflops`]): the
    /// ceiling of `read_gflops`.
    pub peak_gflops: f64,
    /// Bytes of weight matrices one generated token reads (every matrix once, the head included).
    pub gen_bytes_per_token: u64,
    /// `gen_tokens_per_s × gen_bytes_per_token`, in GB/s: the memory traffic of generation.
    pub gen_gb_per_s: f64,
    /// What the pool's threads can stream from memory, in GB/s (see [`stream_bandwidth`]): the
    /// ceiling of `gen_gb_per_s` for weights that do not fit in the caches.
    pub stream_gb_per_s: f64,
    /// The kernels the reading products ran on, e.g. `f32 panels (avx2+fma)` or
    /// `q8_0 integer (avx512-vnni)`.
    #[serde(default)]
    pub read_kernel: String,
    /// For Q8_0 weights: the 8-bit integer multiply-adds the pool's threads can issue on the
    /// kernel path in use, in GOP/s (two operations per multiply-add; see
    /// [`compute_int8_peak_gops`]): the ceiling of `read_gflops`, which then counts integer
    /// operations.
    #[serde(default)]
    pub int8_peak_gops: Option<f64>,
    /// On a device ([`run_bench_on_device`]): bytes of weights the [`crate::TensorModel`] holds there
    /// (matrices in their device form, vectors in f32; the embedding stays on the host).
    #[serde(default)]
    pub device_weight_bytes: Option<u64>,
}

/// Runs the benchmark on `model` with the CPU engine.
pub fn run_bench(model: &Model, config: &BenchConfig) -> Result<BenchReport, EngineError> {
    let precision = model.info().precision.clone();
    measure(model, model, precision, config, false)
}

/// Runs the benchmark on `on_device` (`model` put on a device by [`DeviceModel::new`] or
/// [`DeviceModel::with_matrices`]), through the same [`LanguageModel`] interface the product
/// uses. The precision reads e.g. `q8_0 on cuda:0 (candle ops)`: the form of the matrices on the
/// device, which may differ from `model`'s own.
pub fn run_bench_on_device(
    model: &Model,
    on_device: &DeviceModel,
    config: &BenchConfig,
) -> Result<BenchReport, EngineError> {
    let device_model = on_device.tensor_model();
    let precision = format!(
        "{} on {} (candle ops)",
        device_model.matrices(),
        crate::tensor_forward::device_name(device_model.device())
    );
    let mut report = measure(model, on_device, precision, config, true)?;
    let device_bytes = device_model.device_weight_bytes() as u64;
    report.device_weight_bytes = Some(device_bytes);
    // What one generated token reads is the device's copy, in its own form.
    report.gen_bytes_per_token = device_bytes;
    report.gen_gb_per_s = report.gen_tokens_per_s * device_bytes as f64 / 1e9;
    report.read_kernel = format!("candle {} matmul", device_model.matrices());
    Ok(report)
}

fn measure(
    model: &Model,
    runner: &dyn LanguageModel,
    precision: String,
    config: &BenchConfig,
    device: bool,
) -> Result<BenchReport, EngineError> {
    let vocab = model.shape().n_vocab as u64;
    let mut rng = SplitMix64::new(config.seed);
    let tokens: Vec<u32> = (0..config.read_tokens.max(1))
        .map(|_| (rng.next_u64() % vocab) as u32)
        .collect();
    let mut state = runner.new_state();
    // A warm-up so thread pools, page faults — and on a GPU the loading of each kernel module, which
    // differ between a chunk and one token — are not timed: a short read on the CPU (a chunk of a
    // 14B model takes minutes there), a whole chunk and a one-token forward on a device.
    let warm_up = if device {
        config.chunk_tokens.max(1)
    } else {
        8
    };
    runner.read(&tokens[..tokens.len().min(warm_up)], &mut state)?;
    if device {
        runner.forward(&tokens[..1], &mut state)?;
    }
    let mut state = runner.new_state();
    let start = Instant::now();
    for chunk in tokens.chunks(config.chunk_tokens.max(1)) {
        runner.read(chunk, &mut state)?;
    }
    let read_seconds = start.elapsed().as_secs_f64();

    // Greedy choice, so the figure measures the model and compares evenly with other implementations.
    let mut sampler = Sampler::new(SamplerConfig {
        temperature: 0.0,
        ..SamplerConfig::default()
    });
    let mut logits = runner.forward(&tokens[tokens.len() - 1..], &mut state)?;
    let start = Instant::now();
    for _ in 0..config.gen_tokens {
        let token = sampler.sample(&logits);
        logits = runner.forward(&[token], &mut state)?;
    }
    let gen_seconds = start.elapsed().as_secs_f64();
    let gen_tokens_per_s = config.gen_tokens as f64 / gen_seconds.max(1e-9);
    let gen_bytes_per_token = model.weights.matrix_bytes() as u64;
    let read_tokens_per_s = tokens.len() as f64 / read_seconds.max(1e-9);
    let read_flops_per_token = 2.0 * model.weights.reading_multiply_adds() as f64;
    let shape = model.shape();
    let q8 = model.weights.precision == crate::WeightPrecision::Q8_0 && !device;
    let path = crate::kernels::q8_dot_kernels::q8_path();
    let read_kernel = if device {
        "candle ops".to_string()
    } else if q8 {
        format!("q8_0 integer ({})", path.name())
    } else {
        f32_kernel().to_string()
    };
    Ok(BenchReport {
        model: model.info().label(),
        shape: format!("{}x{}", shape.n_layer, shape.n_embd),
        precision,
        threads: rayon::current_num_threads(),
        chunk_tokens: config.chunk_tokens,
        load_seconds: 0.0,
        read_tokens: tokens.len(),
        read_tokens_per_s,
        gen_tokens: config.gen_tokens,
        gen_tokens_per_s,
        peak_rss_bytes: peak_rss_bytes(),
        gen_bytes_per_token,
        read_gflops: read_tokens_per_s * read_flops_per_token / 1e9,
        peak_gflops: compute_peak_gflops(),
        gen_gb_per_s: gen_tokens_per_s * gen_bytes_per_token as f64 / 1e9,
        stream_gb_per_s: stream_bandwidth(),
        read_kernel,
        int8_peak_gops: q8.then(|| compute_int8_peak_gops(path)),
        device_weight_bytes: None,
    })
}

/// The f32 chunk product's kernels on this CPU.
fn f32_kernel() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::has_avx2_fma() {
        return "f32 panels (avx2+fma)";
    }
    "f32 panels (portable)"
}

/// 8-bit integer multiply-adds per second the worker pool can issue on kernel path `path`, in
/// GOP/s (two operations per multiply-add, best of three), measured like
/// [`compute_peak_gflops`].
pub fn compute_int8_peak_gops(path: crate::kernels::q8_dot_kernels::Q8Path) -> f64 {
    (0..3)
        .map(|_| {
            rayon::broadcast(|_| crate::kernels::q8_dot_kernels::int8_peak_gops(path, 5_000_000))
                .iter()
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// Floating-point operations per second the worker pool can issue, in GFLOP/s: every thread runs
/// independent vector multiply-adds at once, nothing loaded (best of three). Clocks vary with load and
/// temperature, so it is measured in the same run as what it bounds.
pub fn compute_peak_gflops() -> f64 {
    (0..3)
        .map(|_| {
            rayon::broadcast(|_| crate::kernels::panel_products::fma_peak_gflops(20_000_000))
                .iter()
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// Memory bandwidth available to the worker pool, in GB/s: the best of five parallel sums over a
/// 256 MiB buffer on huge pages, like the weights — far larger than any cache, so every byte comes
/// from memory, as when generating.
pub fn stream_bandwidth() -> f64 {
    use rayon::prelude::*;
    const VALUES: usize = 64 << 20;
    const PER_TASK: usize = 1 << 18;
    let buffer: Vec<f32> = vec![1.0; VALUES];
    crate::kernels::huge_pages::advise(&buffer);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let total: f32 = rayon::scope(|_| {
            buffer
                .par_chunks(PER_TASK)
                .map(crate::kernels::sum)
                .sum::<f32>()
        });
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(total);
    }
    std::mem::size_of_val(buffer.as_slice()) as f64 / best.max(1e-9) / 1e9
}

/// Sizes the worker pool used by matrix products and the matrix-vector kernel. Call before any model
/// work: both rayon's global pool and candle's gemm read the thread count once.
pub fn configure_threads(threads: usize) -> Result<(), EngineError> {
    if threads == 0 {
        return Ok(());
    }
    // Safe here: called at start-up, before any other thread exists.
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| {
            EngineError::Candle(candle_core::Error::Msg(format!(
                "cannot size the thread pool: {e}"
            )))
        })
}
