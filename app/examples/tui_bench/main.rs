//! # The terminal UI's drawing and responsiveness, measured (BENCHMARKS.md, "Terminal UI")
//!
//! ```sh
//! cargo run --release -p rwkv-reader --example tui_bench -- --shape 1.5b
//! cargo run --release -p rwkv-reader --example tui_bench -- --shape 169m --baseline-s 10 --typing-s 20
//! cargo run --release -p rwkv-reader --example tui_bench -- --draw-only
//! # a question answered while a 2,000-word document is read in the background
//! cargo run --release -p rwkv-reader --example tui_bench -- --load-only --shape 1.5b --read-words 2000
//! ```
//!
//! Two parts:
//!
//! 1. **Drawing** (`draw_bench`): every screen of a state holding a long document, drawn into
//!    ratatui's `TestBackend` at 80×24 and 200×60, frame after frame (scrolling or streaming
//!    between frames, outside the timing); per-frame median and p99. The same frames written
//!    as escape codes to a sink through the crossterm backend give the cost of a real terminal
//!    without the terminal.
//! 2. **Responsiveness under load** (`load_bench`): a random-init model of the chosen shape
//!    answers a question on the TUI's own worker threads, started by keys typed into the Ask
//!    screen, while scripted keys (scrolling the Reader, typing a question) go through the same
//!    event → update → draw loop as the runtime (`UiLoop`). Each key's latency runs from the
//!    moment it is sent to the end of the first frame drawn after it was applied. The answer's
//!    speed is taken twice: with no keys pressed, then while typing. At the end, Esc cancels the
//!    answer, then a new question while it re-reads its passage: how long the worker takes to
//!    stop. With `--read-words N` a second document is read in the background all along.
//!
//! The binary has no library target, so this example compiles the binary's own `tui` module
//! tree (and the two modules it uses) from `src/`: it runs the real code, not a copy.
// A measuring tool: a failed unwrap stops it with its location. The binary's modules are compiled
// here as public modules of an example, not a library API.
#![allow(clippy::unwrap_used, missing_docs)]

// The binary's modules, compiled here as they are; much of them is unused by the benchmark.
#[allow(dead_code)]
#[path = "../../src"]
mod app_src {
    pub mod config;
    pub mod model_choice;
    pub mod tui;
}

mod args;
mod draw_bench;
mod fixtures;
mod keyboard;
mod load_bench;
mod script;
mod stats;

pub use app_src::{config, model_choice, tui};

use anyhow::Result;

fn main() -> Result<()> {
    let args = args::Args::parse(std::env::args().skip(1))?;
    println!("load average at start: {}", stats::load_average());
    if !args.load_only {
        draw_bench::run(args.draw_frames)?;
    }
    if !args.draw_only {
        load_bench::run(&args)?;
    }
    println!("load average at end: {}", stats::load_average());
    Ok(())
}
