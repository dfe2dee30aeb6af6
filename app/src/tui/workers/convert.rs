//! Library and answer types (ingest, ingest::qa) → the TUI's plain-data state types.

use ingest::qa::{self, EvidenceRole, Provenance};
use ingest::{DocumentRecord, DocumentStatus, IngestError, Library};

use crate::tui::draw::format_count;
use crate::tui::state::{
    DocEntry, DocStatus, DocumentText, Evidence, GenerationStatus, PageStart, QaEntry,
    SectionSummary,
};

/// Every document of the library as a Library-screen row. With the model's fingerprint, how far
/// that model has read each one; without it (model still loading) only what the records say.
pub fn list_documents(
    library: &Library,
    fingerprint: Option<&engine::Fingerprint>,
) -> Result<Vec<DocEntry>, IngestError> {
    Ok(library
        .documents()?
        .iter()
        .map(|record| doc_entry(library, record, fingerprint))
        .collect())
}

fn doc_entry(
    library: &Library,
    record: &DocumentRecord,
    fingerprint: Option<&engine::Fingerprint>,
) -> DocEntry {
    let pages = record.pages.len() as u32;
    let mut entry = DocEntry {
        id: record.id.clone(),
        name: record.title.clone(),
        path: record.source_path.display().to_string(),
        status: DocStatus::Pending,
        pages,
        tokens: 0,
        checkpoints: 0,
        warnings: record.warnings.clone(),
    };
    entry.status = match (&record.status, fingerprint) {
        (DocumentStatus::Failed { reason }, _) => DocStatus::Failed {
            reason: reason.clone(),
        },
        (DocumentStatus::Extracted, _) => DocStatus::Pending,
        (DocumentStatus::Indexed, None) => DocStatus::Indexed,
        (DocumentStatus::Indexed, Some(fp)) => {
            entry.checkpoints = library
                .checkpoints(&record.id, fp)
                .map_or(0, |(found, _)| found.len() as u32);
            match library.reading_progress(&record.id, fp) {
                Ok(p) => {
                    entry.tokens = p.tokens_read;
                    if p.is_complete() {
                        DocStatus::Ready
                    } else if p.chunks_read == 0 {
                        DocStatus::Pending
                    } else {
                        DocStatus::Partial {
                            reason: format!(
                                "read up to page {} of {pages}; reading resumes in the background",
                                p.page
                            ),
                        }
                    }
                }
                Err(e) => DocStatus::Partial {
                    reason: e.to_string(),
                },
            }
        }
    };
    entry
}

/// A document's text and page starts for the Reader.
pub fn load_document(library: &Library, id: &str) -> Result<DocumentText, IngestError> {
    let record = library.document(id)?;
    let text = library.document_text(id)?;
    let pages = record
        .pages
        .iter()
        .map(|p| PageStart {
            page: p.number,
            offset: usize::try_from(p.byte_start).unwrap_or(usize::MAX),
        })
        .collect();
    Ok(DocumentText {
        doc_id: record.id,
        title: record.title,
        text,
        pages,
    })
}

/// A stored or new answer as an Ask-screen entry.
pub fn qa_entry(answer: &qa::Answer) -> QaEntry {
    QaEntry {
        question: answer.question.clone(),
        answer: answer.text.clone(),
        evidence: answer.evidence.iter().map(evidence).collect(),
        note: notices_note(&answer.notices),
        provenance: provenance_line(&answer.provenance),
        status: GenerationStatus::Done,
    }
}

/// The reader-facing notices of an answer or summary, on one line.
pub fn notices_note(notices: &[String]) -> Option<String> {
    (!notices.is_empty()).then(|| notices.join(" · "))
}

/// One cited passage.
pub fn evidence(e: &qa::Evidence) -> Evidence {
    let role = match e.role {
        EvidenceRole::Read => "read by the model",
        EvidenceRole::AlsoMatched => "also matched",
    };
    Evidence {
        doc_id: e.document_id.clone(),
        doc_name: e.title.clone(),
        pages: e.pages,
        range: to_usize(e.byte_range.start)..to_usize(e.byte_range.end),
        snippet: e
            .snippet
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default(),
        supporting_sentence: e
            .supporting_sentence
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default(),
        provenance: format!("{role} · score {:.1}", e.score),
    }
}

/// Where an answer or summary started and what it cost, in a few words.
pub fn provenance_line(p: &Provenance) -> String {
    let start = match &p.checkpoint {
        Some(c) => format!(
            "from checkpoint at token {} (p.{})",
            format_count(c.token_offset),
            c.page
        ),
        None => "from the start".to_string(),
    };
    format!(
        "{start} · re-read {} tokens · {} generated",
        format_count(p.reread_tokens),
        format_count(p.generated_tokens)
    )
}

/// A document section (with its stored summary, if there is one) as a Summaries-screen row.
pub fn section_row(section: &qa::Section, stored: Option<&qa::SectionSummary>) -> SectionSummary {
    SectionSummary {
        index: section.index,
        title: section.title.clone(),
        pages: section.pages,
        range: to_usize(section.byte_range.start)..to_usize(section.byte_range.end),
        summary: stored.map(|s| s.text.clone()).unwrap_or_default(),
        provenance: stored
            .map(|s| provenance_line(&s.provenance))
            .unwrap_or_default(),
        status: GenerationStatus::Done,
    }
}

/// The sections of a document with the summaries `fingerprint`'s model wrote for them, and the
/// stored answers (newest first).
pub fn load_notes(
    library: &Library,
    id: &str,
    fingerprint: Option<&engine::Fingerprint>,
) -> Result<(Vec<QaEntry>, Vec<SectionSummary>), qa::QaError> {
    let notes = qa::load_notes(library, id)?;
    let history = notes.answers.iter().rev().map(qa_entry).collect();
    let Some(fp) = fingerprint else {
        return Ok((history, Vec::new()));
    };
    let stored = notes.summaries_for(&fp.0);
    let sections = qa::document_sections(library, fp, id)?
        .iter()
        .map(|section| {
            let summary = stored
                .iter()
                .find(|s| {
                    s.section.byte_range == section.byte_range && s.section.title == section.title
                })
                .copied();
            section_row(section, summary)
        })
        .collect();
    Ok((history, sections))
}

fn to_usize(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}
