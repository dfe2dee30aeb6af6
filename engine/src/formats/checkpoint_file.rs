//! Reading named tensors out of checkpoint files, converting them to f32 one at a time.
//!
//! Two containers: torch's zip `.pth` (a pickle that is *parsed*, never executed, plus raw storages)
//! and `.safetensors` (a JSON header plus raw data, memory-mapped).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::EngineError;
use crate::formats::pth::PthFile;
use crate::formats::stored_tensor::{bytes_to_f32, StoredDType, TensorMeta};

/// An opened checkpoint: tensor names and shapes are known; data is read on demand.
pub enum CheckpointFile {
    /// torch zip pickle.
    Pth(PthFile),
    /// safetensors.
    Safetensors(SafetensorsFile),
}

impl CheckpointFile {
    /// Opens `path`, choosing the container by its first bytes (not its extension).
    pub fn open(path: &Path) -> Result<CheckpointFile, EngineError> {
        let mut head = [0u8; 8];
        let len = std::fs::metadata(path)
            .map_err(|e| EngineError::io(path, e))?
            .len();
        if len == 0 {
            return Err(EngineError::bad(path, "the file is empty"));
        }
        {
            use std::io::Read;
            let mut file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
            let n = file.read(&mut head).map_err(|e| EngineError::io(path, e))?;
            if n < 4 {
                return Err(EngineError::bad(
                    path,
                    format!("the file is only {len} bytes long"),
                ));
            }
        }
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            return Ok(CheckpointFile::Pth(PthFile::open(path)?));
        }
        if head[0] == 0x80 && (2..=5).contains(&head[1]) {
            return Err(EngineError::bad(
                path,
                "legacy (pre-zip) torch .pth format; re-save it with a current torch (torch.save uses zip by default since 1.6)",
            ));
        }
        if head.starts_with(b"GGUF") {
            return Err(EngineError::bad(
                path,
                "this is already a GGUF file: load it with Model::load (conversion reads .pth and .safetensors)",
            ));
        }
        // safetensors begins with a little-endian u64 header length followed by '{'.
        Ok(CheckpointFile::Safetensors(SafetensorsFile::open(path)?))
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        match self {
            CheckpointFile::Pth(f) => f.path(),
            CheckpointFile::Safetensors(f) => &f.path,
        }
    }

    /// A short description of the container, shown to users.
    pub fn format_name(&self) -> &'static str {
        match self {
            CheckpointFile::Pth(_) => "pth",
            CheckpointFile::Safetensors(_) => "safetensors",
        }
    }

    /// Every tensor name in the file.
    pub fn names(&self) -> Vec<String> {
        match self {
            CheckpointFile::Pth(f) => f.names(),
            CheckpointFile::Safetensors(f) => f.meta.keys().cloned().collect(),
        }
    }

    /// Shape and dtype of `name`, if present.
    pub fn meta(&self, name: &str) -> Option<TensorMeta> {
        match self {
            CheckpointFile::Pth(f) => f.meta(name),
            CheckpointFile::Safetensors(f) => f.meta.get(name).map(|(m, _)| m.clone()),
        }
    }

    /// Reads `name` as f32 in row-major order (exact for f32/f16/bf16 sources).
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>, EngineError> {
        match self {
            CheckpointFile::Pth(f) => f.read_f32(name),
            CheckpointFile::Safetensors(f) => f.read_f32(name),
        }
    }

    /// String metadata stored with the weights (safetensors `__metadata__`; empty for `.pth`).
    pub fn metadata(&self) -> HashMap<String, String> {
        match self {
            CheckpointFile::Pth(_) => HashMap::new(),
            CheckpointFile::Safetensors(f) => f.metadata.clone(),
        }
    }
}

/// A memory-mapped `.safetensors` file whose header has been validated.
pub struct SafetensorsFile {
    path: PathBuf,
    map: memmap2::Mmap,
    /// name → (meta, absolute byte range in the file)
    meta: HashMap<String, (TensorMeta, std::ops::Range<usize>)>,
    metadata: HashMap<String, String>,
}

impl SafetensorsFile {
    fn open(path: &Path) -> Result<SafetensorsFile, EngineError> {
        let file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
        // SAFETY: the map is read-only; a file truncated underneath us by another process is the
        // one case this cannot defend against (as with every mmap-based loader).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| EngineError::io(path, e))?;
        let (header_len, header) = safetensors::SafeTensors::read_metadata(&map[..])
            .map_err(|e| EngineError::bad(path, format!("not a valid safetensors file ({e})")))?;
        // `deserialize` additionally checks that the data section matches the header exactly,
        // which is how a truncated file is caught.
        safetensors::SafeTensors::deserialize(&map[..]).map_err(|e| {
            EngineError::bad(path, format!("damaged or truncated safetensors file ({e})"))
        })?;
        let data_start = 8 + header_len;
        let mut meta = HashMap::new();
        for (name, info) in header.tensors() {
            let dtype = match info.dtype {
                safetensors::Dtype::F32 => StoredDType::F32,
                safetensors::Dtype::F16 => StoredDType::F16,
                safetensors::Dtype::BF16 => StoredDType::BF16,
                _ => StoredDType::Other,
            };
            let (start, end) = info.data_offsets;
            let range = data_start + start..data_start + end;
            if range.end > map.len() {
                return Err(EngineError::bad(
                    path,
                    format!("tensor {name} lies past the end of the file"),
                ));
            }
            meta.insert(
                name,
                (
                    TensorMeta {
                        shape: info.shape.clone(),
                        dtype,
                    },
                    range,
                ),
            );
        }
        let metadata = header.metadata().clone().unwrap_or_default();
        Ok(SafetensorsFile {
            path: path.to_path_buf(),
            map,
            meta,
            metadata,
        })
    }

    fn read_f32(&self, name: &str) -> Result<Vec<f32>, EngineError> {
        let (meta, range) = self
            .meta
            .get(name)
            .ok_or_else(|| EngineError::bad(&self.path, format!("missing tensor {name}")))?;
        if meta.dtype == StoredDType::Other {
            return Err(EngineError::bad(
                &self.path,
                format!("tensor {name} has an unsupported element type"),
            ));
        }
        let values = bytes_to_f32(&self.map[range.clone()], meta.dtype);
        // Each tensor is read once (loading, converting): drop its pages from this process's
        // resident set now that they are copied, so streaming a 28 GB file does not leave 28 GB
        // mapped in. The page cache keeps them if memory allows. Advice only: failure is harmless.
        // SAFETY: the map is a read-only shared file mapping; after MADV_DONTNEED a later access
        // reads the same bytes from the file again, so no live reference observes a change.
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                range.start,
                range.len(),
            )
        };
        Ok(values)
    }
}
