//! The reading half of an ingestion run: a prepared document is read through the model from its
//! latest usable checkpoint to the end, writing checkpoints at fixed positions; damaged or
//! missing checkpoints of the schedule are rebuilt by resuming before the earliest of them, and a
//! cancel stops at the next layer with the state from before the chunk saved.

use super::spacing::{spacing_chunks, ReadingFacts};
use super::{outcome, Prepared, Run};
use crate::checkpoint::{self, CheckpointHeader, CHECKPOINT_FORMAT_VERSION};
use crate::chunk::{chunk_page_for_checkpoint, Chunk};
use crate::document::DocumentRecord;
use crate::error::Result;
use crate::library::chunk_tokens;
use crate::progress::{FileOutcome, OutcomeStatus, ProgressEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

impl Run<'_, '_> {
    /// Reads a document from its latest usable checkpoint to the end.
    pub(super) fn read(&mut self, p: Prepared, cancel: &AtomicBool) -> Result<FileOutcome> {
        let record = &p.record;
        let path = record.source_path.clone();
        let mut result = outcome(
            path.clone(),
            Some(record.id.clone()),
            OutcomeStatus::Ingested,
            None,
        );
        result.pages = record.pages.len() as u32;
        result.tokens = record.token_count;
        result.warnings = record.warnings.clone();
        let files = self.writer.files(&record.id);
        let text = files.read_text()?;
        let chunks = files.read_chunks(&record.digest)?;
        let n = chunks.len() as u32;
        let start = self.resume_point(record, n, &path, &mut result)?;
        if start.chunks_read == n {
            if !p.extracted_now && result.warnings.len() == record.warnings.len() {
                result.status = OutcomeStatus::Skipped;
                result.reason = Some("unchanged and already read".into());
            }
            return Ok(result);
        }
        self.reporter.emit(ProgressEvent::ReadingStarted {
            path: path.clone(),
            from_chunk: start.chunks_read,
            chunk_count: n,
        });
        let dir = checkpoint::checkpoint_dir(
            &self.writer.checkpoints_root(),
            &self.model.fingerprint().0,
            &record.id,
        );
        let max_every = self.options.checkpoint_every_chunks.max(1) as u32;
        // A resumed document keeps the spacing it was read with; a new one gets it from the
        // measured speed (after its first chunk when nothing was read yet in this run).
        let resumed_every = start
            .checkpoint
            .as_ref()
            .map(|c| c.header.checkpoint_every_chunks)
            .filter(|&every| every > 0);
        let mut every = match (resumed_every, self.options.spacing) {
            (Some(every), _) => Some(every),
            (None, None) => Some(max_every),
            (None, Some(_)) => self.spacing_for(record, n, max_every),
        };
        let mut state = start.state;
        let mut token_offset = start.token_offset;
        let mut last_saved = start.chunks_read;
        for chunk in &chunks[start.chunks_read as usize..] {
            let began = Instant::now();
            let tokens = chunk_tokens(self.tokenizer, &text, chunk)?;
            // A chunk of a large model takes minutes on a small CPU: between two layers the
            // consumer of `BetweenLayers` may pause reading, and a cancel stops it there (the
            // first check comes before the first layer). The state from before the chunk is then
            // the one saved: the half-read one is not whole.
            let before_chunk = state.clone();
            let mut paused = Duration::ZERO;
            let reporter = &mut self.reporter;
            let read = self.model.read_with(&tokens, &mut state, &mut || {
                let waiting = Instant::now();
                reporter.emit(ProgressEvent::BetweenLayers);
                paused += waiting.elapsed();
                !cancel.load(Ordering::Relaxed)
            });
            match read {
                Ok(()) => {}
                Err(engine::EngineError::Cancelled) => {
                    if last_saved < chunk.index {
                        let schedule = Schedule {
                            every: every.unwrap_or(max_every),
                            chunks_read: chunk.index,
                            token_offset,
                        };
                        self.save(&dir, record, &chunks, schedule, &before_chunk, &mut result)?;
                    }
                    result.status = OutcomeStatus::Interrupted;
                    result.reason = Some(format!(
                        "cancelled at chunk {} of {n}; resumes next run",
                        chunk.index
                    ));
                    return Ok(result);
                }
                Err(e) => {
                    result.status = OutcomeStatus::Failed;
                    result.reason = Some(format!("model failed at chunk {}: {e}", chunk.index));
                    return Ok(result);
                }
            }
            token_offset += tokens.len() as u64;
            result.tokens_read += tokens.len() as u64;
            self.reporter
                .add_reading(tokens.len() as u64, began.elapsed().saturating_sub(paused));
            let chunks_read = chunk.index + 1;
            self.reporter.emit(ProgressEvent::ChunkRead {
                path: path.clone(),
                chunks_read,
                chunk_count: n,
            });
            let every = match every {
                Some(every) => every,
                None => {
                    let chosen = self.spacing_for(record, n, max_every).unwrap_or(max_every);
                    every = Some(chosen);
                    chosen
                }
            };
            if chunks_read % every == 0 || chunks_read == n {
                let schedule = Schedule {
                    every,
                    chunks_read,
                    token_offset,
                };
                self.save(&dir, record, &chunks, schedule, &state, &mut result)?;
                last_saved = chunks_read;
            }
        }
        Ok(result)
    }

    /// Where reading resumes: the latest usable checkpoint before the first damaged one, so that
    /// every damaged checkpoint is written again. Damaged files are deleted first (a file at a
    /// position the schedule does not revisit would otherwise warn forever).
    fn resume_point(
        &mut self,
        record: &DocumentRecord,
        chunk_count: u32,
        path: &std::path::Path,
        result: &mut FileOutcome,
    ) -> Result<crate::library::StartPoint> {
        let fingerprint = self.model.fingerprint();
        let (found, mut damaged) = self.writer.checkpoints(&record.id, fingerprint)?;
        if self.options.verify_checkpoints {
            for info in &found {
                if let Err(e) =
                    checkpoint::read_checkpoint(&info.path, &fingerprint.0, &record.digest)
                {
                    damaged.push(checkpoint::DamagedCheckpoint {
                        path: info.path.clone(),
                        position: Some(info.header.chunks_read),
                        reason: e.to_string(),
                    });
                }
            }
        }
        // A checkpoint of the schedule that is gone (deleted by hand, a sync tool) is rebuilt
        // like a damaged one: otherwise questions there would re-read twice as far.
        let already: Vec<u32> = damaged.iter().filter_map(|d| d.position).collect();
        let missing = checkpoint::missing_positions(&found);
        for position in missing.into_iter().filter(|p| !already.contains(p)) {
            damaged.push(checkpoint::DamagedCheckpoint {
                path: checkpoint::checkpoint_path(
                    &checkpoint::checkpoint_dir(
                        &self.writer.checkpoints_root(),
                        &fingerprint.0,
                        &record.id,
                    ),
                    position,
                ),
                position: Some(position),
                reason: "missing".into(),
            });
        }
        for d in &damaged {
            // Best effort: a file that cannot be removed is skipped again next time.
            let _ = std::fs::remove_file(&d.path);
            let message = format!("{d} (rebuilt)");
            self.reporter.emit(ProgressEvent::Warning {
                path: Some(path.to_path_buf()),
                message: message.clone(),
            });
            result.warnings.push(message);
        }
        let before_damage = damaged
            .iter()
            .filter_map(|d| d.position)
            .min()
            .map_or(chunk_count, |p| p.saturating_sub(1));
        let start = self
            .writer
            .start_point(&record.id, self.model, before_damage)?;
        for w in &start.warnings {
            self.reporter.emit(ProgressEvent::Warning {
                path: Some(path.to_path_buf()),
                message: w.clone(),
            });
            result.warnings.push(format!("{w} (rebuilt)"));
        }
        Ok(start)
    }

    /// The spacing of a document read from its start, once the model's speed has been measured
    /// in this run (`None` before that).
    fn spacing_for(
        &self,
        record: &DocumentRecord,
        chunk_count: u32,
        max_every: u32,
    ) -> Option<u32> {
        let target = self.options.spacing?;
        let tokens_per_s = self.reporter.measured_tokens_per_s()?;
        let facts = ReadingFacts {
            tokens_per_s,
            mean_chunk_tokens: record.token_count as f64 / f64::from(chunk_count.max(1)),
            chunk_count,
            state_bytes: (self.model.shape().state_floats() * std::mem::size_of::<f32>()) as u64,
        };
        Some(spacing_chunks(&target, &facts, max_every))
    }

    fn save(
        &mut self,
        dir: &std::path::Path,
        record: &DocumentRecord,
        chunks: &[Chunk],
        schedule: Schedule,
        state: &engine::State,
        result: &mut FileOutcome,
    ) -> Result<()> {
        let Schedule {
            every,
            chunks_read,
            token_offset,
        } = schedule;
        let (byte_offset, page) = chunk_page_for_checkpoint(chunks, chunks_read);
        let header = CheckpointHeader {
            format_version: CHECKPOINT_FORMAT_VERSION,
            checkpoint_every_chunks: every,
            model_fingerprint: self.model.fingerprint().0.clone(),
            document_id: record.id.clone(),
            document_digest: record.digest.clone(),
            chunks_read,
            chunk_count: chunks.len() as u32,
            token_offset,
            byte_offset,
            page,
        };
        checkpoint::write_checkpoint(dir, &header, &state.to_bytes(self.model.fingerprint()))?;
        result.checkpoints += 1;
        self.reporter.totals.checkpoints_written += 1;
        self.reporter.emit(ProgressEvent::CheckpointWritten {
            path: record.source_path.clone(),
            chunks_read,
            token_offset,
        });
        Ok(())
    }
}

/// Where a checkpoint stands and the spacing it belongs to.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    every: u32,
    chunks_read: u32,
    token_offset: u64,
}
