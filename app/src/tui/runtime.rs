//! The event loop: owns the terminal, the one channel every thread reports into, and the
//! workers. It never waits on the model: it sleeps on the channel, applies everything that has
//! arrived (so a burst of tokens or progress reports becomes one redraw), draws, and repeats
//! (one turn of it is `UiLoop`).

use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::thread;

use anyhow::{Context as _, Result};
use ratatui::crossterm::event;

use super::events::{AppEvent, EventSink};
use super::keymap::KeyMap;
use super::terminal::{self, UiTerminal};
use super::ui_loop::UiLoop;
use super::workers::{WorkerContext, Workers};
use crate::model_choice::ModelChoice;

/// What the UI needs from the command line and the config file, resolved by the caller.
#[derive(Debug)]
pub struct TuiSettings {
    /// The key bindings, the config file's overrides applied.
    pub keymap: KeyMap,
    /// The library folder.
    pub library_dir: PathBuf,
    /// The model and tokenizer to load.
    pub model: ModelChoice,
    /// Where `e` writes a document's notes as Markdown.
    pub export_dir: PathBuf,
    /// How questions are answered (passages read, re-read budget).
    pub ask_options: ingest::qa::AskOptions,
    /// How documents are read (checkpoint spacing).
    pub ingest_options: ingest::IngestOptions,
}

/// Opens the TUI on the library, reading `paths` in the background, until the user quits.
pub fn run(settings: TuiSettings, paths: Vec<PathBuf>) -> Result<()> {
    let keymap = settings.keymap;
    let worker_ctx = WorkerContext {
        library_dir: settings.library_dir,
        model: settings.model,
        export_dir: settings.export_dir,
        ask_options: settings.ask_options,
        ingest_options: settings.ingest_options,
        paths,
    };
    let log = stderr_log_path();
    let log_size_before = log.as_deref().and_then(file_size).unwrap_or(0);
    let mut terminal = terminal::enter().context("opening the terminal (is this a terminal?)")?;
    let redirected = log.as_deref().and_then(terminal::redirect_stderr);
    let result = event_loop(&mut terminal, keymap, worker_ctx);
    terminal::restore();
    if let Some(log) = redirected {
        if file_size(&log).unwrap_or(0) > log_size_before {
            eprintln!(
                "rwkv-reader: messages printed while the screen was in use are in {}",
                log.display()
            );
        }
    }
    result
}

/// Where stderr goes while the UI owns the screen: `<state dir>/rwkv-reader/tui-stderr.log`.
fn stderr_log_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::cache_dir)
        .map(|d| d.join("rwkv-reader").join("tui-stderr.log"))
}

fn file_size(path: &std::path::Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Set to make the UI panic right after its first frame: the end-to-end tests check that a
/// panic gives the terminal back before it is reported.
const PANIC_FOR_TESTS_ENV: &str = "RWKV_READER_PANIC_AFTER_FIRST_FRAME";

fn event_loop(terminal: &mut UiTerminal, keymap: KeyMap, worker_ctx: WorkerContext) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    spawn_terminal_reader(tx.clone())?;
    let size = terminal.size().context("reading the terminal size")?;
    let mut ui = UiLoop::new(keymap, rx, (size.width, size.height));
    ui.state.library.location = worker_ctx.library_dir.display().to_string();
    ui.start_workers(Workers::start(worker_ctx, EventSink::new(tx)));
    loop {
        ui.draw(terminal)?;
        if std::env::var_os(PANIC_FOR_TESTS_ENV).is_some() {
            panic!("{PANIC_FOR_TESTS_ENV} is set: panicking on purpose");
        }
        ui.turn(|_| {})?;
        if ui.state.should_quit {
            break;
        }
    }
    if ui.state.reading.is_some() {
        ui.state.say("Saving the reading position…");
        ui.draw(terminal)?;
    }
    ui.shutdown();
    Ok(())
}

/// Reads terminal events on their own thread, so the loop can sleep on one channel.
fn spawn_terminal_reader(tx: Sender<AppEvent>) -> Result<()> {
    thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || loop {
            let message = match event::read() {
                Ok(event) => AppEvent::Terminal(event),
                Err(e) => AppEvent::TerminalFailed(e.to_string()),
            };
            let failed = matches!(message, AppEvent::TerminalFailed(_));
            if tx.send(message).is_err() || failed {
                break;
            }
        })
        .map(|_| ())
        .context("starting the terminal input thread")
}
