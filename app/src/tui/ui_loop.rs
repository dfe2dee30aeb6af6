//! One turn of the event loop, apart from the terminal it draws on: draw the state, sleep on the
//! one channel until something arrives, apply everything that has arrived (so a burst of tokens
//! or progress reports becomes one redraw), hand the effects to the workers. The runtime runs it
//! on the real terminal; `examples/tui_bench.rs` runs the same code on a `TestBackend` to time
//! how long a key press takes to reach the screen while the model works.

use std::sync::mpsc::Receiver;

use anyhow::{Context as _, Result};
use ratatui::backend::Backend;
use ratatui::Terminal;

use super::action::Action;
use super::draw::draw;
use super::events::AppEvent;
use super::input::action_for_event;
use super::keymap::KeyMap;
use super::messages::Effect;
use super::state::AppState;
use super::workers::Workers;

/// The app state, the key map, the channel every thread reports into, and the workers.
pub struct UiLoop {
    /// What the screens show.
    pub state: AppState,
    keymap: KeyMap,
    rx: Receiver<AppEvent>,
    workers: Option<Workers>,
}

impl UiLoop {
    /// A loop over `rx` for a terminal of `size` (columns, rows); workers come with
    /// `start_workers`, once the sender side has been handed to them.
    pub fn new(keymap: KeyMap, rx: Receiver<AppEvent>, size: (u16, u16)) -> UiLoop {
        let mut state = AppState::new(keymap.help_rows());
        state.apply(Action::Resize {
            width: size.0,
            height: size.1,
        });
        UiLoop {
            state,
            keymap,
            rx,
            workers: None,
        }
    }

    /// Gives the loop the workers its effects go to.
    pub fn start_workers(&mut self, workers: Workers) {
        self.workers = Some(workers);
    }

    /// Draws the state.
    pub fn draw<B: Backend>(&self, terminal: &mut Terminal<B>) -> Result<()> {
        terminal
            .draw(|frame| draw(frame, &self.state))
            .map_err(|e| anyhow::anyhow!("drawing: {e}"))?;
        Ok(())
    }

    /// Waits for at least one event, applies every event already queued (each shown to
    /// `observe` first) and dispatches their effects. This is where redraws coalesce.
    pub fn turn(&mut self, observe: impl FnMut(&AppEvent)) -> Result<()> {
        let effects = apply_pending(&self.rx, &mut self.state, &self.keymap, observe)?;
        if let Some(workers) = &mut self.workers {
            for effect in effects {
                workers.dispatch(effect);
            }
        }
        Ok(())
    }

    /// Stops the workers (reading checkpoints first; see `Workers::shutdown`).
    pub fn shutdown(self) {
        if let Some(workers) = self.workers {
            workers.shutdown();
        }
    }
}

/// Waits for at least one event, then applies every event already queued; returns their
/// effects.
fn apply_pending(
    rx: &Receiver<AppEvent>,
    state: &mut AppState,
    keymap: &KeyMap,
    mut observe: impl FnMut(&AppEvent),
) -> Result<Vec<Effect>> {
    let first = rx.recv().context("every event source stopped")?;
    observe(&first);
    let mut effects = apply_event(first, state, keymap)?;
    while !state.should_quit {
        match rx.try_recv() {
            Ok(event) => {
                observe(&event);
                effects.extend(apply_event(event, state, keymap)?);
            }
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::tui::messages::{Effect, WorkerEvent};
    use crate::tui::state::ModelBadge;
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

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
        let mut seen = 0;
        let effects = apply_pending(&rx, &mut state, &keymap, |_| seen += 1)?;
        assert_eq!(effects, vec![Effect::Cancel { job }]);
        assert_eq!(seen, 5_001, "every event was shown to the observer");
        assert!(rx.try_recv().is_err(), "everything queued was applied");
        let answer = state.ask.shown_entry().map(|e| e.answer.len());
        assert_eq!(answer, Some(5_000));
        Ok(())
    }
}
