//! Write access to a library ([`LibraryWriter`]): the writer lock, the index writer, and what a
//! writer repairs on opening (a damaged `library.json`, a missing or unusable index).

use crate::chunk::Chunk;
use crate::error::{IngestError, Result};
use crate::index::ChunkIndex;
use crate::index_check;
use crate::library::{check_format, write_library_file, Library, LIBRARY_FILE};
use crate::lock::WriterLock;
use std::path::Path;

/// Write access to a library: a [`Library`] plus the writer lock and the index writer.
/// Dereferences to [`Library`] for all reading methods.
pub struct LibraryWriter {
    library: Library,
    /// `None` only while the index is being recreated (the old writer must be gone first).
    index_writer: Option<tantivy::IndexWriter>,
    _lock: WriterLock,
}

impl Library {
    /// Opens the library in `dir` for writing: takes the writer lock, or fails with
    /// [`IngestError::LibraryInUse`] if another process holds it.
    pub fn open_writer(dir: &Path) -> Result<LibraryWriter> {
        LibraryWriter::open(dir)
    }
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
    /// See [`Library::open_writer`]. A damaged `library.json` is rewritten and a missing or
    /// unusable index is rebuilt from the documents' stored text and chunks, before anything
    /// else: what was done is in [`Library::noticed`].
    pub fn open(dir: &Path) -> Result<LibraryWriter> {
        std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
        let lock = WriterLock::acquire(dir)?;
        let library = Library::open(dir)?;
        // Temporary files of a writer that was killed mid-write: never renamed, never read.
        remove_stale_temp_files(&library.documents_dir());
        remove_stale_temp_files(&library.checkpoints_root());
        let mut writer = LibraryWriter {
            index_writer: match &library.index {
                Ok(index) => Some(index.writer()?),
                Err(_) => None,
            },
            library,
            _lock: lock,
        };
        if check_format(dir)?.is_err() {
            write_library_file(dir)?;
            writer.notice(format!(
                "{}: was damaged, rewritten",
                dir.join(LIBRARY_FILE).display()
            ));
        }
        if writer.index_writer.is_none() {
            let left_out = writer.rebuild_index()?;
            writer.notice(format!(
                "search index {}: was missing or damaged, rebuilt from the documents' text and chunks{}",
                dir.join("index").display(),
                left_out_note(&left_out)
            ));
        }
        Ok(writer)
    }

    /// Recreates the index from every indexed document whose text and chunk list pass their
    /// digests (no model needed). Returns the titles of the documents left out (damaged).
    pub fn rebuild_index(&mut self) -> Result<Vec<String>> {
        // The old writer holds tantivy's lock file in the folder that is about to go.
        self.index_writer = None;
        self.library.index = Err("being rebuilt".into());
        let index = index_check::recreate(&self.library.dir.join("index"))?;
        self.index_writer = Some(index.writer()?);
        self.library.index = Ok(index);
        let mut left_out = Vec::new();
        for record in self.documents()? {
            if !record.is_indexed() {
                continue;
            }
            match self.load_verified(&record.id) {
                Ok((record, text, chunks)) => {
                    self.index_replace(&record.id, &record.digest, &chunks, &text)?
                }
                Err(_) => left_out.push(record.title),
            }
        }
        Ok(left_out)
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
        let (index, writer) = self.index_parts()?;
        index.replace_document(writer, id, digest, chunks, text)
    }

    fn index_parts(&mut self) -> Result<(&ChunkIndex, &mut tantivy::IndexWriter)> {
        let dir = self.library.dir.join("index");
        match (&self.library.index, self.index_writer.as_mut()) {
            (Ok(index), Some(writer)) => Ok((index, writer)),
            _ => Err(IngestError::Index {
                dir,
                reason: "not open for writing".into(),
            }),
        }
    }

    /// Removes a document's chunks from the index (one commit).
    pub(crate) fn index_remove(&mut self, id: &str) -> Result<()> {
        let (index, writer) = self.index_parts()?;
        index.remove_document(writer, id)
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

/// ", except X, Y (damaged)" for a rebuild that left documents out.
fn left_out_note(titles: &[String]) -> String {
    if titles.is_empty() {
        String::new()
    } else {
        format!(
            ", except {} (damaged: see `rwkv-reader check`)",
            titles.join(", ")
        )
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
