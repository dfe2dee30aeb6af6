//! rwkv-reader: a terminal document-reading assistant on RWKV-4.

mod cli;
mod config;
mod model_choice;
mod tui;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The PDF extraction worker (ingestion re-executes this binary for every PDF) must run before
    // anything else touches stdout, which it turns into its protocol stream.
    let args: Vec<OsString> = std::env::args_os().collect();
    ingest::run_worker_if_asked(&args);
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rwkv-reader: {error:#}");
            ExitCode::FAILURE
        }
    }
}
