//! The event loop: owns the terminal, the one channel every thread reports into, and the
//! workers. It never waits on the model: it sleeps on the channel, applies everything that has
//! arrived (so a burst of tokens or progress reports becomes one redraw), draws, and repeats
//! (one turn of it is `UiLoop`).

use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::thread;

use anyhow::{Context as _, Result};
use ratatui::crossterm::event::{self, Event};

use super::keymap::KeyMap;
use super::messages::WorkerEvent;
use super::terminal::{self, UiTerminal};
use super::ui_loop::UiLoop;
use super::workers::{WorkerContext, Workers};
use crate::cli::Context;

/// Everything that wakes the event loop.
#[derive(Debug)]
pub enum AppEvent {
    /// A key, mouse, paste or resize event from the terminal.
    Terminal(Event),
    /// The terminal could no longer be read.
    TerminalFailed(String),
    /// A report from a worker.
    Worker(WorkerEvent),
}

/// Where workers send their reports. Sending never fails loudly: if the UI is gone, the report
/// has nobody to go to.
#[derive(Debug, Clone)]
pub struct EventSink(Sender<AppEvent>);

impl EventSink {
    /// A sink into the loop's channel.
    pub fn new(tx: Sender<AppEvent>) -> EventSink {
        EventSink(tx)
    }

    /// Sends one report to the UI.
    pub fn send(&self, event: WorkerEvent) {
        let _ = self.0.send(AppEvent::Worker(event));
    }
}

/// Opens the TUI on the library, reading `paths` in the background, until the user quits.
pub fn run(ctx: &Context, paths: Vec<PathBuf>) -> Result<()> {
    let keymap = KeyMap::with_overrides(&ctx.config.keys)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("in {}", ctx.config.describe_source()))?;
    let worker_ctx = WorkerContext {
        library_dir: ctx.library_dir()?,
        model: ctx.model_choice()?,
        export_dir: ctx
            .config
            .export_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")),
        ask_options: ctx.config.ask_options(),
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
