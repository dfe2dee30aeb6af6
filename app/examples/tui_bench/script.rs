//! The scripted user of part 2: opens the document, asks a question, waits while the answer
//! starts, watches it for a while without touching anything (the baseline speed), then scrolls
//! the Reader and types in the Ask line at a fast typist's pace (asking again whenever the
//! answer has ended, so the model is kept busy), and finally cancels with Esc and quits.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use ratatui::crossterm::event::KeyCode;

use crate::keyboard::{Keyboard, Phase};

/// What the loop last saw, for the script to wait on.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub model_ready: bool,
    pub model_failed: Option<String>,
    pub docs: usize,
    pub doc_open: bool,
    pub answer_running: bool,
    pub answer_pieces: usize,
    /// Answers the worker reported ended (cancelled ones too, which the UI no longer shows).
    pub asks_finished: usize,
}

pub type Shared = Arc<Mutex<Observed>>;

/// When each phase ran.
#[derive(Debug, Clone, Copy)]
pub struct Marks {
    pub question_sent: Instant,
    pub first_piece: Instant,
    pub baseline: (Instant, Instant),
    pub typing: (Instant, Instant),
    /// When Esc cancelled the running answer (None: it had already ended).
    pub cancel_sent: Option<Instant>,
    /// When Esc cancelled a new question while it re-read its passage.
    pub cancel_reading_sent: Option<Instant>,
}

/// How long setup waits may take (building the model is done before; this is reading the
/// document and re-reading the passage, slow for big shapes).
const SETUP_WAIT: Duration = Duration::from_secs(900);
/// How long into re-reading its passage the last question is cancelled.
const REREAD_BEFORE_ESC: Duration = Duration::from_secs(2);
const QUESTION: &str = "Where was the brass compass hidden?";
const TYPED: &str = "and what did the keeper write in the log that night";

fn observed(shared: &Shared) -> Result<Observed> {
    shared
        .lock()
        .map(|o| o.clone())
        .map_err(|_| anyhow!("the loop panicked"))
}

fn wait_for(shared: &Shared, what: &str, done: impl Fn(&Observed) -> bool) -> Result<Instant> {
    let deadline = Instant::now() + SETUP_WAIT;
    loop {
        let now = observed(shared)?;
        if let Some(reason) = &now.model_failed {
            bail!("the model failed: {reason}");
        }
        if done(&now) {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("gave up waiting for {what}");
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Types the question and sends it; when it was sent.
fn ask(keys: &Keyboard, phase: Phase) -> Result<Instant> {
    keys.press(KeyCode::Char('a'), phase)?;
    keys.type_text(QUESTION, phase)?;
    let sent = Instant::now();
    keys.press(KeyCode::Enter, phase)?;
    Ok(sent)
}

/// Runs the script; presses `q` at the end whatever happened, so the loop always stops.
pub fn run(keys: &Keyboard, shared: &Shared, baseline_s: f64, typing_s: f64) -> Result<Marks> {
    let result = steps(keys, shared, baseline_s, typing_s);
    let quit = keys.press(KeyCode::Char('q'), Phase::End);
    let marks = result?;
    quit?;
    Ok(marks)
}

fn steps(keys: &Keyboard, shared: &Shared, baseline_s: f64, typing_s: f64) -> Result<Marks> {
    wait_for(shared, "the model and the library", |o| {
        o.model_ready && o.docs > 0
    })?;
    keys.press(KeyCode::Enter, Phase::Setup)?;
    wait_for(shared, "the document to open", |o| o.doc_open)?;
    let question_sent = ask(keys, Phase::Setup)?;
    let first_piece = wait_for(shared, "the first answer token", |o| o.answer_pieces > 0)?;

    // Baseline: nothing pressed (unless the answer ended and a new one must be asked).
    let baseline_start = Instant::now();
    while baseline_start.elapsed().as_secs_f64() < baseline_s {
        if !observed(shared)?.answer_running {
            ask(keys, Phase::Setup)?;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let baseline = (baseline_start, Instant::now());

    // Typing: scroll the Reader, type in the Ask line, over and over.
    let typing_start = Instant::now();
    while typing_start.elapsed().as_secs_f64() < typing_s {
        keys.press(KeyCode::Char('2'), Phase::Typing)?;
        for _ in 0..8 {
            keys.press(KeyCode::Char('j'), Phase::Typing)?;
        }
        keys.press(KeyCode::PageDown, Phase::Typing)?;
        keys.press(KeyCode::PageDown, Phase::Typing)?;
        for _ in 0..4 {
            keys.press(KeyCode::Char('k'), Phase::Typing)?;
        }
        keys.press(KeyCode::Char('3'), Phase::Typing)?;
        keys.press(KeyCode::Char('a'), Phase::Typing)?;
        keys.type_text(TYPED, Phase::Typing)?;
        // Send it only if the model is free: sending replaces (cancels) a running answer.
        let close = if observed(shared)?.answer_running {
            KeyCode::Esc
        } else {
            KeyCode::Enter
        };
        keys.press(close, Phase::Typing)?;
    }
    let typing = (typing_start, Instant::now());

    let now = observed(shared)?;
    let cancel_sent = if now.answer_running {
        keys.press(KeyCode::Char('3'), Phase::End)?;
        let sent = Instant::now();
        keys.press(KeyCode::Esc, Phase::End)?;
        wait_for(shared, "the worker to stop", |o| {
            o.asks_finished > now.asks_finished
        })?;
        Some(sent)
    } else {
        None
    };

    // A new question, cancelled while it re-reads its passage (the model stops between chunks).
    let before = observed(shared)?;
    ask(keys, Phase::End)?;
    thread::sleep(REREAD_BEFORE_ESC);
    let still_reading = observed(shared)?.answer_pieces == before.answer_pieces;
    let sent = Instant::now();
    keys.press(KeyCode::Esc, Phase::End)?;
    let cancel_reading_sent = still_reading.then_some(sent);
    wait_for(shared, "the worker to stop", |o| {
        o.asks_finished > before.asks_finished
    })?;
    Ok(Marks {
        question_sent,
        first_piece,
        baseline,
        typing,
        cancel_sent,
        cancel_reading_sent,
    })
}
