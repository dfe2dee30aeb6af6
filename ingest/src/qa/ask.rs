//! Answering a question: retrieve the passage, fork the nearest checkpoint at or before it, feed
//! the question, the text from the checkpoint to the end of the passage and the answer cue, then
//! generate (see the [module doc](super)). `whole` asks the state after everything read instead.

use super::error::QaError;
use super::fork::{fork_at_or_before_byte, forward_cue, read_prompt, read_text_span, Fork};
use super::notes;
pub use super::options::{answer_sampler, AskOptions};
use super::prompt::{gist_prompt, question_prompt, Prompt};
use super::provenance::{
    Answer, DocumentRef, Evidence, EvidenceRole, Mode, Provenance, TextSpan, Timing,
};
use super::retrieve::{content_words, Visible};
use super::select::{find_evidence, no_match, scope_ids, section_as_passage, DocumentCache};
use super::{now_unix_s, QaContext};
use engine::{Generation, SamplerConfig};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What happens while a question is answered, in order: `Evidence` (before the model reads
/// anything, so it can be shown at once), then `Text` pieces. `Skipped` only from [`ask_each`].
/// The callback returns false to cancel.
#[derive(Debug, Clone, Copy)]
pub enum AskEvent<'a> {
    /// The passages found; the first (role `Read`) is what the model reads.
    Evidence {
        /// The document being asked.
        document: &'a DocumentRef,
        /// The passages, best first.
        evidence: &'a [Evidence],
    },
    /// A piece of the answer.
    Text(&'a str),
    /// [`ask_each`]: this document gives no answer.
    Skipped {
        /// The document.
        document: &'a DocumentRef,
        /// Why.
        reason: &'a str,
    },
}

/// One document's outcome in [`ask_each`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentAnswer {
    /// The document.
    pub document: DocumentRef,
    /// Its answer, or why there is none.
    pub outcome: DocumentAnswerOutcome,
}

/// Answered or skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum DocumentAnswerOutcome {
    /// The answer with its evidence.
    Answered {
        /// The answer.
        answer: Box<Answer>,
    },
    /// No answer from this document.
    Skipped {
        /// Why (not indexed, not read yet, no matching passage, ...).
        reason: String,
    },
}

