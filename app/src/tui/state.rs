//! Everything the screens show, as plain data. Workers turn engine and library results into
//! these types; `update` changes them in response to actions and worker events; `draw` reads
//! them. Nothing here touches the model, the library or the terminal, so every screen can be
//! rendered in a test from a hand-built state.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The four screens, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Screen {
    /// Documents in the library.
    #[default]
    Library,
    /// The open document's text.
    Reader,
    /// Questions and answers.
    Ask,
    /// Section summaries of the open document.
    Summaries,
}

impl Screen {
    /// All screens in Tab order.
    pub const ALL: [Screen; 4] = [
        Screen::Library,
        Screen::Reader,
        Screen::Ask,
        Screen::Summaries,
    ];

    /// The tab title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Library => "Library",
            Screen::Reader => "Reader",
            Screen::Ask => "Ask",
            Screen::Summaries => "Summaries",
        }
    }
}

/// The model shown in the status bar.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ModelStatus {
    /// Not loaded yet; the file being loaded.
    #[default]
    NotLoaded,
    /// Loading this file.
    Loading { file_name: String },
    /// Loaded.
    Ready(ModelBadge),
    /// The model could not be loaded (the library can still be browsed).
    Failed { reason: String },
}

/// What the status bar says about the model in use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelBadge {
    /// Model name (file stem or metadata name).
    pub name: String,
    /// Parameter count.
    pub n_params: u64,
    /// Weight precision ("f32", "q8_0", ...).
    pub precision: String,
    /// Where it computes ("cpu", "cuda:0", ...).
    pub device: String,
    /// True for the small model bundled with rwkv-reader.
    pub is_demo: bool,
}

/// Reading state of one document in the library.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DocStatus {
    /// Found, not read yet.
    #[default]
    Pending,
    /// Searchable; how far the model has read it is not known yet (model still loading).
    Indexed,
    /// Being read now.
    Reading { tokens_read: u64, tokens_total: u64 },
    /// Read to the end and indexed.
    Ready,
    /// Reading stopped early (quit or error); what was read is usable.
    Partial { reason: String },
    /// Could not be read at all.
    Failed { reason: String },
}

/// One row of the Library screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocEntry {
    /// Library id of the document.
    pub id: String,
    /// Name shown (file name, or path relative to the folder it came from).
    pub name: String,
    /// Source path.
    pub path: String,
    /// Reading state.
    pub status: DocStatus,
    /// Pages (0 for plain text files without page markers).
    pub pages: u32,
    /// Tokens read.
    pub tokens: u64,
    /// State checkpoints on disk.
    pub checkpoints: u32,
    /// Their size on disk, in bytes.
    pub checkpoint_bytes: u64,
    /// Chunks between two of them, as the document was read (0: not known).
    pub checkpoint_every_chunks: u32,
    /// Problems that did not stop reading (pages without a text layer, garbage text, ...).
    pub warnings: Vec<String>,
}

/// The Library screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LibraryState {
    /// The library folder.
    pub location: String,
    /// Documents, in the order shown.
    pub docs: Vec<DocEntry>,
    /// Index of the selected row.
    pub selected: usize,
    /// Set after a first `Remove`; a second one on the same document removes it.
    pub pending_remove: Option<String>,
    /// Why the library could not be opened, if it could not.
    pub error: Option<String>,
    /// False until the first listing arrived.
    pub loaded: bool,
}

/// Background reading progress, shown in the progress panel while it is `Some`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadingProgress {
    /// File being read.
    pub file: String,
    /// Library id of that file's document (empty before it has one).
    pub doc_id: String,
    /// Tokens of that document read so far (checkpoints included), and in all.
    pub doc_tokens_read: u64,
    pub doc_tokens_total: u64,
    /// 1-based index of that file among the files of this run.
    pub file_index: usize,
    /// Files in this run.
    pub files_total: usize,
    /// Pages of this file read so far, and in all.
    pub pages_done: u32,
    pub pages_total: u32,
    /// Tokens of this run read so far, and in all (estimated before a file is tokenised).
    pub tokens_done: u64,
    pub tokens_total: u64,
    /// Reading speed over the last seconds.
    pub tokens_per_second: f64,
    /// Estimated time left, if the speed is known.
    pub eta_seconds: Option<u64>,
    /// Checkpoints written in this run.
    pub checkpoints_written: u32,
    /// Reading has paused to leave the cores to a question being answered.
    pub paused: bool,
}

