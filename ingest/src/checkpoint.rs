//! Checkpoint files: the model's state after reading the first *n* chunks of a document.
//!
//! Format (version 1), all integers little endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `RWKVRDCK` |
//! | 4 | format version (`u32`) |
//! | 4 | header length *h* (`u32`) |
//! | *h* | header, JSON ([`CheckpointHeader`]) |
//! | 8 | state length *s* (`u64`) |
//! | *s* | the state as `engine::State::to_bytes` writes it (f32 arrays, its own versioned header) |
//! | 32 | SHA-256 of every byte before it |
//!
//! Files are written atomically (temp file, fsync, rename). A file whose checksum, magic or
//! version is wrong is *damaged*: it is reported and never used. A file whose fingerprint or
//! document digest differs from what is expected is *not applicable*: never used either. Files
//! live in one folder per model fingerprint and document, so another model's states are never
//! even looked at.

use crate::atomic_file::write_atomic;
use crate::digest::sha256;
use crate::error::{IngestError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the checkpoint file layout written by this build.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"RWKVRDCK";
const CHECKSUM_BYTES: usize = 32;
/// A header is a few hundred bytes; anything much larger is damage.
const MAX_HEADER_BYTES: u32 = 64 * 1024;
/// File name extension of checkpoint files.
pub const CHECKPOINT_EXTENSION: &str = "ckpt";

/// What a checkpoint is: which model, which version of which document, and how far it has read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointHeader {
    /// Layout version (`CHECKPOINT_FORMAT_VERSION`).
    pub format_version: u32,
    /// Fingerprint (hex) of the model whose state this is.
    pub model_fingerprint: String,
    /// Document id in the library.
    pub document_id: String,
    /// SHA-256 (hex) of the source file the document was extracted from.
    pub document_digest: String,
    /// Chunks read: the state covers chunks `0..chunks_read`; reading resumes at this chunk.
    pub chunks_read: u32,
    /// Total chunks of the document (`chunks_read == chunk_count`: the final state).
    pub chunk_count: u32,
    /// Tokens fed to the model for this document so far.
    pub token_offset: u64,
    /// Byte offset in the document text where reading stopped (end of the last chunk read).
    pub byte_offset: u64,
    /// Page holding the last byte read (1-based).
    pub page: u32,
    /// The schedule the file was written on: every this many chunks (and at the end). 0 in
    /// files of older builds (schedule unknown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checkpoint_every_chunks: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Positions of the regular schedule that have no checkpoint although a later one exists: files
/// deleted from a folder that was read past them. The schedule is the one the latest checkpoint
/// was written on; files of older builds, which do not say, are never reported missing.
pub fn missing_positions(found: &[CheckpointInfo]) -> Vec<u32> {
    let Some(latest) = found.iter().max_by_key(|c| c.header.chunks_read) else {
        return Vec::new();
    };
    let every = latest.header.checkpoint_every_chunks;
    if every == 0 {
        return Vec::new();
    }
    let present: std::collections::HashSet<u32> =
        found.iter().map(|c| c.header.chunks_read).collect();
    (1..)
        .map(|i| i * every)
        .take_while(|p| *p < latest.header.chunks_read)
        .filter(|p| !present.contains(p))
        .collect()
}

impl CheckpointHeader {
    /// Whether this is the state after the whole document.
    pub fn is_final(&self) -> bool {
        self.chunks_read == self.chunk_count
    }
}

/// A checkpoint file found on disk (header read, body not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// The file.
    pub path: PathBuf,
    /// Its header.
    pub header: CheckpointHeader,
}

/// A checkpoint file that cannot be used: unreadable, or failing its magic, version or checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedCheckpoint {
    /// The file.
    pub path: PathBuf,
    /// Chunks read, from the file name, when it follows the naming scheme.
    pub position: Option<u32>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for DamagedCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "damaged checkpoint {}: {}",
            self.path.display(),
            self.reason
        )
    }
}

/// The position encoded in a checkpoint file name (`00000012.ckpt` → 12).
pub fn position_from_file_name(path: &Path) -> Option<u32> {
    if path.extension()?.to_str()? != CHECKPOINT_EXTENSION {
        return None;
    }
    path.file_stem()?.to_str()?.parse().ok()
}

