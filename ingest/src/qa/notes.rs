//! The notes of a document: its questions, answers and section summaries, kept in
//! `LIBRARY/documents/<id>/notes.json` (removed with the document).
//!
//! Notes are written by whoever asks — the TUI, a CLI `ask` — possibly while another process
//! holds the library's writer lock and ingests. They never need that lock: each update takes a
//! short `flock` on `notes.lock` beside the file (read, change, write atomically, release), so
//! two askers never lose each other's entries, and a crash leaves the old or the new file.

use super::error::QaError;
use super::prompt::PROMPT_VERSION;
use super::provenance::{Answer, Provenance};
use super::sections::Section;
use crate::atomic_file::{read_json, write_json_atomic};
use crate::error::IngestError;
use crate::Library;
use serde::{Deserialize, Serialize};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Version of `notes.json` written by this build.
pub const NOTES_FORMAT_VERSION: u32 = 1;
/// File name of a document's notes.
pub const NOTES_FILE_NAME: &str = "notes.json";
const NOTES_LOCK_NAME: &str = "notes.lock";
/// Oldest answers are dropped beyond this many (the file is rewritten on every answer).
pub const MAX_ANSWERS_KEPT: usize = 1000;

/// A stored summary of one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionSummary {
    /// The section (title, kind, byte range, pages, chunks).
    pub section: Section,
    /// The summary text (trimmed).
    pub text: String,
    /// The document.
    pub document_id: String,
    /// Digest of the document version summarised.
    pub document_digest: String,
    /// Version of the prompt templates used.
    pub prompt_version: u32,
    /// How the state was obtained.
    pub provenance: Provenance,
    /// When it was written (seconds since 1970).
    pub created_at_unix_s: u64,
}

impl SectionSummary {
    /// Whether this summary was made for `section` of this document version with this model
    /// and template (so it can be reused).
    pub fn matches(
        &self,
        section: &Section,
        digest: &str,
        fingerprint: &str,
        family: super::PromptFamily,
    ) -> bool {
        self.document_digest == digest
            && self.provenance.model_fingerprint == fingerprint
            && self.provenance.family == family
            && self.prompt_version == PROMPT_VERSION
            && self.section.byte_range == section.byte_range
            && self.section.title == section.title
    }
}

/// Everything kept about one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentNotes {
    /// `NOTES_FORMAT_VERSION` when written.
    pub format_version: u32,
    /// The document.
    pub document_id: String,
    /// Questions and answers, oldest first.
    pub answers: Vec<Answer>,
    /// Section summaries (for every model and template that made them; current document
    /// version only).
    pub summaries: Vec<SectionSummary>,
}

impl DocumentNotes {
    fn empty(id: &str) -> DocumentNotes {
        DocumentNotes {
            format_version: NOTES_FORMAT_VERSION,
            document_id: id.to_string(),
            answers: Vec::new(),
            summaries: Vec::new(),
        }
    }

    /// The summaries made by the model with `fingerprint`, in section order.
    pub fn summaries_for(&self, fingerprint: &str) -> Vec<&SectionSummary> {
        let mut found: Vec<&SectionSummary> = self
            .summaries
            .iter()
            .filter(|s| s.provenance.model_fingerprint == fingerprint)
            .collect();
        found.sort_by_key(|s| s.section.byte_range.start);
        found
    }
}

/// Path of document `id`'s notes.
pub fn notes_path(library: &Library, id: &str) -> PathBuf {
    library.files(id).dir().join(NOTES_FILE_NAME)
}

/// The notes of document `id` (empty if none were written).
pub fn load_notes(library: &Library, id: &str) -> Result<DocumentNotes, QaError> {
    let path = notes_path(library, id);
    match read_json::<DocumentNotes>(&path)? {
        None => Ok(DocumentNotes::empty(id)),
        Some(n) if n.format_version != NOTES_FORMAT_VERSION => Err(IngestError::Corrupt {
            path,
            reason: format!(
                "notes format version {}, this build reads {NOTES_FORMAT_VERSION}",
                n.format_version
            ),
        }
        .into()),
        Some(n) => Ok(n),
    }
}

/// Adds an answer to its document's notes.
pub fn append_answer(library: &Library, answer: &Answer) -> Result<(), QaError> {
    update_notes(library, &answer.document.id, |notes| {
        notes.answers.push(answer.clone());
        let excess = notes.answers.len().saturating_sub(MAX_ANSWERS_KEPT);
        notes.answers.drain(..excess);
    })
}

/// Stores a section summary, replacing one for the same section, model and template, and
/// dropping summaries of older versions of the document.
pub fn store_summary(library: &Library, summary: &SectionSummary) -> Result<(), QaError> {
    update_notes(library, &summary.document_id, |notes| {
        notes.summaries.retain(|s| {
            s.document_digest == summary.document_digest
                && !(s.provenance.model_fingerprint == summary.provenance.model_fingerprint
                    && s.provenance.family == summary.provenance.family
                    && s.section.byte_range == summary.section.byte_range)
        });
        notes.summaries.push(summary.clone());
    })
}

/// Read-modify-write of a document's notes under the notes lock. A damaged notes file is moved
/// aside (`notes.damaged-<time>.json`) rather than overwritten, and a fresh one is started.
pub fn update_notes(
    library: &Library,
    id: &str,
    change: impl FnOnce(&mut DocumentNotes),
) -> Result<(), QaError> {
    // Never recreate the folder of a document that was removed meanwhile.
    library.document(id)?;
    let path = notes_path(library, id);
    let dir = path.parent().unwrap_or(Path::new("."));
    let _lock = NotesLock::acquire(&dir.join(NOTES_LOCK_NAME))?;
    let mut notes = match load_notes(library, id) {
        Ok(n) => n,
        Err(QaError::Library(IngestError::Corrupt { .. })) => {
            let aside = dir.join(format!("notes.damaged-{}.json", super::now_unix_s()));
            std::fs::rename(&path, &aside).map_err(|e| IngestError::io(&path, e))?;
            DocumentNotes::empty(id)
        }
        Err(e) => return Err(e),
    };
    change(&mut notes);
    write_json_atomic(&path, &notes)?;
    Ok(())
}

/// An exclusive `flock` on the notes lock file, released on drop (or when the process dies).
struct NotesLock {
    _file: std::fs::File,
}

impl NotesLock {
    fn acquire(path: &Path) -> Result<NotesLock, QaError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| IngestError::io(path, e))?;
        loop {
            // SAFETY: flock on a descriptor we own; blocks until the holder is done (updates
            // take milliseconds).
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(NotesLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(IngestError::io(path, err).into());
            }
        }
    }
}
