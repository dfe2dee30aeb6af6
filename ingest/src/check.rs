//! Verifying a whole library at rest: every stored part against its digest, the index against
//! the chunk lists, and each model's checkpoints against their checksums and their schedule.
//! Nothing is re-read through the model, so a check takes about as long as reading the files.
//!
//! Each [`Problem`] names the file, what is wrong, and the [`Remedy`] `check --repair`
//! ([`crate::repair`]) applies: what can be derived from intact parts is rebuilt; what cannot
//! (the text is damaged and its source file is gone or changed) is reported as needing a new
//! ingestion.

use crate::checkpoint::{self, CheckpointInfo};
use crate::chunk::Chunk;
use crate::digest::file_sha256_hex;
use crate::document::{document_id_for_path, DocumentFiles, DocumentRecord};
use crate::error::{IngestError, Result};
use crate::index_check::{expected_entries, read_index_contents};
use crate::library::library_file_damage;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stored part a problem concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// `library.json`.
    LibraryFile,
    /// The search index (`index/`).
    Index,
    /// A document's `record.json`.
    Record,
    /// A document's `text.txt`.
    Text,
    /// A document's `chunks.json`.
    Chunks,
    /// A checkpoint file.
    Checkpoint,
}

/// What `check --repair` does about a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Remedy {
    /// Write `library.json` again.
    RewriteLibraryFile,
    /// Rebuild the index from the documents' text and chunk lists (no model needed).
    RebuildIndex,
    /// Cut the chunk list again from the intact text (needs the tokenizer).
    RebuildChunks,
    /// Extract the document again from its unchanged source file (needs the model's
    /// tokenizer; its checkpoints stay valid).
    ReextractSource,
    /// Record the digests of intact text and chunks in a record of an older build.
    RecordDigests,
    /// Delete the damaged checkpoint and read again from the previous good one (needs the model
    /// with this fingerprint).
    RereadCheckpoints {
        /// The model whose states these are.
        model_fingerprint: String,
    },
    /// Delete files that belong to no document of the library.
    RemoveOrphan,
    /// Cannot be rebuilt from what is stored: the file must be ingested again.
    Reingest {
        /// Why, and what to run.
        reason: String,
    },
}

impl std::fmt::Display for Remedy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remedy::RewriteLibraryFile => write!(f, "rewritten"),
            Remedy::RebuildIndex => write!(f, "index rebuilt from the stored text and chunks"),
            Remedy::RebuildChunks => write!(f, "chunk list cut again from the text"),
            Remedy::ReextractSource => write!(f, "extracted again from the unchanged source"),
            Remedy::RecordDigests => write!(f, "digests recorded"),
            Remedy::RereadCheckpoints { model_fingerprint } => write!(
                f,
                "rebuilt by reading from the previous good checkpoint (model {model_fingerprint})"
            ),
            Remedy::RemoveOrphan => write!(f, "removed"),
            Remedy::Reingest { reason } => write!(f, "cannot be rebuilt: {reason}"),
        }
    }
}

/// One thing wrong with a stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file (or folder) concerned.
    pub path: PathBuf,
    /// Which part it is.
    pub part: Part,
    /// The document, when the file is one document's.
    pub document_id: Option<String>,
    /// What is wrong.
    pub reason: String,
    /// What repair does (or why it cannot).
    pub remedy: Remedy,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} → {}",
            self.path.display(),
            self.reason,
            self.remedy
        )
    }
}

/// The result of checking a library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The library folder.
    pub library: PathBuf,
    /// Document folders looked at.
    pub documents: usize,
    /// Checkpoint files looked at.
    pub checkpoints: usize,
    /// What is wrong, in the order found.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether repairing needs the model or its tokenizer (re-extracting, re-chunking,
    /// re-reading), as opposed to what is rebuilt from the files alone.
    pub fn repair_needs_model(&self) -> bool {
        self.problems.iter().any(|p| {
            matches!(
                p.remedy,
                Remedy::RebuildChunks | Remedy::ReextractSource | Remedy::RereadCheckpoints { .. }
            )
        })
    }

    /// Problems that repair cannot fix.
    pub fn needing_reingest(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| matches!(p.remedy, Remedy::Reingest { .. }))
    }
}

/// Checks the library in `dir` (which must exist: [`IngestError::NoLibrary`] otherwise). Never
/// writes anything; safe while another process ingests (a file replaced meanwhile may show as a
/// problem that a second check does not).
pub fn check_library(dir: &Path) -> Result<CheckReport> {
    if !crate::Library::exists_at(dir) {
        return Err(IngestError::NoLibrary {
            dir: dir.to_path_buf(),
        });
    }
    let mut report = CheckReport {
        library: dir.to_path_buf(),
        documents: 0,
        checkpoints: 0,
        problems: Vec::new(),
    };
    if let Some(reason) = library_file_damage(dir)? {
        report.problems.push(Problem {
            path: dir.join(crate::library::LIBRARY_FILE),
            part: Part::LibraryFile,
            document_id: None,
            reason,
            remedy: Remedy::RewriteLibraryFile,
        });
    }
    let documents = check_documents(dir, &mut report);
    check_index(dir, &documents, &mut report);
    check_checkpoints(dir, &documents, &mut report);
    Ok(report)
}

