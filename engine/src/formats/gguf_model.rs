//! RWKV-4 in a GGUF file: which metadata and tensors rwkv-reader writes, and loading them back.
//!
//! Metadata: `general.architecture = "rwkv4"`, `general.name`, `rwkv4.format_version = 1`,
//! `rwkv4.block_count`, `rwkv4.embedding_length`, `rwkv4.feed_forward_length`, `rwkv4.vocab_size`,
//! `rwkv4.weight_precision` (`f32`/`f16`/`q8_0`), `rwkv4.source_precision` (the original
//! checkpoint's), `rwkv4.emb_ln0_folded = true`, `rwkv4.fingerprint` (the model's
//! [`Fingerprint`], computed while writing), `rwkv_reader.demo`.
//!
//! Tensors, BlinkDL names, shapes outermost first: `emb.weight [V, C]` with ln0 already folded in
//! (so a row is usable as read, and no `ln0` tensors), then per block `ln1/ln2.weight/.bias [C]`,
//! `att.time_decay [C]` (raw, as in the checkpoint), `att.time_first`, `att.time_mix_k/v/r`,
//! `ffn.time_mix_k/r` (squeezed to `[C]`), `att.key/value/receptance/output.weight [C, C]`,
//! `ffn.key.weight [F, C]`, `ffn.receptance.weight [C, C]`, `ffn.value.weight [C, F]`, then
//! `ln_out.weight/.bias [C]` and `head.weight [V, C]`. Vectors are f32; the embedding, the matrices
//! and the head are in the weight precision. The order is the order the fingerprint digests them, so
//! a writer digests as it streams.

use std::path::Path;

use crate::embedding::Embedding;
use crate::error::EngineError;
use crate::fingerprint::{fingerprint, precision_label, Digest, Fingerprint};
use crate::formats::gguf::{GgufFile, GgufTensor, GgufWriter, MetaValue, TensorSpec};
use crate::formats::stored_tensor::StoredDType;
use crate::linear::Linear;
use crate::precision::WeightPrecision;
use crate::shape::ModelShape;
use crate::weights::{Block, Mix, Norm, Weights};

/// `general.architecture` of the files written here.
pub const ARCHITECTURE: &str = "rwkv4";
/// `rwkv4.format_version` of the files written here.
pub const FORMAT_VERSION: u64 = 1;
/// Tensors per block in the file.
const TENSORS_PER_BLOCK: usize = 18;
/// Metadata key holding the fingerprint.
const FINGERPRINT_KEY: &str = "rwkv4.fingerprint";

/// How the forward pass uses a stored tensor's values (for the digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// As stored.
    Plain,
    /// `time_decay`: used as −exp(value).
    Decay,
}

/// One tensor of the layout.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) spec: TensorSpec,
    role: Role,
}

/// Every tensor of a model of `shape`, in file (and digest) order.
pub(crate) fn plan(shape: &ModelShape, precision: WeightPrecision) -> Vec<Planned> {
    let ModelShape {
        n_layer,
        n_embd: c,
        n_ffn: f,
        n_vocab: v,
    } = *shape;
    let mut plan = Vec::with_capacity(n_layer * TENSORS_PER_BLOCK + 4);
    let mut push = |name: String, shape: Vec<usize>, precision, role| {
        plan.push(Planned {
            spec: TensorSpec {
                name,
                shape,
                precision,
            },
            role,
        })
    };
    let vector = WeightPrecision::F32;
    push("emb.weight".into(), vec![v, c], precision, Role::Plain);
    for i in 0..n_layer {
        let p = |s: &str| format!("blocks.{i}.{s}");
        for name in ["ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias"] {
            push(p(name), vec![c], vector, Role::Plain);
        }
        push(p("att.time_decay"), vec![c], vector, Role::Decay);
        for name in [
            "att.time_first",
            "att.time_mix_k",
            "att.time_mix_v",
            "att.time_mix_r",
            "ffn.time_mix_k",
            "ffn.time_mix_r",
        ] {
            push(p(name), vec![c], vector, Role::Plain);
        }
        for name in [
            "att.key.weight",
            "att.value.weight",
            "att.receptance.weight",
            "att.output.weight",
        ] {
            push(p(name), vec![c, c], precision, Role::Plain);
        }
        push(p("ffn.key.weight"), vec![f, c], precision, Role::Plain);
        push(
            p("ffn.receptance.weight"),
            vec![c, c],
            precision,
            Role::Plain,
        );
        push(p("ffn.value.weight"), vec![c, f], precision, Role::Plain);
    }
    push("ln_out.weight".into(), vec![c], vector, Role::Plain);
    push("ln_out.bias".into(), vec![c], vector, Role::Plain);
    push("head.weight".into(), vec![v, c], precision, Role::Plain);
    plan
}