/// A page that starts at a byte offset of a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageStart {
    /// Page number as printed (1-based).
    pub page: u32,
    /// Byte offset in the text where it starts.
    pub offset: usize,
}

/// A document's extracted text, as the Reader shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentText {
    /// Library id.
    pub doc_id: String,
    /// Title shown.
    pub title: String,
    /// The text (raw; made inert when drawn).
    pub text: String,
    /// Page starts, ascending by offset.
    pub pages: Vec<PageStart>,
}

impl DocumentText {
    /// The page that holds byte `offset`, if the document has pages.
    pub fn page_at(&self, offset: usize) -> Option<u32> {
        let after = self.pages.partition_point(|p| p.offset <= offset);
        after.checked_sub(1).map(|i| self.pages[i].page)
    }
}

/// The Reader screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReaderState {
    /// The open document, once loaded.
    pub doc: Option<DocumentText>,
    /// Id of the document being loaded, if one is on its way.
    pub loading: Option<String>,
    /// Byte offset of the top row.
    pub top_offset: usize,
    /// A range to highlight (evidence or section jumped to).
    pub focus: Option<Range<usize>>,
    /// Where to go once the loading document arrives.
    pub pending_focus: Option<Range<usize>>,
    /// The last search and its hits.
    pub search: SearchState,
    /// Why the document could not be shown, if it could not.
    pub error: Option<String>,
}

/// The Reader's `/` search.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchState {
    /// The query searched for.
    pub query: String,
    /// Byte ranges of the hits, ascending.
    pub hits: Vec<Range<usize>>,
    /// Index of the current hit.
    pub current: Option<usize>,
}

/// A passage an answer was built from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    /// Library id of the document.
    pub doc_id: String,
    /// Document name.
    pub doc_name: String,
    /// First and last page of the passage (0 when the document has no pages).
    pub pages: (u32, u32),
    /// Byte range of the passage in the document text.
    pub range: Range<usize>,
    /// A short excerpt with the query words.
    pub snippet: String,
    /// The passage's sentence that best matches the question, drawn highlighted instead of
    /// the snippet (empty when the passage has none).
    pub supporting_sentence: String,
    /// Byte range of the supporting sentence: where Enter on the evidence lands (the first
    /// passage starts at its checkpoint, often pages before the sentence that matched).
    pub supporting_range: Option<Range<usize>>,
    /// The model read this passage before answering (else it only matched the question).
    pub read: bool,
    /// What the passage was used for, in words ("read by the model · 2nd of 3 · 64 tokens
    /// re-read · score 7.1").
    pub provenance: String,
}

/// How an answer or summary came to an end.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum GenerationStatus {
    /// Sent, but the model is busy or not loaded yet (one model job runs at a time): what it
    /// waits for, in words ("the model to load"). It starts by itself when the model is free.
    Queued(String),
    /// Waiting for passages or the first token.
    #[default]
    Starting,
    /// Tokens are streaming in.
    Generating,
    /// Finished.
    Done,
    /// Stopped by the user.
    Cancelled,
    /// Failed with this reason.
    Failed(String),
}

impl GenerationStatus {
    /// True while the worker is still producing text (or will, once its turn comes).
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            GenerationStatus::Queued(_) | GenerationStatus::Starting | GenerationStatus::Generating
        )
    }
}

/// One question and its answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QaEntry {
    /// The question.
    pub question: String,
    /// The answer so far.
    pub answer: String,
    /// The passages used.
    pub evidence: Vec<Evidence>,
    /// A note from the asking side ("document still being read: answered from pages 1–4").
    pub note: Option<String>,
    /// Where the answer came from, in words (checkpoint, tokens re-read), once it is done.
    pub provenance: String,
    /// Whether it is still running.
    pub status: GenerationStatus,
}

/// Which text line has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputTarget {
    /// The Reader's search line.
    Search,
    /// The Ask screen's question line.
    Question,
}

/// An open text line.
#[derive(Debug, Clone, PartialEq)]
pub struct InputLine {
    /// What the text is for.
    pub target: InputTarget,
    /// The text typed so far.
    pub text: String,
}

/// The Ask screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AskState {
    /// Questions asked about the current document, newest first (the running one is first).
    pub entries: Vec<QaEntry>,
    /// Index in `entries` of the question whose answer is shown.
    pub shown: usize,
    /// Job id of the running question, to drop events of replaced jobs.
    pub job: Option<u64>,
    /// Byte range of the document the next question is limited to (set by `a` in Summaries).
    pub scope: Option<Range<usize>>,
    /// Selected row over the shown answer's evidence, then the list of questions.
    pub selected: usize,
    /// Rows the answer is scrolled by.
    pub answer_scroll: u16,
}

