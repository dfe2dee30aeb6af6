//! The options of `rwkv-reader bench`, shared by the engine benchmark (`engine_cmds`) and the
//! question benchmarks it dispatches to (`ask_bench_cmd`, `retrieval_bench_cmd`).

use std::path::PathBuf;

use clap::Args;

/// `rwkv-reader bench`: reading and generation throughput, peak memory.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Random-init model of a named shape: 169m, 430m, 1b5, 3b, 7b, 14b, or LxC / LxCxV.
    #[arg(long, default_value = "169m", conflicts_with = "bench_model")]
    pub shape: String,
    /// Benchmark this checkpoint instead of a random-init shape.
    #[arg(long = "bench-model", value_name = "PATH")]
    pub bench_model: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Tokens per reading call.
    #[arg(long, default_value_t = 256)]
    pub chunk: usize,
    /// Tokens to read.
    #[arg(long, default_value_t = 1024)]
    pub tokens: usize,
    /// Tokens to generate one at a time.
    #[arg(long, default_value_t = 64)]
    pub gen: usize,
    /// Seed of the random weights and tokens.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Weight precision of a random-init shape: f32 (in memory), or q8_0 / f16 (written once to a
    /// `.gguf` in --cache-dir, never materialising the f32 model, then loaded like any checkpoint)
    /// [default: f32]. A checkpoint is measured in its own precision: `convert` it first.
    #[arg(long)]
    pub quant: Option<String>,
    /// Where random-init `.gguf` files are kept between runs [default: the system temp folder].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print the measurements as JSON.
    #[arg(long)]
    pub json: bool,
    /// Measure question answering instead: time to the first answer token on synthetic
    /// documents of the lengths in --doc-tokens, read with the chosen model (default: the demo
    /// model) at the default chunking and checkpoint spacing. Documents and libraries are kept
    /// in --cache-dir, so a second run does not read them again.
    #[arg(long, conflicts_with_all = ["shape", "quant"])]
    pub ask: bool,
    /// With --ask: document lengths, in tokens.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    pub doc_tokens: Vec<u64>,
    /// With --ask: times each planted question is asked.
    #[arg(long, default_value_t = 2)]
    pub repeats: usize,
    /// With --ask: answer length in tokens.
    #[arg(long, default_value_t = 8)]
    pub answer_tokens: usize,
    /// With --ask: passages the model reads before each answer.
    #[arg(long, default_value_t = ingest::qa::DEFAULT_PASSAGES_READ)]
    pub passages: usize,
    /// Highest kernel path for Q8_0 chunk products: avx512-vnni, avx2 or portable (to measure
    /// what a CPU without the faster instructions would do; results are the same bits)
    /// [default: the best this CPU has].
    #[arg(long = "q8-path", value_name = "PATH")]
    pub q8_path: Option<String>,
    /// Measure retrieval instead: ask every question of this file (JSON lines: id, doc,
    /// question, keywords, ...) the way `ask` picks passages, and report recall@1, recall@3,
    /// MRR and the right-document rate. Documents not yet in the library (--library, default a
    /// folder in the system temp folder) are ingested first with the chosen model.
    #[arg(long, value_name = "QUESTIONS.jsonl", conflicts_with_all = ["shape", "quant", "ask"])]
    pub retrieval: Option<PathBuf>,
    /// With --retrieval: the folder the questions' documents are in [default: `docs/` beside
    /// the question file].
    #[arg(long, value_name = "DIR", requires = "retrieval")]
    pub docs: Option<PathBuf>,
    /// With --retrieval: chunk size for documents ingested now, in tokens.
    #[arg(long, value_name = "N", default_value_t = 512, requires = "retrieval")]
    pub chunk_tokens: usize,
    /// With --retrieval: ask each question of its own document only (as `ask --doc` and the
    /// TUI with a document open do), not of the whole library: the passage's rank without the
    /// choice of document.
    #[arg(long, requires = "retrieval")]
    pub within_document: bool,
}