/// Descriptive metadata written with the weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// `general.name`.
    pub name: String,
    /// Precision of the original checkpoint.
    pub source_precision: StoredDType,
    /// True for the bundled demo model.
    pub is_demo: bool,
    /// Seed of a random-init model, if it is one.
    pub random_seed: Option<u64>,
}

/// Writes an RWKV-4 GGUF file tensor by tensor, digesting the weights for the fingerprint as they
/// pass.
pub(crate) struct ModelWriter {
    out: GgufWriter,
    plan: Vec<Planned>,
    next: usize,
    digest: Digest,
    shape: ModelShape,
    precision: WeightPrecision,
    buffer: Vec<u8>,
}

impl ModelWriter {
    /// Writes the header of a model of `shape` in `precision` to `<path>.partial`.
    pub(crate) fn create(
        path: &Path,
        shape: &ModelShape,
        precision: WeightPrecision,
        info: &FileInfo,
    ) -> Result<ModelWriter, EngineError> {
        let plan = plan(shape, precision);
        let count = |n: usize| MetaValue::U64(n as u64);
        let mut metadata = vec![
            ("general.architecture", MetaValue::Str(ARCHITECTURE.into())),
            ("general.name", MetaValue::Str(info.name.clone())),
            ("general.file_type", MetaValue::U32(file_type(precision))),
            ("rwkv4.format_version", MetaValue::U64(FORMAT_VERSION)),
            ("rwkv4.block_count", count(shape.n_layer)),
            ("rwkv4.embedding_length", count(shape.n_embd)),
            ("rwkv4.feed_forward_length", count(shape.n_ffn)),
            ("rwkv4.vocab_size", count(shape.n_vocab)),
            (
                "rwkv4.weight_precision",
                MetaValue::Str(precision.name().into()),
            ),
            (
                "rwkv4.source_precision",
                MetaValue::Str(info.source_precision.name().into()),
            ),
            ("rwkv4.emb_ln0_folded", MetaValue::Bool(true)),
            ("rwkv_reader.demo", MetaValue::Bool(info.is_demo)),
        ];
        if let Some(seed) = info.random_seed {
            metadata.push(("rwkv4.random_seed", MetaValue::U64(seed)));
        }
        let fingerprint_len = fingerprint(shape, &precision_label(precision), &Digest::default())
            .0
            .len();
        let out = GgufWriter::create(
            path,
            &metadata,
            &[(FINGERPRINT_KEY, fingerprint_len)],
            plan.iter().map(|p| p.spec.clone()).collect(),
        )?;
        Ok(ModelWriter {
            out,
            plan,
            next: 0,
            digest: Digest::default(),
            shape: *shape,
            precision,
            buffer: Vec::new(),
        })
    }

    /// The tensor to write next: its name and shape.
    pub(crate) fn next_tensor(&self) -> Option<&TensorSpec> {
        self.plan.get(self.next).map(|p| &p.spec)
    }

    /// Tensors in the file.
    pub(crate) fn tensor_count(&self) -> usize {
        self.plan.len()
    }

    /// The shape being written.
    pub(crate) fn shape(&self) -> ModelShape {
        self.shape
    }

    /// The precision of the matrices being written.
    pub(crate) fn precision(&self) -> WeightPrecision {
        self.precision
    }

    /// Stores the next tensor's values (in f32, as the checkpoint holds them; the embedding folded).
    pub(crate) fn write_next(&mut self, values: &[f32]) -> Result<(), EngineError> {
        let Some(planned) = self.plan.get(self.next) else {
            return Err(EngineError::Candle(candle_core::Error::Msg(
                "internal error: more tensors than planned".into(),
            )));
        };
        let spec = &planned.spec;
        if values.len() != spec.numel() {
            return Err(EngineError::Candle(candle_core::Error::Msg(format!(
                "internal error: {} values for tensor {} of shape {:?}",
                values.len(),
                spec.name,
                spec.shape
            ))));
        }
        self.buffer.clear();
        spec.precision.encode(values, &mut self.buffer);
        let precision = spec.precision;
        let bytes = &self.buffer;
        match planned.role {
            Role::Plain => self
                .digest
                .update_sampled_by(values.len(), |i| precision.decode_at(bytes, i)),
            Role::Decay => self
                .digest
                .update_sampled_by(values.len(), |i| -precision.decode_at(bytes, i).exp()),
        }
        self.out.write_tensor(&spec.name, &self.buffer)?;
        self.next += 1;
        Ok(())
    }

