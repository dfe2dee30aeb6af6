//! Scoring the text near a question's words: sentence windows, not chunks.
//!
//! Each window of up to [`WINDOW_SENTENCES`] consecutive sentences is scored by the question's
//! terms it holds, each term counted with BM25's saturation (a word said five times is worth
//! little more than said twice) and weighted for *this document*: a term's library-wide IDF is
//! split into a share that says *where in the document* (how rare the term is among the
//! document's own chunks) and a share that says *which document* (the term occurs in it at
//! all). A party's name in every caption, a running header, a novel's hero named on every page:
//! such terms pick the document but no longer pick the passage. The best sentence of a window
//! adds a bonus (words of the question standing together), and is the passage's supporting
//! sentence.
//!
//! Passages are made of whole sentences, wherever the model's 512-token chunks happen to end, so
//! the choice does not depend on the tokenizer's chunk size. The first passage is the best window
//! and [`FIRST_PASSAGE_AFTER_BYTES`] after it ([`passage_after`]; the model reads it from its
//! checkpoint, which covers the text before it); a further passage is about
//! [`PASSAGE_TARGET_BYTES`] centred on its window ([`passage_around`]).
//!
//! When the question asks for a date, a number, a judge or a ruling ([`AnswerKind`]), a window
//! holding one gets a bonus. Tried and left out (recall@1 on the evaluation set, against
//! 0.597): a bonus for the question's words standing together as a phrase (0.569: running
//! headers and captions repeat the parties' names as phrases), softer or harder damping of a
//! document's common terms (square root of the share 0.564, square 0.525), windows of 1, 2 or 5
//! sentences (0.536, 0.564, 0.564), a saturation constant of 0.3 or 3 (0.586, 0.580).

use super::answer_kind::AnswerKind;
use crate::index::TermAnalyzer;
use std::ops::Range;

/// Sentences in a scored window.
pub const WINDOW_SENTENCES: usize = 3;
/// Longest window, in bytes (a window of long sentences is cut to fewer of them).
pub const WINDOW_MAX_BYTES: usize = 600;
/// Size of a further passage (the second best and on, read without a checkpoint of their own),
/// built around its window, in bytes: about 250 words, a few paragraphs (between the 512-token
/// chunk of the demo tokenizer, ≈ 1,100 bytes, and of GPT-NeoX's, ≈ 2,000). Measured on the
/// evaluation set: 1,000 bytes gave recall@1 0.547, 1,500 gave 0.597, 2,000 gave 0.608 — past
/// 1,500 the passage mostly grows, not the recall.
pub const PASSAGE_TARGET_BYTES: usize = 1_500;
/// BM25's term-frequency saturation.
const SATURATION_K: f32 = 1.2;
/// Weight of the best single sentence of a window, added to the window's score.
const SENTENCE_BONUS: f32 = 0.5;
/// Bonus of a window holding a word of the kind of answer asked for (a year for "when"), as a
/// share of the question's strongest term weight in the document.
const ANSWER_KIND_BONUS: f32 = 1.0;

/// Stretch of text the where-in-the-document share is counted in, in bytes, whatever the
/// model's chunk size (see [`where_share`]).
pub const SHARE_UNIT_BYTES: f32 = 1_000.0;

/// BM25's IDF of a term held by `with_term` of `total` chunks.
pub fn idf(total: u64, with_term: u64) -> f32 {
    idf_of_counts(total as f32, with_term as f32)
}

fn idf_of_counts(total: f32, with_term: f32) -> f32 {
    let df = with_term.min(total);
    (1.0 + (total - df + 0.5) / (df + 0.5)).ln()
}