/// A document as the check found it.
struct CheckedDocument {
    record: Option<DocumentRecord>,
    /// The verified chunk list (intact text and chunks only).
    chunks: Option<Vec<Chunk>>,
}

fn check_documents(dir: &Path, report: &mut CheckReport) -> BTreeMap<String, CheckedDocument> {
    let documents_dir = dir.join("documents");
    let mut found = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(&documents_dir) else {
        return found;
    };
    let mut ids: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    for id in ids {
        report.documents += 1;
        let files = DocumentFiles::new(&documents_dir, &id);
        let checked = check_document(&id, &files, report);
        found.insert(id, checked);
    }
    found
}

fn check_document(id: &str, files: &DocumentFiles, report: &mut CheckReport) -> CheckedDocument {
    let mut problem = |path: PathBuf, part: Part, reason: String, remedy: Remedy| {
        report.problems.push(Problem {
            path,
            part,
            document_id: Some(id.to_string()),
            reason,
            remedy,
        })
    };
    let record = match files.read_record() {
        Ok(Some(r)) => r,
        other => {
            let reason = match other {
                Err(e) => damage_reason(&e),
                _ => "missing".to_string(),
            };
            problem(
                files.record_file(),
                Part::Record,
                reason,
                remedy_for_damaged_record(id, files),
            );
            return CheckedDocument {
                record: None,
                chunks: None,
            };
        }
    };
    if record.failure().is_some() {
        return CheckedDocument {
            record: Some(record),
            chunks: None,
        };
    }
    let text = files.read_verified_text(&record);
    let chunks = files.read_verified_chunks(&record);
    if let Err(e) = &text {
        problem(
            files.text_file(),
            Part::Text,
            damage_reason(e),
            source_remedy(&record, "its text is damaged"),
        );
    }
    if let Err(e) = &chunks {
        let remedy = if text.is_ok() {
            Remedy::RebuildChunks
        } else {
            source_remedy(&record, "its text is damaged")
        };
        problem(files.chunks_file(), Part::Chunks, damage_reason(e), remedy);
    }
    if text.is_ok() && chunks.is_ok() && !record.has_digests() {
        problem(
            files.record_file(),
            Part::Record,
            "written by an older build: no digests of the text and chunks (unverified)".into(),
            Remedy::RecordDigests,
        );
    }
    CheckedDocument {
        chunks: text.and(chunks).ok(),
        record: Some(record),
    }
}