    /// Records the fingerprint and moves the file into place.
    pub(crate) fn finish(mut self) -> Result<(Fingerprint, u64), EngineError> {
        let fp = fingerprint(&self.shape, &precision_label(self.precision), &self.digest);
        self.out.fill_reserved(FINGERPRINT_KEY, &fp.0)?;
        let bytes = self.out.finish()?;
        Ok((fp, bytes))
    }
}

/// ggml's `general.file_type` (llama_ftype): 0 all f32, 1 mostly f16, 7 mostly Q8_0.
fn file_type(precision: WeightPrecision) -> u32 {
    match precision {
        WeightPrecision::F32 => 0,
        WeightPrecision::F16 => 1,
        WeightPrecision::Q8_0 => 7,
    }
}

/// What a GGUF file holds, ready to become a [`crate::Model`].
pub(crate) struct LoadedGguf {
    pub(crate) weights: Weights,
    pub(crate) name: String,
    pub(crate) format: String,
    pub(crate) is_demo: bool,
    pub(crate) fingerprint: Fingerprint,
}

/// Loads an RWKV-4 GGUF file written by [`ModelWriter`]. Matrices in Q8_0 are used in place from
/// the memory map; f16 matrices are widened to f32; the embedding stays in the file.
pub(crate) fn load(path: &Path) -> Result<LoadedGguf, EngineError> {
    let file = GgufFile::open(path)?;
    let bad = |reason: String| EngineError::bad(path, reason);
    match file.metadata_str("general.architecture") {
        Some(ARCHITECTURE) => {}
        Some(arch) if arch.starts_with("rwkv") => {
            return Err(bad(format!(
                "this GGUF holds an {arch} model (a newer RWKV version); only RWKV-4 is supported"
            )))
        }
        Some(arch) => return Err(bad(format!("this GGUF holds a {arch:?} model, not RWKV-4"))),
        None => return Err(bad(
            "this GGUF file names no architecture (general.architecture); not an RWKV-4 model file"
                .into(),
        )),
    }
    let version = file.metadata_u64("rwkv4.format_version");
    if version != Some(FORMAT_VERSION) {
        return Err(bad(format!(
            "rwkv4.format_version is {version:?}; this build reads version {FORMAT_VERSION}"
        )));
    }
    if file.metadata_bool("rwkv4.emb_ln0_folded") != Some(true) {
        return Err(bad(
            "the embedding is not marked as ln0-folded (rwkv4.emb_ln0_folded)".into(),
        ));
    }
    let precision = file
        .metadata_str("rwkv4.weight_precision")
        .and_then(|p| p.parse::<WeightPrecision>().ok())
        .ok_or_else(|| bad("rwkv4.weight_precision is missing or unknown".into()))?;
    let shape = shape_from_metadata(&file)?;
    // Every tensor is checked (present, shape, type, inside the file) before anything is built, so
    // a header with absurd sizes is refused before any allocation that depends on them.
    let plan = plan(&shape, precision);
    let mut tensors = Vec::with_capacity(plan.len());
    for planned in &plan {
        tensors.push(check_tensor(&file, &planned.spec)?);
    }
    let weights = build_weights(&file, &shape, precision, &tensors)?;
    let fingerprint = stored_fingerprint(&file, &shape, precision)?;
    let name = file
        .metadata_str("general.name")
        .map(str::to_string)
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "RWKV-4".to_string());
    let is_demo = file.metadata_bool("rwkv_reader.demo").unwrap_or(false);
    Ok(LoadedGguf {
        weights,
        name,
        format: format!("gguf ({precision})"),
        is_demo,
        fingerprint,
    })
}

