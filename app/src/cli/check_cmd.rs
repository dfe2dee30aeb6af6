//! `rwkv-reader check [--repair] [--json]`: verifies every stored part of the library (digests
//! of texts, chunk lists and records, the index against the chunk lists, every checkpoint's
//! checksum and schedule) and, with `--repair`, rebuilds what can be rebuilt.

use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use ingest::{CheckReport, Library, RepairReport, RepairTools};

use super::library_access::load_model;
use super::progress_line::ProgressLine;
use super::{stop_signal, Context};
use crate::tui::inert_text::inert_name;

/// Exit status when the library is healthy (after repairing, with `--repair`).
pub const CHECK_HEALTHY: u8 = 0;
/// Exit status when problems were found (or remain after `--repair`).
pub const CHECK_PROBLEMS: u8 = 1;
/// Exit status when the check itself failed (no library there, unreadable folder, a library of
/// a newer format).
pub const CHECK_ERROR: u8 = 2;

/// `rwkv-reader check`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Exit status: 0 healthy (after repairing, with --repair), 1 problems \
found (or left that need a new ingestion), 2 no library there or the check failed."
)]
pub struct CheckArgs {
    /// Rebuild what can be rebuilt: the index from the stored text and chunks, chunk lists from
    /// the text, damaged or missing checkpoints by reading again from the previous good one
    /// (with the model in use), library.json, and documents whose source file is unchanged.
    #[arg(long)]
    pub repair: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `check`.
pub fn check(ctx: &Context, args: CheckArgs) -> Result<ExitCode> {
    match check_library(ctx, &args) {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(error) => {
            eprintln!("rwkv-reader: {error:#}");
            Ok(ExitCode::from(CHECK_ERROR))
        }
    }
}

fn check_library(ctx: &Context, args: &CheckArgs) -> Result<u8> {
    let dir = ctx.library_dir()?;
    let report = ingest::check_library(&dir)
        .with_context(|| format!("checking the library {}", dir.display()))?;
    if !args.repair {
        print_or_json(args.json, &report, print_check)?;
        return Ok(if report.is_healthy() {
            CHECK_HEALTHY
        } else {
            CHECK_PROBLEMS
        });
    }
    let mut writer = Library::open_writer(&dir)
        .with_context(|| format!("opening the library {} for writing", dir.display()))?;
    let loaded = if report.repair_needs_model() {
        let (model, tokenizer) = load_model(ctx)?;
        if !args.json {
            eprintln!("model: {}", model.info().label());
        }
        Some((model, tokenizer))
    } else {
        None
    };
    // Rebuilt checkpoints follow the spacing each document was read with; new ones the config's.
    let options = ctx.config.ingest_options();
    let tools = loaded.as_ref().map(|(model, tokenizer)| RepairTools {
        model: model.as_ref(),
        tokenizer,
        options: &options,
    });
    let mut progress = ProgressLine::new(std::io::stderr().is_terminal(), args.json);
    let stop = stop_signal::install();
    let repaired = ingest::repair_library(
        &mut writer,
        &report,
        tools,
        &mut |p| progress.update(&p),
        stop,
    )
    .context("repairing")?;
    progress.finish();
    print_or_json(args.json, &repaired, print_repair)?;
    Ok(if repaired.is_healthy() {
        CHECK_HEALTHY
    } else {
        CHECK_PROBLEMS
    })
}

fn print_or_json<T: serde::Serialize>(
    json: bool,
    value: &T,
    print: fn(&mut dyn Write, &T) -> std::io::Result<()>,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)?;
    } else {
        print(&mut out, value)?;
    }
    Ok(())
}

/// One line per problem: the file, what is wrong, what repair does.
fn print_check(out: &mut dyn Write, report: &CheckReport) -> std::io::Result<()> {
    writeln!(
        out,
        "library {}: {} documents, {} checkpoints",
        inert_name(&report.library.display().to_string()),
        report.documents,
        report.checkpoints
    )?;
    for p in &report.problems {
        writeln!(out, "PROBLEM {}", inert_name(&p.to_string()))?;
    }
    if report.is_healthy() {
        writeln!(out, "healthy: every part matches its digest")?;
    } else {
        let stuck = report.needing_reingest().count();
        writeln!(
            out,
            "{} problem(s): {} repaired by `rwkv-reader check --repair`, {stuck} need the file ingested again",
            report.problems.len(),
            report.problems.len() - stuck
        )?;
    }
    Ok(())
}

fn print_repair(out: &mut dyn Write, report: &RepairReport) -> std::io::Result<()> {
    for a in &report.actions {
        let note = a
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}{}",
            if a.repaired {
                "repaired    "
            } else {
                "NOT REPAIRED"
            },
            inert_name(&a.problem.to_string()),
            inert_name(&note)
        )?;
    }
    if report.is_healthy() {
        writeln!(out, "healthy after repair")?;
    } else {
        writeln!(out, "left after repair:")?;
        for p in &report.after.problems {
            writeln!(out, "PROBLEM {}", inert_name(&p.to_string()))?;
        }
    }
    Ok(())
}
