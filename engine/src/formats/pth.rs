//! torch zip checkpoints (`torch.save(state_dict)`): the pickle in `*/data.pkl` is parsed by candle's
//! pickle reader into a tree of plain values — no code in it is ever run — and walked here to find
//! each tensor's storage file, dtype, size, stride and offset.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::pickle::{Object, Stack};

use crate::error::EngineError;
use crate::formats::stored_tensor::{bytes_to_f32, StoredDType, TensorMeta};

/// Where one tensor's elements live inside the zip.
#[derive(Debug, Clone)]
struct PthTensor {
    meta: TensorMeta,
    /// Zip entry holding the storage (`<archive>/data/<key>`).
    entry: String,
    /// Offset into the storage, in elements.
    offset: usize,
    /// Stride per dimension, in elements.
    stride: Vec<usize>,
}

/// An opened `.pth` whose tensor table has been read.
pub struct PthFile {
    path: PathBuf,
    tensors: HashMap<String, PthTensor>,
}

impl PthFile {
    /// Reads the zip directory and the pickled state dict.
    pub fn open(path: &Path) -> Result<PthFile, EngineError> {
        let file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
            EngineError::bad(path, format!("damaged or truncated zip archive ({e})"))
        })?;
        let pkl_name = zip
            .file_names()
            .filter_map(Result::ok)
            .find(|n| n.ends_with("data.pkl"))
            .map(|n| n.into_owned())
            .ok_or_else(|| {
                EngineError::bad(path, "zip archive has no data.pkl: not a torch checkpoint")
            })?;
        let archive_dir = pkl_name.trim_end_matches("data.pkl").to_string();
        let mut pickle = Vec::new();
        zip.by_name(&pkl_name)
            .and_then(|mut entry| entry.read_to_end(&mut pickle).map_err(Into::into))
            .map_err(|e| EngineError::bad(path, format!("cannot read {pkl_name} ({e})")))?;
        let root = parse_pickle(&pickle).map_err(|reason| EngineError::bad(path, reason))?;
        let entries = state_dict_entries(root).map_err(|reason| EngineError::bad(path, reason))?;
        let mut tensors = HashMap::new();
        for (name, value) in entries {
            let tensor = tensor_from_object(value, &archive_dir)
                .map_err(|reason| EngineError::bad(path, format!("tensor {name}: {reason}")))?;
            if let Some(tensor) = tensor {
                tensors.insert(name, tensor);
            }
        }
        if tensors.is_empty() {
            return Err(EngineError::bad(path, "the checkpoint holds no tensors"));
        }
        Ok(PthFile {
            path: path.to_path_buf(),
            tensors,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }

    pub(crate) fn meta(&self, name: &str) -> Option<TensorMeta> {
        self.tensors.get(name).map(|t| t.meta.clone())
    }

    pub(crate) fn read_f32(&self, name: &str) -> Result<Vec<f32>, EngineError> {
        let path = &self.path;
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| EngineError::bad(path, format!("missing tensor {name}")))?;
        if tensor.meta.dtype == StoredDType::Other {
            return Err(EngineError::bad(
                path,
                format!("tensor {name} has an unsupported element type"),
            ));
        }
        let file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| EngineError::bad(path, format!("damaged zip archive ({e})")))?;
        let mut raw = Vec::new();
        zip.by_name(&tensor.entry)
            .and_then(|mut entry| entry.read_to_end(&mut raw).map_err(Into::into))
            .map_err(|e| {
                EngineError::bad(
                    path,
                    format!("tensor {name}: cannot read {} ({e})", tensor.entry),
                )
            })?;
        let storage = bytes_to_f32(&raw, tensor.meta.dtype);
        gather(&storage, &tensor.meta.shape, &tensor.stride, tensor.offset).ok_or_else(|| {
            EngineError::bad(
                path,
                format!("tensor {name}: its storage is too short for its shape (truncated file?)"),
            )
        })
    }
}

/// Runs candle's pickle reader, which builds values and never calls anything. A crafted pickle could
/// still trip an internal assertion, so a panic is turned into an error too.
fn parse_pickle(bytes: &[u8]) -> Result<Object, String> {
    let result = std::panic::catch_unwind(|| {
        let mut stack = Stack::empty();
        let mut reader = std::io::BufReader::new(bytes);
        stack.read_loop(&mut reader)?;
        stack.finalize()
    });
    match result {
        Ok(Ok(obj)) => Ok(obj),
        Ok(Err(e)) => Err(format!("cannot parse the pickle ({e})")),
        Err(_) => Err("cannot parse the pickle (malformed)".to_string()),
    }
}

/// The (name, value) pairs of the top-level state dict. A dict nested under a key such as
/// `"model"` or `"state_dict"` is reported by name rather than silently giving zero tensors.
fn state_dict_entries(root: Object) -> Result<Vec<(String, Object)>, String> {
    let Object::Dict(items) = root else {
        return Err(
            "the pickle is not a state dict (torch.save(model.state_dict()) expected)".to_string(),
        );
    };
    let mut entries = Vec::with_capacity(items.len());
    let mut nested = None;
    for (key, value) in items {
        let Object::Unicode(name) = key else { continue };
        if matches!(value, Object::Dict(_)) && nested.is_none() {
            nested = Some(name.clone());
        }
        entries.push((name, value));
    }
    let has_tensor = entries.iter().any(|(_, v)| is_tensor(v));
    match (has_tensor, nested) {
        (false, Some(key)) => Err(format!(
            "the weights are nested inside the checkpoint under the key \"{key}\"; save that inner state_dict on its own"
        )),
        _ => Ok(entries),
    }
}

