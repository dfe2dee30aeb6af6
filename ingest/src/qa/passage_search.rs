//! Finding the passages for a question, in two stages.
//!
//! 1. **Candidates** from the chunk index: the question's words as an OR query over the whole
//!    scope name the documents worth a look (the best [`CANDIDATE_DOCUMENTS`]); in each, a
//!    second query weights every term by how rare it is *in that document* and names the chunks
//!    worth a look; those chunks and their neighbours (an answer often sits just after the
//!    words that find it) are the regions scored. A question word that is the surname on the
//!    document's title page ([`super::byline`]) counts for the document only.
//! 2. **Ranking** ([`super::rank`]): every window of a few sentences in those regions is
//!    scored by the question's words.
//! 3. **Re-ranking by meaning** ([`rerank_by_meaning`]): the best windows by words are
//!    re-ordered by their word score fused with how near their meaning is to the question's
//!    (static word vectors, [`crate::semantic`]); the best windows, across documents, become
//!    the evidence passages, each a passage of whole sentences around its window, with its best
//!    sentence as the supporting sentence.
//! 4. **The first passage cites all the model reads for it**: the model reads it from the
//!    nearest checkpoint at or before it, after the question, so the passage is widened back
//!    to that checkpoint. This costs nothing (the text was read anyway); it makes the evidence
//!    say what the answer may draw on, and a further passage is never taken from text already
//!    read. Since the text before the best window is read from the checkpoint, the first
//!    passage's own part is the window and what follows it ([`passage_after`]), not a passage
//!    centred on it. Measured on the evaluation set with the demo model (checkpoints every 8
//!    chunks): recall@1 0.630 → 0.680 (widened back) → 0.696 (and the window's start as its
//!    own start), recall@3 0.773 → 0.801; text re-read for it 5,845 → 5,384 bytes (median).
//!
//! Only text the model may use is considered: up to the as-of page, up to what has been read,
//! inside the section asked about.

use super::answer_kind::AnswerKind;
use super::byline::byline_surnames;
use super::error::QaError;
use super::provenance::{Evidence, EvidenceRole, SupportingSentence};
use super::rank::{
    comparison_shift, count_authors_for_document_only, idf, passage_after, passage_around,
    score_region, DocumentTerm, ScoredRegion, Window,
};
use super::retrieve::own_snippet;
use super::select::{DocumentCache, Scope};
use super::sentences::floor_char as floor_boundary;
use super::AskOptions;
use super::QaContext;
use crate::chunk::Chunk;
use crate::index::IndexedChunk;
use crate::IngestError;
use std::ops::Range;

/// Chunks asked of the whole scope to find the candidate documents.
const SCOPE_HITS: usize = 40;
/// Documents whose text is scored.
pub const CANDIDATE_DOCUMENTS: usize = 4;
/// Chunks asked of each candidate document with its own term weights.
const DOCUMENT_HITS: usize = 8;
/// Windows, best by word score first, whose meaning is compared with the question's.
const RERANK_WINDOWS: usize = 40;
/// Weight of the meaning's cosine against the word score (a share of the best window's).
/// Measured over the real set, the second development set and the sample set together (291
/// questions, rank 1 library-wide / within each document): 0.3 gave 195 / 203, 0.5 199 / 207,
/// 0.7 203 / 210, 1.0 202 / 210. On the real set alone, before the first passage was read from
/// its checkpoint, 0.4–0.7 were flat and 0.5 was kept.
const MEANING_WEIGHT: f32 = 0.7;
/// Sentences on each side of a window that count towards its meaning: the answer often stands
/// next to the sentence with the question's words ("The eldest of them … about twenty-seven"
/// after the sentence naming the Lucases). Measured: 0 gave recall@1 / recall@3 0.635 / 0.751,
/// 1 gave 0.641 / 0.768, 2 gave 0.619 / 0.768.
const MEANING_CONTEXT_SENTENCES: usize = 1;
/// Chunks on each side of a candidate chunk that are scored with it.
const NEIGHBOUR_CHUNKS: u32 = 1;

/// One candidate document's scored regions.
struct Candidate {
    id: String,
    regions: Vec<ScoredRegion>,
    /// Where the model can start reading the document, ascending: its start and its
    /// checkpoints' positions (byte offsets).
    read_starts: Vec<u64>,
    /// The first byte the question may use (the section asked about).
    first_usable: u64,
    /// Added to the document's window scores when they are compared with other documents'
    /// ([`comparison_shift`]).
    comparison_shift: f32,
}

