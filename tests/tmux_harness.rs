//! Runs a program in a real terminal (a detached tmux session on a private socket), types into
//! it and reads its screen. Polls the screen for expected text instead of sleeping.
//!
//! tmux must be installed (`.ci/run` installs it): without it these tests fail, loudly.

// Each test file uses the helpers it needs.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How often the screen is read while waiting for text.
const POLL: Duration = Duration::from_millis(50);

/// A program running in its own tmux server.
pub struct TmuxSession {
    socket: String,
    /// Holds `exit-status`, written by the wrapper shell when the program ends.
    status_dir: tempfile::TempDir,
}

fn tmux_output(socket: &str, args: &[&str]) -> Output {
    match Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run tmux ({e}). The end-to-end tests need tmux: `apt-get install -y tmux` \
             (.ci/run does this)"
        ),
    }
}

impl TmuxSession {
    /// Starts `program args` in a `width`×`height` terminal with `env` set, in `cwd`.
    pub fn start(
        program: &Path,
        args: &[&str],
        env: &[(&str, String)],
        cwd: &Path,
        width: u16,
        height: u16,
    ) -> TmuxSession {
        let socket = format!("rwkv-e2e-{}-{}", std::process::id(), unique());
        let status_dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("temp dir for the exit status: {e}"),
        };
        // The program runs under `sh`, which records its exit status in a file: under load tmux
        // can be slow to notice that a pane's process has ended (it was seen leaving it a
        // zombie for over a minute), and the file does not depend on that.
        let status_path = status_dir.path().join("exit-status");
        let script = format!("\"$@\"; echo $? > '{}'", status_path.display());
        let session = TmuxSession { socket, status_dir };
        let (w, h) = (width.to_string(), height.to_string());
        let cwd = cwd.to_string_lossy().into_owned();
        let mut cmd: Vec<String> = [
            "-f",
            "/dev/null",
            "start-server",
            ";",
            "set",
            "-g",
            "remain-on-exit",
            "on",
            ";",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // escape-time 0: else tmux holds a lone Esc back, waiting for the rest of a sequence.
        cmd.extend(["set", "-s", "escape-time", "0", ";"].map(String::from));
        cmd.extend(
            [
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                &w,
                "-y",
                &h,
                "-c",
                &cwd,
            ]
            .map(String::from),
        );
        cmd.extend(["-e".to_string(), "TERM=xterm-256color".to_string()]);
        for (key, value) in env {
            cmd.push("-e".into());
            cmd.push(format!("{key}={value}"));
        }
        cmd.extend(["--", "sh", "-c", &script, "sh"].map(String::from));
        cmd.push(program.to_string_lossy().into_owned());
        cmd.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let out = tmux_output(&session.socket, &refs);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        session
    }

    /// Sends keys in tmux's notation (`q`, `Enter`, `Escape`, `C-c`, `Down`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        let out = tmux_output(&self.socket, &args);
        assert!(
            out.status.success(),
            "send-keys {keys:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Types text literally (no key names).
    pub fn type_text(&self, text: &str) {
        let out = tmux_output(&self.socket, &["send-keys", "-t", "e2e", "-l", text]);
        assert!(
            out.status.success(),
            "send-keys -l: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(
            &tmux_output(&self.socket, &["capture-pane", "-p", "-t", "e2e"]).stdout,
        )
        .into_owned()
    }

    /// The program's exit status once it has exited (128 + N for a death by signal N).
    pub fn exit_status(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.status_dir.path().join("exit-status")).ok()?;
        // The shell may not have finished writing the line yet.
        text.strip_suffix('\n')?.trim().parse().ok()
    }

    /// A tmux format of the pane (e.g. `#{alternate_on}`), expanded.
    pub fn pane_format(&self, format: &str) -> String {
        let out = tmux_output(
            &self.socket,
            &["display-message", "-p", "-t", "e2e", format],
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until `pred` holds for the screen; panics with the last screen after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; the screen was:\n{screen}");
            }
            if let Some(status) = self.exit_status() {
                panic!("the program exited (status {status}) while waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?}"), timeout, |screen| {
            screen.contains(text)
        })
    }

    /// Waits until the program exits; its status.
    pub fn wait_exit(&self, timeout: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                return status;
            }
            if start.elapsed() > timeout {
                panic!(
                    "the program did not exit within {timeout:?}; the screen was:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for TmuxSession {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
