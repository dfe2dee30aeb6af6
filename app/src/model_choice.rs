//! Which model and tokenizer to use: `--model`, else the config file's `model`, else the demo
//! model bundled with rwkv-reader. The tokenizer: `--tokenizer`, else the config file's, else the
//! one next to the model (the engine looks there). The prompt family: `--prompt-family`, else the
//! config file's `prompt_family`, else guessed from the model's name. The device is resolved by
//! the caller (`--device`, else the config file's `device`, else the CPU engine).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};

use crate::config::Config;
use ingest::qa::PromptFamily;

/// Folder of the bundled demo model, relative to the project root.
pub const DEMO_MODEL_DIR: &str = "models/demo";
/// File name of the bundled demo model.
pub const DEMO_MODEL_FILE: &str = "rwkv4-demo.safetensors";

/// Where the model path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// `--model`.
    Flag,
    /// The config file.
    Config,
    /// The bundled demo model.
    Demo,
}

/// The model to load and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    /// Weights file.
    pub path: PathBuf,
    /// Explicit tokenizer file, or `None` for the one next to the weights.
    pub tokenizer: Option<PathBuf>,
    /// Where `path` came from.
    pub source: ModelSource,
    /// Prompt template family set by flag or config; `None` to guess from the model's name.
    pub prompt_family: Option<PromptFamily>,
    /// Where the model computes: `cpu`, `cuda` or `cuda:N`.
    pub device: String,
}

impl ModelChoice {
    /// Picks the model and tokenizer from the flags and the config.
    pub fn resolve(
        model_flag: Option<&Path>,
        tokenizer_flag: Option<&Path>,
        family_flag: Option<PromptFamily>,
        device: String,
        config: &Config,
    ) -> Result<ModelChoice> {
        let tokenizer = tokenizer_flag
            .map(Path::to_path_buf)
            .or_else(|| config.tokenizer.clone());
        let (path, source) =
            if let Some(path) = model_flag {
                (path.to_path_buf(), ModelSource::Flag)
            } else if let Some(path) = &config.model {
                (path.clone(), ModelSource::Config)
            } else {
                match find_demo_model() {
                    Ok(path) => (path, ModelSource::Demo),
                    Err(looked) => {
                        bail!(
                    "no model given and the bundled demo model was not found (looked at {}); \
                     pass --model PATH or set `model = \"PATH\"` in the config file",
                    looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )
                    }
                }
            };
        Ok(ModelChoice {
            path,
            tokenizer,
            source,
            prompt_family: family_flag.or(config.prompt_family),
            device,
        })
    }

    /// Loads the weights on the chosen device, and the tokenizer.
    pub fn load(&self) -> Result<(Arc<dyn engine::LanguageModel>, engine::Tokenizer)> {
        let model = engine::load_model(&self.path, &self.device).with_context(|| {
            format!(
                "loading the model {} on {}",
                self.path.display(),
                self.device
            )
        })?;
        let tokenizer = match &self.tokenizer {
            Some(path) => engine::Tokenizer::from_file(path),
            None => engine::Tokenizer::for_model(&self.path),
        }
        .context("loading the tokenizer")?;
        Ok((model, tokenizer))
    }

    /// The prompt family for the loaded model: the one set, else the one its name suggests.
    pub fn family_for(&self, model: &dyn engine::LanguageModel) -> PromptFamily {
        self.prompt_family
            .unwrap_or_else(|| PromptFamily::for_model_name(&model.info().name))
    }

    /// The model's file name, for messages.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// The bundled demo model: `models/demo/` in a folder above the executable (a checkout running
/// `target/release/rwkv-reader`, or an unpacked release), else in the source tree this binary
/// was built from. On failure, the paths looked at.
pub fn find_demo_model() -> Result<PathBuf, Vec<PathBuf>> {
    let mut looked = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            let candidate = dir.join(DEMO_MODEL_DIR).join(DEMO_MODEL_FILE);
            if candidate.is_file() {
                return Ok(candidate);
            }
            looked.push(candidate);
        }
    }
    let built_from =
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/demo")).join(DEMO_MODEL_FILE);
    if built_from.is_file() {
        return Ok(built_from);
    }
    looked.push(built_from);
    Err(looked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_config_and_config_beats_demo() -> Result<()> {
        let config = Config {
            model: Some(PathBuf::from("/c/model.pth")),
            tokenizer: Some(PathBuf::from("/c/tok.json")),
            prompt_family: Some(PromptFamily::Raven),
            ..Config::default()
        };
        let chosen = ModelChoice::resolve(
            Some(Path::new("/f/m.safetensors")),
            None,
            Some(PromptFamily::World),
            "cpu".to_string(),
            &config,
        )?;
        assert_eq!(
            (chosen.path.as_path(), chosen.source),
            (Path::new("/f/m.safetensors"), ModelSource::Flag)
        );
        assert_eq!(chosen.tokenizer, Some(PathBuf::from("/c/tok.json")));
        assert_eq!(chosen.prompt_family, Some(PromptFamily::World));
        assert_eq!(chosen.device, "cpu");
        let chosen = ModelChoice::resolve(
            None,
            Some(Path::new("/f/t.json")),
            None,
            "cuda:1".to_string(),
            &config,
        )?;
        assert_eq!(
            (chosen.path.as_path(), chosen.source),
            (Path::new("/c/model.pth"), ModelSource::Config)
        );
        assert_eq!(chosen.tokenizer, Some(PathBuf::from("/f/t.json")));
        assert_eq!(chosen.prompt_family, Some(PromptFamily::Raven));
        assert_eq!(chosen.device, "cuda:1");
        Ok(())
    }

    #[test]
    fn without_flag_or_config_it_is_the_demo_model_or_a_clear_error() {
        match ModelChoice::resolve(None, None, None, "cpu".to_string(), &Config::default()) {
            Ok(chosen) => {
                assert_eq!(chosen.source, ModelSource::Demo);
                assert_eq!(chosen.device, "cpu");
                assert!(chosen.path.ends_with("models/demo/rwkv4-demo.safetensors"));
            }
            Err(e) => assert!(format!("{e}").contains("--model")),
        }
    }
}
