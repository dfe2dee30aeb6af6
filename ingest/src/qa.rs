//! # Questions and summaries over the library
//!
//! RWKV-4 recalls details over long inputs poorly and does much better when the question comes
//! *before* the material (RWKV paper, §9 and appendix J). So a question is answered like this:
//!
//! 1. **Retrieve** (`passage_search`): the question's content words find candidate chunks in
//!    the tantivy index; windows of a few sentences in and around them are ranked (`rank`);
//!    the best windows, widened to passages of whole sentences, are the evidence, best first,
//!    each with its supporting sentence. The best passage starts at the checkpoint it is read
//!    from, so it cites all the model reads for it.
//! 2. **Fork** (`fork`): the nearest stored checkpoint at or before the best passage is loaded
//!    into a fresh `State` value; checkpoint files are only ever read.
//! 3. **Plan** (`reading_plan`): up to `passages_read` passages (default 3) are read — the best
//!    one from the checkpoint, then further ones of the same document (the best among the ten
//!    best found) in document order, each after its page label — as long as the text re-read
//!    stays within `reread_budget_tokens`. The evidence marks them `read`; the others are
//!    `also-matched`.
//! 4. **Prompt** (`prompt`): the question is fed first, then the document text from the
//!    checkpoint to the end of the best passage, then the further passages, then the answer cue
//!    of the model's family (Raven `Bob:`/`Alice:`, Pile `Question:`/`Answer:`, World
//!    `User:`/`Assistant:`).
//! 5. **Generate**, streaming pieces of text to the caller (`answer_steps`, which summaries
//!    share).
//!
//! The tokens read per answer are bounded by the budget (and, for the best passage alone, by the
//! checkpoint spacing plus the passage) plus the prompt, whatever the document's length. Every
//! answer carries its evidence and provenance (`provenance`): document, pages, highlighted
//! snippets, the checkpoint it started from, the tokens re-read for each passage read. `whole`
//! asks the state after the whole document (gist questions); `as_of_page` uses only text and
//! checkpoints up to a page; a document still being read is answered from what has been read so
//! far, and the answer says so.
//!
//! [`summarize`](fn@summarize) writes per-section summaries (`sections`) the same way: from the checkpoint
//! at the section's start, instruction first, then the section. Answers and summaries are kept
//! per document (`notes`) and exported as Markdown (`export`).
//!
//! ```no_run
//! use ingest::qa::{self, AskEvent, AskOptions, QaContext};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = engine::Model::load("models/demo/rwkv4-demo.safetensors".as_ref())?;
//! let tokenizer = engine::Tokenizer::for_model("models/demo/rwkv4-demo.safetensors".as_ref())?;
//! let library = ingest::Library::open(&ingest::Library::default_dir())?;
//! let ctx = QaContext::new(&library, &model, &tokenizer);
//! let answer = qa::ask(&ctx, "Who kept the light?", &AskOptions::default(), &mut |event| {
//!     if let AskEvent::Text(piece) = event {
//!         print!("{piece}");
//!     }
//!     true // false cancels
//! })?;
//! for e in &answer.evidence {
//!     println!("\n{} pp. {}-{}", e.title, e.pages.0, e.pages.1);
//! }
//! println!("re-read {} tokens", answer.provenance.reread_tokens);
//! # Ok(()) }
//! ```

mod answer_kind;
mod answer_steps;
mod ask;
pub(crate) mod bench;
mod byline;
mod error;
mod export;
mod fork;
mod headings;
mod loaded;
mod notes;
mod options;
mod passage_search;
mod prompt;
mod provenance;
mod rank;
mod reading_plan;
mod retrieval_bench;
mod retrieve;
mod sections;
mod select;
mod sentences;
mod summarize;

pub use ask::{ask, ask_each, AskEvent, DocumentAnswer, DocumentAnswerOutcome};
pub use error::QaError;
pub use export::{escape as escape_markdown, export_markdown, provenance_line};
pub use notes::{append_answer, load_notes, notes_path, DocumentNotes};
pub use options::{AskOptions, DEFAULT_PASSAGES_READ, DEFAULT_REREAD_BUDGET_TOKENS};
pub use passage_search::supporting_sentence;
pub use prompt::{passage_label, question_prompt, Prompt, PromptFamily};
pub use provenance::{
    marked_snippet, page_label, Answer, CheckpointRef, DocumentRef, Evidence, EvidenceRole, Mode,
    PassageRead, Provenance, ReadingNote, SupportingSentence, TextSpan, Timing,
};
pub use retrieval_bench::{
    holds_keywords, load_questions, retrieve_evidence, run_retrieval_bench, QuestionOutcome,
    RetrievalBenchOptions, RetrievalQuestion, RetrievalReport, ReturnedPassage, RANKED_PASSAGES,
};
pub use retrieve::{any_word_query, content_words};
pub use sections::{detect_sections, document_sections, Section, SectionKind};
pub use summarize::{summarize, SectionSummary, SummaryEvent, SummaryOptions, SummaryReport};

use crate::Library;
use std::sync::atomic::{AtomicBool, Ordering};

/// What every question or summary needs: the library, the model and its tokenizer, the prompt
/// template, and an optional cancel flag (checked between layers while re-reading; generation
/// is cancelled through the event callback).
#[derive(Clone, Copy)]
pub struct QaContext<'a> {
    /// The library to read from (never written to, except the notes files).
    pub library: &'a Library,
    /// The model whose checkpoints are used.
    pub model: &'a dyn engine::LanguageModel,
    /// The model's tokenizer (the one the library was read with).
    pub tokenizer: &'a engine::Tokenizer,
    /// Prompt template family.
    pub family: PromptFamily,
    /// Set from another thread to stop re-reading soon ([`QaError::Cancelled`]).
    pub cancel: Option<&'a AtomicBool>,
}

impl<'a> QaContext<'a> {
    /// A context with the template family chosen from the model's name.
    pub fn new(
        library: &'a Library,
        model: &'a dyn engine::LanguageModel,
        tokenizer: &'a engine::Tokenizer,
    ) -> QaContext<'a> {
        QaContext {
            library,
            model,
            tokenizer,
            family: PromptFamily::for_model_name(&model.info().name),
            cancel: None,
        }
    }

    /// The same context with an explicit template family (from the config).
    pub fn with_family(mut self, family: PromptFamily) -> QaContext<'a> {
        self.family = family;
        self
    }

    /// The same context with a cancel flag.
    pub fn with_cancel(mut self, cancel: &'a AtomicBool) -> QaContext<'a> {
        self.cancel = Some(cancel);
        self
    }

    pub(crate) fn check_cancel(&self) -> Result<(), QaError> {
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(QaError::Cancelled),
            _ => Ok(()),
        }
    }

    /// Feeds `tokens` to `state` without logits, stopping between layers when the cancel flag
    /// is set (a 512-token chunk of a large model takes tens of seconds on a small CPU).
    pub(crate) fn read(&self, tokens: &[u32], state: &mut engine::State) -> Result<(), QaError> {
        match self.cancel {
            Some(flag) => self.model.read_cancellable(tokens, state, flag)?,
            None => self.model.read(tokens, state)?,
        }
        Ok(())
    }
}

impl std::fmt::Debug for QaContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QaContext")
            .field("library", &self.library.dir())
            .field("model", &self.model.info().name)
            .field("family", &self.family)
            .finish()
    }
}

/// Seconds since the Unix epoch, for the notes' timestamps (0 if the clock is before 1970).
pub(crate) fn now_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
