//! What every answer and summary carries besides its text: the evidence (which passages, on which
//! pages, with highlighted snippets) and the provenance (which checkpoint the state came from,
//! what was re-read, what was fed, how generation ended). Shown even when the answer is weak:
//! the evidence is useful on its own.

use super::prompt::PromptFamily;
use crate::checkpoint::CheckpointInfo;
use crate::document::DocumentRecord;
use crate::index::Snippet;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::PathBuf;

/// Which document an answer is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Document id in the library.
    pub id: String,
    /// Title (file name).
    pub title: String,
    /// Source file.
    pub path: PathBuf,
    /// Digest of the document version the answer was made from (pages refer to it).
    pub digest: String,
}

impl DocumentRef {
    /// The reference to a library document.
    pub fn of(record: &DocumentRecord) -> DocumentRef {
        DocumentRef {
            id: record.id.clone(),
            title: record.title.clone(),
            path: record.source_path.clone(),
            digest: record.digest.clone(),
        }
    }
}

/// What a piece of evidence was used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceRole {
    /// The model read this passage right before answering.
    Read,
    /// Another passage that matched the question; listed for the reader, not read by the model.
    AlsoMatched,
}

/// A passage cited for an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Read by the model, or only matched.
    pub role: EvidenceRole,
    /// Document id.
    pub document_id: String,
    /// Document title.
    pub title: String,
    /// Chunk index of the passage.
    pub chunk_index: u32,
    /// Byte range of the passage in the document text (cut at the as-of page or reading limit).
    pub byte_range: Range<u64>,
    /// First and last page of the passage.
    pub pages: (u32, u32),
    /// Search relevance (BM25).
    pub score: f32,
    /// Excerpt with the matched words' byte ranges.
    pub snippet: Option<Snippet>,
    /// The passage's sentence that best matches the question (what to check an answer
    /// against); `None` for a passage not chosen by its words (a whole section).
    #[serde(default)]
    pub supporting_sentence: Option<SupportingSentence>,
}

/// The sentence of a passage that best matches the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportingSentence {
    /// Byte range in the document text.
    pub byte_range: Range<u64>,
    /// The sentence, white space runs turned into single spaces.
    pub text: String,
}

impl Evidence {
    /// `"p. 7"` or `"pp. 7–8"`.
    pub fn page_label(&self) -> String {
        page_label(self.pages)
    }
}

/// `"p. 7"` or `"pp. 7–8"` for a page range.
pub fn page_label(pages: (u32, u32)) -> String {
    if pages.0 == pages.1 {
        format!("p. {}", pages.0)
    } else {
        format!("pp. {}–{}", pages.0, pages.1)
    }
}

/// The snippet's text with the matched words wrapped in `open`/`close` (e.g. `**`, `**` for
/// Markdown or ANSI bold for a terminal), newlines turned into spaces.
pub fn marked_snippet(snippet: &Snippet, open: &str, close: &str) -> String {
    let text = &snippet.text;
    let mut out = String::with_capacity(text.len() + 8 * snippet.highlights.len());
    let mut at = 0usize;
    let mut ranges = snippet.highlights.clone();
    ranges.sort_by_key(|r| r.start);
    for r in ranges {
        // Ranges come from the index or from our own matching; skip any that do not fit.
        if r.start < at
            || r.end > text.len()
            || !text.is_char_boundary(r.start)
            || !text.is_char_boundary(r.end)
        {
            continue;
        }
        out.push_str(&text[at..r.start]);
        out.push_str(open);
        out.push_str(&text[r.clone()]);
        out.push_str(close);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How the model's state was obtained for an answer or summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Question, then the text from a checkpoint to the end of the best passage, then the
    /// further passages read, in document order.
    Passage,
    /// The state after everything read (or everything up to the as-of page), then the question.
    Whole,
    /// Instruction, then a section's text.
    Section,
}

/// The stored checkpoint a state started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRef {
    /// File name in the document's checkpoint folder.
    pub file: String,
    /// Chunks the checkpoint covers (reading went on from this chunk).
    pub chunks_read: u32,
    /// Tokens the checkpoint covers.
    pub token_offset: u64,
    /// Byte offset in the document text where it stands.
    pub byte_offset: u64,
    /// Page of its last byte.
    pub page: u32,
}

impl CheckpointRef {
    /// The reference to a checkpoint found on disk.
    pub fn of(info: &CheckpointInfo) -> CheckpointRef {
        CheckpointRef {
            file: info
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            chunks_read: info.header.chunks_read,
            token_offset: info.header.token_offset,
            byte_offset: info.header.byte_offset,
            page: info.header.page,
        }
    }
}

