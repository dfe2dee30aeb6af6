//! The command line: `rwkv-reader [PATHS...]` opens the TUI (reading the paths in the
//! background); subcommands do one thing and print the result (`--json` for scripts).

mod ask_bench_cmd;
pub mod bench_args;
pub mod check_cmd;
pub mod engine_cmds;
mod heartbeat;
mod library_access;
pub mod library_cmds;
mod progress_line;
pub mod qa_cmds;
mod retrieval_bench_cmd;
mod stop_signal;
mod terminal_text;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, CONFIG_ENV};
use crate::model_choice::ModelChoice;

/// Environment variable naming the library folder (same as `--library`).
pub const LIBRARY_ENV: &str = "RWKV_READER_LIBRARY";
/// Environment variable naming the device (same as `--device`).
pub const DEVICE_ENV: &str = "RWKV_READER_DEVICE";

/// rwkv-reader: read books and case files with an RWKV-4 model, ask questions with page
/// citations, navigate section summaries. Without a subcommand it opens the terminal UI.
#[derive(Debug, Parser)]
#[command(name = "rwkv-reader", version)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do (default: open the terminal UI).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Books or folders to add to the library and read in the background when the UI opens.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Library folder [default: <data dir>/rwkv-reader/library, or `library` in the config].
    #[arg(long, global = true, value_name = "DIR", env = LIBRARY_ENV)]
    pub library: Option<PathBuf>,
    /// Model weights (.pth, .safetensors, .gguf) [default: `model` in the config, else the demo
    /// model].
    #[arg(long, global = true, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Tokenizer file (tokenizer.json) [default: the one next to the model].
    #[arg(long, global = true, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    /// Prompt template for questions and summaries: raven (Bob:/Alice:), pile
    /// (Question:/Answer:) or world (User:/Assistant:) [default: `prompt_family` in the config,
    /// else guessed from the model's file name].
    #[arg(long, global = true, value_name = "FAMILY")]
    pub prompt_family: Option<ingest::qa::PromptFamily>,
    /// Where the model computes: cpu (the CPU engine), cuda or cuda:N (a GPU; needs a build
    /// with `--features cuda`) [default: `device` in the config, else cpu].
    #[arg(long, global = true, value_name = "DEVICE", env = DEVICE_ENV)]
    pub device: Option<String>,
    /// Config file [default: <config dir>/rwkv-reader/config.toml].
    #[arg(long, global = true, value_name = "FILE", env = CONFIG_ENV)]
    pub config: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add files or folders to the library and read them (resumes where a previous run stopped).
    Ingest(library_cmds::IngestArgs),
    /// Search the library; prints document, pages and a snippet per hit.
    Search(library_cmds::SearchArgs),
    /// Answer a question from the library, with page citations.
    Ask(qa_cmds::AskArgs),
    /// Write (or show) per-section summaries of a document.
    Summarize(qa_cmds::SummarizeArgs),
    /// Write a document's questions, answers and summaries as Markdown.
    Export(qa_cmds::ExportArgs),
    /// Verify every stored part of the library (digests, index, checkpoints); `--repair`
    /// rebuilds what can be rebuilt.
    Check(check_cmd::CheckArgs),
    /// Measure the engine's speed.
    Bench(bench_args::BenchArgs),
    /// Evaluate a model on a text (bits per byte).
    Eval(engine_cmds::EvalArgs),
    /// Convert model weights (e.g. to Q8_0 for CPU).
    Convert(engine_cmds::ConvertArgs),
    /// Internal: extract a PDF's pages in an isolated child process (used by ingestion; `main`
    /// dispatches it before parsing, this entry documents it and keeps the name reserved).
    #[command(name = "__extract-pdf", hide = true)]
    ExtractPdf {
        /// `FILE [--first-page N]`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

/// Everything a command needs from the global options and the config file.
#[derive(Debug, Clone)]
pub struct Context {
    /// The global options as given.
    pub global: GlobalArgs,
    /// The config file's contents (defaults if there is none).
    pub config: Config,
}

impl Context {
    /// Loads the config named by the options (or the default one).
    pub fn load(global: GlobalArgs) -> Result<Context> {
        let config = Config::load(global.config.as_deref())?;
        Ok(Context { global, config })
    }

    /// The library folder: `--library`, else the config's, else `ingest`'s default
    /// (`$XDG_DATA_HOME/rwkv-reader/library`, i.e. `~/.local/share/rwkv-reader/library`).
    pub fn library_dir(&self) -> Result<PathBuf> {
        Ok(self
            .global
            .library
            .clone()
            .or_else(|| self.config.library.clone())
            .unwrap_or_else(ingest::Library::default_dir))
    }

    /// What the terminal UI needs: key bindings, library, model and export folder.
    pub fn tui_settings(&self) -> Result<crate::tui::TuiSettings> {
        let keymap = crate::tui::keymap::KeyMap::with_overrides(&self.config.keys)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("in {}", self.config.describe_source()))?;
        Ok(crate::tui::TuiSettings {
            keymap,
            library_dir: self.library_dir()?,
            model: self.model_choice()?,
            export_dir: self
                .config
                .export_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(".")),
            ask_options: self.config.ask_options(),
            ingest_options: self.config.ingest_options(),
        })
    }

    /// Where the model computes: `--device`, else the config's `device`, else `cpu`.
    pub fn device(&self) -> String {
        self.global
            .device
            .clone()
            .or_else(|| self.config.device.clone())
            .unwrap_or_else(|| "cpu".to_string())
    }

    /// The model and tokenizer to use.
    pub fn model_choice(&self) -> Result<ModelChoice> {
        ModelChoice::resolve(
            self.global.model.as_deref(),
            self.global.tokenizer.as_deref(),
            self.global.prompt_family,
            self.device(),
            &self.config,
        )
    }
}

