//! A status line on stderr at least every few seconds while a long command runs with its
//! output piped (no terminal to redraw a bar on): a log or a script sees that the run is alive
//! and how far it is, even while one step (tokenizing or indexing a large file, a model reading
//! a chunk) sends no event for a while.

use std::io::Write as _;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the printing thread shares with the command.
struct Latest {
    /// The status to print (empty: nothing yet).
    line: String,
    /// When a line last went to stderr (from either side).
    printed: Instant,
}

/// Prints the latest status line whenever none was printed for `every`.
pub struct Heartbeat {
    latest: Arc<Mutex<Latest>>,
    /// Dropping it wakes the thread and ends it.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts the printing thread.
    pub fn start(every: Duration) -> Heartbeat {
        let latest = Arc::new(Mutex::new(Latest {
            line: String::new(),
            printed: Instant::now(),
        }));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = Arc::clone(&latest);
        let poll = every / 4;
        let thread = std::thread::Builder::new()
            .name("progress-heartbeat".into())
            .spawn(move || loop {
                match stopped.recv_timeout(poll) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let Ok(mut latest) = shared.lock() else {
                    return;
                };
                if !latest.line.is_empty() && latest.printed.elapsed() >= every {
                    let _ = writeln!(std::io::stderr().lock(), "{}", latest.line);
                    latest.printed = Instant::now();
                }
            })
            .ok();
        Heartbeat {
            latest,
            stop: Some(stop),
            thread,
        }
    }

    /// The status to print next time.
    pub fn set_line(&self, line: String) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.line = line;
        }
    }

    /// A line was just printed by the command itself: the next heartbeat waits a full period.
    pub fn printed(&self) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.printed = Instant::now();
        }
    }

    /// Stops the thread (before the final output).
    pub fn stop(&mut self) {
        self.stop = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop();
    }
}