/// A stretch of document text the model re-read after the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSpan {
    /// Byte range in the document text.
    pub byte_range: Range<u64>,
    /// Pages it covers (0, 0 when empty).
    pub pages: (u32, u32),
    /// Tokens fed for it.
    pub tokens: u64,
}

/// A passage the model read before answering, in the order it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassageRead {
    /// Its position in the answer's evidence list.
    pub evidence_index: usize,
    /// The label fed before it (`p. 7`, `pp. 7–8`).
    pub label: String,
    /// The text re-read for it: for the first passage, from the checkpoint to the passage's
    /// end; for the others the passage itself, less any part the first one already covered
    /// (`tokens` is then 0 when nothing was left).
    pub span: TextSpan,
}

/// How much of the document the model had read when answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingNote {
    /// The model has read the whole document.
    pub complete: bool,
    /// Chunks read so far (latest checkpoint).
    pub chunks_read: u32,
    /// Chunks in the document.
    pub chunk_count: u32,
    /// Last page read so far.
    pub page_read: u32,
}

/// Where an answer's or summary's state came from and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Model name.
    pub model: String,
    /// Model fingerprint (hex).
    pub model_fingerprint: String,
    /// Where the model computed: `cpu` (the CPU engine), `cuda:0`, ….
    #[serde(default = "cpu")]
    pub device: String,
    /// Prompt template family.
    pub family: PromptFamily,
    /// How the state was built.
    pub mode: Mode,
    /// The checkpoint the state was forked from; `None`: a fresh state at the document start.
    pub checkpoint: Option<CheckpointRef>,
    /// Text read before the prompt's first part (summaries: from the checkpoint to the section
    /// start, so the state stands at the section's start).
    pub lead_in: Option<TextSpan>,
    /// Text read as the material (from the checkpoint, or the section start, to the end of the
    /// passage or section).
    pub material: Option<TextSpan>,
    /// Answers: the passages read, in reading order, with the tokens re-read for each (the
    /// first one's span is `material`). Empty for summaries and whole-document answers.
    #[serde(default)]
    pub passages: Vec<PassageRead>,
    /// Tokens of document text re-read (lead-in + material, every passage read).
    pub reread_tokens: u64,
    /// Tokens of prompt text (question or instruction, passage labels, answer cue).
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub generated_tokens: u64,
    /// Why generation stopped.
    pub stop_reason: engine::StopReason,
    /// Only text up to this page was used.
    pub as_of_page: Option<u32>,
    /// Last byte of the document text the model could see (exclusive).
    pub visible_until_byte: u64,
    /// How far the model had read the document.
    pub reading: ReadingNote,
    /// Seed of the sampler.
    pub seed: u64,
    /// Damaged checkpoints passed over, and similar.
    pub warnings: Vec<String>,
    /// Wall-clock timings.
    pub timing: Timing,
}

/// Wall-clock timings of one answer or summary, in milliseconds from its start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Search and choice of the passage done.
    pub retrieved_ms: f64,
    /// Checkpoint loaded, text re-read and prompt fed: the first token can be sampled.
    pub prompt_ready_ms: f64,
    /// The first piece of answer text was handed to the caller (`None`: the answer is empty).
    pub first_text_ms: Option<f64>,
    /// Everything done.
    pub total_ms: f64,
}

/// An answer with everything needed to check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The question as asked.
    pub question: String,
    /// The model's answer (trimmed).
    pub text: String,
    /// The document it was answered from.
    pub document: DocumentRef,
    /// Passages: the one the model read first, then further matches.
    pub evidence: Vec<Evidence>,
    /// How the state was obtained.
    pub provenance: Provenance,
    /// Things the reader must know ("still being read: answered from pages 1–14", "demo model").
    pub notices: Vec<String>,
    /// When it was asked (seconds since 1970).
    pub asked_at_unix_s: u64,
}

/// The device of provenance written before devices were recorded: the CPU engine.
fn cpu() -> String {
    "cpu".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_marked_and_flattened() {
        let s = Snippet {
            text: "The keeper\nkept the light.".into(),
            byte_start: 10,
            highlights: vec![11..15, 4..10, 3..100],
        };
        assert_eq!(
            marked_snippet(&s, "**", "**"),
            "The **keeper** **kept** the light."
        );
        assert_eq!(page_label((3, 3)), "p. 3");
        assert_eq!(page_label((3, 4)), "pp. 3–4");
    }
}
