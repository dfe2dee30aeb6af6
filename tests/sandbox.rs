//! A private library, config file and home folder for one end-to-end test, and the real
//! `rwkv-reader` binary run against them, so that no test reads or writes the user's own.

// Each test file uses the helpers it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary cargo built for this test.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rwkv-reader"))
}

/// The project root: commands run there, so `sample-docs/…` paths work.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A temporary folder with an empty `config.toml`; `library/` and `home/` are made on use.
pub struct Sandbox {
    /// The folder (removed when the sandbox is dropped).
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A new sandbox with an empty config file.
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let sandbox = Sandbox { dir };
        sandbox.write_config("");
        sandbox
    }

    /// `name` inside the sandbox.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Replaces the config file's text.
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.path("config.toml"), text).unwrap_or_else(|e| panic!("config: {e}"));
    }

    /// Environment that points the binary at the sandbox's library, config and home.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = |p: &str| self.path(p).to_string_lossy().into_owned();
        vec![
            ("RWKV_READER_LIBRARY", path("library")),
            ("RWKV_READER_CONFIG", path("config.toml")),
            ("HOME", path("home")),
            ("XDG_CONFIG_HOME", path("home/.config")),
            ("XDG_DATA_HOME", path("home/.local/share")),
            // candle captures a backtrace per error otherwise (slow, and noise in stderr).
            ("RUST_BACKTRACE", "0".to_string()),
        ]
    }

    /// Runs the binary to completion in the project root, in the sandbox.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(binary())
            .args(args)
            .current_dir(project_root())
            .envs(self.env())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", binary().display()))
    }
}
