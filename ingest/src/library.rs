//! A library on disk: documents, their text and chunks, the chunk index and per-model
//! checkpoints, all in one directory (see `LAYOUT.md` in this crate). [`Library`] reads; it works
//! while another process writes. [`LibraryWriter`] holds the writer lock.

use crate::checkpoint::{self, CheckpointHeader, CheckpointInfo, DamagedCheckpoint};
use crate::chunk::{Chunk, TextEncoder};
use crate::document::{DocumentFiles, DocumentRecord};
use crate::error::{IngestError, Result};
use crate::index::{ChunkIndex, IndexedChunk, Snippet};
use crate::lock::WriterLock;
use serde::Serialize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Version of the library layout (`library.json`).
pub const LIBRARY_FORMAT_VERSION: u32 = 1;

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

/// How far a model has read a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadingProgress {
    /// Chunks covered by the latest checkpoint.
    pub chunks_read: u32,
    /// Chunks in the document.
    pub chunk_count: u32,
    /// Tokens covered by the latest checkpoint.
    pub tokens_read: u64,
    /// Page reached (0 when nothing is read).
    pub page: u32,
}

impl ReadingProgress {
    /// Whether the whole document has been read.
    pub fn is_complete(&self) -> bool {
        self.chunk_count > 0 && self.chunks_read == self.chunk_count
    }
}

/// Where to start reading so that the state is right at chunk `chunks_read`: either a stored
/// checkpoint or a fresh state at chunk 0.
#[derive(Debug, Clone, PartialEq)]
pub struct StartPoint {
    /// The state: covers chunks `0..chunks_read`.
    pub state: engine::State,
    /// Chunks the state covers (next chunk to read).
    pub chunks_read: u32,
    /// Tokens the state covers.
    pub token_offset: u64,
    /// The checkpoint used; `None` when starting from a fresh state.
    pub checkpoint: Option<CheckpointInfo>,
    /// Damaged or unusable checkpoints passed over on the way.
    pub warnings: Vec<String>,
}

