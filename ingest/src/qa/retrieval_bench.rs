//! The retrieval benchmark: does the passage the model reads hold the answer?
//!
//! A question file has one JSON object per line (see [`RetrievalQuestion`]): the question, the
//! document it is about, and the answer's keywords. Every document named is ingested into a
//! library (skipped when already there and unchanged), then each question goes through the same
//! retrieval `ask` uses ([`retrieve_evidence`]) and its evidence is checked: recall@1 (every
//! keyword, case-insensitively, in the passage the model reads first), recall@3 (in one of the
//! first three), the mean reciprocal rank of the first passage holding them (over the first
//! [`RANKED_PASSAGES`]), whether the right document is among the first three, and whether the
//! passages the model reads before answering (the first from its checkpoint and further ones of
//! its document, as `ask` plans them within its re-read budget) hold every keyword between them.
//! No answer is generated: generation does not change which passages are chosen.

use super::error::QaError;
use super::passage_search::find_passages;
use super::provenance::{Evidence, EvidenceRole};
use super::reading_plan::{plan_passages, PASSAGE_POOL};
use super::retrieve::content_words;
use super::select::{scope_ids, DocumentCache};
use super::{AskOptions, QaContext};
use crate::pipeline::{run, IngestOptions};
use crate::progress::OutcomeStatus;
use crate::Library;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Passages ranked per question for the reciprocal rank.
pub const RANKED_PASSAGES: usize = 10;
/// Passages counted for recall@3 and the right-document rate (what `ask` shows).
const SHOWN_PASSAGES: usize = 3;

/// One line of a question file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrievalQuestion {
    /// A short unique name.
    pub id: String,
    /// The document, a path relative to the documents folder.
    pub doc: String,
    /// The question as a reader would ask it.
    pub question: String,
    /// Words or phrases that must all appear in a passage for it to hold the answer.
    pub keywords: Vec<String>,
    /// The page the answer is on, if known.
    #[serde(default)]
    pub page: Option<u32>,
    /// The passage the question was written from (for people checking the set).
    #[serde(default)]
    pub passage: String,
    /// Kinds of question ("name", "number", "paraphrase", "boundary", ...).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Reads a question file: one JSON object per line, blank lines and lines starting with `//`
/// skipped.
pub fn load_questions(path: &Path) -> Result<Vec<RetrievalQuestion>, QaError> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::IngestError::io(path, e))?;
    let mut questions = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let q: RetrievalQuestion =
            serde_json::from_str(line).map_err(|e| QaError::QuestionFile {
                path: path.to_path_buf(),
                reason: format!("line {}: {e}", n + 1),
            })?;
        if q.keywords.is_empty() {
            return Err(QaError::QuestionFile {
                path: path.to_path_buf(),
                reason: format!("line {}: question {} has no keywords", n + 1, q.id),
            });
        }
        questions.push(q);
    }
    Ok(questions)
}

/// The passages `ask` would find for `question` with `opts` (its scope, as-of page, section):
/// the same code path, without reading or generating anything.
pub fn retrieve_evidence(
    ctx: &QaContext<'_>,
    question: &str,
    opts: &AskOptions,
) -> Result<Vec<Evidence>, QaError> {
    let scope = scope_ids(ctx.library, opts)?;
    let question = question.trim();
    let terms = content_words(question);
    let mut docs = DocumentCache::default();
    find_passages(ctx, question, &terms, &scope, opts, &mut docs)
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RetrievalBenchOptions {
    /// The question file.
    pub questions: PathBuf,
    /// Folder the questions' `doc` paths are relative to.
    pub docs_dir: PathBuf,
    /// Library to ingest into and ask (kept between runs).
    pub library_dir: PathBuf,
    /// Chunking and checkpoint spacing for documents not yet ingested.
    pub ingest: IngestOptions,
    /// Ask each question of its own document only (as `ask --doc` does), not of the whole
    /// library.
    pub within_document: bool,
}

/// A passage returned for a question.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnedPassage {
    /// Document title.
    pub title: String,
    /// `"p. 7"` or `"pp. 7–8"`.
    pub pages: String,
    /// Whether every keyword is in it.
    pub holds_answer: bool,
    /// The supporting sentence.
    pub supporting_sentence: Option<String>,
    /// The passage's text (white space runs as single spaces).
    pub text: String,
}