impl Candidate {
    /// The text the model reads after the question for a first passage `range`: from the
    /// checkpoint it is read from (the nearest at or before it) to its end, never before the
    /// text the question may use. A damaged checkpoint makes the read start further back; the
    /// passage then still shows all the undamaged path would read.
    fn read_span(&self, range: Range<u64>) -> Range<u64> {
        let at = self.read_starts.partition_point(|&s| s <= range.start);
        let from = at
            .checked_sub(1)
            .map_or(0, |i| self.read_starts[i])
            .max(self.first_usable);
        from.min(range.start)..range.end
    }
}

/// The visible passages for `terms` in `scope`, best first (at most `opts.passages`); the first
/// has role `Read`.
pub(crate) fn find_passages(
    ctx: &QaContext<'_>,
    question: &str,
    terms: &[String],
    scope: &Scope,
    opts: &AskOptions,
    docs: &mut DocumentCache,
) -> Result<Vec<Evidence>, QaError> {
    // An unusable index finds nothing, as `search` does (the library has said why).
    let Some(index) = ctx.library.chunk_index() else {
        return Ok(Vec::new());
    };
    let mut analyzer = index.analyzer()?;
    // "old" in "how old is she?" asks for a number; it does not say where (see `cue_words`).
    let cues = AnswerKind::cue_words(question);
    let kept: Vec<String> = terms
        .iter()
        .filter(|t| !cues.contains(t))
        .cloned()
        .collect();
    let terms: &[String] = if kept.is_empty() { terms } else { &kept };
    let stems = analyzer.analyze_words(terms);
    if stems.is_empty() {
        return Ok(Vec::new());
    }
    let answer_kind = AnswerKind::of_question(question);
    let (total_chunks, library_counts) = index.term_chunk_counts(&stems)?;
    let library_idf: Vec<f32> = library_counts
        .iter()
        .map(|&n| idf(total_chunks, n))
        .collect();
    // The words, not the stems: the query parser stems them itself.
    let query = terms.join(" OR ");
    let hits = index.search(&query, SCOPE_HITS, scope.filter.as_deref(), &|_| None)?;
    let mut document_ids: Vec<&str> = Vec::new();
    for hit in &hits {
        let id = hit.chunk.document_id.as_str();
        if !document_ids.contains(&id) && document_ids.len() < CANDIDATE_DOCUMENTS {
            document_ids.push(id);
        }
    }

    let mut candidates = Vec::new();
    for id in document_ids {
        // A document that does not load is left out; the others still answer. Damage is
        // noticed by the loader; a document the index holds but the library does not is
        // noticed here (as `Library::search` does), since its passage may be the best one.
        let (doc, visible) = match docs.get(ctx, id, opts.as_of_page) {
            Ok(found) => found,
            Err(QaError::Library(IngestError::UnknownDocument(_))) => {
                ctx.library.notice(format!(
                    "the search index holds chunks of document {id}, which has no record.json (removed, or the file was lost): its hits were left out; run `rwkv-reader check`"
                ));
                continue;
            }
            Err(_) => continue,
        };
        let Ok(visible) = visible.visible else {
            continue;
        };
        let mut limit = 0..visible.end_byte.min(doc.text.len() as u64);
        if let Some(within) = &opts.within_bytes {
            limit = limit.start.max(within.start)..limit.end.min(within.end);
        }
        if limit.start >= limit.end {
            continue;
        }
        let chunks_in_document = doc.chunks.len() as u64;
        let counts = index.term_chunk_counts_in(id, &stems)?;
        // The shares are counted per 1,000 bytes, not per chunk (see `rank::where_share`).
        let chunk_bytes = doc.text.len() as f32 / chunks_in_document.max(1) as f32;
        let mut doc_terms: Vec<DocumentTerm> = stems
            .iter()
            .zip(&library_idf)
            .zip(&counts)
            .map(|((stem, &w), &n)| {
                DocumentTerm::new(stem.clone(), w, chunks_in_document, n, chunk_bytes)
            })
            .collect();
        let authors = analyzer.analyze_words(&byline_surnames(&doc.text));
        count_authors_for_document_only(&mut doc_terms, &authors);
        let document_score: f32 = doc_terms.iter().map(|t| t.document_weight).sum();
        let shift = comparison_shift(
            &doc_terms,
            &counts,
            chunks_in_document,
            chunk_bytes,
            &authors,
        );
        let weighted: Vec<(String, f32)> = doc_terms
            .iter()
            .zip(&library_idf)
            .map(|(t, &w)| {
                (
                    t.stem.clone(),
                    if w > 0.0 { t.passage_weight / w } else { 0.0 },
                )
            })
            .collect();
        let mut entries: Vec<IndexedChunk> = hits
            .iter()
            .filter(|h| h.chunk.document_id == id)
            .map(|h| h.chunk.clone())
            .collect();
        for (_, chunk) in index.search_weighted_in(id, &weighted, DOCUMENT_HITS)? {
            entries.push(chunk);
        }
        // An index out of step with the document's chunk list would point at the wrong text.
        if !entries.iter().all(|e| entry_matches(e, &doc.chunks)) {
            ctx.library.notice(format!(
                "the search index disagrees with the chunk list of {}: its hits were left out; run `rwkv-reader check --repair` to rebuild the index",
                doc.record.title
            ));
            continue;
        }
        let chunk_ids: Vec<u32> = entries.iter().map(|e| e.chunk_index).collect();
        let regions = regions_of(&chunk_ids, &doc.text, &doc.chunks, &limit)
            .into_iter()
            .map(|r| {
                let text = &doc.text[r.start as usize..r.end as usize];
                score_region(
                    text,
                    r.start,
                    &doc_terms,
                    document_score,
                    answer_kind,
                    &mut analyzer,
                )
            })
            .collect();
        let mut read_starts: Vec<u64> = std::iter::once(0)
            .chain(visible.checkpoints.iter().map(|c| c.header.byte_offset))
            .collect();
        read_starts.sort_unstable();
        candidates.push(Candidate {
            id: id.to_string(),
            regions,
            read_starts,
            first_usable: limit.start,
            comparison_shift: shift,
        });
    }
    choose(ctx, candidates, question, terms, opts.passages.max(1), docs)
}

