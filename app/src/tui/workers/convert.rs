//! Library and answer types (ingest, ingest::qa) → the TUI's plain-data state types.

use ingest::qa::{self, EvidenceRole, PassageRead, Provenance};
use ingest::{DocumentRecord, DocumentStatus, IngestError, Library, ReadingProgress};

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
        checkpoint_bytes: 0,
        checkpoint_every_chunks: 0,
        warnings: record.warnings.clone(),
    };
    entry.status = match (&record.status, fingerprint) {
        (DocumentStatus::Failed { reason }, _) => DocStatus::Failed {
            reason: reason.clone(),
        },
        (DocumentStatus::Extracted, _) => DocStatus::Pending,
        (DocumentStatus::Indexed, None) => DocStatus::Indexed,
        (DocumentStatus::Indexed, Some(fp)) => {
            // One listing of the checkpoints gives both their figures and the progress.
            match library.checkpoints(&record.id, fp) {
                Ok((found, _)) => {
                    entry.checkpoints = found.len() as u32;
                    entry.checkpoint_bytes = found
                        .iter()
                        .filter_map(|c| std::fs::metadata(&c.path).ok())
                        .map(|m| m.len())
                        .sum();
                    entry.checkpoint_every_chunks = found
                        .iter()
                        .max_by_key(|c| c.header.chunks_read)
                        .map_or(0, |c| c.header.checkpoint_every_chunks);
                    let p = ReadingProgress::of(record, &found);
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
        evidence: evidence_rows(&answer.evidence, &answer.provenance.passages),
        note: notices_note(&answer.notices),
        provenance: provenance_line(&answer.provenance),
        status: GenerationStatus::Done,
    }
}

/// The reader-facing notices of an answer or summary, on one line.
pub fn notices_note(notices: &[String]) -> Option<String> {
    (!notices.is_empty()).then(|| notices.join(" · "))
}

/// The cited passages as Evidence rows, marking those the model read (`passages_read`, in
/// reading order) with their place in the reading order and the tokens re-read for them.
pub fn evidence_rows(found: &[qa::Evidence], passages_read: &[PassageRead]) -> Vec<Evidence> {
    found
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let reading = passages_read
                .iter()
                .position(|p| p.evidence_index == i)
                .map(|at| (at, &passages_read[at]));
            evidence(e, reading, passages_read.len())
        })
        .collect()
}

/// One cited passage; `reading`: its place in the reading order and what was re-read for it.
fn evidence(
    e: &qa::Evidence,
    reading: Option<(usize, &PassageRead)>,
    passages_read: usize,
) -> Evidence {
    let role = match (e.role, reading) {
        (EvidenceRole::Read, Some((at, p))) if p.span.tokens == 0 => format!(
            "read by the model · {} of {passages_read} · within the 1st passage's text",
            ordinal(at + 1)
        ),
        (EvidenceRole::Read, Some((at, p))) => format!(
            "read by the model · {} of {passages_read} · {} tokens re-read",
            ordinal(at + 1),
            format_count(p.span.tokens)
        ),
        (EvidenceRole::Read, None) => "read by the model".to_string(),
        (EvidenceRole::AlsoMatched, _) => "also matched".to_string(),
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
        supporting_range: e
            .supporting_sentence
            .as_ref()
            .map(|s| to_usize(s.byte_range.start)..to_usize(s.byte_range.end)),
        read: e.role == EvidenceRole::Read,
        provenance: format!("{role} · score {:.1}", e.score),
    }
}

/// "1st", "2nd", "3rd", "4th", ...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::qa::TextSpan;

    fn found(chunk_index: u32, role: EvidenceRole) -> qa::Evidence {
        qa::Evidence {
            role,
            document_id: "d".into(),
            title: "d.txt".into(),
            chunk_index,
            byte_range: u64::from(chunk_index) * 100..u64::from(chunk_index) * 100 + 100,
            pages: (chunk_index, chunk_index),
            score: 1.0,
            snippet: None,
            supporting_sentence: None,
        }
    }

    #[test]
    fn evidence_rows_mark_the_passages_read_in_reading_order() {
        let evidence = [
            found(7, EvidenceRole::Read),
            found(9, EvidenceRole::AlsoMatched),
            found(2, EvidenceRole::Read),
        ];
        let read = |evidence_index: usize, tokens: u64| PassageRead {
            evidence_index,
            label: String::new(),
            span: TextSpan {
                byte_range: 0..1,
                pages: (1, 1),
                tokens,
            },
        };
        // The best passage is read first; the one at chunk 2 comes after it.
        let rows = evidence_rows(&evidence, &[read(0, 1530), read(2, 0)]);
        let marks: Vec<bool> = rows.iter().map(|r| r.read).collect();
        assert_eq!(marks, [true, false, true]);
        assert!(
            rows[0]
                .provenance
                .starts_with("read by the model · 1st of 2 · 1,530 tokens re-read"),
            "{}",
            rows[0].provenance
        );
        assert!(rows[1].provenance.starts_with("also matched"));
        assert!(rows[2].provenance.contains("2nd of 2 · within the 1st"));
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(23), "23rd");
    }
}
