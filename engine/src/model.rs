//! `Model`: an RWKV-4 checkpoint loaded for inference, with its shape, fingerprint and user-facing info.

use std::path::{Path, PathBuf};

use crate::config::{ModelInfo, ModelShape};
use crate::error::EngineError;
use crate::fingerprint::{fingerprint, Digest, Fingerprint};
use crate::names::Naming;
use crate::source::CheckpointFile;
use crate::state::State;
use crate::weights::{load_weights, Weights};

/// Precision the forward pass computes in.
const COMPUTE_PRECISION: &str = "f32";

/// An RWKV-4 model ready to read and generate. Immutable after loading, so one model can serve
/// several threads, each with its own [`State`].
#[derive(Debug)]
pub struct Model {
    pub(crate) weights: Weights,
    info: ModelInfo,
    fingerprint: Fingerprint,
    path: Option<PathBuf>,
}

impl Model {
    /// Loads an RWKV-4 checkpoint: BlinkDL `.pth` (torch zip), `.safetensors` with BlinkDL names, or
    /// Hugging Face `RwkvForCausalLM` safetensors. The container is recognised by content, the naming
    /// by tensor names, the shape by tensor shapes. bf16/f16 weights are widened to f32 once, here.
    pub fn load(path: &Path) -> Result<Model, EngineError> {
        let file = CheckpointFile::open(path)?;
        let metadata = file.metadata();
        let naming = Naming::detect(file.names().iter().map(String::as_str));
        let weights = load_weights(&file)?;
        let format = match naming {
            Naming::BlinkDl => format!("{} (BlinkDL names)", file.format_name()),
            Naming::HuggingFace => format!("{} (Hugging Face names)", file.format_name()),
        };
        let name = metadata
            .get("name")
            .cloned()
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "RWKV-4".to_string());
        let is_demo = metadata
            .get("rwkv_reader_demo")
            .is_some_and(|v| v == "true");
        let mut model = Model::from_weights(weights, name, format, is_demo);
        model.path = Some(path.to_path_buf());
        Ok(model)
    }

    /// Wraps weights built in memory (random-init models for benchmarks and tests).
    pub fn from_weights(weights: Weights, name: String, format: String, is_demo: bool) -> Model {
        let shape = weights.shape;
        let info = ModelInfo {
            name,
            n_layer: shape.n_layer,
            n_embd: shape.n_embd,
            n_ffn: shape.n_ffn,
            n_vocab: shape.n_vocab,
            n_params: shape.n_params(),
            precision: COMPUTE_PRECISION.to_string(),
            stored_precision: weights.stored.name().to_string(),
            format,
            is_demo,
        };
        let fingerprint = fingerprint(&shape, COMPUTE_PRECISION, &digest_weights(&weights));
        Model {
            weights,
            info,
            fingerprint,
            path: None,
        }
    }

    /// What users are shown about this model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Dimensions.
    pub fn shape(&self) -> &ModelShape {
        &self.weights.shape
    }

    /// Identity of this model in this precision; saved states carry it.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The file this model was loaded from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The empty state (nothing read yet).
    pub fn new_state(&self) -> State {
        State::new(&self.weights.shape)
    }
}

/// Digest of a sample of every weight, in a fixed order.
fn digest_weights(w: &Weights) -> Digest {
    let mut digest = Digest::default();
    digest.update_sampled(&w.emb);
    for block in &w.blocks {
        for v in [
            &block.ln1.weight,
            &block.ln1.bias,
            &block.ln2.weight,
            &block.ln2.bias,
            &block.att_decay,
            &block.att_first,
        ] {
            digest.update_sampled(v);
        }
        for mix in [
            &block.att_mix_k,
            &block.att_mix_v,
            &block.att_mix_r,
            &block.ffn_mix_k,
            &block.ffn_mix_r,
        ] {
            digest.update_sampled(&mix.mix);
        }
        for linear in [
            &block.att_key,
            &block.att_value,
            &block.att_receptance,
            &block.att_output,
            &block.ffn_key,
            &block.ffn_receptance,
            &block.ffn_value,
        ] {
            // A CPU f32 tensor always yields its slice; nothing to digest otherwise.
            let _ = linear.with_values(|values| digest.update_sampled(values));
        }
    }
    digest.update_sampled(&w.ln_out.weight);
    digest.update_sampled(&w.ln_out.bias);
    let _ = w.head.with_values(|values| digest.update_sampled(values));
    digest
}