/// How much a term tells *where* in a document the answer is, from 0 (in every part of it) to
/// nearly 1 (in one part of a long document): its IDF among the document's own parts over the
/// IDF a term in no part would have. The index counts chunks, whose size depends on the
/// model's tokenizer; the counts are turned into counts of [`SHARE_UNIT_BYTES`] parts
/// (a term in a share `p` of chunks of `chunk_bytes` is, were words spread evenly, in a share
/// `1 − (1 − p)^(unit / chunk_bytes)` of the parts), so that the share does not change with
/// the chunk size.
pub fn where_share(chunks_in_document: u64, chunks_with_term: u64, chunk_bytes: f32) -> f32 {
    let parts = chunks_in_document as f32 * parts_per_chunk(chunk_bytes);
    let parts_with_term = share_of_parts(chunks_in_document, chunks_with_term, chunk_bytes) * parts;
    let most = idf_of_counts(parts, 0.0);
    if most <= 0.0 {
        return 0.0;
    }
    (idf_of_counts(parts, parts_with_term) / most).clamp(0.0, 1.0)
}

/// The share of a document's [`SHARE_UNIT_BYTES`] parts that hold a term held by
/// `chunks_with_term` of its `chunks_in_document` chunks of `chunk_bytes` (see [`where_share`]).
fn share_of_parts(chunks_in_document: u64, chunks_with_term: u64, chunk_bytes: f32) -> f32 {
    let p = chunks_with_term.min(chunks_in_document) as f32 / chunks_in_document.max(1) as f32;
    1.0 - (1.0 - p).powf(1.0 / parts_per_chunk(chunk_bytes))
}

/// How many [`SHARE_UNIT_BYTES`] parts a chunk of `chunk_bytes` makes (never 0).
fn parts_per_chunk(chunk_bytes: f32) -> f32 {
    (chunk_bytes / SHARE_UNIT_BYTES).max(f32::MIN_POSITIVE)
}

/// A question term with its weights for one document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentTerm {
    /// The analyzed (stemmed) term.
    pub stem: String,
    /// Weight of each occurrence in a window: library IDF × where-share.
    pub passage_weight: f32,
    /// Added to every window of the document when the term occurs in it: library IDF ×
    /// (1 − where-share).
    pub document_weight: f32,
}

impl DocumentTerm {
    /// The weights of a term with library IDF `library_idf`, held by `chunks_with_term` of the
    /// document's `chunks_in_document` chunks of `chunk_bytes` on average.
    pub fn new(
        stem: String,
        library_idf: f32,
        chunks_in_document: u64,
        chunks_with_term: u64,
        chunk_bytes: f32,
    ) -> DocumentTerm {
        let share = where_share(chunks_in_document, chunks_with_term, chunk_bytes);
        DocumentTerm {
            stem,
            passage_weight: library_idf * share,
            document_weight: if chunks_with_term > 0 {
                library_idf * (1.0 - share)
            } else {
                0.0
            },
        }
    }
}

/// Share of a document's parts a question term must be in for the document weight it gives
/// to count in full when documents are compared (see [`comparison_shift`]).
pub const DENSE_SHARE: f32 = 0.35;

/// What a document's windows lose when they are compared with other documents' windows: the
/// document weight of each term the document holds in fewer than [`DENSE_SHARE`] of its parts,
/// scaled down in proportion. A long book holds nearly every word somewhere, and each added its
/// document weight to every window of the book, so a question that names no document went to
/// the longest one; a word in a few places of a book does not say the book is about it. Inside
/// one document the shift is the same for every window and changes no order. `counts` are the
/// chunks holding each term, as for [`DocumentTerm::new`]; the terms of `names_document` (its
/// author's surname, found once on the title page) name the document and count in full.
pub fn comparison_shift(
    terms: &[DocumentTerm],
    counts: &[u64],
    chunks_in_document: u64,
    chunk_bytes: f32,
    names_document: &[String],
) -> f32 {
    terms
        .iter()
        .zip(counts)
        .filter(|(t, _)| !names_document.contains(&t.stem))
        .map(|(t, &n)| {
            let parts = share_of_parts(chunks_in_document, n, chunk_bytes);
            t.document_weight * ((parts / DENSE_SHARE).min(1.0) - 1.0)
        })
        .sum()
}