/// Read access to a library directory.
#[derive(Debug)]
pub struct Library {
    dir: PathBuf,
    index: ChunkIndex,
}

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
    pub fn open(dir: &Path) -> Result<Library> {
        std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
        check_format(dir)?;
        let index = ChunkIndex::open_or_create(&dir.join("index"))?;
        Ok(Library {
            dir: dir.to_path_buf(),
            index,
        })
    }

    /// Opens the library in `dir` for writing: takes the writer lock, or fails with
    /// [`IngestError::LibraryInUse`] if another process holds it.
    pub fn open_writer(dir: &Path) -> Result<LibraryWriter> {
        LibraryWriter::open(dir)
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
        self.index.chunk_indices(id)
    }

    /// The chunk index itself (term statistics for ranking passages).
    pub(crate) fn chunk_index(&self) -> &ChunkIndex {
        &self.index
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
            if let Some(record) = self.files(&id).read_record()? {
                docs.push(record);
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
        self.files(id)
            .read_record()?
            .ok_or_else(|| IngestError::UnknownDocument(id.to_string()))
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

    /// The extracted text of a document (byte ranges of chunks and pages refer to it).
    pub fn document_text(&self, id: &str) -> Result<String> {
        self.document(id)?;
        self.files(id).read_text()
    }

    /// The chunks of a document, in order.
    pub fn chunks(&self, id: &str) -> Result<Vec<Chunk>> {
        let record = self.document(id)?;
        self.files(id).read_chunks(&record.digest)
    }

    /// Best chunks for `query` across the library, or within `documents` (ids) if given.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        documents: Option<&[String]>,
    ) -> Result<Vec<SearchHit>> {
        let texts =
            std::cell::RefCell::new(std::collections::HashMap::<String, Option<String>>::new());
        let chunk_text = |c: &IndexedChunk| -> Option<String> {
            let mut cache = texts.borrow_mut();
            let text = cache
                .entry(c.document_id.clone())
                .or_insert_with(|| self.files(&c.document_id).read_text().ok());
            text.as_ref()?
                .get(c.byte_range.start as usize..c.byte_range.end as usize)
                .map(str::to_string)
        };
        let raw = self.index.search(query, limit, documents, &chunk_text)?;
        let mut hits = Vec::with_capacity(raw.len());
        for h in raw {
            // A document removed between commit and listing is simply left out.
            let Ok(record) = self.document(&h.chunk.document_id) else {
                continue;
            };
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

    /// Checkpoints of a document for the model with `fingerprint` (current document version
    /// only), sorted by position, and the files found damaged by their header.
    pub fn checkpoints(
        &self,
        id: &str,
        fingerprint: &engine::Fingerprint,
    ) -> Result<(Vec<CheckpointInfo>, Vec<DamagedCheckpoint>)> {
        let record = self.document(id)?;
        let dir = checkpoint::checkpoint_dir(&self.checkpoints_root(), &fingerprint.0, id);
        Ok(checkpoint::list_checkpoints(
            &dir,
            &fingerprint.0,
            &record.digest,
        ))
    }

    /// The checkpoint with the most chunks read that is at or before chunk `chunk_index`, i.e.
    /// whose state lets reading start at or before that chunk. `None`: start from a fresh state.
    pub fn nearest_checkpoint_at_or_before(
        &self,
        id: &str,
        fingerprint: &engine::Fingerprint,
        chunk_index: u32,
    ) -> Result<Option<CheckpointInfo>> {
        let (found, _) = self.checkpoints(id, fingerprint)?;
        Ok(found
            .into_iter()
            .rfind(|c| c.header.chunks_read <= chunk_index))
    }

    /// The checkpoint at or before byte `byte_offset` of the document text.
    pub fn nearest_checkpoint_at_or_before_byte(
        &self,
        id: &str,
        fingerprint: &engine::Fingerprint,
        byte_offset: u64,
    ) -> Result<Option<CheckpointInfo>> {
        let (found, _) = self.checkpoints(id, fingerprint)?;
        Ok(found
            .into_iter()
            .rfind(|c| c.header.byte_offset <= byte_offset))
    }

    /// Loads and verifies a checkpoint for `model` (checksum, model, document version).
    pub fn load_checkpoint(
        &self,
        info: &CheckpointInfo,
        model: &engine::Model,
    ) -> Result<(CheckpointHeader, engine::State)> {
        let record = self.document(&info.header.document_id)?;
        load_state(&info.path, model, &record.digest)
    }

    /// A state from which reading chunk `chunk_index` onwards is right: the nearest usable
    /// checkpoint at or before it (damaged ones are passed over with a warning), else a fresh
    /// state at chunk 0. Reading chunks `chunks_read..=chunk_index` with [`chunk_tokens`] then
    /// gives the state at the end of that chunk.
    pub fn start_point(
        &self,
        id: &str,
        model: &engine::Model,
        chunk_index: u32,
    ) -> Result<StartPoint> {
        let record = self.document(id)?;
        let (found, damaged) = self.checkpoints(id, model.fingerprint())?;
        let mut warnings: Vec<String> = damaged
            .iter()
            .filter(|d| d.position.is_none_or(|p| p <= chunk_index))
            .map(ToString::to_string)
            .collect();
        for info in found
            .iter()
            .rev()
            .filter(|c| c.header.chunks_read <= chunk_index)
        {
            match load_state(&info.path, model, &record.digest) {
                Ok((header, state)) => {
                    return Ok(StartPoint {
                        state,
                        chunks_read: header.chunks_read,
                        token_offset: header.token_offset,
                        checkpoint: Some(info.clone()),
                        warnings,
                    })
                }
                Err(e) => warnings.push(format!("skipped damaged checkpoint: {e}")),
            }
        }
        Ok(StartPoint {
            state: model.new_state(),
            chunks_read: 0,
            token_offset: 0,
            checkpoint: None,
            warnings,
        })
    }

    /// The state after the whole document, if the model has read it all.
    pub fn final_state(
        &self,
        id: &str,
        model: &engine::Model,
    ) -> Result<Option<(CheckpointHeader, engine::State)>> {
        let record = self.document(id)?;
        let (found, _) = self.checkpoints(id, model.fingerprint())?;
        match found.last() {
            Some(last) if last.header.is_final() => {
                load_state(&last.path, model, &record.digest).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// How far the model with `fingerprint` has read a document (from checkpoint headers).
    pub fn reading_progress(
        &self,
        id: &str,
        fingerprint: &engine::Fingerprint,
    ) -> Result<ReadingProgress> {
        let record = self.document(id)?;
        let (found, _) = self.checkpoints(id, fingerprint)?;
        Ok(match found.last() {
            Some(c) => ReadingProgress {
                chunks_read: c.header.chunks_read,
                chunk_count: record.chunk_count,
                tokens_read: c.header.token_offset,
                page: c.header.page,
            },
            None => ReadingProgress {
                chunks_read: 0,
                chunk_count: record.chunk_count,
                tokens_read: 0,
                page: 0,
            },
        })
    }
}

/// The tokens the model reads for `chunk`: `encoder.encode_text(&text[chunk range])`. Ingestion
/// and question answering both use this, so a state resumed from a checkpoint plus re-read chunks
/// equals the state ingestion had at that point.
pub fn chunk_tokens(encoder: &dyn TextEncoder, text: &str, chunk: &Chunk) -> Result<Vec<u32>> {
    let body = text.get(chunk.byte_range()).ok_or_else(|| {
        IngestError::Tokenizer(format!(
            "chunk {} is outside the document text",
            chunk.index
        ))
    })?;
    encoder.encode_text(body).map_err(IngestError::Tokenizer)
}

pub(crate) fn load_state(
    path: &Path,
    model: &engine::Model,
    digest: &str,
) -> Result<(CheckpointHeader, engine::State)> {
    let fingerprint = model.fingerprint();
    let (header, bytes) = checkpoint::read_checkpoint(path, &fingerprint.0, digest)?;
    let state =
        engine::State::from_bytes(&bytes, fingerprint).map_err(|e| IngestError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("state: {e}"),
        })?;
    Ok((header, state))
}

fn check_format(dir: &Path) -> Result<()> {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct LibraryFile {
        format_version: u32,
    }
    let path = dir.join("library.json");
    match crate::atomic_file::read_json::<LibraryFile>(&path)? {
        Some(f) if f.format_version != LIBRARY_FORMAT_VERSION => Err(IngestError::Corrupt {
            path,
            reason: format!(
                "library format version {}, this build reads {LIBRARY_FORMAT_VERSION}",
                f.format_version
            ),
        }),
        Some(_) => Ok(()),
        None => crate::atomic_file::write_json_atomic(
            &path,
            &LibraryFile {
                format_version: LIBRARY_FORMAT_VERSION,
            },
        ),
    }
}

/// Write access to a library: a [`Library`] plus the writer lock and the index writer.
/// Dereferences to [`Library`] for all reading methods.
pub struct LibraryWriter {
    library: Library,
    index_writer: tantivy::IndexWriter,
    _lock: WriterLock,
}

impl std::fmt::Debug for LibraryWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibraryWriter")
            .field("dir", &self.library.dir)
            .finish()
    }
}

impl std::ops::Deref for LibraryWriter {
    type Target = Library;
    fn deref(&self) -> &Library {
        &self.library
    }
}

impl LibraryWriter {
    /// See [`Library::open_writer`].
    pub fn open(dir: &Path) -> Result<LibraryWriter> {
        std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
        let lock = WriterLock::acquire(dir)?;
        let library = Library::open(dir)?;
        // Temporary files of a writer that was killed mid-write: never renamed, never read.
        remove_stale_temp_files(&library.documents_dir());
        remove_stale_temp_files(&library.checkpoints_root());
        let index_writer = library.index.writer()?;
        Ok(LibraryWriter {
            library,
            index_writer,
            _lock: lock,
        })
    }

    /// The library, for reading.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Removes a document: its chunks from the index (committed first), then its checkpoints for
    /// every model, then its files.
    pub fn remove_document(&mut self, id: &str) -> Result<()> {
        self.document(id)?;
        self.index_remove(id)?;
        self.remove_checkpoints(id)?;
        self.files(id).remove()
    }

    /// Replaces a document's chunks in the index (one commit).
    pub(crate) fn index_replace(
        &mut self,
        id: &str,
        digest: &str,
        chunks: &[Chunk],
        text: &str,
    ) -> Result<()> {
        self.library
            .index
            .replace_document(&mut self.index_writer, id, digest, chunks, text)
    }

    /// Removes a document's chunks from the index (one commit).
    pub(crate) fn index_remove(&mut self, id: &str) -> Result<()> {
        self.library
            .index
            .remove_document(&mut self.index_writer, id)
    }

    /// Deletes every checkpoint of document `id`, for every model.
    pub(crate) fn remove_checkpoints(&self, id: &str) -> Result<()> {
        let root = self.checkpoints_root();
        let Ok(models) = std::fs::read_dir(&root) else {
            return Ok(());
        };
        for model_dir in models.flatten() {
            let dir = model_dir.path().join(id);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(IngestError::io(&dir, e)),
            }
        }
        Ok(())
    }
}

/// Deletes `.NAME.tmp-PID` files left by [`crate::atomic_file::write_atomic`] in a killed process.
/// Only called with the writer lock held, so no live writer owns them.
fn remove_stale_temp_files(root: &Path) {
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(std::result::Result::ok)
    {
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && name.starts_with('.') && name.contains(".tmp-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl TextEncoder for engine::Tokenizer {
    fn encode_text(&self, text: &str) -> std::result::Result<Vec<u32>, String> {
        self.encode(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_handles_can_be_shared_with_worker_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Library>();
        fn assert_send<T: Send>() {}
        assert_send::<LibraryWriter>();
    }

    #[test]
    fn opening_a_writer_removes_temp_files_of_a_killed_writer() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join("documents/abc/.record.json.tmp-12345");
        std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
        std::fs::write(&stale, b"half").unwrap();
        let keep = dir.path().join("documents/abc/record.json.bak");
        std::fs::write(&keep, b"x").unwrap();
        let writer = Library::open_writer(dir.path()).unwrap();
        assert!(!stale.exists());
        assert!(keep.exists());
        assert!(writer.documents().unwrap().is_empty());
    }

    #[test]
    fn default_dir_follows_xdg_data_home() {
        // Only reads the environment; the variable is not changed (tests run in parallel).
        let dir = Library::default_dir();
        assert!(dir.ends_with("rwkv-reader/library"), "{}", dir.display());
    }
}
