//! The GGUF container (<https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>), independent of
//! what model it holds.
//!
//! Reading: the header (metadata and tensor table) is parsed by candle's `quantized::gguf_file`, which
//! caps string, array and tensor counts against the file size; every tensor's byte range is then
//! checked here with overflow-checked arithmetic before the file is memory-mapped, so a damaged or
//! hostile header gives an error, never a panic or a huge allocation. Tensor data is never copied by
//! this module: callers get [`MappedBytes`] views of the map.
//!
//! Writing: [`GgufWriter`] writes the whole header first (every tensor's shape and type is known in
//! advance), then the tensors one at a time in header order, so a converter holds one tensor in
//! memory at a time. It writes to `<output>.partial` and renames on success.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::GgmlDType;

use crate::error::EngineError;
use crate::precision::WeightPrecision;

/// Alignment of tensor data, in bytes (GGUF's default; also written as `general.alignment`).
pub const ALIGNMENT: u64 = 32;
/// `"GGUF"` read as a little-endian u32.
const MAGIC: u32 = 0x4655_4747;
/// The GGUF version written (v3: same layout as v2, little-endian).
const VERSION: u32 = 3;
/// Buffer of the writer: large sequential writes.
const WRITE_BUFFER_BYTES: usize = 8 << 20;

/// True if `path` begins with the GGUF magic (unreadable files are left to the other loaders to
/// report).
pub fn is_gguf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"GGUF"
}

/// A byte range of a memory-mapped file, cheap to clone (the map is shared).
#[derive(Clone)]
pub struct MappedBytes {
    map: Arc<memmap2::Mmap>,
    range: Range<usize>,
}

impl MappedBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.range.len()
    }

    /// True if the range is empty.
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }
}

impl std::fmt::Debug for MappedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedBytes({:?})", self.range)
    }
}

/// One tensor of a GGUF file, its byte range checked against the file.
#[derive(Debug, Clone)]
pub struct GgufTensor {
    /// ggml element type.
    pub dtype: GgmlDType,
    /// Dimensions, outermost first (row-major, as in torch): a `[out, in]` matrix is `[out, in]`.
    pub shape: Vec<usize>,
    /// Absolute byte range in the file.
    range: Range<usize>,
}

