//! Test support for the ingest crate (not shipped): a process to kill in the SIGKILL-resume test,
//! and a host for the PDF worker subcommand in tests (the test harness binary cannot host it).
//!
//! ```text
//! ingest-test-worker __extract-pdf FILE [--first-page N]
//! ingest-test-worker ingest --library DIR --model WEIGHTS [--chunk-tokens N]
//!                    [--checkpoint-every N] [--stall-timeout-ms N] PATH...
//! ```
//! `ingest` prints the run's summary as JSON on stdout and exits 0, or prints the error and
//! exits 1.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    ingest::run_worker_if_asked(&args);
    if args.get(1).is_some_and(|a| a == "ingest") {
        return match ingest_command(&args[2..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ingest-test-worker: {e}");
                ExitCode::FAILURE
            }
        };
    }
    eprintln!("usage: ingest-test-worker (__extract-pdf FILE | ingest --library DIR --model FILE PATH...)");
    ExitCode::from(2)
}

fn ingest_command(args: &[OsString]) -> Result<(), String> {
    let mut library = None;
    let mut model_path = None;
    let mut options = ingest::IngestOptions::default();
    let mut paths = Vec::new();
    let mut it = args.iter();
    let number = |v: Option<&OsString>, name: &str| -> Result<u64, String> {
        v.and_then(|v| v.to_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a number"))
    };
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--library") => library = it.next().map(PathBuf::from),
            Some("--model") => model_path = it.next().map(PathBuf::from),
            Some("--chunk-tokens") => {
                options.target_chunk_tokens = number(it.next(), "--chunk-tokens")? as usize
            }
            Some("--checkpoint-every") => {
                options.checkpoint_every_chunks = number(it.next(), "--checkpoint-every")? as usize
            }
            Some("--stall-timeout-ms") => {
                options.pdf.stall_timeout =
                    Duration::from_millis(number(it.next(), "--stall-timeout-ms")?)
            }
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let library = library.ok_or("--library DIR is required")?;
    let model_path = model_path.ok_or("--model FILE is required")?;
    let model = engine::Model::load(&model_path).map_err(|e| e.to_string())?;
    let tokenizer = engine::Tokenizer::for_model(&model_path).map_err(|e| e.to_string())?;
    let mut writer = ingest::Library::open_writer(&library).map_err(|e| e.to_string())?;
    let cancel = AtomicBool::new(false);
    let summary = ingest::run(
        &paths,
        &mut writer,
        &model,
        &tokenizer,
        &options,
        &mut |_| {},
        &cancel,
    )
    .map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