/// One question's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionOutcome {
    /// The question's id.
    pub id: String,
    /// The question.
    pub question: String,
    /// Its document.
    pub doc: String,
    /// Its keywords.
    pub keywords: Vec<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Rank (1-based) of the first passage holding every keyword, among the first
    /// [`RANKED_PASSAGES`].
    pub answer_rank: Option<usize>,
    /// The right document is among the first three passages.
    pub right_document: bool,
    /// Time to find the passages, milliseconds.
    pub retrieval_ms: f64,
    /// The passages the model reads before answering hold every keyword between them.
    pub answer_read: bool,
    /// Tokens of document text the model re-reads for them (the first passage from its
    /// checkpoint, then the further ones).
    pub tokens_read: u64,
    /// Length of the first passage, in bytes: the text the model reads after the question, from
    /// its checkpoint (a longer passage holds the answer more often, so recall is read with it).
    pub first_passage_bytes: u64,
    /// The first three passages (only for questions missed at rank 1).
    pub passages: Vec<ReturnedPassage>,
}

/// The benchmark's result.
#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    /// The question file.
    pub questions_file: PathBuf,
    /// The library asked.
    pub library: PathBuf,
    /// Documents in the library.
    pub documents: usize,
    /// Questions asked.
    pub questions: usize,
    /// Each question was asked of its own document only.
    pub within_document: bool,
    /// Share whose first passage holds every keyword.
    pub recall_at_1: f64,
    /// Share with every keyword in one of the first three passages.
    pub recall_at_3: f64,
    /// Mean reciprocal rank of the first passage holding every keyword (0 when none of the
    /// first [`RANKED_PASSAGES`] does).
    pub mrr: f64,
    /// Share whose passages read by the model before answering (the first and up to
    /// `passages_read − 1` more of its document, within the re-read budget) hold every keyword
    /// between them: what the answer can draw on.
    pub recall_read: f64,
    /// Share with the right document among the first three passages.
    pub right_document_rate: f64,
    /// Median time to find a question's passages, milliseconds.
    pub median_retrieval_ms: f64,
    /// Median length of the first passage, in bytes.
    pub median_first_passage_bytes: u64,
    /// Median tokens of document text re-read before an answer.
    pub median_tokens_read: u64,
    /// Every question's outcome, in file order.
    pub outcomes: Vec<QuestionOutcome>,
}

impl RetrievalReport {
    /// The questions whose first passage does not hold the answer.
    pub fn misses(&self) -> impl Iterator<Item = &QuestionOutcome> {
        self.outcomes.iter().filter(|o| o.answer_rank != Some(1))
    }
}

