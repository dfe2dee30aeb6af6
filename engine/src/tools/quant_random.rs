//! Random-init models of a named shape written straight into a `.gguf` file (Q8_0, f16 or f32), one
//! tensor at a time, so the RWKV-4 14B shape (40 × 5120, vocabulary 50277: 56 GB in f32) can be
//! benchmarked on a 24 GB machine: peak memory is one tensor (the head, 1 GB in f32) plus its
//! encoded copy.
//!
//! The values are exactly those of [`crate::tools::random_init::random_weights`] with the same seed, so an
//! f32 file has the same fingerprint as the in-memory model, and a Q8_0 file the same as
//! `Model::from_weights(random_weights(..)).to_precision(Q8_0)`.
//!
//! ```no_run
//! use engine::{Model, WeightPrecision};
//! use engine::tools::quant_random::ensure_random_gguf;
//! # fn main() -> Result<(), engine::EngineError> {
//! let shape = engine::tools::random_init::named_shape("14b").expect("known shape");
//! let path = ensure_random_gguf(shape, 1, WeightPrecision::Q8_0, std::path::Path::new("/tmp"))?;
//! let model = Model::load(&path)?;   // milliseconds: the weights stay in the file
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::EngineError;
use crate::formats::convert::{check_blocks, ConvertReport};
use crate::formats::gguf::GgufFile;
use crate::formats::gguf_model::{FileInfo, ModelWriter};
use crate::formats::stored_tensor::StoredDType;
use crate::precision::WeightPrecision;
use crate::rng::SplitMix64;
use crate::shape::ModelShape;
use crate::tools::random_init::{random_dense, random_embedding, random_norm, LayerRamps};

/// Writes a random-init model of `shape` (seeded by `seed`) to `path` in `precision`.
pub fn write_random_gguf(
    shape: ModelShape,
    seed: u64,
    precision: WeightPrecision,
    path: &Path,
) -> Result<ConvertReport, EngineError> {
    write_random_gguf_with_progress(shape, seed, precision, path, &mut |_, _, _| {})
}

/// [`write_random_gguf`], calling `on_tensor(done, total, name)` after each tensor is written.
pub fn write_random_gguf_with_progress(
    shape: ModelShape,
    seed: u64,
    precision: WeightPrecision,
    path: &Path,
    on_tensor: &mut dyn FnMut(usize, usize, &str),
) -> Result<ConvertReport, EngineError> {
    let started = Instant::now();
    check_blocks(path, &shape, precision)?;
    let info = FileInfo {
        name: format!(
            "random-init {}x{} (seed {seed})",
            shape.n_layer, shape.n_embd
        ),
        source_precision: StoredDType::F32,
        is_demo: false,
        random_seed: Some(seed),
    };
    let mut writer = ModelWriter::create(path, &shape, precision, &info)?;
    let total = writer.tensor_count();
    let mut done = 0;
    let mut put = |writer: &mut ModelWriter, values: Vec<f32>| -> Result<(), EngineError> {
        let name = writer
            .next_tensor()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        writer.write_next(&values)?;
        done += 1;
        on_tensor(done, total, &name);
        Ok(())
    };
    let ModelShape {
        n_layer,
        n_embd: c,
        n_ffn: f,
        n_vocab: v,
    } = shape;
    // Draws in the order of `random_weights`; the file order (see `gguf_model`) interleaves the
    // draw-free vectors, which does not disturb the stream.
    let mut rng = SplitMix64::new(seed);
    put(&mut writer, random_embedding(v, c, &mut rng))?;
    for layer in 0..n_layer {
        let ramps = LayerRamps::new(&shape, layer);
        let (ln1_w, ln1_b) = random_norm(c, &mut rng);
        let (ln2_w, ln2_b) = random_norm(c, &mut rng);
        for vector in [
            ln1_w,
            ln1_b,
            ln2_w,
            ln2_b,
            ramps.time_decay,
            ramps.time_first,
            ramps.att_mix_k,
            ramps.att_mix_v,
            ramps.att_mix_r,
            ramps.ffn_mix_k,
            ramps.ffn_mix_r,
        ] {
            put(&mut writer, vector)?;
        }
        for (out_f, in_f) in [(c, c), (c, c), (c, c), (c, c), (f, c), (c, c), (c, f)] {
            put(&mut writer, random_dense(out_f, in_f, &mut rng))?;
        }
    }
    let (w, b) = random_norm(c, &mut rng);
    put(&mut writer, w)?;
    put(&mut writer, b)?;
    put(&mut writer, random_dense(v, c, &mut rng))?;
    ConvertReport::finish(writer, None, path, started)
}

/// The file name [`ensure_random_gguf`] uses, e.g. `rwkv4-random-40x5120-f20480-v50277-s1-q8_0.gguf`.
pub fn random_gguf_name(shape: &ModelShape, seed: u64, precision: WeightPrecision) -> String {
    format!(
        "rwkv4-random-{}x{}-f{}-v{}-s{seed}-{precision}.gguf",
        shape.n_layer, shape.n_embd, shape.n_ffn, shape.n_vocab
    )
}

/// Returns the path of a random-init `.gguf` of `shape`/`seed`/`precision` in `dir`, writing it
/// first unless a complete one is already there (generating 14B takes minutes; benchmarks reuse it).
pub fn ensure_random_gguf(
    shape: ModelShape,
    seed: u64,
    precision: WeightPrecision,
    dir: &Path,
) -> Result<PathBuf, EngineError> {
    let path = dir.join(random_gguf_name(&shape, seed, precision));
    if is_complete(&path, seed) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| EngineError::Write {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_random_gguf(shape, seed, precision, &path)?;
    Ok(path)
}

/// A file written by `write_random_gguf` is renamed into place only when complete; this also checks
/// it opens and records the seed.
fn is_complete(path: &Path, seed: u64) -> bool {
    GgufFile::open(path).is_ok_and(|f| f.metadata_u64("rwkv4.random_seed") == Some(seed))
}
