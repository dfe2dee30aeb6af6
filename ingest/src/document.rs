//! What the library stores about each document, and where: `documents/<id>/record.json`
//! ([`DocumentRecord`]), `documents/<id>/text.txt` (the extracted text every byte range refers
//! to) and `documents/<id>/chunks.json` (the [`Chunk`] list).

use crate::atomic_file::{read_json, write_atomic, write_json_atomic};
use crate::chunk::Chunk;
use crate::decode::TextEncoding;
use crate::digest::sha256_hex;
use crate::discover::DocumentKind;
use crate::error::{IngestError, Result};
use crate::extract::PageSpan;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of `record.json` and `chunks.json` written by this build.
pub const RECORD_FORMAT_VERSION: u32 = 1;

/// A document's stable id: the first 16 hex digits of the SHA-256 of its canonical source path.
/// The same file keeps its id when its content changes (its digest changes instead).
pub fn document_id_for_path(canonical_path: &Path) -> String {
    sha256_hex(canonical_path.as_os_str().as_encoded_bytes())[..16].to_string()
}

/// Where a document is in its life in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DocumentStatus {
    /// Text and chunks saved; the index does not hold this version's chunks yet.
    Extracted,
    /// Text, chunks and index agree: searchable. Reading progress per model is in the checkpoints.
    Indexed,
    /// No usable text could be extracted.
    Failed {
        /// Why.
        reason: String,
    },
}

/// Everything known about one document (`record.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// `RECORD_FORMAT_VERSION` when written.
    pub format_version: u32,
    /// Stable id ([`document_id_for_path`]).
    pub id: String,
    /// Canonical path of the source file.
    pub source_path: PathBuf,
    /// Display title: the file name, after the work's own title where the file names it (a
    /// Project Gutenberg book: "The Great Gatsby, by F. Scott Fitzgerald (pg64317.txt)").
    pub title: String,
    /// Kind of source file.
    pub kind: DocumentKind,
    /// SHA-256 (hex) of the source file's bytes when it was ingested.
    pub digest: String,
    /// Size of the source file.
    pub size_bytes: u64,
    /// State in the library.
    pub status: DocumentStatus,
    /// Detected text encoding (text-like files).
    pub encoding: Option<TextEncoding>,
    /// Pages and their byte spans in `text.txt`.
    pub pages: Vec<PageSpan>,
    /// Length of `text.txt`.
    pub text_bytes: u64,
    /// Number of chunks.
    pub chunk_count: u32,
    /// Tokens in all chunks (tokenizer of the model used at ingestion).
    pub token_count: u64,
    /// Chunk size asked for when chunking.
    pub target_chunk_tokens: u32,
    /// Problems that did not stop the document (pages without text, ...).
    pub warnings: Vec<String>,
    /// SHA-256 (hex) of `text.txt` as written; `None` in records of older builds (unverified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_sha256: Option<String>,
    /// SHA-256 (hex) of `chunks.json` as written; `None` in records of older builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks_sha256: Option<String>,
    /// SHA-256 (hex) of this record's own JSON written with this field left out: a record whose
    /// fields were changed on disk no longer matches it. Set by `DocumentFiles::write_record`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_sha256: Option<String>,
}

impl DocumentRecord {
    /// Whether the document's chunks are searchable.
    pub fn is_indexed(&self) -> bool {
        self.status == DocumentStatus::Indexed
    }

    /// The failure reason, if the document failed.
    pub fn failure(&self) -> Option<&str> {
        match &self.status {
            DocumentStatus::Failed { reason } => Some(reason),
            _ => None,
        }
    }

    /// Whether the record holds the digests of its text and chunk list (written by this build
    /// or repaired); records of older builds are "unverified" until ingestion or repair fills
    /// them in.
    pub fn has_digests(&self) -> bool {
        self.text_sha256.is_some() && self.chunks_sha256.is_some()
    }

    /// The digest [`Self::record_sha256`] should hold: of the JSON without that field.
    pub fn own_digest(&self) -> String {
        let unsealed = DocumentRecord {
            record_sha256: None,
            ..self.clone()
        };
        // Serialising plain data (strings, numbers, enums) cannot fail.
        sha256_hex(&serde_json::to_vec(&unsealed).unwrap_or_default())
    }
}

#[derive(Serialize, Deserialize)]
struct ChunksFile {
    format_version: u32,
    document_digest: String,
    chunks: Vec<Chunk>,
}

/// The files of one document inside `LIBRARY/documents/<id>/`.
#[derive(Debug, Clone)]
pub struct DocumentFiles {
    dir: PathBuf,
}

impl DocumentFiles {
    /// The files of document `id` under `documents_dir`.
    pub fn new(documents_dir: &Path, id: &str) -> Self {
        DocumentFiles {
            dir: documents_dir.join(id),
        }
    }

