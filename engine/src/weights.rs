//! Turning a checkpoint's tensors into the weights the forward pass uses, with every load-time
//! transform of the reference (engine/RWKV4.md §3) and a precise complaint about anything missing,
//! mis-shaped or belonging to another RWKV version.

use std::collections::HashMap;

use crate::embedding::Embedding;
use crate::error::EngineError;
use crate::formats::checkpoint_file::CheckpointFile;
use crate::formats::names::{newer_version_marker, to_blinkdl, Naming};
use crate::formats::stored_tensor::StoredDType;
use crate::kernels;
use crate::linear::Linear;
use crate::precision::WeightPrecision;
use crate::shape::ModelShape;

/// A token-shift mix vector with its complement precomputed.
#[derive(Debug, Clone)]
pub struct Mix {
    /// time_mix, squeezed to `[C]`.
    pub mix: Vec<f32>,
    /// 1 − time_mix.
    pub one_minus: Vec<f32>,
}

impl Mix {
    /// Wraps a mix vector, precomputing its complement.
    pub fn from_values(mix: Vec<f32>) -> Mix {
        let one_minus = mix.iter().map(|m| 1.0 - m).collect();
        Mix { mix, one_minus }
    }
}

/// LayerNorm weight and bias.
#[derive(Debug, Clone)]
pub struct Norm {
    /// Scale.
    pub weight: Vec<f32>,
    /// Shift.
    pub bias: Vec<f32>,
}

/// Weights of one block.
#[derive(Debug, Clone)]
pub struct Block {
    /// Norm before time mixing.
    pub ln1: Norm,
    /// Norm before channel mixing.
    pub ln2: Norm,
    /// Time-mix mixes for key, value, receptance.
    pub att_mix_k: Mix,
    /// See `att_mix_k`.
    pub att_mix_v: Mix,
    /// See `att_mix_k`.
    pub att_mix_r: Mix,
    /// −exp(time_decay), per channel ("w").
    pub att_decay: Vec<f32>,
    /// time_first ("u"), per channel.
    pub att_first: Vec<f32>,
    /// Time-mix projections.
    pub att_key: Linear,
    /// See `att_key`.
    pub att_value: Linear,
    /// See `att_key`.
    pub att_receptance: Linear,
    /// See `att_key`.
    pub att_output: Linear,
    /// Channel-mix mixes.
    pub ffn_mix_k: Mix,
    /// See `ffn_mix_k`.
    pub ffn_mix_r: Mix,
    /// [F, C].
    pub ffn_key: Linear,
    /// [C, C].
    pub ffn_receptance: Linear,
    /// [C, F].
    pub ffn_value: Linear,
}

impl Block {
    /// The block's seven matrices, in the order of a checkpoint (and of the fingerprint).
    pub fn linears(&self) -> [&Linear; 7] {
        [
            &self.att_key,
            &self.att_value,
            &self.att_receptance,
            &self.att_output,
            &self.ffn_key,
            &self.ffn_receptance,
            &self.ffn_value,
        ]
    }
}

/// Every weight of the model, transforms applied: vectors in f32, matrices and the embedding in
/// `precision`.
#[derive(Debug, Clone)]
pub struct Weights {
    /// Dimensions.
    pub shape: ModelShape,
    /// Embedding table [V, C] with ln0 folded in (and rounded to the stored precision).
    pub emb: Embedding,
    /// Blocks in order.
    pub blocks: Vec<Block>,
    /// Final norm.
    pub ln_out: Norm,
    /// Output head [V, C].
    pub head: Linear,
    /// Precision of the original checkpoint's tensors.
    pub stored: StoredDType,
    /// Precision of the matrices and the embedding as used by the forward pass: f32 for
    /// `.pth`/`.safetensors`, whatever a GGUF file holds (f16 is widened to f32 on load but keeps
    /// its name: its values, and so its fingerprint, differ from the f32 model's).
    pub precision: WeightPrecision,
}

impl Weights {
    /// Multiply-adds per token of reading: every block matrix once (the head is not computed).
    pub fn reading_multiply_adds(&self) -> usize {
        self.blocks
            .iter()
            .flat_map(|b| b.linears())
            .map(|l| l.out_features() * l.in_features())
            .sum()
    }

    /// Bytes of every matrix as held in memory, the head included: what generating one token
    /// reads (the embedding adds a single row).
    pub fn matrix_bytes(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .flat_map(|b| b.linears())
            .map(Linear::bytes)
            .sum();
        blocks + self.head.bytes()
    }