/// Answers `question` from the best passage in scope (or, with `whole`, from the state after
/// the document). See the [module doc](super).
pub fn ask(
    ctx: &QaContext<'_>,
    question: &str,
    opts: &AskOptions,
    on_event: &mut dyn FnMut(AskEvent<'_>) -> bool,
) -> Result<Answer, QaError> {
    let started = Instant::now();
    let question = question.trim();
    if question.is_empty() {
        return Err(QaError::EmptyQuestion);
    }
    let scope = scope_ids(ctx.library, opts)?;
    let terms = content_words(question);
    let mut docs = DocumentCache::default();
    let mut found = find_evidence(ctx, &terms, &scope, opts, &mut docs)?;
    let mut notices = Vec::new();
    if found.is_empty() && !opts.whole {
        if let Some(section) = section_as_passage(ctx, &scope, opts, &terms, &mut docs)? {
            notices.push(
                "No passage in the section matched the question's words: the model read the section itself."
                    .to_string(),
            );
            found.push(section);
        }
    }

    let chosen = if opts.whole {
        match (&scope.only, found.first()) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(best)) => Some(best.document_id.clone()),
            (None, None) => None,
        }
    } else {
        found.first().map(|e| e.document_id.clone())
    };
    let (doc_id, mode) = match chosen {
        Some(id) => (
            id,
            if opts.whole {
                Mode::Whole
            } else {
                Mode::Passage
            },
        ),
        None => match (&scope.only, opts.fallback_to_whole) {
            (Some(id), true) => {
                notices.push(
                    "No passage matched the question's words: answered from the document's state."
                        .to_string(),
                );
                (id.clone(), Mode::Whole)
            }
            (Some(id), false) => {
                let (doc, visible) = docs.get(ctx, id, opts.as_of_page)?;
                visible.into_result()?;
                return Err(no_match(question, doc, opts));
            }
            (None, _) => {
                return Err(QaError::NoMatch {
                    question: question.to_string(),
                    scope: " in the text read so far".into(),
                })
            }
        },
    };
    let (doc, visible) = docs.get(ctx, &doc_id, opts.as_of_page)?;
    let visible = visible.into_result()?;
    let document = DocumentRef::of(&doc.record);
    let evidence: Vec<Evidence> = match mode {
        Mode::Passage => found,
        // Whole-document answers read no passage; matches are listed for the reader.
        _ => found
            .into_iter()
            .filter(|e| e.document_id == doc_id)
            .map(|e| Evidence {
                role: EvidenceRole::AlsoMatched,
                ..e
            })
            .collect(),
    };
    if !on_event(AskEvent::Evidence {
        document: &document,
        evidence: &evidence,
    }) {
        return Err(QaError::Cancelled);
    }
    let retrieved_ms = ms_since(started);

    let mut before_tokens = 0;
    let (fork, prompt, lead_in, material, mut state) = match mode {
        Mode::Passage => {
            let passage = &evidence[0].byte_range;
            let fork = fork_at_or_before_byte(ctx, doc, &visible, passage.start)?;
            let prompt = question_prompt(ctx.family, question, &doc.record.title);
            let mut state = fork.state.clone();
            before_tokens = read_prompt(ctx, &mut state, &prompt.before)?;
            let material =
                read_text_span(ctx, doc, &mut state, fork.byte_offset..passage.end, true)?;
            (fork, prompt, None, Some(material), state)
        }
        _ => {
            let fork = fork_at_or_before_byte(ctx, doc, &visible, visible.end_byte)?;
            let mut state = fork.state.clone();
            let lead_in = read_text_span(
                ctx,
                doc,
                &mut state,
                fork.byte_offset..visible.end_byte,
                false,
            )?;
            let prompt = gist_prompt(ctx.family, question, &doc.record.title);
            (fork, prompt, Some(lead_in), None, state)
        }
    };
    let (logits, cue_tokens) = forward_cue(ctx, &mut state, &prompt.after)?;
    let prompt_ready_ms = ms_since(started);
    let (generation, first_text_ms) = run_generation(
        ctx,
        &mut state,
        logits,
        &prompt,
        &opts.sampler,
        started,
        on_event,
    )?;

    notices.extend(visible.notices.iter().cloned());
    notices.extend(fork.warnings.iter().map(|w| format!("Warning: {w}")));
    if ctx.model.info().is_demo {
        notices.push(
            "Answered by the small bundled demo model: expect a weak answer; check the evidence."
                .into(),
        );
    }
    let provenance = provenance(
        ctx,
        mode,
        &fork,
        lead_in,
        material,
        before_tokens + cue_tokens,
        &generation,
        &visible,
        &opts.sampler,
        Timing {
            retrieved_ms,
            prompt_ready_ms,
            first_text_ms,
            total_ms: ms_since(started),
        },
    );
    let mut answer = Answer {
        question: question.to_string(),
        text: generation.text.trim().to_string(),
        document,
        evidence,
        provenance,
        notices,
        asked_at_unix_s: now_unix_s(),
    };
    if opts.save_to_notes {
        if let Err(e) = notes::append_answer(ctx.library, &answer) {
            answer.notices.push(format!(
                "Warning: the answer was not saved to the notes: {e}"
            ));
        }
    }
    Ok(answer)
}

