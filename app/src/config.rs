//! The user's config file (TOML), by default `<config dir>/rwkv-reader/config.toml`
//! (`~/.config/rwkv-reader/config.toml` on Linux). Every field is optional:
//!
//! ```toml
//! model = "/models/RWKV-4-Pile-1B5-20220903-8040.pth"   # default: the bundled demo model
//! tokenizer = "/models/20B_tokenizer.json"              # default: next to the model
//! library = "/data/rwkv-library"                        # default: <data dir>/rwkv-reader/library
//! export_dir = "."                                      # where `e` in the TUI writes Markdown
//! device = "cpu"                                        # cpu | cuda | cuda:N (a `cuda` build)
//! prompt_family = "raven"        # raven | pile | world; default: from the model's file name
//! passages_read = 3              # passages the model reads before an answer (1-16; `ask --passages`)
//! reread_budget_tokens = 6144    # most document tokens re-read for one answer
//! answer_wait_s = 15             # checkpoints spaced so an answer starts within about this
//! checkpoint_budget_mb = 256     # disk for one document's checkpoints (of one model)
//!
//! [keys]                                                # see `?` in the TUI for action names
//! quit = ["q", "ctrl-c"]
//! page_down = ["ctrl-d", "pagedown", "space"]
//! ```
//!
//! Relative paths are taken relative to the folder of the config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ingest::qa::{AskOptions, PromptFamily};
use ingest::IngestOptions;
use serde::Deserialize;

/// Environment variable naming the config file (same as `--config`).
pub const CONFIG_ENV: &str = "RWKV_READER_CONFIG";

/// The config file's contents.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Model weights to use when `--model` is not given.
    pub model: Option<PathBuf>,
    /// Tokenizer to use when `--tokenizer` is not given.
    pub tokenizer: Option<PathBuf>,
    /// Library folder to use when `--library` is not given.
    pub library: Option<PathBuf>,
    /// Folder the TUI's export writes to (default: the current folder).
    pub export_dir: Option<PathBuf>,
    /// Where the model computes when `--device` is not given: `cpu` (the CPU engine, the
    /// default), `cuda` or `cuda:N` (a build with the `cuda` feature).
    pub device: Option<String>,
    /// Prompt template family (`raven`, `pile` or `world`) for `ask` and `summarize`, when the
    /// model's file name does not say (a renamed Raven checkpoint would otherwise be prompted
    /// as a Pile base model).
    pub prompt_family: Option<PromptFamily>,
    /// Passages the model reads before answering (the best one from its checkpoint, then
    /// further ones in document order); `ask --passages` overrides it.
    pub passages_read: Option<usize>,
    /// Most tokens of document text re-read for one answer (further passages are left out
    /// beyond it).
    pub reread_budget_tokens: Option<u64>,
    /// The wait before an answer's first token that checkpoints are spaced for, in seconds
    /// (from the model's measured reading speed; at most every 8 chunks).
    pub answer_wait_s: Option<f64>,
    /// Disk for one document's checkpoints of one model, in MiB: checkpoints are spaced further
    /// apart when a document would need more.
    pub checkpoint_budget_mb: Option<u64>,
    /// Key bindings: action name → key names.
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    /// The file this was read from (`None` for the defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// `<config dir>/rwkv-reader/config.toml`, if the platform has a config dir.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("rwkv-reader").join("config.toml"))
    }

    /// Loads the config: from `explicit` if given (it must exist), else from the default path
    /// if a file is there, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => match Config::default_path() {
                Some(path) if path.exists() => path,
                _ => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        let config = Config::parse(&text)
            .with_context(|| format!("in the config file {}", path.display()))?;
        let mut config = config.relative_to(path.parent().unwrap_or(Path::new(".")));
        config.source = Some(path);
        Ok(config)
    }

    /// "the config file PATH", for error messages about its contents.
    pub fn describe_source(&self) -> String {
        match &self.source {
            Some(path) => format!("the config file {}", path.display()),
            None => "the default settings".to_string(),
        }
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        if let Some(n) = config.passages_read {
            check_passages_read(n).context("passages_read")?;
        }
        if config.reread_budget_tokens == Some(0) {
            bail!("reread_budget_tokens must be at least 1");
        }
        if let Some(wait) = config.answer_wait_s {
            if !(wait.is_finite() && wait > 0.0 && wait <= 86_400.0) {
                bail!("answer_wait_s must be a number of seconds above 0 (got {wait})");
            }
        }
        if config.checkpoint_budget_mb == Some(0) {
            bail!("checkpoint_budget_mb must be at least 1");
        }
        Ok(config)
    }

    /// The options every question starts from: the defaults with this config's
    /// `passages_read` and `reread_budget_tokens`.
    pub fn ask_options(&self) -> AskOptions {
        let defaults = AskOptions::default();
        AskOptions {
            passages_read: self.passages_read.unwrap_or(defaults.passages_read),
            reread_budget_tokens: self
                .reread_budget_tokens
                .unwrap_or(defaults.reread_budget_tokens),
            ..defaults
        }
    }

    /// How documents are read: the defaults with this config's checkpoint spacing target
    /// (`answer_wait_s`, `checkpoint_budget_mb`).
    pub fn ingest_options(&self) -> IngestOptions {
        let mut options = IngestOptions::default();
        let mut target = options.spacing.unwrap_or_default();
        if let Some(wait) = self.answer_wait_s {
            target.answer_wait_ms = (wait * 1000.0).round() as u64;
        }
        if let Some(mb) = self.checkpoint_budget_mb {
            target.budget_bytes = mb.saturating_mul(1 << 20);
        }
        options.spacing = Some(target);
        options
    }

    fn relative_to(mut self, base: &Path) -> Config {
        for path in [
            &mut self.model,
            &mut self.tokenizer,
            &mut self.library,
            &mut self.export_dir,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        self
    }
}

