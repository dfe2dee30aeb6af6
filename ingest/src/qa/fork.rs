//! From a stored checkpoint to a private state at a position in a document. The checkpoint is
//! read and decoded into a new `State` value (a fork): whatever is fed afterwards changes only
//! that value, never a file and never another question's state. Document text to feed after it
//! is tokenized first ([`PreparedText`]), so what it costs is known before anything is read.

use super::error::QaError;
use super::loaded::{floor_boundary, LoadedDocument};
use super::prompt::prepare_material;
use super::provenance::{CheckpointRef, TextSpan};
use super::retrieve::Visible;
use super::QaContext;
use crate::library::{chunk_tokens, load_nearest_state};
use std::ops::Range;

/// A state forked from the nearest usable checkpoint at or before a position.
#[derive(Debug, Clone)]
pub struct Fork {
    /// The private state.
    pub state: engine::State,
    /// The checkpoint it came from; `None`: a fresh state at the document's start.
    pub checkpoint: Option<CheckpointRef>,
    /// Byte offset where the state stands.
    pub byte_offset: u64,
    /// Damaged checkpoints passed over.
    pub warnings: Vec<String>,
}

/// Forks the state of the nearest usable checkpoint whose position is at or before byte
/// `byte` of the document (a fresh state at byte 0 if there is none). `visible` holds the
/// document's checkpoint listing; a damaged checkpoint is passed over with a warning and the
/// one before it is used.
pub fn fork_at_or_before_byte(
    ctx: &QaContext<'_>,
    doc: &LoadedDocument,
    visible: &Visible,
    byte: u64,
) -> Result<Fork, QaError> {
    // Checkpoints stand at chunk ends: the usable ones cover at most the chunks that end by `byte`.
    let chunks_before = doc.chunks.partition_point(|c| c.byte_end <= byte) as u32;
    let nearest = load_nearest_state(
        &visible.checkpoints,
        &visible.damaged,
        chunks_before,
        ctx.model,
        &doc.record.digest,
        || ctx.check_cancel(),
    )?;
    Ok(match nearest.loaded {
        Some((info, header, state)) => Fork {
            state,
            checkpoint: Some(CheckpointRef::of(info)),
            byte_offset: header.byte_offset,
            warnings: nearest.warnings,
        },
        None => Fork {
            state: ctx.model.new_state(),
            checkpoint: None,
            byte_offset: 0,
            warnings: nearest.warnings,
        },
    })
}

/// A stretch of document text tokenized and ready to feed, in pieces that follow the chunks
/// (so re-reading can be cancelled between them). Prepared before anything is fed, so its cost
/// is known first (the answer's re-read budget is decided on it).
#[derive(Debug, Clone)]
pub struct PreparedText {
    /// Where it is and how many tokens it takes.
    pub span: TextSpan,
    /// Token pieces, one per chunk touched, in order.
    pieces: Vec<Vec<u32>>,
}

impl PreparedText {
    /// Text the state has read already (nothing to feed): recorded with 0 tokens.
    pub fn already_read(span: TextSpan) -> PreparedText {
        PreparedText {
            span,
            pieces: Vec::new(),
        }
    }

    /// Nothing to feed.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

/// Tokenizes the document text in `range`, chunk by chunk. Whole chunks are tokenized exactly
/// as ingestion did; `as_material` prepares the text for the prompt family (chat families get
/// blank lines collapsed) instead of keeping it verbatim.
pub fn prepare_text(
    ctx: &QaContext<'_>,
    doc: &LoadedDocument,
    range: Range<u64>,
    as_material: bool,
) -> Result<PreparedText, QaError> {
    let mut pieces = Vec::new();
    let mut tokens = 0u64;
    for chunk in &doc.chunks {
        let start = chunk.byte_start.max(range.start);
        let end = chunk.byte_end.min(range.end);
        if start >= end {
            continue;
        }
        let whole_chunk = start == chunk.byte_start && end == chunk.byte_end;
        let piece = if whole_chunk && !as_material {
            chunk_tokens(ctx.tokenizer, &doc.text, chunk)?
        } else {
            let s = floor_boundary(&doc.text, start as usize);
            let e = floor_boundary(&doc.text, end as usize);
            let body = &doc.text[s..e];
            let body = if as_material {
                prepare_material(ctx.family, body)
            } else {
                body.into()
            };
            ctx.tokenizer
                .encode(&body)
                .map_err(|e| QaError::Tokenizer(e.to_string()))?
        };
        if !piece.is_empty() {
            tokens += piece.len() as u64;
            pieces.push(piece);
        }
    }
    let pages = if range.start < range.end {
        doc.pages_of(&range)
    } else {
        (0, 0)
    };
    Ok(PreparedText {
        span: TextSpan {
            byte_range: range,
            pages,
            tokens,
        },
        pieces,
    })
}

/// Feeds prepared text to `state`, piece by piece (cancellable between pieces and layers).
pub fn read_prepared(
    ctx: &QaContext<'_>,
    state: &mut engine::State,
    text: &PreparedText,
) -> Result<(), QaError> {
    for piece in &text.pieces {
        ctx.check_cancel()?;
        ctx.read(piece, state)?;
    }
    Ok(())
}

/// Feeds prompt text without asking for logits; returns the tokens fed.
pub fn read_prompt(
    ctx: &QaContext<'_>,
    state: &mut engine::State,
    text: &str,
) -> Result<u64, QaError> {
    if text.is_empty() {
        return Ok(0);
    }
    let tokens = ctx
        .tokenizer
        .encode(text)
        .map_err(|e| QaError::Tokenizer(e.to_string()))?;
    if !tokens.is_empty() {
        ctx.read(&tokens, state)?;
    }
    Ok(tokens.len() as u64)
}

/// Feeds the answer cue and returns the logits after it, with the tokens fed.
pub fn forward_cue(
    ctx: &QaContext<'_>,
    state: &mut engine::State,
    cue: &str,
) -> Result<(Vec<f32>, u64), QaError> {
    let tokens = ctx
        .tokenizer
        .encode(cue)
        .map_err(|e| QaError::Tokenizer(e.to_string()))?;
    if tokens.is_empty() {
        return Err(QaError::Tokenizer(format!(
            "the answer cue {cue:?} encodes to no tokens"
        )));
    }
    let logits = ctx.model.forward(&tokens, state)?;
    Ok((logits, tokens.len() as u64))
}