fn is_tensor(value: &Object) -> bool {
    matches!(value, Object::Reduce { callable, .. } if matches!(&**callable,
        Object::Class { module_name, .. } if module_name == "torch._utils" || module_name == "torch._tensor"))
}

/// Decodes `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`, possibly wrapped in
/// `_rebuild_parameter`. Returns `None` for values that are not tensors (e.g. a version number).
fn tensor_from_object(value: Object, archive_dir: &str) -> Result<Option<PthTensor>, String> {
    let Object::Reduce { callable, args } = value else {
        return Ok(None);
    };
    let Object::Class {
        module_name,
        class_name,
    } = *callable
    else {
        return Ok(None);
    };
    let args = match (module_name.as_str(), class_name.as_str()) {
        ("torch._utils", "_rebuild_tensor_v2") => *args,
        ("torch._utils", "_rebuild_parameter") => {
            // (data, requires_grad, backward_hooks) where data is itself a rebuilt tensor.
            let Object::Tuple(mut inner) = *args else {
                return Err("malformed parameter".into());
            };
            if inner.is_empty() {
                return Err("malformed parameter".into());
            }
            return tensor_from_object(inner.swap_remove(0), archive_dir);
        }
        _ => return Ok(None),
    };
    let Object::Tuple(args) = args else {
        return Err("malformed tensor arguments".into());
    };
    let [storage, offset, size, stride, ..] = args.as_slice() else {
        return Err("too few tensor arguments".into());
    };
    let Object::PersistentLoad(storage) = storage else {
        return Err("storage is not a persistent id".into());
    };
    let Object::Tuple(storage) = &**storage else {
        return Err("malformed storage id".into());
    };
    let [_, class, key, ..] = storage.as_slice() else {
        return Err("malformed storage id".into());
    };
    let dtype = match class {
        Object::Class { class_name, .. } => match class_name.as_str() {
            "FloatStorage" => StoredDType::F32,
            "HalfStorage" => StoredDType::F16,
            "BFloat16Storage" => StoredDType::BF16,
            _ => StoredDType::Other,
        },
        _ => return Err("malformed storage type".into()),
    };
    let Object::Unicode(key) = key else {
        return Err("malformed storage key".into());
    };
    let shape = usize_tuple(size).ok_or("malformed size")?;
    let stride = usize_tuple(stride).ok_or("malformed stride")?;
    if stride.len() != shape.len() {
        return Err("size and stride disagree".into());
    }
    let offset = match offset {
        Object::Int(v) if *v >= 0 => *v as usize,
        Object::Long(v) if *v >= 0 => *v as usize,
        _ => return Err("malformed storage offset".into()),
    };
    Ok(Some(PthTensor {
        meta: TensorMeta { shape, dtype },
        entry: format!("{archive_dir}data/{key}"),
        offset,
        stride,
    }))
}

fn usize_tuple(obj: &Object) -> Option<Vec<usize>> {
    let Object::Tuple(items) = obj else {
        return None;
    };
    items
        .iter()
        .map(|item| match item {
            Object::Int(v) if *v >= 0 => Some(*v as usize),
            Object::Long(v) if *v >= 0 => usize::try_from(*v).ok(),
            _ => None,
        })
        .collect()
}

/// Copies a strided view out of `storage` in row-major order; `None` if it would read out of bounds.
fn gather(storage: &[f32], shape: &[usize], stride: &[usize], offset: usize) -> Option<Vec<f32>> {
    let numel = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    if numel == 0 {
        return Some(Vec::new());
    }
    // Highest element index touched, to bounds-check once up front.
    let last = shape.iter().zip(stride).try_fold(offset, |acc, (&d, &s)| {
        acc.checked_add((d - 1).checked_mul(s)?)
    })?;
    if last >= storage.len() {
        return None;
    }
    let contiguous = {
        let mut expect = 1;
        let mut ok = true;
        for (&d, &s) in shape.iter().zip(stride).rev() {
            if d > 1 && s != expect {
                ok = false;
            }
            expect *= d;
        }
        ok
    };
    if contiguous {
        return Some(storage[offset..offset + numel].to_vec());
    }
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..numel {
        let at = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        out.push(storage[at]);
        for dim in (0..shape.len()).rev() {
            index[dim] += 1;
            if index[dim] < shape[dim] {
                break;
            }
            index[dim] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::gather;

    #[test]
    fn gather_reads_transposed_views() {
        // storage of a 2×3 row-major matrix, viewed transposed as 3×2
        let storage = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let t = gather(&storage, &[3, 2], &[1, 3], 0).unwrap_or_default();
        assert_eq!(t, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn gather_refuses_out_of_bounds() {
        assert!(gather(&[1.0, 2.0], &[3], &[1], 0).is_none());
        assert!(gather(&[1.0, 2.0], &[2], &[1], 1).is_none());
    }
}
