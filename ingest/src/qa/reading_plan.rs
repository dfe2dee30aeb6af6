//! Which passages the model reads before answering, and in what order.
//!
//! The best passage is read from its nearest checkpoint: the text from the checkpoint to the
//! passage's end, so the model meets it in its place in the document. Up to
//! `passages_read - 1` further passages follow — the next best evidence entries of the same
//! document, taken in rank order from the best [`PASSAGE_POOL`] found (in a folder of many
//! documents the next best passages overall are often other documents', which the state of this
//! one cannot read) — read in document order, each after its page label. The evidence shows
//! the best entries, as many as were asked for, and any further passage read after them. A
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
use super::fork::{prepare_text, PreparedText};
use super::loaded::LoadedDocument;
use super::prompt::passage_label;
use super::provenance::{page_label, Evidence, EvidenceRole, TextSpan};
use super::QaContext;
use std::ops::Range;

/// Evidence entries found for a question, best first, among which the further passages to read
/// are chosen (those of the answering document). Measured on the three tunable evaluation sets
/// (the answer's keywords in the text read, default options): choosing among the 3 entries
/// shown gave 0.818 / 0.713 / 0.800 (real set / second development set / sample set), among
/// 10 gave 0.823 / 0.713 / 0.900.
pub const PASSAGE_POOL: usize = 10;

/// The passages to read for an answer.
#[derive(Debug, Clone)]
pub(crate) struct PassagePlan {
    /// In reading order: the best passage (from the checkpoint), then the others by position.
    pub material: Vec<MaterialPart>,
    /// Further passages left out because they would pass the budget.
    pub over_budget: usize,
}

/// Plans what the model reads for `evidence` (best first; entry 0 is the passage the state was
/// forked for; up to [`PASSAGE_POOL`] entries to choose from) of document `doc`, the first read
/// from byte `read_from` (where the forked state stands). `evidence` is left with its first
/// `shown` entries and any later one read, in rank order, those read marked
/// [`EvidenceRole::Read`] and the others [`EvidenceRole::AlsoMatched`].
pub(crate) fn plan_passages(
    ctx: &QaContext<'_>,
    doc: &LoadedDocument,
    read_from: u64,
    evidence: &mut Vec<Evidence>,
    passages_read: usize,
    budget_tokens: u64,
    shown: usize,
) -> Result<PassagePlan, QaError> {
    let Some(best) = evidence.first() else {
        return Ok(PassagePlan {
            material: Vec::new(),
            over_budget: 0,
        });
    };
    let first_range = read_from.min(best.byte_range.start)..best.byte_range.end;
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
    let kept = keep_shown(evidence, shown);
    let mut material = vec![part(ctx, 0, first, true)];
    material.extend(
        chosen
            .into_iter()
            .map(|(index, text)| part(ctx, kept[index], text, false)),
    );
    Ok(PassagePlan {
        material,
        over_budget,
    })
}

/// Keeps the first `shown` entries of `evidence` and every later one that is read, in rank
/// order; returns each old entry's new index (a dropped entry's is that of the entry after it,
/// and is never used: only entries read are looked up).
fn keep_shown(evidence: &mut Vec<Evidence>, shown: usize) -> Vec<usize> {
    let mut new_index = Vec::with_capacity(evidence.len());
    let mut kept = 0;
    evidence.retain(|e| {
        new_index.push(kept);
        let keep = new_index.len() <= shown || e.role == EvidenceRole::Read;
        kept += usize::from(keep);
        keep
    });
    new_index
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

    fn entry(n: u64, role: EvidenceRole) -> Evidence {
        Evidence {
            role,
            document_id: "d".into(),
            title: "d".into(),
            chunk_index: 0,
            byte_range: n * 100..n * 100 + 50,
            pages: (1, 1),
            score: 0.0,
            snippet: None,
            supporting_sentence: None,
        }
    }

    #[test]
    fn the_best_entries_are_shown_and_every_one_read_after_them() {
        use EvidenceRole::{AlsoMatched as Also, Read};
        let roles = [Read, Also, Also, Also, Read, Also, Read, Also];
        let mut evidence: Vec<Evidence> = (0..).zip(roles).map(|(n, r)| entry(n, r)).collect();
        let new_index = keep_shown(&mut evidence, 3);
        let starts: Vec<u64> = evidence.iter().map(|e| e.byte_range.start).collect();
        assert_eq!(starts, [0, 100, 200, 400, 600]);
        // The entries read keep pointing at themselves.
        assert_eq!((new_index[0], new_index[4], new_index[6]), (0, 3, 4));
        // Fewer entries than asked for: all are kept.
        let mut few = vec![entry(0, Read), entry(1, Also)];
        assert_eq!(keep_shown(&mut few, 3), [0, 1]);
        assert_eq!(few.len(), 2);
    }
}