/// Counts the question's terms that name the document's author (`author_stems`, from its
/// title page) for the document only: the surname picks the book, and the title page is
/// often the only place that holds it. When no other term would score a window, the terms are
/// left as they are.
pub fn count_authors_for_document_only(terms: &mut [DocumentTerm], author_stems: &[String]) {
    let is_author = |t: &DocumentTerm| author_stems.contains(&t.stem);
    if !terms
        .iter()
        .any(|t| !is_author(t) && t.passage_weight > 0.0)
    {
        return;
    }
    for t in terms.iter_mut().filter(|t| is_author(t)) {
        // A term the document holds has a document weight; one it lacks gives it none.
        if t.document_weight > 0.0 {
            t.document_weight += t.passage_weight;
        }
        t.passage_weight = 0.0;
    }
}

/// A stretch of a document's text whose windows were scored.
#[derive(Debug, Clone)]
pub struct ScoredRegion {
    /// Byte offset of the region in the document text.
    pub start: u64,
    /// The region's sentences (byte ranges relative to the region).
    pub sentences: Vec<Range<usize>>,
    /// Windows holding at least one term, any order.
    pub windows: Vec<Window>,
}

/// A scored window of sentences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// First sentence (index into the region's sentences).
    pub first: usize,
    /// One past the last sentence.
    pub end: usize,
    /// The best-matching sentence in the window.
    pub best_sentence: usize,
    /// Score (higher is better).
    pub score: f32,
}