/// Asks `question` of every document in scope (`opts.documents`, else the whole library), each
/// from its own passage and checkpoint. Documents that cannot answer (not indexed, not read yet,
/// no matching passage, damaged files) are listed as skipped; model errors and cancelling stop.
pub fn ask_each(
    ctx: &QaContext<'_>,
    question: &str,
    opts: &AskOptions,
    on_event: &mut dyn FnMut(AskEvent<'_>) -> bool,
) -> Result<Vec<DocumentAnswer>, QaError> {
    let records = match &opts.documents {
        Some(ids) => ids
            .iter()
            .map(|id| ctx.library.document(id))
            .collect::<Result<Vec<_>, _>>()?,
        None => ctx.library.documents()?,
    };
    let mut results = Vec::with_capacity(records.len());
    for record in records {
        let document = DocumentRef::of(&record);
        let reason = if let Some(failure) = record.failure() {
            Some(format!("failed to ingest: {failure}"))
        } else if !record.is_indexed() {
            Some("not indexed yet".to_string())
        } else {
            None
        };
        let outcome = match reason {
            Some(reason) => DocumentAnswerOutcome::Skipped { reason },
            None => {
                let per_document = AskOptions {
                    documents: Some(vec![record.id.clone()]),
                    fallback_to_whole: false,
                    ..opts.clone()
                };
                match ask(ctx, question, &per_document, on_event) {
                    Ok(answer) => DocumentAnswerOutcome::Answered {
                        answer: Box::new(answer),
                    },
                    Err(
                        e @ (QaError::NoMatch { .. }
                        | QaError::NotReadYet { .. }
                        | QaError::BadPage { .. }
                        | QaError::Library(_)),
                    ) => DocumentAnswerOutcome::Skipped {
                        reason: e.to_string(),
                    },
                    Err(e) => return Err(e),
                }
            }
        };
        if let DocumentAnswerOutcome::Skipped { reason } = &outcome {
            if !on_event(AskEvent::Skipped {
                document: &document,
                reason,
            }) {
                return Err(QaError::Cancelled);
            }
        }
        results.push(DocumentAnswer { document, outcome });
    }
    Ok(results)
}

/// Generates from `state`, streaming text to `on_event`; the time of the first piece of text.
pub(crate) fn run_generation(
    ctx: &QaContext<'_>,
    state: &mut engine::State,
    logits: Vec<f32>,
    prompt: &Prompt,
    sampler: &SamplerConfig,
    started: Instant,
    on_event: &mut dyn FnMut(AskEvent<'_>) -> bool,
) -> Result<(Generation, Option<f64>), QaError> {
    let mut cfg = sampler.clone();
    for stop in &prompt.stop {
        if !cfg.stop.contains(stop) {
            cfg.stop.push(stop.clone());
        }
    }
    let mut first_text_ms = None;
    // Leading whitespace after the cue ("Answer: ...") is not answer text yet.
    let mut seen_text = false;
    let generation = engine::generate(
        ctx.model,
        ctx.tokenizer,
        state,
        logits,
        &cfg,
        &mut |piece: &str| {
            let piece = if seen_text { piece } else { piece.trim_start() };
            if piece.is_empty() {
                // Nothing to show for this token, but a cancel must not wait for text.
                return ctx.check_cancel().is_ok();
            }
            seen_text = true;
            first_text_ms.get_or_insert_with(|| ms_since(started));
            ctx.check_cancel().is_ok() && on_event(AskEvent::Text(piece))
        },
    )?;
    if generation.stop_reason == engine::StopReason::Cancelled {
        return Err(QaError::Cancelled);
    }
    Ok((generation, first_text_ms))
}

/// Where an answer's or a summary's state came from and what it cost.
#[allow(clippy::too_many_arguments)]
pub(crate) fn provenance(
    ctx: &QaContext<'_>,
    mode: Mode,
    fork: &Fork,
    lead_in: Option<TextSpan>,
    material: Option<TextSpan>,
    prompt_tokens: u64,
    generation: &Generation,
    visible: &Visible,
    sampler: &SamplerConfig,
    timing: Timing,
) -> Provenance {
    let reread_tokens =
        lead_in.as_ref().map_or(0, |s| s.tokens) + material.as_ref().map_or(0, |s| s.tokens);
    Provenance {
        model: ctx.model.info().name.clone(),
        model_fingerprint: ctx.model.fingerprint().0.clone(),
        family: ctx.family,
        mode,
        checkpoint: fork.checkpoint.clone(),
        lead_in,
        material,
        reread_tokens,
        prompt_tokens,
        generated_tokens: generation.tokens.len() as u64,
        stop_reason: generation.stop_reason,
        as_of_page: visible.as_of_page,
        visible_until_byte: visible.end_byte,
        reading: visible.reading.clone(),
        seed: sampler.seed,
        warnings: fork.warnings.clone(),
        timing,
    }
}

/// Milliseconds since `t`.
pub(crate) fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
