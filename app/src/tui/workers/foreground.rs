//! Questions before background reading. Reading and answering run on their own threads and
//! share the same cores: on a 2-core machine an answer beside reading comes at about half speed
//! (BENCHMARKS.md, "Terminal UI"). The user is waiting for the answer and not for the reading,
//! so while a question is answered the reading thread pauses between two layers of the model
//! (`ProgressEvent::BetweenLayers`), and goes on when the answer ends. Summaries do not pause reading: writing all of them can take longer
//! than reading a book.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How often a paused reader looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// How many questions are being answered now, and a way to wait until none is.
#[derive(Debug, Default)]
pub struct Foreground {
    questions: Mutex<usize>,
    changed: Condvar,
}

/// Held while a question is answered; dropping it (however the answer ends, panics included)
/// lets reading go on.
#[derive(Debug)]
pub struct ForegroundGuard(Arc<Foreground>);

impl Foreground {
    /// Marks a question as being answered until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> ForegroundGuard {
        *self.count() += 1;
        self.changed.notify_all();
        ForegroundGuard(Arc::clone(self))
    }

    /// True while a question is being answered.
    pub fn is_busy(&self) -> bool {
        *self.count() > 0
    }

    /// Blocks while a question is being answered, or until `stop` is set.
    pub fn wait_while_busy(&self, stop: &AtomicBool) {
        let mut count = self.count();
        while *count > 0 && !stop.load(Ordering::Relaxed) {
            count = self
                .changed
                .wait_timeout(count, STOP_POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The counter; a panic elsewhere cannot leave a plain count half-written.
    fn count(&self) -> std::sync::MutexGuard<'_, usize> {
        self.questions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ForegroundGuard {
    fn drop(&mut self) {
        let mut count = self.0.count();
        *count = count.saturating_sub(1);
        drop(count);
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::thread;
    use std::time::Instant;

    use super::*;

    #[test]
    fn reading_waits_until_the_last_question_ends() {
        let foreground = Arc::new(Foreground::default());
        let stop = AtomicBool::new(false);
        foreground.wait_while_busy(&stop); // nothing to wait for
        let first = foreground.enter();
        let second = foreground.enter();
        assert!(foreground.is_busy());
        let waiter = {
            let foreground = Arc::clone(&foreground);
            thread::spawn(move || {
                foreground.wait_while_busy(&AtomicBool::new(false));
                Instant::now()
            })
        };
        drop(first);
        thread::sleep(Duration::from_millis(50));
        assert!(foreground.is_busy(), "one question is still answered");
        // The waiter may only wake once the last question has ended (no timing assumptions:
        // on a loaded machine the thread may not even have started before this point).
        let last_ended = Instant::now();
        drop(second);
        let woke = waiter.join().expect("the waiter thread panicked");
        assert!(
            woke >= last_ended,
            "reading went on while a question was answered"
        );
        assert!(!foreground.is_busy());
    }

    #[test]
    fn a_stop_request_ends_the_wait() {
        let foreground = Arc::new(Foreground::default());
        let _answering = foreground.enter();
        let stop = AtomicBool::new(true);
        foreground.wait_while_busy(&stop);
        assert!(foreground.is_busy());
    }
}
