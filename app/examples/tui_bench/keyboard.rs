//! The benchmark's stand-in for the terminal-input thread: it sends key events into the loop's
//! channel exactly as `runtime::spawn_terminal_reader` does, after noting when each was sent, so
//! the loop can tell how long each took to reach the screen.

use std::collections::VecDeque;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use crate::tui::events::AppEvent;

/// Which part of the script a key belongs to (latencies are reported per phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opening the document, asking the first question.
    Setup,
    /// Keys pressed while the answer generates (the figure that matters).
    Typing,
    /// Esc to cancel, `q` to quit.
    End,
}

/// A key sent and not yet drawn.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub at: Instant,
    pub phase: Phase,
}

/// Keys sent, in order; the loop takes one off the front for each key event it applies.
pub type SentKeys = Arc<Mutex<VecDeque<Sent>>>;

/// Sends keys into the loop's channel.
pub struct Keyboard {
    tx: Sender<AppEvent>,
    sent: SentKeys,
    /// Pause after each key.
    pub interval: Duration,
}

impl Keyboard {
    pub fn new(tx: Sender<AppEvent>, sent: SentKeys, interval: Duration) -> Keyboard {
        Keyboard { tx, sent, interval }
    }

    /// Sends one key (noted first, so the loop always finds the note), then pauses.
    pub fn press(&self, code: KeyCode, phase: Phase) -> Result<()> {
        let at = Instant::now();
        self.sent
            .lock()
            .map_err(|_| anyhow!("the loop panicked"))?
            .push_back(Sent { at, phase });
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        self.tx
            .send(AppEvent::Terminal(Event::Key(key)))
            .map_err(|_| anyhow!("the loop stopped"))?;
        thread::sleep(self.interval);
        Ok(())
    }

    /// Types `text`, one key per character.
    pub fn type_text(&self, text: &str, phase: Phase) -> Result<()> {
        text.chars()
            .try_for_each(|c| self.press(KeyCode::Char(c), phase))
    }
}
