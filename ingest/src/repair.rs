//! `check --repair`: rebuilds what a [`CheckReport`] found damaged from what is intact, then
//! checks again. Derived parts are rebuilt from their sources inside the library — the index from
//! the stored text and chunk lists, chunk lists from the text, `library.json` from scratch,
//! checkpoints by reading again from the previous good one — and a document whose text is
//! damaged is extracted again from its source file when that file is unchanged. What cannot be
//! rebuilt (text damaged, source gone or changed) stays in the second check's report, with the
//! ingestion it needs.

use crate::check::{check_library, source_of_damaged_record, CheckReport, Problem, Remedy};
use crate::chunk::chunk_text;
use crate::digest::sha256_hex;
use crate::document::chunks_file_bytes;
use crate::error::{IngestError, Result};
use crate::library::write_library_file;
use crate::library_writer::LibraryWriter;
use crate::pipeline::{read_stored, IngestOptions};
use crate::progress::Progress;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// What repairing needs beyond the files: the model (re-reading checkpoints) and its tokenizer
/// (cutting chunks, extracting again), and the ingestion settings.
#[derive(Clone, Copy)]
pub struct RepairTools<'a> {
    /// The model whose checkpoints can be rebuilt (others' damaged files are only removed).
    pub model: &'a dyn engine::LanguageModel,
    /// Its tokenizer (the one the library was read with).
    pub tokenizer: &'a engine::Tokenizer,
    /// Chunk size, checkpoint spacing, PDF worker.
    pub options: &'a IngestOptions,
}

/// One problem and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairAction {
    /// The problem as the first check found it.
    pub problem: Problem,
    /// Whether the second check no longer finds it.
    pub repaired: bool,
    /// Why it was not repaired, or what else was done.
    pub note: Option<String>,
}

/// The result of a repair: each problem with its outcome, and the check made afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Per problem of the first check.
    pub actions: Vec<RepairAction>,
    /// The library as checked after repairing.
    pub after: CheckReport,
}

impl RepairReport {
    /// Whether the library is healthy now.
    pub fn is_healthy(&self) -> bool {
        self.after.is_healthy()
    }
}