    /// The document's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self) -> PathBuf {
        self.dir.join("record.json")
    }

    fn text_path(&self) -> PathBuf {
        self.dir.join("text.txt")
    }

    fn chunks_path(&self) -> PathBuf {
        self.dir.join("chunks.json")
    }

    /// Reads `record.json`; `Ok(None)` when absent.
    pub fn read_record(&self) -> Result<Option<DocumentRecord>> {
        let record: Option<DocumentRecord> = read_json(&self.record_path())?;
        match record {
            Some(r) if r.format_version != RECORD_FORMAT_VERSION => Err(IngestError::Corrupt {
                path: self.record_path(),
                reason: format!(
                    "record format version {}, expected {RECORD_FORMAT_VERSION}",
                    r.format_version
                ),
            }),
            Some(r) if r.id != self.id() => Err(IngestError::Corrupt {
                path: self.record_path(),
                reason: format!("holds the record of document {}", r.id),
            }),
            Some(r)
                if r.record_sha256
                    .as_ref()
                    .is_some_and(|d| *d != r.own_digest()) =>
            {
                Err(IngestError::Corrupt {
                    path: self.record_path(),
                    reason: "does not match its own digest (changed on disk)".into(),
                })
            }
            other => Ok(other),
        }
    }

    /// The document id this folder is named after.
    fn id(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Writes `record.json` atomically, sealed with its own digest.
    pub fn write_record(&self, record: &DocumentRecord) -> Result<()> {
        let sealed = DocumentRecord {
            record_sha256: Some(record.own_digest()),
            ..record.clone()
        };
        write_json_atomic(&self.record_path(), &sealed)
    }

    /// Reads `text.txt` as it is (no digest check: see [`Self::read_verified_text`]).
    pub fn read_text(&self) -> Result<String> {
        let path = self.text_path();
        let bytes = std::fs::read(&path).map_err(|e| IngestError::io(&path, e))?;
        String::from_utf8(bytes).map_err(|e| IngestError::Corrupt {
            path,
            reason: format!("not UTF-8: {e}"),
        })
    }

    /// Reads `text.txt` and checks it against what `record` says of it: its digest (records of
    /// older builds: its length).
    pub fn read_verified_text(&self, record: &DocumentRecord) -> Result<String> {
        let path = self.text_path();
        let corrupt = |reason: String| IngestError::Corrupt {
            path: path.clone(),
            reason,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(corrupt("missing".into()))
            }
            Err(e) => return Err(IngestError::io(&path, e)),
        };
        match &record.text_sha256 {
            Some(expected) if sha256_hex(&bytes) != *expected => {
                return Err(corrupt("does not match its digest in record.json".into()))
            }
            None if bytes.len() as u64 != record.text_bytes => {
                return Err(corrupt(format!(
                    "{} bytes, record.json says {}",
                    bytes.len(),
                    record.text_bytes
                )))
            }
            _ => {}
        }
        String::from_utf8(bytes).map_err(|e| corrupt(format!("not UTF-8: {e}")))
    }

    /// Writes `text.txt` and `chunks.json` atomically (each; the record, written after them, is
    /// what makes a new version count). Returns their digests, for the record.
    pub fn write_text_and_chunks(
        &self,
        text: &str,
        digest: &str,
        chunks: &[Chunk],
    ) -> Result<StoredDigests> {
        write_atomic(&self.text_path(), text.as_bytes())?;
        let chunks_sha256 = self.write_chunks(digest, chunks)?;
        Ok(StoredDigests {
            text_sha256: sha256_hex(text.as_bytes()),
            chunks_sha256,
        })
    }

    /// Writes `chunks.json` atomically; returns its digest.
    pub fn write_chunks(&self, digest: &str, chunks: &[Chunk]) -> Result<String> {
        let bytes = chunks_file_bytes(digest, chunks)?;
        write_atomic(&self.chunks_path(), &bytes)?;
        Ok(sha256_hex(&bytes))
    }

    /// Reads `chunks.json`, checking it belongs to the document version `digest` (no check of
    /// its own digest: see [`Self::read_verified_chunks`]).
    pub fn read_chunks(&self, digest: &str) -> Result<Vec<Chunk>> {
        let path = self.chunks_path();
        let file: ChunksFile = read_json(&path)?.ok_or_else(|| IngestError::Corrupt {
            path: path.clone(),
            reason: "missing".into(),
        })?;
        if file.document_digest != digest {
            return Err(IngestError::Corrupt {
                path,
                reason: "chunks belong to another version of the document".into(),
            });
        }
        Ok(file.chunks)
    }

    /// Reads `chunks.json` and checks it against `record`: its digest (when the record holds
    /// one), the document version, the chunk count, and that the chunks tile the text.
    pub fn read_verified_chunks(&self, record: &DocumentRecord) -> Result<Vec<Chunk>> {
        let path = self.chunks_path();
        let corrupt = |reason: String| IngestError::Corrupt {
            path: path.clone(),
            reason,
        };
        if let Some(expected) = &record.chunks_sha256 {
            match std::fs::read(&path) {
                Ok(bytes) if sha256_hex(&bytes) != *expected => {
                    return Err(corrupt("does not match its digest in record.json".into()))
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(corrupt("missing".into()))
                }
                Err(e) => return Err(IngestError::io(&path, e)),
            }
        }
        let chunks = self.read_chunks(&record.digest)?;
        if !chunks_tile(&chunks, record.text_bytes) || chunks.len() as u32 != record.chunk_count {
            return Err(corrupt(format!(
                "{} chunks that do not tile the {} bytes of text ({} expected)",
                chunks.len(),
                record.text_bytes,
                record.chunk_count
            )));
        }
        Ok(chunks)
    }

    /// Path of `record.json`, for reports.
    pub fn record_file(&self) -> PathBuf {
        self.record_path()
    }

    /// Path of `text.txt`, for reports.
    pub fn text_file(&self) -> PathBuf {
        self.text_path()
    }

    /// Path of `chunks.json`, for reports.
    pub fn chunks_file(&self) -> PathBuf {
        self.chunks_path()
    }

    /// Deletes the document's folder.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(IngestError::io(&self.dir, e)),
        }
    }
}

