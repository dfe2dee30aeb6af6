//! Which passages the model reads before answering, and in what order.
//!
//! The best passage is read from its nearest checkpoint: the text from the checkpoint to the
//! passage's end, so the model meets it in its place in the document. Up to
//! `passages_read - 1` further passages follow — the next best evidence entries of the same
//! document, taken in rank order — read in document order, each after its page label. A
//! further passage that the first one's text already covers is not read again (it counts as
//! read, with 0 tokens); one that partly overlaps it is read from where the overlap ends.
//!
//! **Budget**: the document text re-read for an answer is capped at `reread_budget_tokens`.
//! The first passage is always read in full (its cost is bounded anyway: the checkpoint
//! spacing plus the passage). Further passages are then taken in rank order: each is read in
//! full if the total stays within the budget, and otherwise left out whole (never cut), so a
//! lower-ranked passage that still fits is read. Left-out passages stay in the evidence as
//! "also matched" and the answer says how many were left out.

use super::answer_steps::MaterialPart;
use super::error::QaError;
use super::fork::{prepare_text, Fork, PreparedText};
use super::loaded::LoadedDocument;
use super::prompt::passage_label;
use super::provenance::{page_label, Evidence, EvidenceRole, TextSpan};
use super::QaContext;
use std::ops::Range;

/// The passages to read for an answer.
#[derive(Debug, Clone)]
pub(crate) struct PassagePlan {
    /// In reading order: the best passage (from the checkpoint), then the others by position.
    pub material: Vec<MaterialPart>,
    /// Further passages left out because they would pass the budget.
    pub over_budget: usize,
}

/// Plans what the model reads for `evidence` (best first; entry 0 is the passage the state was
/// forked for) of document `doc`, and marks the entries read with [`EvidenceRole::Read`] and
/// every other entry [`EvidenceRole::AlsoMatched`].
pub(crate) fn plan_passages(
    ctx: &QaContext<'_>,
    doc: &LoadedDocument,
    fork: &Fork,
    evidence: &mut [Evidence],
    passages_read: usize,
    budget_tokens: u64,
) -> Result<PassagePlan, QaError> {
    let Some(best) = evidence.first() else {
        return Ok(PassagePlan {
            material: Vec::new(),
            over_budget: 0,
        });
    };
    let first_range = fork.byte_offset.min(best.byte_range.start)..best.byte_range.end;
    let first = prepare_text(ctx, doc, first_range.clone(), true)?;
    let mut total_tokens = first.span.tokens;
    let mut chosen: Vec<(usize, PreparedText)> = Vec::new();
    let mut over_budget = 0;
    let further = evidence
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, e)| e.document_id == doc.record.id)
        .take(passages_read.saturating_sub(1));
    for (index, e) in further {
        let text = match outside(&e.byte_range, &first_range) {
            Some(rest) => prepare_text(ctx, doc, rest, true)?,
            None => PreparedText::already_read(TextSpan {
                byte_range: e.byte_range.clone(),
                pages: e.pages,
                tokens: 0,
            }),
        };
        if total_tokens + text.span.tokens > budget_tokens {
            over_budget += 1;
            continue;
        }
        total_tokens += text.span.tokens;
        chosen.push((index, text));
    }
    chosen.sort_by_key(|(_, text)| text.span.byte_range.start);

    for (i, e) in evidence.iter_mut().enumerate() {
        e.role = if i == 0 || chosen.iter().any(|(c, _)| *c == i) {
            EvidenceRole::Read
        } else {
            EvidenceRole::AlsoMatched
        };
    }
    let mut material = vec![part(ctx, 0, first, true)];
    material.extend(
        chosen
            .into_iter()
            .map(|(index, text)| part(ctx, index, text, false)),
    );
    Ok(PassagePlan {
        material,
        over_budget,
    })
}

/// A passage with its label; one already read needs no label (nothing is fed for it).
fn part(ctx: &QaContext<'_>, index: usize, text: PreparedText, first: bool) -> MaterialPart {
    let label = page_label(text.span.pages);
    MaterialPart {
        label: if text.is_empty() {
            String::new()
        } else {
            passage_label(ctx.family, &label, first)
        },
        text,
        cites: Some((index, label)),
    }
}

/// The part of `range` outside `covered` (passages are whole chunks, so at most one side is
/// left); `None` when `covered` holds all of it.
fn outside(range: &Range<u64>, covered: &Range<u64>) -> Option<Range<u64>> {
    if range.end <= covered.start || range.start >= covered.end {
        return Some(range.clone());
    }
    if range.start < covered.start {
        return Some(range.start..covered.start);
    }
    (range.end > covered.end).then_some(covered.end..range.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_uncovered_part_of_a_passage_is_read_again() {
        assert_eq!(outside(&(0..10), &(10..20)), Some(0..10));
        assert_eq!(outside(&(20..30), &(10..20)), Some(20..30));
        assert_eq!(outside(&(12..18), &(10..20)), None);
        assert_eq!(outside(&(10..20), &(10..20)), None);
        assert_eq!(outside(&(5..15), &(10..20)), Some(5..10));
        assert_eq!(outside(&(15..25), &(10..20)), Some(20..25));
    }
}