/// Runs the benchmark; `on_status` receives a line per step.
pub fn run_retrieval_bench(
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    opts: &RetrievalBenchOptions,
    on_status: &mut dyn FnMut(&str),
) -> Result<RetrievalReport, QaError> {
    let questions = load_questions(&opts.questions)?;
    let ids = ingest_documents(model, tokenizer, &questions, opts, on_status)?;
    let library = Library::open(&opts.library_dir)?;
    let ctx = QaContext::new(&library, model, tokenizer);
    let ask_opts = AskOptions {
        passages: RANKED_PASSAGES,
        save_to_notes: false,
        ..AskOptions::default()
    };
    on_status(&format!("asking {} questions", questions.len()));
    // The documents' texts, loaded once for all questions.
    let mut docs = DocumentCache::default();
    let mut outcomes = Vec::with_capacity(questions.len());
    for q in &questions {
        let wanted_id = ids.get(&q.doc);
        let started = Instant::now();
        let scope = AskOptions {
            documents: wanted_id
                .filter(|_| opts.within_document)
                .map(|id| vec![id.clone()]),
            ..ask_opts.clone()
        };
        let evidence = retrieve_evidence(&ctx, &q.question, &scope)?;
        let retrieval_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut holds = Vec::with_capacity(evidence.len());
        let mut returned = Vec::new();
        for e in &evidence {
            let (doc, _) = docs.get(&ctx, &e.document_id, None)?;
            let text = doc
                .text
                .get(e.byte_range.start as usize..e.byte_range.end as usize)
                .unwrap_or_default();
            let found = holds_keywords(text, &q.keywords);
            holds.push(found);
            if returned.len() < SHOWN_PASSAGES {
                returned.push(ReturnedPassage {
                    title: e.title.clone(),
                    pages: e.page_label(),
                    holds_answer: found,
                    supporting_sentence: e.supporting_sentence.as_ref().map(|s| s.text.clone()),
                    text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                });
            }
        }
        let answer_rank = holds.iter().position(|&h| h).map(|i| i + 1);
        let (read, tokens_read) = read_text(&ctx, &evidence, &mut docs)?;
        let answer_read = holds_keywords(&read, &q.keywords);
        outcomes.push(QuestionOutcome {
            id: q.id.clone(),
            question: q.question.clone(),
            doc: q.doc.clone(),
            keywords: q.keywords.clone(),
            tags: q.tags.clone(),
            answer_rank,
            right_document: evidence
                .iter()
                .take(SHOWN_PASSAGES)
                .any(|e| Some(&e.document_id) == wanted_id),
            retrieval_ms,
            answer_read,
            tokens_read,
            first_passage_bytes: evidence
                .first()
                .map_or(0, |e| e.byte_range.end - e.byte_range.start),
            passages: if answer_rank == Some(1) {
                Vec::new()
            } else {
                returned
            },
        });
    }
    let n = outcomes.len().max(1) as f64;
    let share =
        |f: &dyn Fn(&QuestionOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count() as f64 / n;
    let mut times: Vec<f64> = outcomes.iter().map(|o| o.retrieval_ms).collect();
    times.sort_by(f64::total_cmp);
    let mut lengths: Vec<u64> = outcomes.iter().map(|o| o.first_passage_bytes).collect();
    lengths.sort_unstable();
    let mut tokens: Vec<u64> = outcomes.iter().map(|o| o.tokens_read).collect();
    tokens.sort_unstable();
    Ok(RetrievalReport {
        questions_file: opts.questions.clone(),
        library: opts.library_dir.clone(),
        documents: library.documents()?.len(),
        questions: outcomes.len(),
        within_document: opts.within_document,
        recall_at_1: share(&|o| o.answer_rank == Some(1)),
        recall_at_3: share(&|o| o.answer_rank.is_some_and(|r| r <= SHOWN_PASSAGES)),
        mrr: outcomes
            .iter()
            .map(|o| o.answer_rank.map_or(0.0, |r| 1.0 / r as f64))
            .sum::<f64>()
            / n,
        recall_read: share(&|o| o.answer_read),
        right_document_rate: share(&|o| o.right_document),
        median_retrieval_ms: times.get(times.len() / 2).copied().unwrap_or(0.0),
        median_first_passage_bytes: lengths.get(lengths.len() / 2).copied().unwrap_or(0),
        median_tokens_read: tokens.get(tokens.len() / 2).copied().unwrap_or(0),
        outcomes,
    })
}

/// The text of the passages `ask` has the model read for `evidence` (best first, at least
/// [`PASSAGE_POOL`] entries where as many were found), joined by blank lines: planned as `ask`
/// plans it with the default options, and the tokens it re-reads for them.
fn read_text(
    ctx: &QaContext<'_>,
    evidence: &[Evidence],
    docs: &mut DocumentCache,
) -> Result<(String, u64), QaError> {
    let Some(first) = evidence.first() else {
        return Ok((String::new(), 0));
    };
    let defaults = AskOptions::default();
    let mut pool = evidence[..evidence.len().min(PASSAGE_POOL)].to_vec();
    let (doc, _) = docs.get(ctx, &first.document_id, None)?;
    let plan = plan_passages(
        ctx,
        doc,
        first.byte_range.start,
        &mut pool,
        defaults.passages_read,
        defaults.reread_budget_tokens,
        defaults.passages,
    )?;
    let tokens = plan.material.iter().map(|m| m.text.span.tokens).sum();
    let read = pool
        .iter()
        .filter(|e| e.role == EvidenceRole::Read)
        .filter_map(|e| {
            doc.text
                .get(e.byte_range.start as usize..e.byte_range.end as usize)
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok((read, tokens))
}

/// Whether every keyword is in `text`, ignoring case, line breaks and repeated spaces, and
/// curly against straight quotes.
pub fn holds_keywords(text: &str, keywords: &[String]) -> bool {
    let hay = normalized(text);
    keywords.iter().all(|k| hay.contains(&normalized(k)))
}

fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace(['‘', '’'], "'")
        .replace(['“', '”'], "\"")
}

/// Ingests every document the questions name (unchanged ones are skipped); document ids by
/// the questions' `doc` names. A document that cannot be ingested (or failed before and is
/// unchanged) is an error: its questions would only measure the failure.
fn ingest_documents(
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    questions: &[RetrievalQuestion],
    opts: &RetrievalBenchOptions,
    on_status: &mut dyn FnMut(&str),
) -> Result<HashMap<String, String>, QaError> {
    let mut names: Vec<&str> = questions.iter().map(|q| q.doc.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut paths = Vec::with_capacity(names.len());
    for name in &names {
        let path = opts.docs_dir.join(name);
        let canonical =
            std::fs::canonicalize(&path).map_err(|e| crate::IngestError::io(&path, e))?;
        paths.push(canonical);
    }
    on_status(&format!(
        "ingesting {} documents into {} (unchanged ones are skipped)",
        paths.len(),
        opts.library_dir.display()
    ));
    let mut writer = Library::open_writer(&opts.library_dir)?;
    let cancel = AtomicBool::new(false);
    let summary = run(
        &paths,
        &mut writer,
        model,
        tokenizer,
        &opts.ingest,
        &mut |_| {},
        &cancel,
    )?;
    let mut ids = HashMap::new();
    for (name, path) in names.iter().zip(&paths) {
        let outcome = summary.files.iter().find(|f| &f.path == path);
        let usable = outcome
            .filter(|o| matches!(o.status, OutcomeStatus::Ingested | OutcomeStatus::Skipped));
        match usable.and_then(|o| o.document_id.clone()) {
            Some(id) => {
                ids.insert(name.to_string(), id);
            }
            None => {
                return Err(QaError::NoDocuments(format!(
                    ": {} was not ingested ({})",
                    path.display(),
                    outcome
                        .and_then(|o| o.reason.clone())
                        .unwrap_or_else(|| "no outcome".into())
                )))
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_across_case_line_breaks_and_quote_styles() {
        let text = "The use of a book, thought Alice, “without pictures or\nconversations?”";
        assert!(holds_keywords(
            text,
            &["Pictures or conversations".into(), "alice".into()]
        ));
        assert!(holds_keywords("Alice’s book", &["alice's".into()]));
        assert!(!holds_keywords(text, &["pictures".into(), "rabbit".into()]));
    }

    #[test]
    fn question_files_are_read_line_by_line_with_errors_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        std::fs::write(
            &path,
            "{\"id\":\"a\",\"doc\":\"x.txt\",\"question\":\"Who?\",\"keywords\":[\"Ann\"]}\n\n\
             {\"id\":\"b\",\"doc\":\"x.txt\",\"question\":\"When?\",\"keywords\":[\"1974\"],\"page\":3,\
             \"passage\":\"In 1974\",\"tags\":[\"date\"]}\n",
        )
        .unwrap();
        let qs = load_questions(&path).unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[1].page, Some(3));
        std::fs::write(&path, "{\"id\":\"a\"}\n").unwrap();
        let err = load_questions(&path).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("q.jsonl"), "{err}");
    }
}