/// Digests of a document's stored text and chunk list, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDigests {
    /// Of `text.txt`.
    pub text_sha256: String,
    /// Of `chunks.json`.
    pub chunks_sha256: String,
}

impl StoredDigests {
    /// Puts the digests into `record`.
    pub fn apply(self, record: &mut DocumentRecord) {
        record.text_sha256 = Some(self.text_sha256);
        record.chunks_sha256 = Some(self.chunks_sha256);
    }
}

/// The bytes of `chunks.json` for `chunks` of document version `digest`.
pub(crate) fn chunks_file_bytes(digest: &str, chunks: &[Chunk]) -> Result<Vec<u8>> {
    let file = ChunksFile {
        format_version: RECORD_FORMAT_VERSION,
        document_digest: digest.to_string(),
        chunks: chunks.to_vec(),
    };
    serde_json::to_vec_pretty(&file).map_err(|e| IngestError::Corrupt {
        path: PathBuf::from("chunks.json"),
        reason: format!("cannot serialise: {e}"),
    })
}

/// Whether `chunks` are numbered 0.. in order and cover `0..text_bytes` without gaps.
pub fn chunks_tile(chunks: &[Chunk], text_bytes: u64) -> bool {
    let mut at = 0;
    for (i, c) in chunks.iter().enumerate() {
        if c.index as usize != i || c.byte_start != at || c.byte_end < c.byte_start {
            return false;
        }
        at = c.byte_end;
    }
    at == text_bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::PageStatus;

    #[test]
    fn record_text_and_chunks_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let files = DocumentFiles::new(dir.path(), "abc");
        assert_eq!(files.read_record().unwrap(), None);
        let chunk = Chunk {
            index: 0,
            byte_start: 0,
            byte_end: 5,
            page_start: 1,
            page_end: 1,
            token_count: 2,
            token_offset: 0,
        };
        files
            .write_text_and_chunks("hello", "d1", std::slice::from_ref(&chunk))
            .unwrap();
        let record = DocumentRecord {
            format_version: RECORD_FORMAT_VERSION,
            id: "abc".into(),
            source_path: "/x/a.txt".into(),
            title: "a.txt".into(),
            kind: DocumentKind::Text,
            digest: "d1".into(),
            size_bytes: 5,
            status: DocumentStatus::Indexed,
            encoding: Some(TextEncoding::Utf8),
            pages: vec![PageSpan {
                number: 1,
                byte_start: 0,
                byte_end: 5,
                status: PageStatus::Ok,
            }],
            text_bytes: 5,
            chunk_count: 1,
            token_count: 2,
            target_chunk_tokens: 512,
            warnings: vec![],
            text_sha256: None,
            chunks_sha256: None,
            record_sha256: None,
        };
        files.write_record(&record).unwrap();
        let read = files.read_record().unwrap().unwrap();
        assert_eq!(read.record_sha256, Some(record.own_digest()));
        assert_eq!(
            DocumentRecord {
                record_sha256: None,
                ..read
            },
            record
        );
        assert_eq!(files.read_text().unwrap(), "hello");
        assert_eq!(files.read_chunks("d1").unwrap(), vec![chunk]);
        assert!(files.read_chunks("d2").is_err());
        files.remove().unwrap();
        assert_eq!(files.read_record().unwrap(), None);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = document_id_for_path(Path::new("/cases/a.pdf"));
        assert_eq!(a, document_id_for_path(Path::new("/cases/a.pdf")));
        assert_ne!(a, document_id_for_path(Path::new("/cases/b.pdf")));
        assert_eq!(a.len(), 16);
    }
}