/// Repairs what `report` (a check of `writer`'s library) found. Without `tools` only what needs
/// no model is done (library file, index, digests, orphans, removing damaged checkpoints).
/// Progress of re-extraction and re-reading goes to `on_progress`; `cancel` stops re-reading at
/// the next layer (the checkpoint from before is saved, as in ingestion).
pub fn repair_library(
    writer: &mut LibraryWriter,
    report: &CheckReport,
    tools: Option<RepairTools<'_>>,
    on_progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<RepairReport> {
    let dir = writer.dir().to_path_buf();
    let mut notes: Vec<Option<String>> = vec![None; report.problems.len()];
    // Source file → document id.
    let mut reextract: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut reread: BTreeSet<String> = BTreeSet::new();
    let mut rebuild_index = false;
    let needs_model = "needs the model: run `rwkv-reader check --repair` with it".to_string();

    for (i, p) in report.problems.iter().enumerate() {
        let id = p.document_id.clone().unwrap_or_default();
        match &p.remedy {
            Remedy::RewriteLibraryFile => write_library_file(&dir)?,
            Remedy::RebuildIndex => rebuild_index = true,
            Remedy::RecordDigests => record_digests(writer, &id)?,
            Remedy::RemoveOrphan => remove_all(&p.path)?,
            Remedy::Reingest { .. } => {}
            Remedy::ReextractSource => match source_of(writer, &id) {
                Some(source) if tools.is_some() => {
                    reextract.insert(source, id.clone());
                }
                Some(_) => notes[i] = Some(needs_model.clone()),
                None => notes[i] = Some("its source file is gone".into()),
            },
            Remedy::RebuildChunks => match tools {
                Some(t) => match rebuild_chunks(writer, &id, t)? {
                    Ok(()) => rebuild_index = true,
                    Err(why) => match source_of(writer, &id) {
                        Some(source) => {
                            notes[i] = Some(format!("{why}; extracted again instead"));
                            reextract.insert(source, id.clone());
                        }
                        None => notes[i] = Some(why),
                    },
                },
                None => notes[i] = Some(needs_model.clone()),
            },
            Remedy::RereadCheckpoints { model_fingerprint } => {
                // A damaged file is useless to every model: it goes in any case.
                if p.path.is_file() {
                    remove_all(&p.path)?;
                }
                match tools {
                    Some(t) if t.model.fingerprint().0 == *model_fingerprint => {
                        reread.insert(id);
                    }
                    _ => {
                        notes[i] = Some(format!(
                            "removed; rebuilt by `rwkv-reader ingest` with the model of fingerprint {model_fingerprint}"
                        ))
                    }
                }
            }
        }
    }

    if let Some(t) = tools {
        for (source, id) in reextract {
            // The document's own settings, so that text, chunks and checkpoints come out as
            // they were.
            let options = settings_of(writer, &id, t);
            crate::pipeline::run(
                &[source],
                writer,
                t.model,
                t.tokenizer,
                &options,
                on_progress,
                cancel,
            )?;
        }
    }
    if rebuild_index {
        writer.rebuild_index()?;
    }
    if let Some(t) = tools {
        for id in reread {
            // Damaged in another way too (its own problem says so): nothing to read from.
            let Ok(record) = writer.document(&id) else {
                continue;
            };
            let options = settings_of(writer, &id, t);
            read_stored(
                record,
                writer,
                t.model,
                t.tokenizer,
                &options,
                on_progress,
                cancel,
            )?;
        }
    }
    writer.take_noticed();

    let after = check_library(&dir)?;
    let actions = report
        .problems
        .iter()
        .zip(notes)
        .map(|(p, note)| {
            let repaired = !after
                .problems
                .iter()
                .any(|q| q.path == p.path && q.part == p.part);
            RepairAction {
                problem: p.clone(),
                repaired,
                note,
            }
        })
        .collect();
    Ok(RepairReport { actions, after })
}

/// The ingestion settings document `id` was read with: its chunk size (from its record, when
/// readable) and checkpoint spacing (from its checkpoints' headers), else `tools.options`.
fn settings_of(writer: &LibraryWriter, id: &str, tools: RepairTools<'_>) -> IngestOptions {
    let mut options = tools.options.clone();
    if let Ok(Some(record)) = writer.files(id).read_record() {
        options.target_chunk_tokens = record.target_chunk_tokens.max(1) as usize;
        if let Ok((found, _)) = writer.checkpoints(id, tools.model.fingerprint()) {
            if let Some(every) = found
                .iter()
                .rev()
                .map(|c| c.header.checkpoint_every_chunks)
                .find(|e| *e > 0)
            {
                options.checkpoint_every_chunks = every as usize;
            }
        }
    }
    options
}

/// The source file of document `id`: from its record, or from what is left of a damaged one.
fn source_of(writer: &LibraryWriter, id: &str) -> Option<PathBuf> {
    let files = writer.files(id);
    match files.read_record() {
        Ok(Some(record)) => Some(record.source_path).filter(|p| p.is_file()),
        _ => source_of_damaged_record(id, &files),
    }
}

/// Puts the digests of the (intact, as the check found) text and chunks into an old record.
fn record_digests(writer: &LibraryWriter, id: &str) -> Result<()> {
    let files = writer.files(id);
    let Some(mut record) = files.read_record()? else {
        return Ok(());
    };
    let text = files.read_verified_text(&record)?;
    files.read_verified_chunks(&record)?;
    let chunks_bytes =
        std::fs::read(files.chunks_file()).map_err(|e| IngestError::io(files.chunks_file(), e))?;
    record.text_sha256 = Some(sha256_hex(text.as_bytes()));
    record.chunks_sha256 = Some(sha256_hex(&chunks_bytes));
    files.write_record(&record)
}

/// Cuts the chunk list again from the intact text. `Ok(Err(why))` when the result differs from
/// the digest in the record (another tokenizer or chunk size): the checkpoints were read on
/// the old chunks, so nothing is written.
fn rebuild_chunks(
    writer: &LibraryWriter,
    id: &str,
    tools: RepairTools<'_>,
) -> Result<std::result::Result<(), String>> {
    let files = writer.files(id);
    let Some(mut record) = files.read_record()? else {
        return Ok(Err("the record is missing".into()));
    };
    let text = files.read_verified_text(&record)?;
    let chunks = match chunk_text(
        &text,
        &record.pages,
        record.target_chunk_tokens as usize,
        tools.tokenizer,
    ) {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("tokenizer: {e}"))),
    };
    let digest = sha256_hex(&chunks_file_bytes(&record.digest, &chunks)?);
    match &record.chunks_sha256 {
        Some(expected) if *expected != digest => Ok(Err(
            "cut again with this tokenizer the chunks differ from the ones recorded".into(),
        )),
        Some(_) => {
            files.write_chunks(&record.digest, &chunks)?;
            Ok(Ok(()))
        }
        None => {
            record.chunks_sha256 = Some(files.write_chunks(&record.digest, &chunks)?);
            record.chunk_count = chunks.len() as u32;
            files.write_record(&record)?;
            Ok(Ok(()))
        }
    }
}

fn remove_all(path: &std::path::Path) -> Result<()> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IngestError::io(path, e)),
    }
}
