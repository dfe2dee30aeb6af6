//! Taking over the terminal and giving it back, whatever happens.
//!
//! - Raw mode, the alternate screen, mouse and bracketed-paste reporting are switched on
//!   together and off together (`restore` is safe to call more than once).
//! - A panic on the UI thread restores the terminal before the panic is printed. A panic on a
//!   worker thread leaves the UI running (the worker reports it as an error instead): restoring
//!   the terminal under a running UI would wreck both.
//! - While the UI owns the screen, stderr goes to a log file: a library that prints a warning
//!   (candle does, for some `.pth` tensors) would otherwise write over the screen where ratatui
//!   cannot see it. The file is named on exit if anything was written to it.

use std::fs::File;
use std::io::{stdout, Stdout};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;

/// The terminal the UI draws on.
pub type UiTerminal = Terminal<CrosstermBackend<Stdout>>;

/// The real stderr while it is redirected (-1 when it is not).
static SAVED_STDERR: AtomicI32 = AtomicI32::new(-1);

/// Switches the terminal to the UI's modes and installs the panic hook.
pub fn enter() -> std::io::Result<UiTerminal> {
    install_panic_hook();
    let entered = enable_raw_mode()
        .and_then(|()| {
            execute!(
                stdout(),
                EnterAlternateScreen,
                EnableMouseCapture,
                EnableBracketedPaste
            )
        })
        .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
    if entered.is_err() {
        restore();
    }
    entered
}

/// Gives the terminal back: stderr, modes, main screen, cursor. Errors are ignored: there is
/// nothing better to do with them at this point.
pub fn restore() {
    restore_stderr();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            restore();
        }
        previous(info);
    }));
}

/// Sends stderr to `log_path` (appending) until `restore`; returns the path when it worked.
pub fn redirect_stderr(log_path: &Path) -> Option<PathBuf> {
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).ok()?;
    }
    let file = File::options()
        .create(true)
        .append(true)
        .open(log_path)
        .ok()?;
    // SAFETY: dup/dup2 on descriptors this process owns; fd 2 always exists for a process
    // started from a terminal, and `saved` is closed exactly once, in `restore_stderr`.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 {
            return None;
        }
        if libc::dup2(file.as_raw_fd(), 2) < 0 {
            libc::close(saved);
            return None;
        }
        SAVED_STDERR.store(saved, Ordering::SeqCst);
    }
    Some(log_path.to_path_buf())
}

fn restore_stderr() {
    let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
    if saved >= 0 {
        // SAFETY: `saved` came from `dup` in `redirect_stderr` and is used once (swapped out).
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
    }
}
