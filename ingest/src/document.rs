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
    /// [`RECORD_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Stable id ([`document_id_for_path`]).
    pub id: String,
    /// Canonical path of the source file.
    pub source_path: PathBuf,
    /// Display title (the file name).
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

    /// Pages whose text was extracted, out of all pages.
    pub fn pages_with_text(&self) -> usize {
        self.pages.iter().filter(|p| p.status.is_ok()).count()
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
            other => Ok(other),
        }
    }

    /// Writes `record.json` atomically.
    pub fn write_record(&self, record: &DocumentRecord) -> Result<()> {
        write_json_atomic(&self.record_path(), record)
    }

    /// Reads `text.txt`.
    pub fn read_text(&self) -> Result<String> {
        let path = self.text_path();
        let bytes = std::fs::read(&path).map_err(|e| IngestError::io(&path, e))?;
        String::from_utf8(bytes).map_err(|e| IngestError::Corrupt {
            path,
            reason: format!("not UTF-8: {e}"),
        })
    }

    /// Writes `text.txt` and `chunks.json` atomically (each; the record, written after them, is
    /// what makes a new version count).
    pub fn write_text_and_chunks(&self, text: &str, digest: &str, chunks: &[Chunk]) -> Result<()> {
        write_atomic(&self.text_path(), text.as_bytes())?;
        let file = ChunksFile {
            format_version: RECORD_FORMAT_VERSION,
            document_digest: digest.to_string(),
            chunks: chunks.to_vec(),
        };
        write_json_atomic(&self.chunks_path(), &file)
    }

    /// Reads `chunks.json`, checking it belongs to the document version `digest`.
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

    /// Deletes the document's folder.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(IngestError::io(&self.dir, e)),
        }
    }
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
        };
        files.write_record(&record).unwrap();
        assert_eq!(files.read_record().unwrap(), Some(record));
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