fn shape_from_metadata(file: &GgufFile) -> Result<ModelShape, EngineError> {
    let dim = |key: &str| -> Result<usize, EngineError> {
        file.metadata_u64(key)
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| v > 0)
            .ok_or_else(|| EngineError::bad(file.path(), format!("{key} is missing or zero")))
    };
    let shape = ModelShape {
        n_layer: dim("rwkv4.block_count")?,
        n_embd: dim("rwkv4.embedding_length")?,
        n_ffn: dim("rwkv4.feed_forward_length")?,
        n_vocab: dim("rwkv4.vocab_size")?,
    };
    let in_file = file.tensor_names().count();
    let planned = shape
        .n_layer
        .checked_mul(TENSORS_PER_BLOCK)
        .and_then(|n| n.checked_add(4));
    if planned.is_none_or(|n| n > in_file) {
        return Err(EngineError::bad(
            file.path(),
            format!(
                "the header announces {} blocks but the file holds only {in_file} tensors (missing tensors or a damaged header)",
                shape.n_layer
            ),
        ));
    }
    Ok(shape)
}

fn check_tensor<'f>(file: &'f GgufFile, spec: &TensorSpec) -> Result<&'f GgufTensor, EngineError> {
    let name = &spec.name;
    let tensor = file
        .tensor(name)
        .ok_or_else(|| EngineError::bad(file.path(), format!("missing tensor {name}")))?;
    if tensor.shape != spec.shape {
        return Err(EngineError::bad(
            file.path(),
            format!(
                "tensor {name} has shape {:?}, expected {:?}",
                tensor.shape, spec.shape
            ),
        ));
    }
    if WeightPrecision::from_ggml_dtype(tensor.dtype) != Some(spec.precision) {
        return Err(EngineError::bad(
            file.path(),
            format!(
                "tensor {name} is stored as {:?}, expected {}",
                tensor.dtype, spec.precision
            ),
        ));
    }
    Ok(tensor)
}

fn build_weights(
    file: &GgufFile,
    shape: &ModelShape,
    precision: WeightPrecision,
    tensors: &[&GgufTensor],
) -> Result<Weights, EngineError> {
    let mut next = tensors.iter();
    let mut take = || -> Result<&GgufTensor, EngineError> {
        next.next()
            .copied()
            .ok_or_else(|| EngineError::bad(file.path(), "internal error: tensor list too short"))
    };
    let vector = |t: &GgufTensor| -> Result<Vec<f32>, EngineError> {
        let bytes = file.bytes(t);
        let mut out = vec![0.0f32; t.numel()];
        WeightPrecision::F32.decode_into(bytes.as_slice(), &mut out);
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(EngineError::bad(
                file.path(),
                format!("a vector tensor contains a non-finite value at index {i}"),
            ));
        }
        Ok(out)
    };
    let matrix = |t: &GgufTensor| -> Result<Linear, EngineError> {
        let (out_f, in_f) = (t.shape[0], t.shape[1]);
        let bytes = file.bytes(t);
        match precision {
            WeightPrecision::Q8_0 => Linear::q8_0_mapped(bytes, out_f, in_f),
            WeightPrecision::F16 | WeightPrecision::F32 => {
                let mut values = vec![0.0f32; t.numel()];
                precision.decode_into(bytes.as_slice(), &mut values);
                Linear::new(values, out_f, in_f)
            }
        }
    };
    let norm = |w: &GgufTensor, b: &GgufTensor| -> Result<Norm, EngineError> {
        Ok(Norm {
            weight: vector(w)?,
            bias: vector(b)?,
        })
    };
    let emb_tensor = take()?;
    let emb = Embedding::mapped(
        file.bytes(emb_tensor),
        precision,
        shape.n_vocab,
        shape.n_embd,
    )?;
    let mut blocks = Vec::with_capacity(shape.n_layer);
    for _ in 0..shape.n_layer {
        let ln1 = norm(take()?, take()?)?;
        let ln2 = norm(take()?, take()?)?;
        let att_decay = vector(take()?)?.into_iter().map(|d| -d.exp()).collect();
        let att_first = vector(take()?)?;
        let att_mix_k = Mix::from_values(vector(take()?)?);
        let att_mix_v = Mix::from_values(vector(take()?)?);
        let att_mix_r = Mix::from_values(vector(take()?)?);
        let ffn_mix_k = Mix::from_values(vector(take()?)?);
        let ffn_mix_r = Mix::from_values(vector(take()?)?);
        blocks.push(Block {
            ln1,
            ln2,
            att_mix_k,
            att_mix_v,
            att_mix_r,
            att_decay,
            att_first,
            att_key: matrix(take()?)?,
            att_value: matrix(take()?)?,
            att_receptance: matrix(take()?)?,
            att_output: matrix(take()?)?,
            ffn_mix_k,
            ffn_mix_r,
            ffn_key: matrix(take()?)?,
            ffn_receptance: matrix(take()?)?,
            ffn_value: matrix(take()?)?,
        });
    }
    let ln_out = norm(take()?, take()?)?;
    let head = matrix(take()?)?;
    let stored = match file.metadata_str("rwkv4.source_precision") {
        Some("bf16") => StoredDType::BF16,
        Some("f16") => StoredDType::F16,
        _ => StoredDType::F32,
    };
    Ok(Weights {
        shape: *shape,
        emb,
        blocks,
        ln_out,
        head,
        stored,
        precision,
    })
}