/// Serialises a checkpoint (see the module doc for the layout).
pub fn encode_checkpoint(header: &CheckpointHeader, state_bytes: &[u8]) -> Vec<u8> {
    // Serialising a struct of strings and integers cannot fail.
    let header_json = serde_json::to_vec(header).unwrap_or_default();
    let mut out = Vec::with_capacity(8 + 4 + 4 + header_json.len() + 8 + state_bytes.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&CHECKPOINT_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
    out.extend_from_slice(&header_json);
    out.extend_from_slice(&(state_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(state_bytes);
    let checksum = sha256(&out);
    out.extend_from_slice(&checksum);
    out
}

/// Parses the header only (no checksum check): cheap, for listing.
pub fn decode_header(bytes: &[u8]) -> std::result::Result<CheckpointHeader, String> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err("not a checkpoint file (bad magic)".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != CHECKPOINT_FORMAT_VERSION {
        return Err(format!(
            "checkpoint format version {version}, this build reads {CHECKPOINT_FORMAT_VERSION}"
        ));
    }
    let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    if header_len > MAX_HEADER_BYTES {
        return Err(format!("header of {header_len} bytes"));
    }
    let json = bytes
        .get(16..16 + header_len as usize)
        .ok_or("truncated header")?;
    serde_json::from_slice(json).map_err(|e| format!("header: {e}"))
}

/// Verifies the checksum and splits a checkpoint into header and state bytes.
pub fn decode_checkpoint(bytes: &[u8]) -> std::result::Result<(CheckpointHeader, &[u8]), String> {
    if bytes.len() < 16 + 8 + CHECKSUM_BYTES {
        return Err("truncated file".into());
    }
    let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
    if sha256(body) != checksum {
        return Err("checksum mismatch (damaged file)".into());
    }
    let header = decode_header(body)?;
    let header_len = u32::from_le_bytes([body[12], body[13], body[14], body[15]]) as usize;
    let len_at = 16 + header_len;
    let len_bytes: [u8; 8] = body
        .get(len_at..len_at + 8)
        .and_then(|b| b.try_into().ok())
        .ok_or("truncated state length")?;
    let state_len = u64::from_le_bytes(len_bytes) as usize;
    let state = body.get(len_at + 8..).ok_or("truncated state")?;
    if state.len() != state_len {
        return Err(format!(
            "state of {} bytes, header says {state_len}",
            state.len()
        ));
    }
    Ok((header, state))
}

/// Folder of one document's checkpoints for one model: `ROOT/<fingerprint>/<document id>/`.
pub fn checkpoint_dir(checkpoints_root: &Path, fingerprint: &str, document_id: &str) -> PathBuf {
    checkpoints_root
        .join(safe_component(fingerprint))
        .join(safe_component(document_id))
}

/// File of the checkpoint after `chunks_read` chunks (zero-padded so names sort by position).
pub fn checkpoint_path(dir: &Path, chunks_read: u32) -> PathBuf {
    dir.join(format!("{chunks_read:08}.{CHECKPOINT_EXTENSION}"))
}

/// Keeps ids usable as folder names whatever they contain.
fn safe_component(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

/// Writes a checkpoint atomically into `dir`; returns its path.
pub fn write_checkpoint(
    dir: &Path,
    header: &CheckpointHeader,
    state_bytes: &[u8],
) -> Result<PathBuf> {
    let path = checkpoint_path(dir, header.chunks_read);
    write_atomic(&path, &encode_checkpoint(header, state_bytes))?;
    Ok(path)
}

/// Checkpoints in `dir` whose header matches `fingerprint` and `digest`, sorted by position, and
/// the files whose header is damaged or unreadable (body damage shows when a file is read with
/// [`read_checkpoint`]). A missing folder means no checkpoints.
pub fn list_checkpoints(
    dir: &Path,
    fingerprint: &str,
    digest: &str,
) -> (Vec<CheckpointInfo>, Vec<DamagedCheckpoint>) {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (found, warnings);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(CHECKPOINT_EXTENSION) {
            continue;
        }
        match read_header_file(&path) {
            Ok(h) if h.model_fingerprint == fingerprint && h.document_digest == digest => {
                found.push(CheckpointInfo { path, header: h })
            }
            Ok(_) => {} // another version of the document: ignored, removed on re-ingestion
            Err(reason) => warnings.push(DamagedCheckpoint {
                position: position_from_file_name(&path),
                path,
                reason,
            }),
        }
    }
    found.sort_by_key(|c| c.header.chunks_read);
    (found, warnings)
}

fn read_header_file(path: &Path) -> std::result::Result<CheckpointHeader, String> {
    use std::io::Read;
    let mut head = vec![0u8; 16 + MAX_HEADER_BYTES as usize];
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(e.to_string()),
        }
    }
    decode_header(&head[..filled])
}

/// Reads and verifies a checkpoint file: checksum, and that it belongs to `fingerprint` and
/// `digest`. Returns the header and the state bytes (for `engine::State::from_bytes`).
pub fn read_checkpoint(
    path: &Path,
    fingerprint: &str,
    digest: &str,
) -> Result<(CheckpointHeader, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    let bad = |reason: String| IngestError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let (header, state) = decode_checkpoint(&bytes).map_err(bad)?;
    if header.model_fingerprint != fingerprint {
        return Err(bad(format!(
            "written by model {}, not by the model in use ({fingerprint})",
            header.model_fingerprint
        )));
    }
    if header.document_digest != digest {
        return Err(bad("written for an earlier version of the document".into()));
    }
    Ok((header.clone(), state.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(chunks_read: u32) -> CheckpointHeader {
        CheckpointHeader {
            format_version: CHECKPOINT_FORMAT_VERSION,
            checkpoint_every_chunks: 2,
            model_fingerprint: "fp1".into(),
            document_id: "doc".into(),
            document_digest: "d1".into(),
            chunks_read,
            chunk_count: 10,
            token_offset: 512 * u64::from(chunks_read),
            byte_offset: 2000 * u64::from(chunks_read),
            page: 3,
        }
    }

    #[test]
    fn round_trip_and_every_single_bit_flip_is_detected() {
        let state: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let bytes = encode_checkpoint(&header(4), &state);
        let (h, s) = decode_checkpoint(&bytes).unwrap();
        assert_eq!(h, header(4));
        assert_eq!(s, &state[..]);
        for pos in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[pos] ^= 0x10;
            assert!(
                decode_checkpoint(&damaged).is_err(),
                "flip at {pos} not detected"
            );
        }
        for len in 0..bytes.len() {
            assert!(decode_checkpoint(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn listing_filters_by_model_and_document_version_and_reports_damage() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_checkpoint(d, &header(8), b"state8").unwrap();
        write_checkpoint(d, &header(2), b"state2").unwrap();
        let other_model = CheckpointHeader {
            model_fingerprint: "fp2".into(),
            ..header(6)
        };
        write_checkpoint(d, &other_model, b"x").unwrap();
        std::fs::write(checkpoint_path(d, 5), b"garbage").unwrap();

        let (found, warnings) = list_checkpoints(d, "fp1", "d1");
        let positions: Vec<u32> = found.iter().map(|c| c.header.chunks_read).collect();
        assert_eq!(positions, [2, 8]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].position, Some(5));
        assert!(warnings[0].to_string().contains("00000005.ckpt"));

        let (h, s) = read_checkpoint(&found[1].path, "fp1", "d1").unwrap();
        assert_eq!((h.chunks_read, s.as_slice()), (8, b"state8".as_slice()));
        let err = read_checkpoint(&checkpoint_path(d, 6), "fp1", "d1").unwrap_err();
        assert!(err.to_string().contains("not by the model in use"), "{err}");
        let err = read_checkpoint(&found[1].path, "fp1", "d2").unwrap_err();
        assert!(err.to_string().contains("earlier version"), "{err}");
    }

    #[test]
    fn missing_positions_follow_the_latest_schedule() {
        let info = |n: u32, every: u32| CheckpointInfo {
            path: PathBuf::from(format!("{n}.ckpt")),
            header: CheckpointHeader {
                checkpoint_every_chunks: every,
                ..header(n)
            },
        };
        // 2, 4, 8 and the final 9 on a schedule of 2: 6 is gone; a cancel at 5 is no gap.
        let found = [info(2, 2), info(4, 2), info(5, 2), info(8, 2), info(9, 2)];
        assert_eq!(missing_positions(&found), [6]);
        assert_eq!(missing_positions(&found[..2]), Vec::<u32>::new());
        assert_eq!(missing_positions(&[info(8, 2)]), [2, 4, 6]);
        // Files of older builds do not say their schedule: nothing is presumed missing.
        assert_eq!(
            missing_positions(&[info(2, 0), info(8, 0)]),
            Vec::<u32>::new()
        );
        assert_eq!(missing_positions(&[]), Vec::<u32>::new());
    }

    #[test]
    fn folder_names_are_sanitised() {
        let dir = checkpoint_dir(Path::new("/lib/checkpoints"), "ab/../cd", "x y");
        assert_eq!(dir, Path::new("/lib/checkpoints/ab____cd/x_y"));
    }
}
