//! A library on disk: documents, their text and chunks, the chunk index and per-model
//! checkpoints, all in one directory (see `LAYOUT.md` in this crate). [`Library`] reads; it works
//! while another process writes. [`LibraryWriter`] holds the writer lock.

mod format_file;
mod reading_state;

pub use format_file::LIBRARY_FILE;
pub(crate) use format_file::{check_format, library_file_damage, write_library_file};
pub(crate) use reading_state::load_nearest_state;
pub use reading_state::{chunk_tokens, ReadingProgress, StartPoint};

use crate::chunk::Chunk;
use crate::document::{DocumentFiles, DocumentRecord};
use crate::error::{IngestError, Result};
use crate::index::{ChunkIndex, IndexedChunk, Snippet};
use crate::index_check;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A search result: a chunk of a document, where it is, and an excerpt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// Relevance (BM25), higher is better.
    pub score: f32,
    /// Document id.
    pub document_id: String,
    /// Document title (file name).
    pub title: String,
    /// Source file.
    pub path: PathBuf,
    /// Chunk index in the document.
    pub chunk_index: u32,
    /// Byte range of the chunk in the document text.
    pub byte_range: Range<u64>,
    /// First and last page of the chunk.
    pub pages: (u32, u32),
    /// Highlighted excerpt.
    pub snippet: Option<Snippet>,
}

/// Read access to a library directory.
///
/// Damage found while reading (a missing or unusable index, a document whose files fail their
/// digests) does not stop the other documents: the damaged part is left out and a sentence about
/// it is kept in [`Library::noticed`], which every answer and search result must show.
#[derive(Debug)]
pub struct Library {
    pub(crate) dir: PathBuf,
    /// The index, or why it cannot be used (missing, damaged): then searches find nothing and
    /// say why.
    pub(crate) index: std::result::Result<ChunkIndex, String>,
    noticed: Mutex<Vec<String>>,
}

/// A document's record, verified text and verified chunk list.
pub type VerifiedDocument = (DocumentRecord, String, Vec<Chunk>);

