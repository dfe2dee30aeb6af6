//! Verifying the chunk index against what it should hold, and rebuilding it.
//!
//! The index is derived data: every entry comes from a document's chunk list and text, so it can
//! always be rebuilt from them without the model. Verification opens the index as tantivy sees
//! it (its meta file and every segment file it names), checks the checksum tantivy writes at the
//! end of each file, and reads every stored entry back, so that it can be compared with the chunk
//! lists ([`IndexContents`]).

use crate::chunk::Chunk;
use crate::error::{IngestError, Result};
use crate::index::{ChunkIndex, IndexedChunk};
use std::collections::BTreeMap;
use std::path::Path;
use tantivy::schema::Value;
use tantivy::{Index, TantivyDocument};

/// The tantivy file that names the index's segments: no index without it.
const META_FILE: &str = "meta.json";

/// Whether `dir` holds an index at all (its meta file exists).
pub fn index_exists(dir: &Path) -> bool {
    dir.join(META_FILE).is_file()
}

/// Checks tantivy's checksum at the end of every file the index's meta file names: a reader
/// must not search segments with damaged bytes (tantivy trusts its own files). Reads each file
/// once (the index is a small fraction of the library); an error names what is wrong.
pub fn verify_files(dir: &Path) -> Result<()> {
    let fail = |reason: String| IngestError::Index {
        dir: dir.to_path_buf(),
        reason,
    };
    // A writer in another process may commit, merge and delete the files of the commit this
    // listing started from: an unreadable file is looked at again, from the newer commit,
    // before it counts as damage. A checksum mismatch is damage at once.
    let mut attempt = 1;
    loop {
        let checked = Index::open_in_dir(dir).and_then(|index| index.validate_checksum());
        match checked {
            Ok(damaged) => {
                return match damaged.iter().next() {
                    None => Ok(()),
                    Some(first) => Err(fail(format!(
                        "{} file(s) fail their checksum, e.g. {}",
                        damaged.len(),
                        first.display()
                    ))),
                }
            }
            Err(e) if attempt >= UNREADABLE_ATTEMPTS => return Err(fail(e.to_string())),
            Err(_) => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// Times an unreadable index is opened before it counts as damaged (see [`verify_files`]).
const UNREADABLE_ATTEMPTS: u32 = 3;

/// Every entry of the index, by document id, each list sorted by chunk index.
pub type IndexContents = BTreeMap<String, Vec<IndexedChunk>>;

/// Checks every file of the index (tantivy's checksums) and reads every stored entry. An error
/// says what is damaged; a damaged index is rebuilt, never patched.
pub fn read_index_contents(dir: &Path) -> Result<IndexContents> {
    let fail = |reason: String| IngestError::Index {
        dir: dir.to_path_buf(),
        reason,
    };
    if !index_exists(dir) {
        return Err(fail(format!("missing ({META_FILE} not found)")));
    }
    verify_files(dir)?;
    let index = Index::open_in_dir(dir).map_err(|e| fail(e.to_string()))?;
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()
        .map_err(|e: tantivy::TantivyError| fail(e.to_string()))?;
    let schema = index.schema();
    let field = |name: &str| {
        schema
            .get_field(name)
            .map_err(|e| fail(format!("unexpected schema: {e}")))
    };
    let (doc_id, chunk, byte_start, byte_end, page_start, page_end) = (
        field("doc_id")?,
        field("chunk")?,
        field("byte_start")?,
        field("byte_end")?,
        field("page_start")?,
        field("page_end")?,
    );
    let searcher = reader.searcher();
    let mut contents = IndexContents::new();
    for segment in searcher.segment_readers() {
        let store = segment
            .get_store_reader(1)
            .map_err(|e| fail(e.to_string()))?;
        for doc in segment.doc_ids_alive() {
            let stored: TantivyDocument = store.get(doc).map_err(|e| fail(e.to_string()))?;
            let num = |f| stored.get_first(f).and_then(|v| v.as_u64()).unwrap_or(0);
            let id = stored
                .get_first(doc_id)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            contents.entry(id.clone()).or_default().push(IndexedChunk {
                document_id: id,
                chunk_index: num(chunk) as u32,
                byte_range: num(byte_start)..num(byte_end),
                pages: (num(page_start) as u32, num(page_end) as u32),
            });
        }
    }
    for entries in contents.values_mut() {
        entries.sort_by_key(|c| c.chunk_index);
    }
    Ok(contents)
}

/// What the index should hold for a document with `chunks`.
pub fn expected_entries(document_id: &str, chunks: &[Chunk]) -> Vec<IndexedChunk> {
    chunks
        .iter()
        .map(|c| IndexedChunk {
            document_id: document_id.to_string(),
            chunk_index: c.index,
            byte_range: c.byte_start..c.byte_end,
            pages: (c.page_start, c.page_end),
        })
        .collect()
}

/// Deletes the index folder and creates an empty index in its place (the caller then adds every
/// document). Only called with the library's writer lock held.
pub fn recreate(dir: &Path) -> Result<ChunkIndex> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(IngestError::io(dir, e)),
    }
    ChunkIndex::open_or_create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(index: u32, start: u64, end: u64) -> Chunk {
        Chunk::for_test(index, start, end)
    }

    #[test]
    fn contents_read_back_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        assert!(read_index_contents(&path).is_err(), "no index yet");
        assert!(!path.exists(), "reading does not create one");
        let index = recreate(&path).unwrap();
        let mut writer = index.writer().unwrap();
        let text = "alpha beta. gamma delta.";
        let chunks = [chunk(0, 0, 11), chunk(1, 11, 24)];
        index
            .replace_document(&mut writer, "d1", "x", &chunks, text)
            .unwrap();
        drop(writer);
        let contents = read_index_contents(&path).unwrap();
        assert_eq!(contents["d1"], expected_entries("d1", &chunks));

        // Garbage in one segment file: its checksum no longer matches.
        let victim = std::fs::read_dir(&path)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .unwrap();
        let mut bytes = std::fs::read(&victim).unwrap();
        bytes[0] ^= 0xff;
        std::fs::write(&victim, bytes).unwrap();
        let err = read_index_contents(&path).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");

        std::fs::remove_file(&victim).unwrap();
        assert!(read_index_contents(&path).is_err());
        std::fs::write(path.join(META_FILE), b"{garbage").unwrap();
        assert!(read_index_contents(&path).is_err());
    }
}