/// The fingerprint recorded at conversion, checked to belong to this shape and precision, under
/// the products' current version: a file converted by an older engine records the same weights'
/// digest with an older precision label (plain `q8_0`), and gets the current label here, so states
/// read by the older products are not resumed. Recomputing it would touch pages all over a 15 GB
/// file; `Model::compute_fingerprint` does it on demand.
fn stored_fingerprint(
    file: &GgufFile,
    shape: &ModelShape,
    precision: WeightPrecision,
) -> Result<Fingerprint, EngineError> {
    let stored = file.metadata_str(FINGERPRINT_KEY).unwrap_or_default();
    current_fingerprint(stored, shape, precision).ok_or_else(|| {
        EngineError::bad(
            file.path(),
            format!(
                "{FINGERPRINT_KEY} {stored:?} does not belong to a {} model",
                fingerprint(shape, &precision_label(precision), &Digest::default())
                    .0
                    .trim_end_matches(|c: char| c.is_ascii_hexdigit())
                    .trim_end_matches('-')
            ),
        )
    })
}

/// `stored`, recorded under the current or the first precision label, with the current label; `None`
/// when it is not a fingerprint of this shape and precision.
fn current_fingerprint(
    stored: &str,
    shape: &ModelShape,
    precision: WeightPrecision,
) -> Option<Fingerprint> {
    let prefix = |label: &str| {
        let template = fingerprint(shape, label, &Digest::default()).0;
        template[..template.len() - 32].to_string()
    };
    let current = prefix(&precision_label(precision));
    let digest = [current.clone(), prefix(precision.name())]
        .iter()
        .find_map(|p| stored.strip_prefix(p.as_str()))?;
    if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(Fingerprint(format!("{current}{digest}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_recorded_by_older_products_get_the_current_label() {
        let shape = ModelShape {
            n_layer: 3,
            n_embd: 64,
            n_ffn: 256,
            n_vocab: 512,
        };
        let digest = "0123456789abcdef0123456789abcdef";
        let old = format!("rwkv4-3x64-f256-v512-q8_0-{digest}");
        let new = format!(
            "rwkv4-3x64-f256-v512-{}-{digest}",
            precision_label(WeightPrecision::Q8_0)
        );
        assert_ne!(old, new);
        for stored in [&old, &new] {
            assert_eq!(
                current_fingerprint(stored, &shape, WeightPrecision::Q8_0),
                Some(Fingerprint(new.clone()))
            );
        }
        // f32 has one label; another shape, precision or a damaged digest is refused.
        let f32 = format!("rwkv4-3x64-f256-v512-f32-{digest}");
        assert_eq!(
            current_fingerprint(&f32, &shape, WeightPrecision::F32),
            Some(Fingerprint(f32.clone()))
        );
        assert_eq!(
            current_fingerprint(&f32, &shape, WeightPrecision::Q8_0),
            None
        );
        assert_eq!(
            current_fingerprint(&old, &shape, WeightPrecision::F16),
            None
        );
        assert_eq!(
            current_fingerprint(&old[..old.len() - 1], &shape, WeightPrecision::Q8_0),
            None
        );
        let other_shape = ModelShape {
            n_layer: 4,
            ..shape
        };
        assert_eq!(
            current_fingerprint(&old, &other_shape, WeightPrecision::Q8_0),
            None
        );
    }
}