    /// These weights in a lower precision, in memory: `Q8_0` quantizes every matrix, the head and
    /// the embedding (the width must be a multiple of 32); `F16` rounds them to f16 (computing stays
    /// f32). Gives the same numbers — and fingerprint — as converting the checkpoint to a GGUF file
    /// of that precision and loading it. Vectors stay f32.
    pub fn to_precision(&self, precision: WeightPrecision) -> Result<Weights, EngineError> {
        if precision == self.precision {
            return Ok(self.clone());
        }
        if self.precision != WeightPrecision::F32 {
            return Err(EngineError::Candle(candle_core::Error::Msg(format!(
                "{} weights cannot be turned into {precision}",
                self.precision
            ))));
        }
        let convert = |linear: &Linear| -> Result<Linear, EngineError> {
            match precision {
                WeightPrecision::Q8_0 => linear.to_q8_0(),
                WeightPrecision::F16 => linear.with_values(|values| {
                    let rounded = values.iter().map(|&v| round_f16(v)).collect();
                    Linear::new(rounded, linear.out_features(), linear.in_features())
                })?,
                WeightPrecision::F32 => Ok(linear.clone()),
            }
        };
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            blocks.push(Block {
                att_key: convert(&b.att_key)?,
                att_value: convert(&b.att_value)?,
                att_receptance: convert(&b.att_receptance)?,
                att_output: convert(&b.att_output)?,
                ffn_key: convert(&b.ffn_key)?,
                ffn_receptance: convert(&b.ffn_receptance)?,
                ffn_value: convert(&b.ffn_value)?,
                ..b.clone()
            });
        }
        Ok(Weights {
            shape: self.shape,
            emb: self.emb.to_precision(precision)?,
            blocks,
            ln_out: self.ln_out.clone(),
            head: convert(&self.head)?,
            stored: self.stored,
            precision,
        })
    }
}

fn round_f16(v: f32) -> f32 {
    half::f16::from_f32(v).to_f32()
}

/// The embedding table with ln0 folded in: `LayerNorm(emb; ln0)` per row, computed in f32 and
/// rounded to the checkpoint's precision as the reference does (engine/RWKV4.md §3.1).
pub(crate) fn fold_ln0(raw_emb: &[f32], ln0: &Norm, stored: StoredDType) -> Vec<f32> {
    let mut emb = vec![0.0f32; raw_emb.len()];
    kernels::layer_norm_rows(raw_emb, &ln0.weight, &ln0.bias, &mut emb);
    for value in &mut emb {
        *value = stored.round_trip(*value);
    }
    emb
}

/// Reads tensors by their BlinkDL name whatever the file's naming, checking shapes.
pub(crate) struct Reader<'a> {
    file: &'a CheckpointFile,
    /// BlinkDL name → name in the file.
    names: HashMap<String, String>,
}

impl<'a> Reader<'a> {
    /// Infers the model's shape from `file` and prepares to read its tensors.
    pub(crate) fn open(file: &'a CheckpointFile) -> Result<(Reader<'a>, ModelShape), EngineError> {
        let (shape, _naming, names) = infer_shape(file)?;
        Ok((Reader { file, names }, shape))
    }

    /// Precision of `name` in the file (f32 if unknown).
    pub(crate) fn stored_dtype(&self, name: &str) -> StoredDType {
        self.names
            .get(name)
            .and_then(|n| self.file.meta(n))
            .map(|m| m.dtype)
            .unwrap_or(StoredDType::F32)
    }

    fn shape_of(&self, name: &str) -> Result<Vec<usize>, EngineError> {
        let missing = || EngineError::bad(self.file.path(), format!("missing tensor {name}"));
        let file_name = self.names.get(name).ok_or_else(missing)?;
        self.file
            .meta(file_name)
            .map(|m| m.shape)
            .ok_or_else(missing)
    }

    /// Reads `name`, requiring its element count and squeezed shape to be `want`.
    pub(crate) fn read(&self, name: &str, want: &[usize]) -> Result<Vec<f32>, EngineError> {
        let shape = self.shape_of(name)?;
        let squeezed: Vec<usize> = shape.iter().copied().filter(|&d| d != 1).collect();
        let want_squeezed: Vec<usize> = want.iter().copied().filter(|&d| d != 1).collect();
        if squeezed != want_squeezed {
            return Err(EngineError::bad(
                self.file.path(),
                format!("tensor {name} has shape {shape:?}, expected {want:?}"),
            ));
        }
        let data = self.file.read_f32(&self.names[name])?;
        let numel: usize = want.iter().product();
        if data.len() != numel {
            return Err(EngineError::bad(
                self.file.path(),
                format!(
                    "tensor {name} holds {} values, expected {numel}",
                    data.len()
                ),
            ));
        }
        if let Some(bad) = data.iter().position(|v| !v.is_finite()) {
            return Err(EngineError::bad(
                self.file.path(),
                format!("tensor {name} contains a non-finite value at index {bad}"),
            ));
        }
        Ok(data)
    }

    fn linear(
        &self,
        name: &str,
        out_features: usize,
        in_features: usize,
    ) -> Result<Linear, EngineError> {
        Linear::new(
            self.read(name, &[out_features, in_features])?,
            out_features,
            in_features,
        )
    }