/// The reason of a damage error without the path (the problem names it).
fn damage_reason(e: &IngestError) -> String {
    match e {
        IngestError::Corrupt { reason, .. } => reason.clone(),
        IngestError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Re-extraction when the source file is unchanged, else a new ingestion.
fn source_remedy(record: &DocumentRecord, what: &str) -> Remedy {
    let source = &record.source_path;
    match file_sha256_hex(source) {
        Ok(digest) if digest == record.digest => Remedy::ReextractSource,
        Ok(_) => Remedy::Reingest {
            reason: format!(
                "{what} and {} has changed since: run `rwkv-reader ingest {}`",
                source.display(),
                source.display()
            ),
        },
        Err(_) => Remedy::Reingest {
            reason: format!(
                "{what} and its source {} is gone: ingest the file again from wherever it is now",
                source.display()
            ),
        },
    }
}

/// A record that cannot be read: if what is left of it still names its source (the path hashes
/// to the folder's id) and that file exists, the document is extracted again; else it must be
/// ingested again.
fn remedy_for_damaged_record(id: &str, files: &DocumentFiles) -> Remedy {
    match source_of_damaged_record(id, files) {
        Some(_) => Remedy::ReextractSource,
        None => Remedy::Reingest {
            reason: format!(
                "the record does not name its source file any more: ingest the file again (its document id is {id})"
            ),
        },
    }
}

/// The source file named by a damaged record, when it can be trusted (see
/// [`remedy_for_damaged_record`]).
pub(crate) fn source_of_damaged_record(id: &str, files: &DocumentFiles) -> Option<PathBuf> {
    std::fs::read(files.record_file())
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("source_path")?.as_str().map(PathBuf::from))
        .filter(|p| document_id_for_path(p) == id && p.is_file())
}

fn check_index(
    dir: &Path,
    documents: &BTreeMap<String, CheckedDocument>,
    report: &mut CheckReport,
) {
    let index_dir = dir.join("index");
    let mut problem = |reason: String| {
        report.problems.push(Problem {
            path: index_dir.clone(),
            part: Part::Index,
            document_id: None,
            reason,
            remedy: Remedy::RebuildIndex,
        })
    };
    let contents = match read_index_contents(&index_dir) {
        Ok(c) => c,
        Err(IngestError::Index { reason, .. }) => return problem(reason),
        Err(e) => return problem(e.to_string()),
    };
    let mut disagree = Vec::new();
    for (id, doc) in documents {
        let (Some(record), Some(chunks)) = (&doc.record, &doc.chunks) else {
            continue; // damaged: the document's own problem comes first
        };
        if !record.is_indexed() {
            continue;
        }
        let held = contents.get(id).map(Vec::as_slice).unwrap_or_default();
        if held != expected_entries(id, chunks).as_slice() {
            disagree.push(format!(
                "{} ({} of {} chunks)",
                record.title,
                held.len(),
                chunks.len()
            ));
        }
    }
    let stale = contents
        .keys()
        .filter(|id| {
            documents
                .get(*id)
                .is_none_or(|d| d.record.as_ref().is_some_and(|r| r.failure().is_some()))
        })
        .count();
    if !disagree.is_empty() {
        problem(format!(
            "disagrees with the chunk lists of {}",
            disagree.join(", ")
        ));
    } else if stale > 0 {
        problem(format!(
            "holds chunks of {stale} document(s) that are not in the library"
        ));
    }
}

fn check_checkpoints(
    dir: &Path,
    documents: &BTreeMap<String, CheckedDocument>,
    report: &mut CheckReport,
) {
    let Some(model_dirs) = sorted_entries(&dir.join("checkpoints")) else {
        return;
    };
    for (model_dir, fingerprint) in model_dirs {
        let Some(doc_dirs) = sorted_entries(&model_dir) else {
            continue;
        };
        for (doc_dir, id) in doc_dirs {
            let Some(doc) = documents.get(&id) else {
                report.problems.push(Problem {
                    path: doc_dir.clone(),
                    part: Part::Checkpoint,
                    document_id: Some(id),
                    reason: "checkpoints of a document that is not in the library".into(),
                    remedy: Remedy::RemoveOrphan,
                });
                continue;
            };
            // Without a readable record the document version is unknown: its checkpoints are
            // judged once the record is back.
            let Some(record) = &doc.record else {
                continue;
            };
            check_model_checkpoints(&doc_dir, &fingerprint, record, report);
        }
    }
}

/// The entries of folder `dir`, sorted, each with its file name; `None` when it cannot be read.
fn sorted_entries(dir: &Path) -> Option<Vec<(PathBuf, String)>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    Some(
        entries
            .into_iter()
            .map(|path| {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (path, name)
            })
            .collect(),
    )
}

fn check_model_checkpoints(
    doc_dir: &Path,
    fingerprint: &str,
    record: &DocumentRecord,
    report: &mut CheckReport,
) {
    let (listed, damaged) = checkpoint::list_checkpoints(doc_dir, fingerprint, &record.digest);
    report.checkpoints += listed.len() + damaged.len();
    let remedy = Remedy::RereadCheckpoints {
        model_fingerprint: fingerprint.to_string(),
    };
    let mut problem = |path: PathBuf, reason: String| {
        report.problems.push(Problem {
            path,
            part: Part::Checkpoint,
            document_id: Some(record.id.clone()),
            reason,
            remedy: remedy.clone(),
        })
    };
    let mut reported = std::collections::HashSet::new();
    for d in damaged {
        reported.extend(d.position);
        problem(d.path, d.reason);
    }
    let mut intact: Vec<CheckpointInfo> = Vec::new();
    for info in listed {
        match checkpoint::read_checkpoint(&info.path, fingerprint, &record.digest) {
            Ok(_) => intact.push(info),
            Err(e) => {
                reported.insert(info.header.chunks_read);
                let reason = match e {
                    IngestError::Checkpoint { reason, .. } => reason,
                    other => other.to_string(),
                };
                problem(info.path, reason);
            }
        }
    }
    let missing = checkpoint::missing_positions(&intact);
    for position in missing.into_iter().filter(|p| !reported.contains(p)) {
        problem(
            checkpoint::checkpoint_path(doc_dir, position),
            "missing (a later checkpoint exists)".into(),
        );
    }
    // The final state is gone (or reading was interrupted): questions about the end would
    // re-read from the last checkpoint, and gist questions find no final state.
    let latest = intact.last().map_or(0, |c| c.header.chunks_read);
    let end = record.chunk_count;
    if !intact.is_empty() && latest < end && !reported.contains(&end) {
        problem(
            checkpoint::checkpoint_path(doc_dir, end),
            format!("missing: read to chunk {latest} of {end} (an interrupted ingestion, or the final checkpoint was lost)"),
        );
    }
}