/// Runs the command line; the exit code to leave with.
pub fn run(cli: Cli) -> Result<ExitCode> {
    // Every command but the PDF worker reads the config: the worker must not depend on it.
    let global = cli.global;
    let ctx = move || Context::load(global);
    match cli.command {
        None => crate::tui::run(ctx()?.tui_settings()?, cli.paths).map(|()| ExitCode::SUCCESS),
        Some(Command::Ingest(args)) => library_cmds::ingest(&ctx()?, args),
        Some(Command::Search(args)) => library_cmds::search(&ctx()?, args),
        Some(Command::Ask(args)) => qa_cmds::ask(&ctx()?, &args),
        Some(Command::Summarize(args)) => qa_cmds::summarize(&ctx()?, &args),
        Some(Command::Export(args)) => qa_cmds::export(&ctx()?, &args),
        Some(Command::Check(args)) => check_cmd::check(&ctx()?, args),
        Some(Command::Bench(args)) => engine_cmds::bench(&ctx()?, args),
        Some(Command::Eval(args)) => engine_cmds::eval(&ctx()?, args),
        Some(Command::Convert(args)) => engine_cmds::convert(&ctx()?, args),
        Some(Command::ExtractPdf { args }) => Ok(library_cmds::extract_pdf_worker(&args)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn paths_without_subcommand_open_the_tui() -> Result<()> {
        let cli = Cli::try_parse_from([
            "rwkv-reader",
            "sample-docs/",
            "book.pdf",
            "--library",
            "/tmp/lib",
        ])?;
        assert!(cli.command.is_none());
        assert_eq!(
            cli.paths,
            vec![PathBuf::from("sample-docs/"), PathBuf::from("book.pdf")]
        );
        assert_eq!(cli.global.library, Some(PathBuf::from("/tmp/lib")));
        Ok(())
    }

    #[test]
    fn global_options_work_after_a_subcommand() -> Result<()> {
        let cli = Cli::try_parse_from([
            "rwkv-reader",
            "search",
            "breach of contract",
            "--model",
            "m.pth",
            "--json",
        ])?;
        let Some(Command::Search(args)) = cli.command else {
            panic!("not search: {cli:?}")
        };
        assert_eq!(args.query, "breach of contract");
        assert!(args.json);
        assert_eq!(cli.global.model, Some(PathBuf::from("m.pth")));
        Ok(())
    }

    #[test]
    fn global_options_before_a_subcommand_do_not_turn_it_into_a_path() -> Result<()> {
        let cli = Cli::try_parse_from([
            "rwkv-reader",
            "--library",
            "/tmp/l",
            "ingest",
            "a.txt",
            "--json",
        ])?;
        let Some(Command::Ingest(args)) = cli.command else {
            panic!("not ingest: {cli:?}")
        };
        assert_eq!(args.paths, vec![PathBuf::from("a.txt")]);
        assert!(cli.paths.is_empty());
        Ok(())
    }

    #[test]
    fn hidden_pdf_worker_parses() -> Result<()> {
        let cli = Cli::try_parse_from(["rwkv-reader", "__extract-pdf", "x.pdf"])?;
        assert!(matches!(cli.command, Some(Command::ExtractPdf { .. })));
        let help = Cli::command().render_long_help().to_string();
        assert!(!help.contains("__extract-pdf"));
        Ok(())
    }
}
