//! Short jobs on the library that need no model time: opening a document (its text at once, its
//! notes once the model's fingerprint is known) and exporting notes to Markdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ingest::Library;

use super::convert::{load_document, load_notes};
use super::model_slot::ModelSlot;
use crate::tui::events::EventSink;
use crate::tui::messages::WorkerEvent;

/// Loads a document's text, then its notes, on a thread of its own.
pub fn open_document(
    library_dir: PathBuf,
    doc_id: String,
    model: Arc<ModelSlot>,
    sink: EventSink,
) -> std::io::Result<()> {
    let (panic_sink, panic_doc) = (sink.clone(), doc_id.clone());
    super::spawn_guarded(
        "open-document",
        move || {
            let library = match Library::open(&library_dir) {
                Ok(library) => library,
                Err(e) => {
                    sink.send(WorkerEvent::DocumentFailed {
                        doc_id,
                        reason: e.to_string(),
                    });
                    return;
                }
            };
            match load_document(&library, &doc_id) {
                Ok(doc) => sink.send(WorkerEvent::DocumentLoaded(doc)),
                Err(e) => {
                    sink.send(WorkerEvent::DocumentFailed {
                        doc_id,
                        reason: e.to_string(),
                    });
                    return;
                }
            }
            // Sections and summaries depend on the model's checkpoints: wait for it (without one,
            // the stored answers still show).
            let loaded = model.wait().ok();
            let fingerprint = loaded.as_ref().map(|m| m.model.fingerprint());
            match load_notes(&library, &doc_id, fingerprint) {
                Ok((history, sections)) => sink.send(WorkerEvent::NotesLoaded {
                    doc_id,
                    history,
                    sections,
                }),
                Err(e) => {
                    sink.send(WorkerEvent::Notice {
                        text: format!("Notes could not be read: {e}"),
                        is_error: true,
                    });
                    sink.send(WorkerEvent::NotesLoaded {
                        doc_id,
                        history: Vec::new(),
                        sections: Vec::new(),
                    });
                }
            }
        },
        move |message| {
            panic_sink.send(WorkerEvent::DocumentFailed {
                doc_id: panic_doc,
                reason: format!("internal error: {message}"),
            })
        },
    )?;
    Ok(())
}

/// Writes a document's notes as Markdown into `export_dir`, on a thread of its own.
pub fn export(
    library_dir: PathBuf,
    export_dir: PathBuf,
    doc_id: String,
    sink: EventSink,
) -> std::io::Result<()> {
    let panic_sink = sink.clone();
    super::spawn_guarded(
        "export",
        move || {
            let result = Library::open(&library_dir)
                .map_err(|e| e.to_string())
                .and_then(|library| {
                    let title = library.document(&doc_id).map_err(|e| e.to_string())?.title;
                    let markdown = ingest::qa::export_markdown(&library, &doc_id)
                        .map_err(|e| e.to_string())?;
                    let path = export_dir.join(export_file_name(&title));
                    std::fs::write(&path, markdown)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    Ok(path)
                });
            match result {
                Ok(path) => sink.send(WorkerEvent::Exported {
                    path: path.display().to_string(),
                }),
                Err(reason) => sink.send(WorkerEvent::Notice {
                    text: format!("Export failed: {reason}"),
                    is_error: true,
                }),
            }
        },
        move |message| super::crashed(&panic_sink, "export", &message),
    )?;
    Ok(())
}

/// `The Keeper (draft).pdf` → `The-Keeper-draft-.notes.md`: the title's stem with anything but
/// letters, digits, `-`, `_` and `.` replaced, so a title cannot name another folder.
pub fn export_file_name(title: &str) -> String {
    let stem = Path::new(title)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut safe: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    safe = safe.trim_start_matches('.').to_string();
    if safe.is_empty() {
        safe = "document".into();
    }
    format!("{safe}.notes.md")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_are_safe_file_names() {
        assert_eq!(
            export_file_name("the-keeper-of-tallow-point.pdf"),
            "the-keeper-of-tallow-point.notes.md"
        );
        assert_eq!(export_file_name("a b/../c.txt"), "c.notes.md");
        assert_eq!(export_file_name(".hidden"), "hidden.notes.md");
        assert_eq!(export_file_name(""), "document.notes.md");
        assert_eq!(export_file_name("x\u{1b}[2J.txt"), "x--2J.notes.md");
    }
}