impl Library {
    /// The default library directory: `$XDG_DATA_HOME/rwkv-reader/library`, else
    /// `~/.local/share/rwkv-reader/library`, else `./rwkv-reader-library`.
    pub fn default_dir() -> PathBuf {
        let data = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("share"))
            });
        match data {
            Some(d) => d.join("rwkv-reader").join("library"),
            None => PathBuf::from("rwkv-reader-library"),
        }
    }

    /// Opens (creating if needed) the library in `dir` for reading. Never blocks on a writer.
    /// What is damaged is noticed here as far as it is cheap to see (the library file, the
    /// index's files); documents are verified when they are used.
    pub fn open(dir: &Path) -> Result<Library> {
        std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
        let mut noticed = Vec::new();
        if let Err(damage) = check_format(dir)? {
            noticed.push(damage);
        }
        let index_dir = dir.join("index");
        let index = if index_check::index_exists(&index_dir) {
            index_check::verify_files(&index_dir)
                .and_then(|()| ChunkIndex::open_or_create(&index_dir))
                .map_err(|e| e.to_string())
        } else if !has_documents(dir) {
            ChunkIndex::open_or_create(&index_dir).map_err(|e| e.to_string())
        } else {
            Err(format!("search index {}: missing", index_dir.display()))
        };
        if let Err(reason) = &index {
            noticed.push(format!(
                "{reason}: searching finds nothing until it is rebuilt (`rwkv-reader check --repair` or the next `ingest`)"
            ));
        }
        Ok(Library {
            dir: dir.to_path_buf(),
            index,
            noticed: Mutex::new(noticed),
        })
    }

    /// Opens the library in `dir` for reading, refusing with [`IngestError::NoLibrary`] when
    /// there is none (for commands that only read: a mistyped path must not become an empty
    /// library).
    pub fn open_existing(dir: &Path) -> Result<Library> {
        if !Library::exists_at(dir) {
            return Err(IngestError::NoLibrary {
                dir: dir.to_path_buf(),
            });
        }
        Library::open(dir)
    }

    /// Whether `dir` holds a library (its library file, documents or index).
    pub fn exists_at(dir: &Path) -> bool {
        dir.join(LIBRARY_FILE).exists()
            || dir.join("documents").is_dir()
            || index_check::index_exists(&dir.join("index"))
    }

    /// Damage noticed so far (at opening and while reading), one sentence each, oldest first.
    /// Search results and answers must show these: they say what was left out and why.
    pub fn noticed(&self) -> Vec<String> {
        self.noticed.lock().map(|n| n.clone()).unwrap_or_default()
    }

    /// Takes (and clears) the damage noticed so far.
    pub fn take_noticed(&self) -> Vec<String> {
        self.noticed
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    pub(crate) fn notice(&self, message: String) {
        if let Ok(mut n) = self.noticed.lock() {
            if !n.contains(&message) {
                n.push(message);
            }
        }
    }

    /// Whether the index could be opened (it may still disagree with the documents: see
    /// `crate::check`).
    pub fn index_usable(&self) -> bool {
        self.index.is_ok()
    }

    fn index(&self) -> Result<&ChunkIndex> {
        self.index.as_ref().map_err(|reason| IngestError::Index {
            dir: self.dir.join("index"),
            reason: reason.clone(),
        })
    }

    /// The library directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn documents_dir(&self) -> PathBuf {
        self.dir.join("documents")
    }

    pub(crate) fn checkpoints_root(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    /// Chunk indices of a document as the search index holds them, sorted, duplicates kept: for
    /// consistency checks (after a complete ingestion it is exactly `0..chunk_count`).
    pub fn indexed_chunks(&self, id: &str) -> Result<Vec<u32>> {
        self.index()?.chunk_indices(id)
    }

    /// The chunk index itself (term statistics for ranking passages); `None` when it is
    /// unusable (noticed when the library was opened, as for [`Library::search`]).
    pub(crate) fn chunk_index(&self) -> Option<&ChunkIndex> {
        self.index.as_ref().ok()
    }

    pub(crate) fn files(&self, id: &str) -> DocumentFiles {
        DocumentFiles::new(&self.documents_dir(), id)
    }

    /// Every document in the library (failed ones included), sorted by title.
    pub fn documents(&self) -> Result<Vec<DocumentRecord>> {
        let dir = self.documents_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(IngestError::io(&dir, e)),
        };
        let mut docs = Vec::new();
        for entry in entries.flatten() {
            let Some(id) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // One damaged record must not hide the others: it is left out and noticed.
            match self.files(&id).read_record() {
                Ok(Some(record)) => docs.push(record),
                Ok(None) => {}
                Err(e) => self.notice(damaged_document(&e)),
            }
        }
        docs.sort_by(|a, b| {
            a.title
                .cmp(&b.title)
                .then(a.source_path.cmp(&b.source_path))
        });
        Ok(docs)
    }

    /// One document's record.
    pub fn document(&self, id: &str) -> Result<DocumentRecord> {
        match self.files(id).read_record() {
            Ok(Some(record)) => Ok(record),
            Ok(None) => Err(IngestError::UnknownDocument(id.to_string())),
            Err(e) => {
                self.notice(damaged_document(&e));
                Err(e)
            }
        }
    }

    /// A document's record, text and chunks, each checked against the digests in the record
    /// (records of older builds: against lengths and the chunk tiling). Damage is an error
    /// naming the file, and is noticed.
    pub fn load_verified(&self, id: &str) -> Result<VerifiedDocument> {
        let record = self.document(id)?;
        let files = self.files(id);
        let loaded = files
            .read_verified_text(&record)
            .and_then(|text| Ok((text, files.read_verified_chunks(&record)?)));
        match loaded {
            Ok((text, chunks)) => Ok((record, text, chunks)),
            Err(e) => {
                self.notice(format!(
                    "{} was left out: {}",
                    record.title,
                    damaged_document(&e)
                ));
                Err(e)
            }
        }
    }

    /// Documents matching `name`: an exact id, else titles or paths containing it
    /// (case-insensitive). For `--doc NAME`.
    pub fn find_documents(&self, name: &str) -> Result<Vec<DocumentRecord>> {
        let docs = self.documents()?;
        if let Some(exact) = docs.iter().find(|d| d.id == name) {
            return Ok(vec![exact.clone()]);
        }
        let needle = name.to_lowercase();
        Ok(docs
            .into_iter()
            .filter(|d| {
                d.title.to_lowercase().contains(&needle)
                    || d.source_path
                        .to_string_lossy()
                        .to_lowercase()
                        .contains(&needle)
            })
            .collect())
    }

    /// The extracted text of a document (byte ranges of chunks and pages refer to it), checked
    /// against its digest.
    pub fn document_text(&self, id: &str) -> Result<String> {
        self.load_verified(id).map(|(_, text, _)| text)
    }

    /// The chunks of a document, in order, checked against their digest.
    pub fn chunks(&self, id: &str) -> Result<Vec<Chunk>> {
        self.load_verified(id).map(|(_, _, chunks)| chunks)
    }

    /// Best chunks for `query` across the library, or within `documents` (ids) if given.
    /// Hits whose document fails its digests, or whose entry disagrees with the document's chunk
    /// list, are left out and noticed ([`Library::noticed`]); so is an unusable index (no hits).
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        documents: Option<&[String]>,
    ) -> Result<Vec<SearchHit>> {
        let index = match &self.index {
            Ok(index) => index,
            Err(_) => return Ok(Vec::new()), // noticed when the library was opened
        };
        let loaded = std::cell::RefCell::new(HashMap::<String, Option<VerifiedDocument>>::new());
        let chunk_text = |c: &IndexedChunk| -> Option<String> {
            let mut cache = loaded.borrow_mut();
            let doc = cache
                .entry(c.document_id.clone())
                .or_insert_with(|| self.load_verified(&c.document_id).ok());
            let (_, text, chunks) = doc.as_ref()?;
            if !entry_matches(c, chunks) {
                return None;
            }
            text.get(c.byte_range.start as usize..c.byte_range.end as usize)
                .map(str::to_string)
        };
        let raw = index.search(query, limit, documents, &chunk_text)?;
        let loaded = loaded.into_inner();
        let mut hits = Vec::with_capacity(raw.len());
        for h in raw {
            let Some(Some((record, _, chunks))) = loaded.get(&h.chunk.document_id) else {
                // Damaged (noticed by the loader), or without a record: said either way, since
                // the best passage may be the one left out.
                if matches!(self.files(&h.chunk.document_id).read_record(), Ok(None)) {
                    self.notice(format!(
                        "the search index holds chunks of document {}, which has no record.json (removed, or the file was lost): its hits were left out; run `rwkv-reader check`",
                        h.chunk.document_id
                    ));
                }
                continue;
            };
            if !entry_matches(&h.chunk, chunks) {
                self.notice(format!(
                    "the search index disagrees with the chunk list of {}: its hits were left out; run `rwkv-reader check --repair` to rebuild the index",
                    record.title
                ));
                continue;
            }
            let record = record.clone();
            hits.push(SearchHit {
                score: h.score,
                document_id: h.chunk.document_id,
                title: record.title,
                path: record.source_path,
                chunk_index: h.chunk.chunk_index,
                byte_range: h.chunk.byte_range,
                pages: h.chunk.pages,
                snippet: h.snippet,
            });
        }
        Ok(hits)
    }
}

/// Whether the library has any document folder.
fn has_documents(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("documents")).is_ok_and(|mut e| e.next().is_some())
}

/// The sentence for a document whose files are damaged.
fn damaged_document(e: &IngestError) -> String {
    format!("{e}; run `rwkv-reader check --repair` (or `ingest` its file again)")
}

/// Whether an index entry agrees with the document's chunk list.
fn entry_matches(entry: &IndexedChunk, chunks: &[Chunk]) -> bool {
    chunks.get(entry.chunk_index as usize).is_some_and(|c| {
        c.byte_start == entry.byte_range.start
            && c.byte_end == entry.byte_range.end
            && (c.page_start, c.page_end) == entry.pages
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_handles_can_be_shared_with_worker_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Library>();
        fn assert_send<T: Send>() {}
        assert_send::<crate::library_writer::LibraryWriter>();
    }

    #[test]
    fn default_dir_follows_xdg_data_home() {
        // Only reads the environment; the variable is not changed (tests run in parallel).
        let dir = Library::default_dir();
        assert!(dir.ends_with("rwkv-reader/library"), "{}", dir.display());
    }
}
