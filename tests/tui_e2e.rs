//! End to end: the real `rwkv-reader` binary in a real terminal (tmux), on the sample documents
//! and the bundled demo model, with a private library and config in a temporary folder.

mod tmux_harness;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tmux_harness::TmuxSession;

/// Generous: the first start loads the model in the dev profile on a busy 2-core machine.
const STARTUP: Duration = Duration::from_secs(60);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rwkv-reader"))
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A private library and an empty config file, so no test sees the user's.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("temp dir: {e}"),
        };
        if let Err(e) = std::fs::write(dir.path().join("config.toml"), "") {
            panic!("config: {e}");
        }
        Sandbox { dir }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let path = |p: &str| self.dir.path().join(p).to_string_lossy().into_owned();
        vec![
            ("RWKV_READER_LIBRARY", path("library")),
            ("RWKV_READER_CONFIG", path("config.toml")),
            ("HOME", path("home")),
            ("XDG_CONFIG_HOME", path("home/.config")),
            ("XDG_DATA_HOME", path("home/.local/share")),
        ]
    }

    fn start(&self, args: &[&str], width: u16, height: u16) -> TmuxSession {
        TmuxSession::start(binary(), args, &self.env(), &project_root(), width, height)
    }
}

#[test]
fn opens_sample_docs_shows_the_library_and_model_then_quits_with_q() {
    let sandbox = Sandbox::new();
    let tui = sandbox.start(&["sample-docs/"], 100, 30);
    tui.wait_for("1 Library", STARTUP);
    // The model is named in the status bar while it loads and once it is loaded.
    tui.wait_until("the model in the status bar", STARTUP, |s| {
        s.contains("rwkv4-demo") || s.contains("demo model")
    });
    tui.keys(&["?"]);
    tui.wait_for("Keys", STARTUP);
    tui.keys(&["Escape"]);
    tui.wait_until("help closed", STARTUP, |s| !s.contains(" Keys "));
    tui.keys(&["q"]);
    assert_eq!(
        tui.wait_exit(STARTUP),
        0,
        "exit status; screen:\n{}",
        tui.screen()
    );
}

#[test]
fn a_broken_config_file_is_reported_before_the_terminal_is_touched() {
    let sandbox = Sandbox::new();
    if let Err(e) = std::fs::write(
        sandbox.dir.path().join("config.toml"),
        "[keys]\nquit = [\"hyper-q\"]\n",
    ) {
        panic!("config: {e}");
    }
    let output = std::process::Command::new(binary())
        .envs(sandbox.env())
        .current_dir(project_root())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => panic!("running {}: {e}", binary().display()),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("hyper-q") && stderr.contains("config.toml"),
        "the error names the key and the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
