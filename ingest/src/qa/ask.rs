//! Answering a question: retrieve the passages, fork the nearest checkpoint at or before the
//! best one, feed the question, the text from the checkpoint to the end of that passage, the
//! further passages chosen by [`super::reading_plan`] and the answer cue, then generate (see the
//! [module doc](super)). `whole` asks the state after everything read instead.

use super::answer_steps::{generate_from_fork, ms_since, MaterialPart, Reading};
use super::error::QaError;
use super::fork::{fork_at_or_before_byte, prepare_text};
use super::notes;
pub use super::options::{answer_sampler, AskOptions};
use super::passage_search::find_passages;
use super::prompt::{gist_prompt, question_prompt};
use super::provenance::{Answer, DocumentRef, Evidence, EvidenceRole, Mode, PassageRead};
use super::reading_plan::{plan_passages, PASSAGE_POOL};
use super::retrieve::content_words;
use super::select::{no_match, read_by_this_model, scope_ids, section_as_passage, DocumentCache};
use super::{now_unix_s, QaContext};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What happens while a question is answered, in order: `Evidence` (before the model reads
/// anything, so it can be shown at once), then `Text` pieces. `Skipped` only from [`ask_each`].
/// The callback returns false to cancel.
#[derive(Debug, Clone, Copy)]
pub enum AskEvent<'a> {
    /// The passages found; those with role `Read` are what the model reads.
    Evidence {
        /// The document being asked.
        document: &'a DocumentRef,
        /// The passages, best first.
        evidence: &'a [Evidence],
        /// The passages the model will read, in reading order, with the tokens each costs.
        passages_read: &'a [PassageRead],
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

/// Answers `question` from the best passages in scope (or, with `whole`, from the state after
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
    // At least as many evidence entries as passages to read.
    let opts = &AskOptions {
        passages: opts.passages.max(opts.passages_read),
        ..opts.clone()
    };
    let scope = scope_ids(ctx.library, opts)?;
    let terms = content_words(question);
    let mut docs = DocumentCache::default();
    // The further passages to read are chosen among more than are shown (see `PASSAGE_POOL`).
    let pool = AskOptions {
        passages: opts.passages.max(PASSAGE_POOL),
        ..opts.clone()
    };
    let mut found = find_passages(ctx, question, &terms, &scope, &pool, &mut docs)?;
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
                if !read_by_this_model(ctx)? {
                    return Err(QaError::NotReadByThisModel {
                        model: ctx.model.info().label(),
                    });
                }
                return Err(QaError::NoMatch {
                    question: question.to_string(),
                    scope: " in the text read so far".into(),
                });
            }
        },
    };
    let (doc, visible) = docs.get(ctx, &doc_id, opts.as_of_page)?;
    let visible = visible.into_result()?;
    let document = DocumentRef::of(&doc.record);
    let retrieved_ms = ms_since(started);

    // Forked before the evidence is announced: which passages fit the budget depends on where
    // the checkpoint stands, and the evidence says which ones the model reads.
    let (fork, reading, evidence) = match mode {
        Mode::Passage => {
            let mut evidence = found;
            let fork = fork_at_or_before_byte(ctx, doc, &visible, evidence[0].byte_range.start)?;
            let plan = plan_passages(
                ctx,
                doc,
                fork.byte_offset,
                &mut evidence,
                opts.passages_read.max(1),
                opts.reread_budget_tokens,
                opts.passages,
            )?;
            if plan.over_budget > 0 {
                notices.push(format!(
                    "{} more matching passage(s) were not read: they would take the text re-read past {} tokens (reread_budget_tokens).",
                    plan.over_budget, opts.reread_budget_tokens
                ));
            }
            let read_count = plan.material.len();
            let reading = Reading {
                mode,
                lead_in: None,
                prompt: question_prompt(ctx.family, question, &doc.record.title, read_count),
                material: plan.material,
                sampler: &opts.sampler,
            };
            (fork, reading, evidence)
        }
        _ => {
            let fork = fork_at_or_before_byte(ctx, doc, &visible, visible.end_byte)?;
            let lead_in = prepare_text(ctx, doc, fork.byte_offset..visible.end_byte, false)?;
            let reading = Reading {
                mode,
                lead_in: Some(lead_in),
                prompt: gist_prompt(ctx.family, question, &doc.record.title),
                material: Vec::new(),
                sampler: &opts.sampler,
            };
            // Whole-document answers read no passage; matches are listed for the reader.
            let evidence = found
                .into_iter()
                .filter(|e| e.document_id == doc_id)
                .take(opts.passages)
                .map(|e| Evidence {
                    role: EvidenceRole::AlsoMatched,
                    ..e
                })
                .collect();
            (fork, reading, evidence)
        }
    };
    // A passage shown from another document that is only partly read (or cut at the as-of
    // page) says so, as the answer's own document does.
    let mut other_documents: Vec<&str> = Vec::new();
    for e in evidence.iter().filter(|e| e.document_id != doc_id) {
        if !other_documents.contains(&e.document_id.as_str()) {
            other_documents.push(&e.document_id);
        }
    }
    for id in other_documents {
        if let Ok(other) = docs.get(ctx, id, opts.as_of_page)?.1.visible {
            for limit in other.notices {
                ctx.library.notice(limit);
            }
        }
    }
    let passages_read: Vec<PassageRead> = reading
        .material
        .iter()
        .filter_map(MaterialPart::passage_read)
        .collect();
    if !on_event(AskEvent::Evidence {
        document: &document,
        evidence: &evidence,
        passages_read: &passages_read,
    }) {
        return Err(QaError::Cancelled);
    }
    let generated = generate_from_fork(
        ctx,
        &fork,
        &visible,
        reading,
        started,
        retrieved_ms,
        &mut |piece| on_event(AskEvent::Text(piece)),
    )?;

    notices.extend(visible.notices.iter().cloned());
    notices.extend(fork.warnings.iter().map(|w| format!("Warning: {w}")));
    // Damage met on the way (documents left out, an unusable index): the answer must say so.
    notices.extend(
        ctx.library
            .noticed()
            .iter()
            .map(|w| format!("Warning: {w}")),
    );
    if ctx.model.info().is_demo {
        notices.push(
            "Answered by the small bundled demo model: expect a weak answer; check the evidence."
                .into(),
        );
    }
    let mut answer = Answer {
        question: question.to_string(),
        text: generated.text,
        document,
        evidence,
        provenance: generated.provenance,
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