impl AskState {
    /// The question whose answer is shown.
    pub fn shown_entry(&self) -> Option<&QaEntry> {
        self.entries.get(self.shown)
    }
}

/// One section of a document and its summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SectionSummary {
    /// The section's number in the document (workers refer to sections by it).
    pub index: u32,
    /// Section title ("Chapter 3", "ORDER", "pages 5–9").
    pub title: String,
    /// First and last page.
    pub pages: (u32, u32),
    /// Byte range of the section.
    pub range: Range<usize>,
    /// The summary (empty until generated).
    pub summary: String,
    /// Where it was generated from, in words.
    pub provenance: String,
    /// Generation state.
    pub status: GenerationStatus,
}

/// The Summaries screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummariesState {
    /// Sections of the open document.
    pub sections: Vec<SectionSummary>,
    /// Selected section.
    pub selected: usize,
    /// Job id of the running summary work.
    pub job: Option<u64>,
    /// False until the notes of the open document arrived.
    pub loaded: bool,
    /// The document summaries were started for on opening the screen (done once per document).
    pub auto_started_for: Option<String>,
}

impl SummariesState {
    /// The section with document section number `index`.
    pub fn section_mut(&mut self, index: u32) -> Option<&mut SectionSummary> {
        self.sections.iter_mut().find(|s| s.index == index)
    }
}

/// A one-line message in the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusMessage {
    /// The text.
    pub text: String,
    /// Shown in red when true.
    pub is_error: bool,
}

/// The whole app, as plain data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppState {
    /// The screen shown.
    pub screen: Screen,
    /// The help overlay, with its scroll offset, when open.
    pub help_scroll: Option<u16>,
    /// (keys, description) rows of the help, from the key map in force.
    pub help_rows: Vec<(String, String)>,
    /// The open text line, if any.
    pub input: Option<InputLine>,
    /// Terminal size in (columns, rows).
    pub viewport: (u16, u16),
    /// The model in use.
    pub model: ModelStatus,
    /// Library screen.
    pub library: LibraryState,
    /// Background reading, while it runs.
    pub reading: Option<ReadingProgress>,
    /// Reader screen.
    pub reader: ReaderState,
    /// Ask screen.
    pub ask: AskState,
    /// Summaries screen.
    pub summaries: SummariesState,
    /// Message in the status bar.
    pub message: Option<StatusMessage>,
    /// Set by `Quit`.
    pub should_quit: bool,
    /// Source of job ids.
    pub next_job: u64,
}

impl AppState {
    /// A fresh state with the help listing `help_rows`.
    pub fn new(help_rows: Vec<(String, String)>) -> AppState {
        AppState {
            help_rows,
            viewport: (80, 24),
            ..AppState::default()
        }
    }

    /// The document questions, summaries and exports are about: the open one, else the one
    /// selected in the Library.
    pub fn current_doc_id(&self) -> Option<String> {
        if let Some(doc) = &self.reader.doc {
            return Some(doc.doc_id.clone());
        }
        if let Some(id) = &self.reader.loading {
            return Some(id.clone());
        }
        self.library
            .docs
            .get(self.library.selected)
            .map(|d| d.id.clone())
    }

    /// Display name of a library document.
    pub fn doc_name(&self, doc_id: &str) -> Option<&str> {
        self.library
            .docs
            .iter()
            .find(|d| d.id == doc_id)
            .map(|d| d.name.as_str())
    }

    /// Puts a message in the status bar.
    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(StatusMessage {
            text: text.into(),
            is_error: false,
        });
    }

    /// Puts an error in the status bar.
    pub fn complain(&mut self, text: impl Into<String>) {
        self.message = Some(StatusMessage {
            text: text.into(),
            is_error: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_at_finds_the_page_holding_an_offset() {
        let doc = DocumentText {
            pages: vec![
                PageStart { page: 1, offset: 0 },
                PageStart {
                    page: 2,
                    offset: 10,
                },
            ],
            ..DocumentText::default()
        };
        assert_eq!(doc.page_at(0), Some(1));
        assert_eq!(doc.page_at(9), Some(1));
        assert_eq!(doc.page_at(10), Some(2));
        assert_eq!(doc.page_at(1000), Some(2));
        assert_eq!(DocumentText::default().page_at(3), None);
    }
}