/// Whether an index entry describes chunk `entry.chunk_index` of `chunks` as it is.
fn entry_matches(entry: &IndexedChunk, chunks: &[Chunk]) -> bool {
    chunks.get(entry.chunk_index as usize).is_some_and(|c| {
        c.byte_start == entry.byte_range.start
            && c.byte_end == entry.byte_range.end
            && (c.page_start, c.page_end) == entry.pages
    })
}

/// Byte ranges of `text` (inside `limit`, on char boundaries) of the runs of `chunks` made of
/// `chunk_ids` and their neighbours.
fn regions_of(
    chunk_ids: &[u32],
    text: &str,
    chunks: &[Chunk],
    limit: &Range<u64>,
) -> Vec<Range<u64>> {
    let last = chunks.len().saturating_sub(1) as u32;
    let mut wanted: Vec<u32> = chunk_ids
        .iter()
        .flat_map(|&c| {
            c.saturating_sub(NEIGHBOUR_CHUNKS)..=c.saturating_add(NEIGHBOUR_CHUNKS).min(last)
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut regions: Vec<Range<u64>> = Vec::new();
    for c in wanted {
        let Some(chunk) = chunks.get(c as usize) else {
            continue;
        };
        let start = chunk.byte_start.max(limit.start);
        let end = chunk.byte_end.min(limit.end);
        if start >= end {
            continue;
        }
        match regions.last_mut() {
            Some(r) if r.end >= start => r.end = r.end.max(end),
            _ => regions.push(start..end),
        }
    }
    regions
        .into_iter()
        .map(|r| {
            floor_boundary(text, r.start as usize) as u64
                ..floor_boundary(text, r.end as usize) as u64
        })
        .filter(|r| r.start < r.end)
        .collect()
}

/// The best windows across all candidates, as non-overlapping passages, best first.
fn choose(
    ctx: &QaContext<'_>,
    candidates: Vec<Candidate>,
    question: &str,
    terms: &[String],
    wanted: usize,
    docs: &mut DocumentCache,
) -> Result<Vec<Evidence>, QaError> {
    let mut ranked: Vec<(usize, usize, Window)> = Vec::new();
    for (c, candidate) in candidates.iter().enumerate() {
        for (r, region) in candidate.regions.iter().enumerate() {
            ranked.extend(region.windows.iter().map(|w| (c, r, *w)));
        }
    }
    // The meaning is weighed against the word score as a share of the best one's; that share
    // is taken before the documents are compared, so that the comparison leaves the balance
    // inside each document as it was (measured: taking it after lost two questions of the
    // second development set asked within their documents).
    let best_word_score = ranked
        .iter()
        .map(|x| x.2.score)
        .fold(f32::MIN_POSITIVE, f32::max);
    for (c, _, window) in &mut ranked {
        window.score += candidates[*c].comparison_shift;
    }
    // Best first; equal scores: earlier in the document first.
    ranked.sort_by(|a, b| {
        b.2.score
            .total_cmp(&a.2.score)
            .then(a.0.cmp(&b.0))
            .then(a.1.cmp(&b.1))
            .then(a.2.first.cmp(&b.2.first))
    });
    rerank_by_meaning(
        ctx,
        &candidates,
        question,
        &mut ranked,
        best_word_score,
        docs,
    )?;
    let mut taken: Vec<Vec<Range<u64>>> = vec![Vec::new(); candidates.len()];
    let mut evidence = Vec::new();
    for (c, r, window) in ranked {
        if evidence.len() == wanted {
            break;
        }
        let region = &candidates[c].regions[r];
        let sentence = |i: usize| {
            region.start + region.sentences[i].start as u64
                ..region.start + region.sentences[i].end as u64
        };
        let window_range = sentence(window.first).start..sentence(window.end - 1).end;
        if taken[c]
            .iter()
            .any(|t| t.start < window_range.end && window_range.start < t.end)
        {
            continue;
        }
        let range = if evidence.is_empty() {
            // The model reads the first passage from its checkpoint, the question first: the
            // text between them is read too, so the passage cites it (at no extra cost).
            candidates[c].read_span(passage_after(region, &window))
        } else {
            passage_around(region, &window, &taken[c])
        };
        taken[c].push(range.clone());
        let (doc, _) = docs.get(ctx, &candidates[c].id, None)?;
        let support = sentence(window.best_sentence);
        let support_text = &doc.text[support.start as usize..support.end as usize];
        evidence.push(Evidence {
            role: if evidence.is_empty() {
                EvidenceRole::Read
            } else {
                EvidenceRole::AlsoMatched
            },
            document_id: doc.record.id.clone(),
            title: doc.record.title.clone(),
            chunk_index: doc.chunks.partition_point(|ch| ch.byte_end <= range.start) as u32,
            pages: doc.pages_of(&range),
            byte_range: range,
            score: window.score,
            snippet: Some(own_snippet(support_text, support.start, terms)),
            supporting_sentence: Some(SupportingSentence {
                text: support_text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                byte_range: support,
            }),
        });
    }
    Ok(evidence)
}

/// Re-orders the best [`RERANK_WINDOWS`] windows of `ranked` (sorted best first by word
/// score) by their word score, as a share of `best_word_score` (the best before documents were
/// compared), plus [`MEANING_WEIGHT`] × the cosine of their meaning (with
/// [`MEANING_CONTEXT_SENTENCES`] around them) with the question's (static word vectors,
/// [`crate::semantic`]); windows further down keep their order after them.
///
/// Measured on the evaluation set when it was introduced (recall@1 / recall@3, against 0.602 /
/// 0.729 by words alone): this weighted sum 0.635 / 0.751 (for today's weight see
/// [`MEANING_WEIGHT`]); reciprocal-rank fusion 0.569–0.613; the cosine standardised over the
/// candidates 0.541–0.608; 15 or 100 windows instead of 40 the same; the meaning alone 0.392;
/// each question piece matched to its nearest piece of the window instead of one vector per
/// text (0.575–0.624).
fn rerank_by_meaning(
    ctx: &QaContext<'_>,
    candidates: &[Candidate],
    question: &str,
    ranked: &mut [(usize, usize, Window)],
    best_word_score: f32,
    docs: &mut DocumentCache,
) -> Result<(), QaError> {
    let n = ranked.len().min(RERANK_WINDOWS);
    if n < 2 {
        return Ok(());
    }
    // The table is compiled in and checked by a test, so this fails only in a broken build;
    // the ranking by words alone still works then, and the reader is told why it is weaker.
    let table = match crate::semantic::bundled() {
        Ok(table) => table,
        Err(e) => {
            ctx.library
                .notice(format!("passages ranked by words only: {e}"));
            return Ok(());
        }
    };
    let mut query = vec![0.0; table.dims()];
    crate::semantic::add_text(table, question, &mut query);
    let mut meaning = vec![0.0f32; n];
    let mut window_vector = vec![0.0; table.dims()];
    for (c, candidate) in candidates.iter().enumerate() {
        if !ranked[..n].iter().any(|r| r.0 == c) {
            continue;
        }
        let (doc, _) = docs.get(ctx, &candidate.id, None)?;
        for (i, (_, r, w)) in ranked[..n].iter().enumerate().filter(|(_, x)| x.0 == c) {
            let region = &candidate.regions[*r];
            let s = &region.sentences;
            let first = w.first.saturating_sub(MEANING_CONTEXT_SENTENCES);
            let last = (w.end - 1 + MEANING_CONTEXT_SENTENCES).min(s.len() - 1);
            let start = region.start as usize + s[first].start;
            let end = region.start as usize + s[last].end;
            let Some(text) = doc.text.get(start..end) else {
                continue;
            };
            window_vector.fill(0.0);
            crate::semantic::add_text(table, text, &mut window_vector);
            meaning[i] = crate::semantic::cosine(&query, &window_vector);
        }
    }
    let top_score = best_word_score.max(f32::MIN_POSITIVE);
    let fused: Vec<f32> = (0..n)
        .map(|i| ranked[i].2.score / top_score + MEANING_WEIGHT * meaning[i])
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| fused[b].total_cmp(&fused[a]).then(a.cmp(&b)));
    // The evidence shows the fused score, in the word score's units, so that the scores a
    // reader sees fall in the order the passages are given.
    let reordered: Vec<(usize, usize, Window)> = order
        .iter()
        .map(|&i| {
            let (c, r, mut w) = ranked[i];
            w.score = fused[i] * top_score;
            (c, r, w)
        })
        .collect();
    ranked[..n].copy_from_slice(&reordered);
    Ok(())
}

/// The sentence of `range` (a byte range of `text`, a document's text in `library`) that best
/// matches `words`, each word weighted by its IDF over the library's chunks: what a search hit
/// shows as its supporting sentence. `None` when no word occurs in the range.
pub fn supporting_sentence(
    library: &crate::Library,
    text: &str,
    range: &Range<u64>,
    words: &[String],
) -> Result<Option<SupportingSentence>, QaError> {
    let Some(index) = library.chunk_index() else {
        return Ok(None);
    };
    let mut analyzer = index.analyzer()?;
    let stems = analyzer.analyze_words(words);
    if stems.is_empty() {
        return Ok(None);
    }
    let (total_chunks, counts) = index.term_chunk_counts(&stems)?;
    let terms: Vec<DocumentTerm> = stems
        .into_iter()
        .zip(counts)
        .map(|(stem, n)| DocumentTerm {
            stem,
            passage_weight: idf(total_chunks, n),
            document_weight: 0.0,
        })
        .collect();
    let start = floor_boundary(text, range.start as usize);
    let end = floor_boundary(text, range.end as usize).max(start);
    let region = score_region(
        &text[start..end],
        start as u64,
        &terms,
        0.0,
        None,
        &mut analyzer,
    );
    let best = region
        .windows
        .iter()
        .max_by(|a, b| a.score.total_cmp(&b.score).then(b.first.cmp(&a.first)));
    Ok(best.map(|w| {
        let s = &region.sentences[w.best_sentence];
        let sentence = &text[start + s.start..start + s.end];
        SupportingSentence {
            byte_range: (start + s.start) as u64..(start + s.end) as u64,
            text: sentence.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(first_usable: u64) -> Candidate {
        Candidate {
            id: "d".into(),
            regions: Vec::new(),
            read_starts: vec![0, 4_000, 8_000],
            first_usable,
            comparison_shift: 0.0,
        }
    }

    #[test]
    fn a_first_passage_starts_where_the_model_starts_reading_it() {
        let c = candidate(0);
        // From the nearest checkpoint at or before it.
        assert_eq!(c.read_span(5_200..6_700), 4_000..6_700);
        assert_eq!(c.read_span(8_000..9_500), 8_000..9_500);
        // Before the first checkpoint, from the document's start.
        assert_eq!(c.read_span(900..2_400), 0..2_400);
        // Never before the text the question may use (the section asked about).
        assert_eq!(candidate(4_500).read_span(5_200..6_700), 4_500..6_700);
        assert_eq!(candidate(5_200).read_span(5_200..6_700), 5_200..6_700);
    }
}
