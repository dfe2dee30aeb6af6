//! `Model`: an RWKV-4 checkpoint loaded for inference, with its shape, fingerprint and user-facing info.

use std::path::{Path, PathBuf};

use crate::error::EngineError;
use crate::fingerprint::{fingerprint, precision_label, Digest, Fingerprint};
use crate::formats::checkpoint_file::CheckpointFile;
use crate::formats::names::Naming;
use crate::precision::WeightPrecision;
use crate::shape::{ModelInfo, ModelShape};
use crate::state::State;
use crate::weights::{load_weights, Weights};

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
    /// Loads an RWKV-4 checkpoint: BlinkDL `.pth` (torch zip), `.safetensors` with BlinkDL names,
    /// Hugging Face `RwkvForCausalLM` safetensors, or a `.gguf` written by
    /// [`crate::formats::convert::convert`]. The container is recognised by content, the naming by tensor
    /// names, the shape by tensor shapes. bf16/f16 checkpoint weights are widened to f32 once, here;
    /// a GGUF file's Q8_0 weights are used in place from the memory-mapped file.
    pub fn load(path: &Path) -> Result<Model, EngineError> {
        if crate::formats::gguf::is_gguf(path) {
            let gguf = crate::formats::gguf_model::load(path)?;
            return Ok(Model::assemble(
                gguf.weights,
                gguf.name,
                gguf.format,
                gguf.is_demo,
                gguf.fingerprint,
                Some(path.to_path_buf()),
            ));
        }
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
        let fingerprint = compute_fingerprint(&weights);
        Model::assemble(weights, name, format, is_demo, fingerprint, None)
    }

    /// Puts a model together from its parts (the fingerprint already known).
    pub(crate) fn assemble(
        weights: Weights,
        name: String,
        format: String,
        is_demo: bool,
        fingerprint: Fingerprint,
        path: Option<PathBuf>,
    ) -> Model {
        let shape = weights.shape;
        let info = ModelInfo {
            name,
            n_layer: shape.n_layer,
            n_embd: shape.n_embd,
            n_ffn: shape.n_ffn,
            n_vocab: shape.n_vocab,
            n_params: shape.n_params(),
            precision: weights.precision.name().to_string(),
            stored_precision: weights.stored.name().to_string(),
            format,
            is_demo,
            device: "cpu".to_string(),
        };
        Model {
            weights,
            info,
            fingerprint,
            path,
        }
    }

    /// This model with its weights in a lower precision, in memory (e.g. `Q8_0` for a benchmark of a
    /// `.safetensors` checkpoint). Same numbers and fingerprint as converting the file to a `.gguf` of
    /// that precision and loading it. The original model is left as it is.
    pub fn to_precision(&self, precision: WeightPrecision) -> Result<Model, EngineError> {
        let weights = self.weights.to_precision(precision)?;
        let fingerprint = compute_fingerprint(&weights);
        let format = if precision == self.weights.precision {
            self.info.format.clone()
        } else {
            format!("{}, {precision} in memory", self.info.format)
        };
        Ok(Model::assemble(
            weights,
            self.info.name.clone(),
            format,
            self.info.is_demo,
            fingerprint,
            self.path.clone(),
        ))
    }

    /// Recomputes the fingerprint from the weights in use. Equals [`Model::fingerprint`] unless a
    /// `.gguf` file's weights were changed after conversion; it reads a sample of every tensor, so
    /// on a large memory-mapped model it touches pages all over the file.
    pub fn compute_fingerprint(&self) -> Fingerprint {
        compute_fingerprint(&self.weights)
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

/// The fingerprint of `weights`: shape, precision and a digest of a sample of every weight.
fn compute_fingerprint(weights: &Weights) -> Fingerprint {
    fingerprint(
        &weights.shape,
        &precision_label(weights.precision),
        &digest_weights(weights),
    )
}

/// Digest of a sample of every weight, in a fixed order (the order of a `.gguf` file's tensors,
/// see `gguf_model`).
fn digest_weights(w: &Weights) -> Digest {
    let mut digest = Digest::default();
    w.emb.digest_into(&mut digest);
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
        for linear in block.linears() {
            // CPU weights always yield their values; nothing to digest otherwise.
            let _ = linear.digest_into(&mut digest);
        }
    }
    digest.update_sampled(&w.ln_out.weight);
    digest.update_sampled(&w.ln_out.bias);
    let _ = w.head.digest_into(&mut digest);
    digest
}
