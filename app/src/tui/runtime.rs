//! The event loop: owns the terminal, the one channel every thread reports into, and the
//! workers. It never waits on the model: it sleeps on the channel, applies everything that has
//! arrived (so a burst of tokens or progress reports becomes one redraw), draws, and repeats.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use anyhow::{Context as _, Result};
use ratatui::crossterm::event::{self, Event};

use super::action::Action;
use super::draw::draw;
use super::input::action_for_event;
use super::keymap::KeyMap;
use super::messages::{Effect, WorkerEvent};
use super::state::AppState;
use super::terminal::{self, UiTerminal};
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
        if std::env::var_os(PANIC_FOR_TESTS_ENV).is_some() {
            panic!("{PANIC_FOR_TESTS_ENV} is set: panicking on purpose");
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::messages::Effect;
    use crate::tui::state::ModelBadge;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    /// Thousands of streamed tokens and a key press that arrive together are applied in one
    /// pass (one redraw), and the key is not starved by the tokens.
    #[test]
    fn bursts_of_worker_events_coalesce_into_one_pass_with_the_keys() -> Result<()> {
        let keymap = KeyMap::default();
        let mut state = AppState::new(keymap.help_rows());
        state.on_event(WorkerEvent::ModelLoaded(ModelBadge::default()));
        state.apply(Action::Ask);
        state.apply(Action::InputChar('?'));
        let effects = state.apply(Action::InputSubmit);
        let Some(Effect::Ask { job, .. }) = effects.first().cloned() else {
            panic!("no question asked: {effects:?}")
        };
        let (tx, rx) = mpsc::channel();
        for _ in 0..5_000 {
            tx.send(AppEvent::Worker(WorkerEvent::AskText {
                job,
                text: "x".into(),
            }))?;
        }
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        tx.send(AppEvent::Terminal(Event::Key(esc)))?;
        let effects = apply_pending(&rx, &mut state, &keymap)?;
        assert_eq!(effects, vec![Effect::Cancel { job }]);
        assert!(rx.try_recv().is_err(), "everything queued was applied");
        let answer = state.ask.shown_entry().map(|e| e.answer.len());
        assert_eq!(answer, Some(5_000));
        Ok(())
    }
}