impl GgufTensor {
    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// An opened GGUF file: metadata and tensor table parsed and checked, data memory-mapped.
pub struct GgufFile {
    path: PathBuf,
    map: Arc<memmap2::Mmap>,
    metadata: HashMap<String, Value>,
    tensors: HashMap<String, GgufTensor>,
}

impl GgufFile {
    /// Opens `path`, parsing the header and checking that every tensor lies inside the file.
    pub fn open(path: &Path) -> Result<GgufFile, EngineError> {
        let file = File::open(path).map_err(|e| EngineError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| EngineError::io(path, e))?.len();
        let mut reader = std::io::BufReader::new(&file);
        let content = Content::read(&mut reader).map_err(|e| {
            EngineError::bad(path, format!("damaged or truncated GGUF header ({e})"))
        })?;
        let mut tensors = HashMap::with_capacity(content.tensor_infos.len());
        for (name, info) in content.tensor_infos {
            let shape = info.shape.dims().to_vec();
            let block = (info.ggml_dtype.block_size(), info.ggml_dtype.type_size());
            let range = tensor_range(&shape, block, content.tensor_data_offset, info.offset)
                .filter(|r| r.end as u64 <= file_len)
                .ok_or_else(|| {
                    EngineError::bad(
                        path,
                        format!(
                            "tensor {name} ({:?}, shape {shape:?}) does not fit in the file of {file_len} bytes (truncated or damaged)",
                            info.ggml_dtype
                        ),
                    )
                })?;
            tensors.insert(
                name,
                GgufTensor {
                    dtype: info.ggml_dtype,
                    shape,
                    range,
                },
            );
        }
        // SAFETY: the map is read-only. Another process truncating the file underneath us is the one
        // case this cannot defend against (as with every mmap-based loader).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| EngineError::io(path, e))?;
        Ok(GgufFile {
            path: path.to_path_buf(),
            map: Arc::new(map),
            metadata: content.metadata,
            tensors,
        })
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A string metadata value.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        match self.metadata.get(key)? {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An unsigned integer metadata value (any integer width; negative values are `None`).
    pub fn metadata_u64(&self, key: &str) -> Option<u64> {
        match *self.metadata.get(key)? {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// A boolean metadata value.
    pub fn metadata_bool(&self, key: &str) -> Option<bool> {
        match self.metadata.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<&GgufTensor> {
        self.tensors.get(name)
    }

    /// Every tensor name.
    pub fn tensor_names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The stored bytes of `tensor` (no copy).
    pub fn bytes(&self, tensor: &GgufTensor) -> MappedBytes {
        MappedBytes {
            map: Arc::clone(&self.map),
            range: tensor.range.clone(),
        }
    }
}

/// Absolute byte range of a tensor, or `None` on overflow or a partial block.
fn tensor_range(
    shape: &[usize],
    (block_values, block_bytes): (usize, usize),
    data_offset: u64,
    offset: u64,
) -> Option<Range<usize>> {
    let numel = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    if block_values == 0 || !numel.is_multiple_of(block_values) {
        return None;
    }
    let bytes = (numel / block_values).checked_mul(block_bytes)?;
    let start = usize::try_from(data_offset.checked_add(offset)?).ok()?;
    Some(start..start.checked_add(bytes)?)
}

/// A metadata value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// GGUF type 4.
    U32(u32),
    /// GGUF type 10.
    U64(u64),
    /// GGUF type 7.
    Bool(bool),
    /// GGUF type 8 (UTF-8, no terminator).
    Str(String),
}

/// A tensor announced in the header: its name, shape (outermost first) and stored precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Name.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Stored precision.
    pub precision: WeightPrecision,
}

impl TensorSpec {
    /// Values in the tensor.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Writes a GGUF file header first, then tensors one at a time in the announced order.
pub struct GgufWriter {
    path: PathBuf,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
    specs: Vec<TensorSpec>,
    sizes: Vec<usize>,
    next: usize,
    /// Key → (file position of the string bytes, length) for values filled in at the end.
    reserved: HashMap<String, (u64, usize)>,
}

impl GgufWriter {
    /// Creates `<path>.partial` and writes the header: `metadata`, then string values of exactly
    /// `reserved` lengths (filled later with [`GgufWriter::fill_reserved`]), then the tensor table.
    pub fn create(
        path: &Path,
        metadata: &[(&str, MetaValue)],
        reserved: &[(&str, usize)],
        specs: Vec<TensorSpec>,
    ) -> Result<GgufWriter, EngineError> {
        let mut sizes = Vec::with_capacity(specs.len());
        for spec in &specs {
            let size = spec.precision.bytes_for(spec.numel()).ok_or_else(|| {
                write_error(
                    path,
                    format!(
                        "tensor {} of shape {:?} cannot be stored as {} (its rows must be whole blocks of {} values)",
                        spec.name,
                        spec.shape,
                        spec.precision,
                        spec.precision.block_values()
                    ),
                )
            })?;
            sizes.push(size);
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(|e| write_error(path, e))?;
        let mut writer = GgufWriter {
            path: path.to_path_buf(),
            partial,
            out: Some(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)),
            specs,
            sizes,
            next: 0,
            reserved: HashMap::new(),
        };
        writer.write_header(metadata, reserved)?;
        Ok(writer)
    }

    fn out(&mut self) -> Result<&mut BufWriter<File>, EngineError> {
        let path = self.path.clone();
        self.out
            .as_mut()
            .ok_or_else(|| write_error(&path, "the writer is already finished"))
    }

    fn write_header(
        &mut self,
        metadata: &[(&str, MetaValue)],
        reserved: &[(&str, usize)],
    ) -> Result<(), EngineError> {
        let mut head = Vec::new();
        head.extend_from_slice(&MAGIC.to_le_bytes());
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&(self.specs.len() as u64).to_le_bytes());
        let n_kv = metadata.len() + reserved.len() + 1;
        head.extend_from_slice(&(n_kv as u64).to_le_bytes());
        put_kv(
            &mut head,
            "general.alignment",
            &MetaValue::U32(ALIGNMENT as u32),
        );
        for (key, value) in metadata {
            put_kv(&mut head, key, value);
        }
        for (key, len) in reserved {
            put_string(&mut head, key);
            head.extend_from_slice(&8u32.to_le_bytes());
            head.extend_from_slice(&(*len as u64).to_le_bytes());
            self.reserved
                .insert(key.to_string(), (head.len() as u64, *len));
            head.resize(head.len() + len, b' ');
        }
        let mut offset = 0u64;
        for (spec, &size) in self.specs.iter().zip(&self.sizes) {
            put_string(&mut head, &spec.name);
            head.extend_from_slice(&(spec.shape.len() as u32).to_le_bytes());
            // ggml lists dimensions innermost first.
            for &dim in spec.shape.iter().rev() {
                head.extend_from_slice(&(dim as u64).to_le_bytes());
            }
            head.extend_from_slice(&spec.precision.ggml_type_id().to_le_bytes());
            head.extend_from_slice(&offset.to_le_bytes());
            offset += padded(size as u64);
        }
        head.resize(padded(head.len() as u64) as usize, 0);
        let path = self.path.clone();
        self.out()?
            .write_all(&head)
            .map_err(|e| write_error(&path, e))
    }

    /// Writes the next tensor's stored bytes (`name` must be the next announced one and `bytes`
    /// exactly its size).
    pub fn write_tensor(&mut self, name: &str, bytes: &[u8]) -> Result<(), EngineError> {
        let path = self.path.clone();
        let Some(spec) = self.specs.get(self.next) else {
            return Err(write_error(
                &path,
                format!("tensor {name} was not announced"),
            ));
        };
        if spec.name != name || bytes.len() != self.sizes[self.next] {
            return Err(write_error(
                &path,
                format!(
                    "internal error: got tensor {name} of {} bytes, expected {} of {} bytes",
                    bytes.len(),
                    spec.name,
                    self.sizes[self.next]
                ),
            ));
        }
        let pad = (padded(bytes.len() as u64) - bytes.len() as u64) as usize;
        let out = self.out()?;
        out.write_all(bytes)
            .and_then(|()| out.write_all(&[0u8; ALIGNMENT as usize][..pad]))
            .map_err(|e| write_error(&path, e))?;
        self.next += 1;
        Ok(())
    }

    /// Fills a reserved string value; `value` must be exactly as long as reserved.
    pub fn fill_reserved(&mut self, key: &str, value: &str) -> Result<(), EngineError> {
        let path = self.path.clone();
        let &(position, len) = self
            .reserved
            .get(key)
            .ok_or_else(|| write_error(&path, format!("no reserved metadata key {key}")))?;
        if value.len() != len {
            return Err(write_error(
                &path,
                format!(
                    "internal error: {key} is {} bytes, {len} reserved",
                    value.len()
                ),
            ));
        }
        let out = self.out()?;
        let result = (|| {
            let end = out.stream_position()?;
            out.seek(SeekFrom::Start(position))?;
            out.write_all(value.as_bytes())?;
            out.seek(SeekFrom::Start(end))?;
            Ok::<(), std::io::Error>(())
        })();
        result.map_err(|e| write_error(&path, e))
    }

    /// Checks every tensor was written, syncs the file to disk and renames it into place.
    /// Returns the file size in bytes.
    pub fn finish(mut self) -> Result<u64, EngineError> {
        let path = self.path.clone();
        if self.next != self.specs.len() {
            return Err(write_error(
                &path,
                format!(
                    "internal error: {} of {} tensors written",
                    self.next,
                    self.specs.len()
                ),
            ));
        }
        let out = self
            .out
            .take()
            .ok_or_else(|| write_error(&path, "the writer is already finished"))?;
        let file = out
            .into_inner()
            .map_err(|e| write_error(&path, e.error()))?;
        file.sync_all().map_err(|e| write_error(&path, e))?;
        let len = file.metadata().map_err(|e| write_error(&path, e))?.len();
        drop(file);
        std::fs::rename(&self.partial, &path).map_err(|e| write_error(&path, e))?;
        Ok(len)
    }
}

impl Drop for GgufWriter {
    fn drop(&mut self) {
        // Unfinished (an error or a panic on the way): leave no half-written file behind.
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

fn padded(n: u64) -> u64 {
    n.div_ceil(ALIGNMENT) * ALIGNMENT
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_kv(out: &mut Vec<u8>, key: &str, value: &MetaValue) {
    put_string(out, key);
    match value {
        MetaValue::U32(v) => {
            out.extend_from_slice(&4u32.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        MetaValue::U64(v) => {
            out.extend_from_slice(&10u32.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        MetaValue::Bool(v) => {
            out.extend_from_slice(&7u32.to_le_bytes());
            out.push(u8::from(*v));
        }
        MetaValue::Str(s) => {
            out.extend_from_slice(&8u32.to_le_bytes());
            put_string(out, s);
        }
    }
}

fn write_error(path: &Path, reason: impl std::fmt::Display) -> EngineError {
    EngineError::Write {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_read_back() -> Result<(), EngineError> {
        let dir = std::env::temp_dir().join(format!("gguf-rt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))?;
        let path = dir.join("t.gguf");
        let specs = vec![
            TensorSpec {
                name: "a".into(),
                shape: vec![3],
                precision: WeightPrecision::F32,
            },
            TensorSpec {
                name: "b".into(),
                shape: vec![2, 32],
                precision: WeightPrecision::Q8_0,
            },
        ];
        let mut w = GgufWriter::create(
            &path,
            &[
                ("x.name", MetaValue::Str("hi".into())),
                ("x.n", MetaValue::U64(7)),
            ],
            &[("x.later", 4)],
            specs,
        )?;
        let mut a = Vec::new();
        WeightPrecision::F32.encode(&[1.0, 2.0, 3.0], &mut a);
        w.write_tensor("a", &a)?;
        let mut b = Vec::new();
        let values: Vec<f32> = (0..64).map(|i| i as f32).collect();
        WeightPrecision::Q8_0.encode(&values, &mut b);
        w.write_tensor("b", &b)?;
        w.fill_reserved("x.later", "done")?;
        w.finish()?;

        let f = GgufFile::open(&path)?;
        assert_eq!(f.metadata_str("x.name"), Some("hi"));
        assert_eq!(f.metadata_u64("x.n"), Some(7));
        assert_eq!(f.metadata_str("x.later"), Some("done"));
        let tb = f.tensor("b").cloned().ok_or(EngineError::NoTokens)?;
        assert_eq!(tb.shape, vec![2, 32]);
        assert_eq!(tb.dtype, GgmlDType::Q8_0);
        assert_eq!(f.bytes(&tb).as_slice(), &b[..]);
        assert!(!path.with_extension("gguf.partial").exists());
        std::fs::remove_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))?;
        Ok(())
    }
}
