//! # Part 1: drawing each screen
//!
//! Every screen of the busy state (`fixtures`), drawn frame after frame into ratatui's
//! `TestBackend`, and into the crossterm backend writing escape codes to a sink (what a real
//! terminal costs the UI thread, minus the terminal). Between two frames, outside the timing,
//! the screen moves the way it does in use: the Reader scrolls a row, the answer gets a word,
//! the lists move their selection, so each frame has real changes to diff and write.

use std::io;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use crate::fixtures::busy_state;
use crate::stats::Summary;
use crate::tui::action::Action;
use crate::tui::draw::draw;
use crate::tui::state::{AppState, DocEntry, Screen};

/// Terminal sizes timed.
const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];
/// Frames drawn before timing starts.
const WARM_UP_FRAMES: usize = 10;

/// What is drawn: a screen, or the help over the Reader.
#[derive(Debug, Clone, Copy)]
enum View {
    Screen(Screen),
    /// The Library screen with a folder of 5,000 case files.
    BigLibrary,
    Help,
}

const VIEWS: [View; 6] = [
    View::Screen(Screen::Library),
    View::BigLibrary,
    View::Screen(Screen::Reader),
    View::Screen(Screen::Ask),
    View::Screen(Screen::Summaries),
    View::Help,
];

impl View {
    fn name(self) -> &'static str {
        match self {
            View::Screen(screen) => screen.title(),
            View::BigLibrary => "Library, 5,000 documents",
            View::Help => "Help (over Reader)",
        }
    }

    fn state(self, size: (u16, u16)) -> AppState {
        let mut state = busy_state(size);
        match self {
            View::Screen(screen) => state.screen = screen,
            View::BigLibrary => {
                state.screen = Screen::Library;
                let one = state.library.docs.first().cloned().unwrap_or_default();
                state.library.docs = (0..5_000)
                    .map(|i| DocEntry {
                        id: format!("case{i}"),
                        name: format!("cases/{i:04}-{}", one.name),
                        ..one.clone()
                    })
                    .collect();
                // Mid-list, where every row shown is past the first screenful.
                state.library.selected = 2_500;
            }
            View::Help => {
                state.screen = Screen::Reader;
                state.apply(Action::Help);
            }
        }
        state
    }

    /// The change between two frames.
    fn step(self, state: &mut AppState, frame: usize) {
        match self {
            View::Screen(Screen::Ask) => {
                if let Some(entry) = state.ask.entries.first_mut() {
                    entry.answer.push_str(" word");
                }
            }
            View::BigLibrary => {
                state.apply(Action::Down);
            }
            // Down to the end of a list, then back to the top.
            _ if frame % 150 == 149 => {
                state.apply(Action::Top);
            }
            _ => {
                state.apply(Action::Down);
            }
        }
    }
}

/// Draws `frames` frames of `view` on `terminal`; the time of each.
fn time_frames<B: Backend>(
    terminal: &mut Terminal<B>,
    view: View,
    size: (u16, u16),
    frames: usize,
) -> Result<Vec<Duration>> {
    let mut state = view.state(size);
    let mut times = Vec::with_capacity(frames);
    for frame in 0..WARM_UP_FRAMES + frames {
        view.step(&mut state, frame);
        let start = Instant::now();
        terminal
            .draw(|f| draw(f, &state))
            .map_err(|e| anyhow!("drawing {}: {e}", view.name()))?;
        if frame >= WARM_UP_FRAMES {
            times.push(start.elapsed());
        }
    }
    Ok(times)
}

/// Runs part 1 and prints its table.
pub fn run(frames: usize) -> Result<()> {
    println!(
        "\n## Drawing: per-frame µs, median / p99 ({frames} frames each; a 4 MB document open)\n"
    );
    println!("| screen | 80×24 TestBackend | 200×60 TestBackend | 80×24 crossterm → sink | 200×60 crossterm → sink |");
    println!("|---|---:|---:|---:|---:|");
    for view in VIEWS {
        let mut cells = Vec::new();
        for (w, h) in SIZES {
            let mut terminal = Terminal::new(TestBackend::new(w, h))?;
            cells.push(Summary::of(&time_frames(
                &mut terminal,
                view,
                (w, h),
                frames,
            )?));
        }
        for (w, h) in SIZES {
            let options = TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            };
            let mut terminal = Terminal::with_options(CrosstermBackend::new(io::sink()), options)?;
            cells.push(Summary::of(&time_frames(
                &mut terminal,
                view,
                (w, h),
                frames,
            )?));
        }
        let cells: Vec<String> = cells
            .iter()
            .map(|s| format!("{:.0} / {:.0}", s.median_us, s.p99_us))
            .collect();
        println!("| {} | {} |", view.name(), cells.join(" | "));
    }
    Ok(())
}
