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
    if args
        .get(1)
        .is_some_and(|a| a == ingest::pdf::WORKER_SUBCOMMAND)
    {
        std::process::exit(ingest::pdf::worker_main(&args[2..]));
    }
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rwkv-reader: {error:#}");
            ExitCode::FAILURE
        }
    }
}
