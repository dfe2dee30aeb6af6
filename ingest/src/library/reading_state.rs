//! How far a model has read a document, and the states to go on from: a document's
//! checkpoints for one model, the start point for reading from a chunk on, the final state, and
//! the tokens a chunk is read as.

use super::Library;
use crate::checkpoint::{self, CheckpointHeader, CheckpointInfo, DamagedCheckpoint};
use crate::chunk::{Chunk, TextEncoder};
use crate::document::DocumentRecord;
use crate::error::{IngestError, Result};
use serde::Serialize;
use std::path::Path;

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
    /// The progress `checkpoints` (a document's, sorted by position, as
    /// [`Library::checkpoints`] lists them) stand for, for a caller that has listed them already.
    pub fn of(record: &DocumentRecord, checkpoints: &[CheckpointInfo]) -> ReadingProgress {
        match checkpoints.last() {
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
        }
    }

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

impl Library {
    /// Checkpoints of a document for the model with `fingerprint` (current document version
    /// only), sorted by position, and the files found damaged by their header.
    pub fn checkpoints(
        &self,
        id: &str,
        fingerprint: &engine::Fingerprint,
    ) -> Result<(Vec<CheckpointInfo>, Vec<DamagedCheckpoint>)> {
        Ok(self.checkpoints_of(id, &self.document(id)?, fingerprint))
    }

    /// [`Library::checkpoints`] of a document whose record is loaded already.
    fn checkpoints_of(
        &self,
        id: &str,
        record: &DocumentRecord,
        fingerprint: &engine::Fingerprint,
    ) -> (Vec<CheckpointInfo>, Vec<DamagedCheckpoint>) {
        let dir = checkpoint::checkpoint_dir(&self.checkpoints_root(), &fingerprint.0, id);
        checkpoint::list_checkpoints(&dir, &fingerprint.0, &record.digest)
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

    /// Loads and verifies a checkpoint for `model` (checksum, model, document version).
    pub fn load_checkpoint(
        &self,
        info: &CheckpointInfo,
        model: &dyn engine::LanguageModel,
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
        model: &dyn engine::LanguageModel,
        chunk_index: u32,
    ) -> Result<StartPoint> {
        let record = self.document(id)?;
        let (found, damaged) = self.checkpoints_of(id, &record, model.fingerprint());
        let nearest =
            load_nearest_state(&found, &damaged, chunk_index, model, &record.digest, || {
                Ok::<(), IngestError>(())
            })?;
        Ok(match nearest.loaded {
            Some((info, header, state)) => StartPoint {
                state,
                chunks_read: header.chunks_read,
                token_offset: header.token_offset,
                checkpoint: Some(info.clone()),
                warnings: nearest.warnings,
            },
            None => StartPoint {
                state: model.new_state(),
                chunks_read: 0,
                token_offset: 0,
                checkpoint: None,
                warnings: nearest.warnings,
            },
        })
    }

    /// The state after the whole document, if the model has read it all.
    pub fn final_state(
        &self,
        id: &str,
        model: &dyn engine::LanguageModel,
    ) -> Result<Option<(CheckpointHeader, engine::State)>> {
        let record = self.document(id)?;
        let (found, _) = self.checkpoints_of(id, &record, model.fingerprint());
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
        let (found, _) = self.checkpoints_of(id, &record, fingerprint);
        Ok(ReadingProgress::of(&record, &found))
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

/// The state of the newest checkpoint in `checkpoints` (a document's, sorted by position) that
/// covers at most `chunks` chunks and loads for `model`, and what was passed over on the way.
pub(crate) struct NearestState<'a> {
    /// The checkpoint, its header and its state; `None`: none loads, start from a fresh state.
    pub loaded: Option<(&'a CheckpointInfo, CheckpointHeader, engine::State)>,
    /// The damaged checkpoints at or before the position (listed as damaged, or failing to
    /// load), as warnings for the reader.
    pub warnings: Vec<String>,
}

/// Loads the state to go on from at chunk `chunks` (see [`NearestState`]): a damaged checkpoint
/// is passed over with a warning and the one before it is tried, so damage costs re-reading,
/// never the answer. `before_load` runs before each file is read, so that a caller may stop
/// between loads (a cancelled question); its error is returned as it is.
pub(crate) fn load_nearest_state<'a, E>(
    checkpoints: &'a [CheckpointInfo],
    damaged: &[DamagedCheckpoint],
    chunks: u32,
    model: &dyn engine::LanguageModel,
    digest: &str,
    mut before_load: impl FnMut() -> std::result::Result<(), E>,
) -> std::result::Result<NearestState<'a>, E> {
    let mut warnings: Vec<String> = damaged
        .iter()
        .filter(|d| d.position.is_none_or(|p| p <= chunks))
        .map(ToString::to_string)
        .collect();
    for info in checkpoints
        .iter()
        .rev()
        .filter(|c| c.header.chunks_read <= chunks)
    {
        before_load()?;
        match load_state(&info.path, model, digest) {
            Ok((header, state)) => {
                return Ok(NearestState {
                    loaded: Some((info, header, state)),
                    warnings,
                })
            }
            Err(e) => warnings.push(format!("skipped damaged checkpoint: {e}")),
        }
    }
    Ok(NearestState {
        loaded: None,
        warnings,
    })
}

fn load_state(
    path: &Path,
    model: &dyn engine::LanguageModel,
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

impl TextEncoder for engine::Tokenizer {
    fn encode_text(&self, text: &str) -> std::result::Result<Vec<u32>, String> {
        self.encode(text).map_err(|e| e.to_string())
    }
}