/// Most passages an answer may read (each costs re-reading; the budget bounds them too).
pub const MAX_PASSAGES_READ: usize = 16;

/// Checks a `passages_read` value (config key or `ask --passages`).
pub fn check_passages_read(n: usize) -> Result<usize> {
    if (1..=MAX_PASSAGES_READ).contains(&n) {
        Ok(n)
    } else {
        bail!("{n} passages: the model reads between 1 and {MAX_PASSAGES_READ}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_resolves_relative_paths() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "model = \"m/model.safetensors\"\nlibrary = \"/abs/lib\"\nprompt_family = \"world\"\n\
             [keys]\nquit = [\"x\"]\n",
        )?;
        let config = Config::load(Some(&path))?;
        assert_eq!(config.model, Some(dir.path().join("m/model.safetensors")));
        assert_eq!(config.library, Some(PathBuf::from("/abs/lib")));
        assert_eq!(config.prompt_family, Some(PromptFamily::World));
        assert_eq!(config.keys.get("quit"), Some(&vec!["x".to_string()]));
        assert_eq!(config.source, Some(path));
        Ok(())
    }

    #[test]
    fn unknown_fields_and_missing_explicit_files_are_errors() {
        assert!(Config::parse("modle = \"x\"").is_err());
        let family = Config::parse("prompt_family = \"alpaca\"");
        assert!(family.is_err_and(|e| format!("{e:#}").contains("raven")));
        let missing = Config::load(Some(Path::new("/nonexistent/rwkv-reader.toml")));
        assert!(missing.is_err_and(|e| format!("{e:#}").contains("/nonexistent/rwkv-reader.toml")));
    }

    #[test]
    fn answer_reading_comes_from_the_config() -> Result<()> {
        let config = Config::parse("passages_read = 5\nreread_budget_tokens = 900\n")?;
        let opts = config.ask_options();
        assert_eq!((opts.passages_read, opts.reread_budget_tokens), (5, 900));
        let defaults = Config::default().ask_options();
        assert_eq!(defaults.passages_read, ingest::qa::DEFAULT_PASSAGES_READ);
        assert_eq!(
            defaults.reread_budget_tokens,
            ingest::qa::DEFAULT_REREAD_BUDGET_TOKENS
        );
        for bad in [
            "passages_read = 0",
            "passages_read = 17",
            "reread_budget_tokens = 0",
        ] {
            let err = Config::parse(bad).map_err(|e| format!("{e:#}"));
            assert!(err.is_err_and(|e| e.contains("passages") || e.contains("at least 1")));
        }
        Ok(())
    }

    #[test]
    fn empty_text_is_the_defaults() -> Result<()> {
        assert_eq!(Config::parse("")?, Config::default());
        Ok(())
    }
}
