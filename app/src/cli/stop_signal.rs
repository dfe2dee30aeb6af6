//! Ctrl-C (SIGINT) and SIGTERM during a long command (`ingest`, `check --repair`): the first
//! one sets a flag that reading checks between two layers, so the run stops at the next layer
//! and saves the state from before the chunk, like the terminal UI's quit. A second signal ends
//! the process at once (the handler is reset to the default after the first), which a killed
//! ingestion also survives: it resumes from the last checkpoint.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by the first SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);
/// The signal that set [`STOP`].
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only atomics: nothing else is safe inside a signal handler.
    SIGNAL.store(signal, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// Installs the handler for SIGINT and SIGTERM; returns the flag it sets.
pub fn install() -> &'static AtomicBool {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `action` is fully initialised (zeroed, then handler, flags and an empty mask
        // set) before sigaction reads it; the handler only stores to atomics.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    &STOP
}

/// The signal that asked to stop, if one did (its number).
pub fn received() -> Option<i32> {
    STOP.load(Ordering::SeqCst)
        .then(|| SIGNAL.load(Ordering::SeqCst))
}

/// The exit code of a run stopped by `signal`: 128 + its number, as shells report it.
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(130)
}