    pub(crate) fn norm(&self, prefix: &str, width: usize) -> Result<Norm, EngineError> {
        Ok(Norm {
            weight: self.read(&format!("{prefix}.weight"), &[width])?,
            bias: self.read(&format!("{prefix}.bias"), &[width])?,
        })
    }
}

/// Infers the shape of the model in `file` from its tensors.
pub fn infer_shape(
    file: &CheckpointFile,
) -> Result<(ModelShape, Naming, HashMap<String, String>), EngineError> {
    let file_names = file.names();
    if let Some(marker) = newer_version_marker(file_names.iter().map(String::as_str)) {
        return Err(EngineError::bad(
            file.path(),
            format!(
                "this is a newer RWKV version (tensor {marker} belongs to RWKV-5/6/7), not RWKV-4"
            ),
        ));
    }
    let naming = Naming::detect(file_names.iter().map(String::as_str));
    let names: HashMap<String, String> = file_names
        .iter()
        .map(|n| (to_blinkdl(n), n.clone()))
        .collect();
    let reader = Reader { file, names };
    let emb = reader.shape_of("emb.weight").map_err(|_| {
        EngineError::bad(
            file.path(),
            "no embedding tensor (emb.weight or rwkv.embeddings.weight): not an RWKV checkpoint",
        )
    })?;
    let [n_vocab, n_embd] = emb[..] else {
        return Err(EngineError::bad(
            file.path(),
            format!("tensor emb.weight has shape {emb:?}, expected [vocab, width]"),
        ));
    };
    let n_layer = reader
        .names
        .keys()
        .filter_map(|n| {
            n.strip_prefix("blocks.")?
                .split('.')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map(|max| max + 1)
        .ok_or_else(|| EngineError::bad(file.path(), "no blocks.N.* tensors"))?;
    let ffn = reader.shape_of("blocks.0.ffn.key.weight")?;
    let n_ffn = ffn.first().copied().unwrap_or(0);
    if n_vocab == 0 || n_embd == 0 || n_ffn == 0 {
        return Err(EngineError::bad(file.path(), "a model dimension is zero"));
    }
    let att = reader.shape_of("blocks.0.att.key.weight")?;
    if att.first() != Some(&n_embd) {
        return Err(EngineError::bad(
            file.path(),
            format!("tensor blocks.0.att.key.weight has shape {att:?}; attention width different from the embedding width ({n_embd}) is not RWKV-4"),
        ));
    }
    let shape = ModelShape {
        n_layer,
        n_embd,
        n_ffn,
        n_vocab,
    };
    Ok((shape, naming, reader.names))
}

/// Loads and transforms every weight of `file`.
pub fn load_weights(file: &CheckpointFile) -> Result<Weights, EngineError> {
    let (reader, shape) = Reader::open(file)?;
    let ModelShape {
        n_layer,
        n_embd: c,
        n_ffn: f,
        n_vocab: v,
    } = shape;
    let stored = reader.stored_dtype("emb.weight");

    let raw_emb = reader.read("emb.weight", &[v, c])?;
    let ln0 = reader.norm("blocks.0.ln0", c)?;
    let emb = Embedding::from_f32(fold_ln0(&raw_emb, &ln0, stored), v, c)?;
    drop(raw_emb);

    let mut blocks = Vec::with_capacity(n_layer);
    for i in 0..n_layer {
        let p = |suffix: &str| format!("blocks.{i}.{suffix}");
        let vector = |suffix: &str| reader.read(&p(suffix), &[c]);
        let decay = vector("att.time_decay")?
            .into_iter()
            .map(|d| -d.exp())
            .collect();
        blocks.push(Block {
            ln1: reader.norm(&p("ln1"), c)?,
            ln2: reader.norm(&p("ln2"), c)?,
            att_mix_k: Mix::from_values(vector("att.time_mix_k")?),
            att_mix_v: Mix::from_values(vector("att.time_mix_v")?),
            att_mix_r: Mix::from_values(vector("att.time_mix_r")?),
            att_decay: decay,
            att_first: vector("att.time_first")?,
            att_key: reader.linear(&p("att.key.weight"), c, c)?,
            att_value: reader.linear(&p("att.value.weight"), c, c)?,
            att_receptance: reader.linear(&p("att.receptance.weight"), c, c)?,
            att_output: reader.linear(&p("att.output.weight"), c, c)?,
            ffn_mix_k: Mix::from_values(vector("ffn.time_mix_k")?),
            ffn_mix_r: Mix::from_values(vector("ffn.time_mix_r")?),
            ffn_key: reader.linear(&p("ffn.key.weight"), f, c)?,
            ffn_receptance: reader.linear(&p("ffn.receptance.weight"), c, c)?,
            ffn_value: reader.linear(&p("ffn.value.weight"), c, f)?,
        });
    }
    Ok(Weights {
        shape,
        emb,
        blocks,
        ln_out: reader.norm("ln_out", c)?,
        head: reader.linear("head.weight", v, c)?,
        stored,
        precision: WeightPrecision::F32,
    })
}
