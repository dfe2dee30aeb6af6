//! The event loop: owns the terminal, the one channel every thread reports into, and the
//! workers. It never waits on the model: it sleeps on the channel, applies everything that has
//! arrived (so a burst of tokens or progress reports becomes one redraw), draws, and repeats.

use std::io::stdout;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use anyhow::{Context as _, Result};
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;
use ratatui::DefaultTerminal;

use super::action::Action;
use super::draw::draw;
use super::input::action_for_event;
use super::keymap::KeyMap;
use super::messages::{Effect, WorkerEvent};
use super::state::AppState;
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
        paths,
    };
    let mut terminal = ratatui::try_init().context("opening the terminal (is this a terminal?)")?;
    let modes = execute!(stdout(), EnableMouseCapture, EnableBracketedPaste);
    install_panic_hook();
    let result = modes
        .context("enabling mouse and paste events")
        .and_then(|()| event_loop(&mut terminal, keymap, worker_ctx));
    restore_terminal();
    result
}

/// Undoes everything `run` did to the terminal.
fn restore_terminal() {
    let _ = execute!(stdout(), DisableMouseCapture, DisableBracketedPaste);
    let _ = ratatui::try_restore();
}

/// ratatui's hook (installed by `try_init`) restores raw mode and the main screen; this one also
/// turns mouse reporting off, then hands over to the previous hooks to print the panic.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    keymap: KeyMap,
    worker_ctx: WorkerContext,
) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    spawn_terminal_reader(tx.clone())?;
    let mut state = AppState::new(keymap.help_rows());
    state.library.location = worker_ctx.library_dir.display().to_string();
    let size = terminal.size().context("reading the terminal size")?;
    state.apply(Action::Resize {
        width: size.width,
        height: size.height,
    });
    let mut workers = Workers::start(worker_ctx, EventSink(tx));
    loop {
        terminal
            .draw(|frame| draw(frame, &state))
            .context("drawing")?;
        let effects = apply_pending(&rx, &mut state, &keymap)?;
        for effect in effects {
            workers.dispatch(effect);
        }
        if state.should_quit {
            break;
        }
    }
    if state.reading.is_some() {
        state.say("Saving the reading position…");
        terminal
            .draw(|frame| draw(frame, &state))
            .context("drawing")?;
    }
    workers.shutdown();
    Ok(())
}

/// Waits for at least one event, then applies every event already queued; returns their
/// effects. This is where redraws coalesce.
fn apply_pending(
    rx: &Receiver<AppEvent>,
    state: &mut AppState,
    keymap: &KeyMap,
) -> Result<Vec<Effect>> {
    let first = rx.recv().context("every event source stopped")?;
    let mut effects = apply_event(first, state, keymap)?;
    while !state.should_quit {
        match rx.try_recv() {
            Ok(event) => effects.extend(apply_event(event, state, keymap)?),
            Err(_) => break,
        }
    }
    Ok(effects)
}

fn apply_event(event: AppEvent, state: &mut AppState, keymap: &KeyMap) -> Result<Vec<Effect>> {
    match event {
        AppEvent::Terminal(event) => Ok(action_for_event(&event, state.input.is_some(), keymap)
            .map(|action| state.apply(action))
            .unwrap_or_default()),
        AppEvent::Worker(event) => Ok(state.on_event(event)),
        AppEvent::TerminalFailed(reason) => anyhow::bail!("reading the terminal: {reason}"),
    }
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