/// Scores every window of `text` (a region of a document starting at byte `start`) for
/// `terms`; `document_score` (the sum of the document weights of the terms the document holds)
/// is added to each.
pub fn score_region(
    text: &str,
    start: u64,
    terms: &[DocumentTerm],
    document_score: f32,
    answer_kind: Option<AnswerKind>,
    analyzer: &mut TermAnalyzer,
) -> ScoredRegion {
    let sentences = super::sentences::sentence_ranges(text);
    let mut tokens = Vec::new();
    analyzer.terms(text, &mut tokens);
    // Occurrences of each term in each sentence.
    let mut counts = vec![0u16; sentences.len() * terms.len()];
    // Sentences holding a word of the kind the question asks for (not one of its own words).
    let mut of_kind = vec![false; sentences.len()];
    let mut sentence = 0usize;
    for (range, stem) in &tokens {
        while sentence < sentences.len() && sentences[sentence].end <= range.start {
            sentence += 1;
        }
        if sentence == sentences.len() {
            break;
        }
        if let Some(t) = terms.iter().position(|t| &t.stem == stem) {
            let slot = &mut counts[sentence * terms.len() + t];
            *slot = slot.saturating_add(1);
        } else if answer_kind.is_some_and(|k| k.matches(&text[range.clone()])) {
            of_kind[sentence] = true;
        }
    }
    let count = |s: usize, t: usize| counts[s * terms.len() + t];
    let sentence_score = |s: usize| -> f32 {
        (0..terms.len())
            .filter(|&t| count(s, t) > 0)
            .map(|t| terms[t].passage_weight)
            .sum()
    };
    let kind_bonus = ANSWER_KIND_BONUS * terms.iter().map(|t| t.passage_weight).fold(0.0, f32::max);
    let mut windows = Vec::new();
    for first in 0..sentences.len() {
        let mut end = first + 1;
        while end < sentences.len()
            && end - first < WINDOW_SENTENCES
            && sentences[end].end - sentences[first].start <= WINDOW_MAX_BYTES
        {
            end += 1;
        }
        let mut score = 0.0;
        for (t, term) in terms.iter().enumerate() {
            let tf: f32 = (first..end).map(|s| f32::from(count(s, t))).sum();
            if tf > 0.0 {
                score += term.passage_weight * tf * (SATURATION_K + 1.0) / (tf + SATURATION_K);
            }
        }
        // A judge's signature or the line naming the bench often holds none of the question's
        // words ("Hon. Celia M. Arrowood, Justice of the Superior Court"): for a question
        // asking which judge, the office alone lets such a window be scored.
        let named_office =
            answer_kind == Some(AnswerKind::Judge) && of_kind[first..end].contains(&true);
        if score <= 0.0 && !named_office {
            continue;
        }
        let (best_sentence, best) = (first..end)
            .map(|s| (s, sentence_score(s)))
            .fold((first, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
        windows.push(Window {
            first,
            end,
            best_sentence,
            score: score
                + SENTENCE_BONUS * best
                + document_score
                + if of_kind[first..end].contains(&true) {
                    kind_bonus
                } else {
                    0.0
                },
        });
    }
    ScoredRegion {
        start,
        sentences,
        windows,
    }
}

/// Text after the best window in the first passage, in bytes (see [`passage_after`]).
/// Measured on the evaluation set, demo model, checkpoints every 8 chunks (recall@1, median
/// bytes read from the checkpoint): 1,000 gave 0.691 / 5,233, 1,250 0.696 / 5,384, 1,500
/// 0.702 / 5,659, against 0.680 / 5,845 for the centred 1,500-byte passage. With a checkpoint
/// after every chunk (a large model on a CPU) the text before the window is mostly *not*
/// read anyway; 1,250 keeps the mean text read there about where the centred passage had it
/// (computed on the ranking's windows: 0.652 and 2,124 bytes against 0.641 and 2,180).
pub const FIRST_PASSAGE_AFTER_BYTES: usize = 1_250;

/// The first passage's own text: `window` and whole sentences after it, up to
/// [`FIRST_PASSAGE_AFTER_BYTES`] past its end (less where the region ends). Nothing before it:
/// the model reads the first passage from the nearest checkpoint at or before it, so the text
/// before the window is read anyway (and cited, see `passage_search`); a margin before it would
/// only move the start past a checkpoint now and then, and cost a whole checkpoint span.
/// Byte range in the document.
pub fn passage_after(region: &ScoredRegion, window: &Window) -> Range<u64> {
    let s = &region.sentences;
    let window_end = s[window.end - 1].end;
    let mut end = window.end;
    while end < s.len() && s[end].end - window_end <= FIRST_PASSAGE_AFTER_BYTES {
        end += 1;
    }
    region.start + s[window.first].start as u64..region.start + s[end - 1].end as u64
}

/// The passage around `window`: whole sentences of the region, about
/// [`PASSAGE_TARGET_BYTES`], centred on the window (half of the rest before it, half after;
/// more on one side where the region ends on the other), never reaching into `taken` (byte
/// ranges of the document already chosen). Byte range in the document.
pub fn passage_around(region: &ScoredRegion, window: &Window, taken: &[Range<u64>]) -> Range<u64> {
    let s = &region.sentences;
    let at = |i: usize| region.start + s[i].start as u64..region.start + s[i].end as u64;
    let free = |i: usize| {
        let r = at(i);
        !taken.iter().any(|t| t.start < r.end && r.start < t.end)
    };
    let (mut first, mut end) = (window.first, window.end);
    let size = |first: usize, end: usize| s[end - 1].end - s[first].start;
    // Centred: an answer sits as often just before the question's words as just after them
    // (measured: a third before gave recall@1 0.575, half 0.597).
    let target = PASSAGE_TARGET_BYTES;
    let before_budget = target.saturating_sub(size(first, end)) / 2;
    while first > 0
        && free(first - 1)
        && s[window.first].start - s[first - 1].start <= before_budget
    {
        first -= 1;
    }
    while end < s.len() && free(end) && size(first, end) < target {
        end += 1;
    }
    // Still short (the window sits at the end of the region): fill from before.
    while first > 0 && free(first - 1) && size(first, end) < target {
        first -= 1;
    }
    region.start + s[first].start as u64..region.start + s[end - 1].end as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_in_every_chunk_of_a_document_say_which_document_not_where() {
        let unit = SHARE_UNIT_BYTES;
        assert!(where_share(100, 100, unit) < 0.01);
        assert!(where_share(100, 1, unit) > 0.75);
        assert!(where_share(100, 10, unit) > where_share(100, 50, unit));
        // Twice the chunk size, the same text: a term in 10 of 100 small chunks is in about
        // 10 of 50 large ones, and its share stays about the same.
        let small = where_share(100, 10, unit);
        let large = where_share(50, 10, 2.0 * unit);
        assert!((small - large).abs() < 0.03, "{small} {large}");
        let everywhere = DocumentTerm::new("thunder".into(), 5.0, 40, 40, SHARE_UNIT_BYTES);
        assert!(everywhere.passage_weight < 0.1);
        assert!(everywhere.document_weight > 4.9);
        let absent = DocumentTerm::new("novat".into(), 5.0, 40, 0, SHARE_UNIT_BYTES);
        assert_eq!(absent.document_weight, 0.0);
    }

    #[test]
    fn an_authors_surname_picks_the_document_not_the_passage() {
        let term = |stem: &str, share_chunks: u64| {
            DocumentTerm::new(stem.into(), 4.0, 100, share_chunks, SHARE_UNIT_BYTES)
        };
        // "Why did Thoreau go to live in the woods?": the surname only on the title page.
        let mut terms = vec![term("thoreau", 1), term("live", 30), term("wood", 20)];
        let before: f32 = terms[0].passage_weight + terms[0].document_weight;
        count_authors_for_document_only(&mut terms, &["thoreau".to_string()]);
        assert_eq!(terms[0].passage_weight, 0.0);
        assert!((terms[0].document_weight - before).abs() < 1e-6);
        assert!(terms[1].passage_weight > 0.0 && terms[2].passage_weight > 0.0);
        // "Who was Thoreau?": nothing else would find a passage, so the name still does.
        let mut alone = vec![term("thoreau", 1)];
        count_authors_for_document_only(&mut alone, &["thoreau".to_string()]);
        assert!(alone[0].passage_weight > 0.0);
        // A surname this document lacks gives it no document weight.
        let mut lacking = vec![term("thoreau", 0), term("live", 30)];
        count_authors_for_document_only(&mut lacking, &["thoreau".to_string()]);
        assert_eq!(lacking[0].document_weight, 0.0);
    }

    #[test]
    fn a_word_a_long_book_holds_once_does_not_pick_the_book() {
        let unit = SHARE_UNIT_BYTES;
        // In 4 of a book's 400 parts, and in 5 of a decision's 14.
        let book = [DocumentTerm::new("lock".into(), 4.0, 400, 4, unit)];
        let decision = [DocumentTerm::new("union".into(), 4.0, 14, 5, unit)];
        let book_shift = comparison_shift(&book, &[4], 400, unit, &[]);
        assert!(book_shift < -0.9 * book[0].document_weight, "{book_shift}");
        assert_eq!(comparison_shift(&decision, &[5], 14, unit, &[]), 0.0);
        // Twice the chunk size, the same text: about the same shift.
        let large = [DocumentTerm::new("lock".into(), 4.0, 200, 4, 2.0 * unit)];
        let large_shift = comparison_shift(&large, &[4], 200, 2.0 * unit, &[]);
        assert!(
            (large_shift - book_shift).abs() < 0.1,
            "{large_shift} {book_shift}"
        );
        // A term the document lacks gives no document weight and loses none.
        let absent = [DocumentTerm::new("novat".into(), 4.0, 400, 0, unit)];
        assert_eq!(comparison_shift(&absent, &[0], 400, unit, &[]), 0.0);
        // The author's surname, on the title page alone, names the book.
        assert_eq!(
            comparison_shift(&book, &[4], 400, unit, &["lock".into()]),
            0.0
        );
    }

    fn analyzer() -> (tempfile::TempDir, TermAnalyzer) {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::index::ChunkIndex::open_or_create(dir.path()).unwrap();
        let analyzer = index.analyzer().unwrap();
        (dir, analyzer)
    }

    /// A caption naming the parties, filler, the answer with the rare word, `fillers_after`
    /// times the filler after it; and the question's terms: the parties' names in every chunk
    /// of the document, "novation" in one of 40.
    fn novation_case(fillers_after: usize) -> (String, Vec<DocumentTerm>) {
        let caption = "FIRST MIDWEST BANK v. THUNDER ROAD. First Midwest Bank sued Thunder Road. ";
        let filler = "The court heard the parties in the spring. ".repeat(20);
        let answer = "A novation has four elements: a prior valid obligation, the agreement of \
                      all parties to the new contract, the extinguishment of the old contract, \
                      and the validity of the new one. ";
        let text = format!("{caption}{filler}{answer}{}", filler.repeat(fillers_after));
        let terms = vec![
            DocumentTerm::new("thunder".into(), 4.0, 40, 40, SHARE_UNIT_BYTES),
            DocumentTerm::new("road".into(), 3.0, 40, 40, SHARE_UNIT_BYTES),
            DocumentTerm::new("novat".into(), 6.0, 40, 1, SHARE_UNIT_BYTES),
            DocumentTerm::new("element".into(), 3.0, 40, 4, SHARE_UNIT_BYTES),
        ];
        (text, terms)
    }

    fn best_window(region: &ScoredRegion) -> Window {
        *region
            .windows
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .unwrap()
    }

    #[test]
    fn the_window_with_the_rare_word_beats_the_caption_that_repeats_the_names() {
        let (_dir, mut analyzer) = analyzer();
        let (text, terms) = novation_case(1);
        let region = score_region(&text, 1_000, &terms, 1.0, None, &mut analyzer);
        let best = best_window(&region);
        let support = &region.sentences[best.best_sentence];
        assert!(text[support.clone()].starts_with("A novation has four elements"));

        // The passage is whole sentences around the window, about the target size, in
        // document bytes (the region starts at byte 1,000).
        let passage = passage_around(&region, &best, &[]);
        let at = 1_000 + text.find("A novation").unwrap() as u64;
        assert!(passage.start < at && at < passage.end, "{passage:?}");
        let len = (passage.end - passage.start) as usize;
        assert!(
            (PASSAGE_TARGET_BYTES - 200..=PASSAGE_TARGET_BYTES + 200).contains(&len),
            "{len}"
        );
        // Centred: some text before the window as well as after it.
        assert!(at - passage.start > 300, "{passage:?}");
        // It never reaches into a passage already chosen.
        let taken: Range<u64> = passage.start - 50..at - 1;
        let second = passage_around(&region, &best, std::slice::from_ref(&taken));
        assert!(second.start >= taken.end, "{second:?}");
    }

    #[test]
    fn the_first_passage_is_its_window_and_the_text_after_it() {
        let (_dir, mut analyzer) = analyzer();
        // More text after the answer than the passage takes.
        let (text, terms) = novation_case(2);
        let region = score_region(&text, 0, &terms, 1.0, None, &mut analyzer);
        let best = best_window(&region);
        let first = passage_after(&region, &best);
        let s = &region.sentences;
        assert_eq!(first.start, s[best.first].start as u64);
        assert!(first.start <= text.find("A novation").unwrap() as u64);
        let after = first.end as usize - s[best.end - 1].end;
        assert!(
            after <= FIRST_PASSAGE_AFTER_BYTES && after > FIRST_PASSAGE_AFTER_BYTES - 100,
            "{after}"
        );
    }

    #[test]
    fn a_date_question_prefers_the_window_with_a_date() {
        let (_dir, mut analyzer) = analyzer();
        let text = "The ship sailed from the harbor. Many gulls followed it out.                     Nobody on the quay spoke of it again.                     Much later the ship sailed from the harbor in March 1874. It never came back.";
        let terms = vec![
            DocumentTerm::new("ship".into(), 2.0, 10, 2, SHARE_UNIT_BYTES),
            DocumentTerm::new("sail".into(), 2.0, 10, 2, SHARE_UNIT_BYTES),
        ];
        let mut best = |kind| {
            let region = score_region(text, 0, &terms, 0.0, kind, &mut analyzer);
            let w = *region
                .windows
                .iter()
                .max_by(|a, b| a.score.total_cmp(&b.score).then(b.first.cmp(&a.first)))
                .unwrap();
            text[region.sentences[w.best_sentence].clone()].to_string()
        };
        assert_eq!(best(None), "The ship sailed from the harbor.");
        assert!(best(Some(AnswerKind::Date)).contains("March 1874"));
    }

    /// The best window of `text` for `terms` and `kind` (ties to the earlier one): its whole
    /// text and its best sentence.
    fn best_of(
        text: &str,
        terms: &[DocumentTerm],
        kind: Option<AnswerKind>,
        analyzer: &mut TermAnalyzer,
    ) -> (String, String) {
        let region = score_region(text, 0, terms, 0.0, kind, analyzer);
        let w = *region
            .windows
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score).then(b.first.cmp(&a.first)))
            .unwrap();
        let s = &region.sentences;
        (
            text[s[w.first].start..s[w.end - 1].end].to_string(),
            text[s[w.best_sentence].clone()].to_string(),
        )
    }

    #[test]
    fn a_which_judge_question_prefers_the_line_naming_the_honorable() {
        let (_dir, mut analyzer) = analyzer();
        let filler = "The witnesses were listed and the exhibits were numbered. ".repeat(12);
        let text = format!(
            "The parties filed seven motions in limine before trial. {filler}\
             Present: The Honorable Christina A. Snyder. Proceedings: the motions in limine."
        );
        let terms = vec![
            DocumentTerm::new("motion".into(), 1.0, 10, 8, SHARE_UNIT_BYTES),
            DocumentTerm::new("limin".into(), 1.0, 10, 8, SHARE_UNIT_BYTES),
        ];
        let mut best = |kind| best_of(&text, &terms, kind, &mut analyzer).0;
        assert!(best(None).starts_with("The parties filed seven motions"));
        assert!(best(Some(AnswerKind::Judge)).contains("The Honorable Christina A. Snyder"));
    }

    #[test]
    fn a_signature_without_the_questions_words_is_scored_for_a_which_judge_question() {
        let (_dir, mut analyzer) = analyzer();
        let filler = "The parties exchanged their papers in the autumn. ".repeat(12);
        let text = format!(
            "The motion to dismiss is denied. {filler}\
             SO ORDERED. /s/ Celia M. Arrowood, Hon. Celia M. Arrowood, Justice of the Superior Court."
        );
        let terms = vec![
            DocumentTerm::new("motion".into(), 1.0, 10, 8, SHARE_UNIT_BYTES),
            DocumentTerm::new("dismiss".into(), 1.0, 10, 8, SHARE_UNIT_BYTES),
        ];
        let signed = |kind, analyzer: &mut TermAnalyzer| {
            let region = score_region(&text, 0, &terms, 0.0, kind, analyzer);
            region.windows.iter().any(|w| {
                text[region.sentences[w.first].start..region.sentences[w.end - 1].end]
                    .contains("Justice of the Superior Court")
            })
        };
        assert!(!signed(None, &mut analyzer));
        assert!(!signed(Some(AnswerKind::Date), &mut analyzer));
        assert!(signed(Some(AnswerKind::Judge), &mut analyzer));
    }

    #[test]
    fn a_who_wrote_question_prefers_the_slip_opinions_author_line() {
        let (_dir, mut analyzer) = analyzer();
        let filler = "The officer followed the car into the garage that night. ".repeat(12);
        let text = format!(
            "The opinion of the Court below is reversed. {filler}\
             KAGAN, J., delivered the opinion of the Court, in which BREYER, JJ., joined."
        );
        let terms = vec![DocumentTerm::new(
            "opinion".into(),
            1.0,
            10,
            8,
            SHARE_UNIT_BYTES,
        )];
        let mut best = |kind| best_of(&text, &terms, kind, &mut analyzer).1;
        assert!(best(None).starts_with("The opinion of the Court below"));
        assert!(best(Some(AnswerKind::Judge)).starts_with("KAGAN, J., delivered"));
    }
}
