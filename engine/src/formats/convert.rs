//! One-time conversion of a `.pth` or `.safetensors` RWKV-4 checkpoint into a single `.gguf` file in
//! f32, f16 or Q8_0, streamed tensor by tensor: the input is read one tensor at a time (safetensors
//! pages are released after each), encoded and written, so peak memory is about the largest tensor
//! in f32 (the embedding or the head: 1 GB for 14B) plus its encoded copy — a 28 GB 14B checkpoint
//! converts on a 24 GB machine. The ln0 fold is applied to the embedding on the way (rounded to the
//! checkpoint's precision, as loading it would), so the file's embedding rows are usable as read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::EngineError;
use crate::fingerprint::Fingerprint;
use crate::formats::checkpoint_file::CheckpointFile;
use crate::formats::gguf_model::{FileInfo, ModelWriter};
use crate::precision::WeightPrecision;
use crate::shape::ModelShape;
use crate::weights::{fold_ln0, Reader};

/// What a conversion writes: `rwkv-reader convert IN OUT --to q8_0|f16|f32`.
pub type Target = WeightPrecision;

/// What a conversion (or a random-model generation) did.
#[derive(Debug, Clone, Serialize)]
pub struct ConvertReport {
    /// The file read (None for a generated random model).
    pub input: Option<PathBuf>,
    /// The file written.
    pub output: PathBuf,
    /// Precision of the written matrices.
    pub precision: String,
    /// Model dimensions.
    pub shape: ModelShape,
    /// Tensors written.
    pub tensors: usize,
    /// Size of the written file.
    pub bytes_written: u64,
    /// Wall-clock time.
    pub seconds: f64,
    /// Fingerprint of the written model (what `Model::load(output)` reports).
    pub fingerprint: Fingerprint,
    /// Peak resident memory of the process so far (Linux VmHWM), if known.
    pub peak_rss_bytes: Option<u64>,
}

impl ConvertReport {
    /// Finishes `writer` (fingerprint recorded, file moved into place at `output`) and reports
    /// what it wrote, timed from `started`.
    pub(crate) fn finish(
        writer: ModelWriter,
        input: Option<PathBuf>,
        output: &Path,
        started: Instant,
    ) -> Result<ConvertReport, EngineError> {
        let (shape, precision, tensors) =
            (writer.shape(), writer.precision(), writer.tensor_count());
        let (fingerprint, bytes_written) = writer.finish()?;
        Ok(ConvertReport {
            input,
            output: output.to_path_buf(),
            precision: precision.name().to_string(),
            shape,
            tensors,
            bytes_written,
            seconds: started.elapsed().as_secs_f64(),
            fingerprint,
            peak_rss_bytes: crate::memory_usage::peak_rss_bytes(),
        })
    }
}

/// Converts `input` to a `.gguf` file at `output` in `target` precision.
pub fn convert(input: &Path, output: &Path, target: Target) -> Result<ConvertReport, EngineError> {
    convert_with_progress(input, output, target, &mut |_, _, _| {})
}

/// [`convert`], calling `on_tensor(done, total, name)` after each tensor is written.
pub fn convert_with_progress(
    input: &Path,
    output: &Path,
    target: Target,
    on_tensor: &mut dyn FnMut(usize, usize, &str),
) -> Result<ConvertReport, EngineError> {
    let started = Instant::now();
    refuse_overwriting_input(input, output)?;
    let file = CheckpointFile::open(input)?;
    let (reader, shape) = Reader::open(&file)?;
    check_blocks(input, &shape, target)?;
    let stored = reader.stored_dtype("emb.weight");
    let metadata = file.metadata();
    let info = FileInfo {
        name: metadata
            .get("name")
            .cloned()
            .or_else(|| input.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "RWKV-4".to_string()),
        source_precision: stored,
        is_demo: metadata
            .get("rwkv_reader_demo")
            .is_some_and(|v| v == "true"),
        random_seed: None,
    };
    let mut writer = ModelWriter::create(output, &shape, target, &info)?;
    let total = writer.tensor_count();

    // The embedding first, with ln0 folded in (the file has no ln0 tensors).
    let (c, v) = (shape.n_embd, shape.n_vocab);
    let folded = {
        let raw = reader.read("emb.weight", &[v, c])?;
        let ln0 = reader.norm("blocks.0.ln0", c)?;
        fold_ln0(&raw, &ln0, stored)
    };
    writer.write_next(&folded)?;
    drop(folded);
    on_tensor(1, total, "emb.weight");

    let mut done = 1;
    while let Some(spec) = writer.next_tensor() {
        let (name, dims) = (spec.name.clone(), spec.shape.clone());
        let values = reader.read(&name, &dims)?;
        writer.write_next(&values)?;
        done += 1;
        on_tensor(done, total, &name);
    }
    ConvertReport::finish(writer, Some(input.to_path_buf()), output, started)
}

/// Q8_0 stores rows in blocks of 32 values: every row length (the width, the ffn width) must be a
/// multiple of 32 — true of every released RWKV-4 model.
pub(crate) fn check_blocks(
    path: &Path,
    shape: &ModelShape,
    target: Target,
) -> Result<(), EngineError> {
    let block = target.block_values();
    for (what, n) in [("width", shape.n_embd), ("ffn width", shape.n_ffn)] {
        if !n.is_multiple_of(block) {
            return Err(EngineError::bad(
                path,
                format!("the model's {what} {n} is not a multiple of {block}, so it cannot be stored as {target} (f16 and f32 can)"),
            ));
        }
    }
    Ok(())
}

fn refuse_overwriting_input(input: &Path, output: &Path) -> Result<(), EngineError> {
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(EngineError::Write {
            path: output.to_path_buf(),
            reason: "the output would replace the input".into(),
        });
    }
    Ok(())
}
