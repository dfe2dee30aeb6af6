//! Per-section summaries. Each is generated from the nearest checkpoint at or before the
//! section's start: the text from the checkpoint to the section start is read first (so the state
//! stands at the section's start), then the instruction, then the section, then the cue. Each
//! summary is stored in the document's notes as soon as it is done, with its title, pages and
//! provenance; stored summaries are reused unless `refresh` is set.

use super::answer_steps::{generate_from_fork, MaterialPart, Reading};
use super::error::QaError;
use super::fork::{fork_at_or_before_byte, prepare_text};
use super::loaded::LoadedDocument;
use super::notes;
pub use super::notes::SectionSummary;
use super::prompt::{summary_prompt, PROMPT_VERSION};
use super::provenance::{DocumentRef, Mode};
use super::retrieve::{visible_part, Visible};
use super::sections::{sections_of, Section};
use super::{now_unix_s, QaContext};
use engine::SamplerConfig;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How to summarise.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryOptions {
    /// Regenerate summaries that are already stored.
    pub refresh: bool,
    /// Only this section (index), e.g. the TUI's "regenerate this one".
    pub only_section: Option<u32>,
    /// Sampling; the template's stop strings are added.
    pub sampler: SamplerConfig,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            refresh: false,
            only_section: None,
            sampler: SamplerConfig {
                temperature: 1.0,
                top_p: 0.3,
                max_tokens: 120,
                ..SamplerConfig::default()
            },
        }
    }
}

/// What happens during [`summarize`]. The callback returns false to cancel.
#[derive(Debug, Clone, Copy)]
pub enum SummaryEvent<'a> {
    /// The sections found (before any work).
    Sections(&'a [Section]),
    /// Generation of a section's summary begins.
    Started(&'a Section),
    /// A piece of the current summary.
    Text(&'a str),
    /// A section's summary is ready (`reused`: taken from the notes).
    Finished {
        /// The summary.
        summary: &'a SectionSummary,
        /// It was stored already and not regenerated.
        reused: bool,
    },
}

/// The outcome of [`summarize`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryReport {
    /// The document.
    pub document: DocumentRef,
    /// Summaries in section order (only sections asked for and already read).
    pub summaries: Vec<SectionSummary>,
    /// Summaries generated now.
    pub generated: usize,
    /// Summaries reused from the notes.
    pub reused: usize,
    /// Sections not summarised because the model has not read them yet.
    pub pending: Vec<Section>,
    /// Things the reader must know.
    pub notices: Vec<String>,
}

/// Summarises the sections of document `id` (see the module doc).
pub fn summarize(
    ctx: &QaContext<'_>,
    id: &str,
    opts: &SummaryOptions,
    on_event: &mut dyn FnMut(SummaryEvent<'_>) -> bool,
) -> Result<SummaryReport, QaError> {
    let doc = LoadedDocument::load(ctx.library, id)?;
    let visible = visible_part(ctx.library, ctx.model.fingerprint(), &doc, None)?;
    let sections = sections_of(ctx.library, ctx.model.fingerprint(), &doc)?;
    if !on_event(SummaryEvent::Sections(&sections)) {
        return Err(QaError::Cancelled);
    }
    let stored = notes::load_notes(ctx.library, id)?.summaries;
    let fingerprint = &ctx.model.fingerprint().0;
    let mut report = SummaryReport {
        document: DocumentRef::of(&doc.record),
        summaries: Vec::new(),
        generated: 0,
        reused: 0,
        pending: Vec::new(),
        notices: visible.notices.clone(),
    };
    for section in &sections {
        if opts.only_section.is_some_and(|i| i != section.index) {
            continue;
        }
        if section.byte_range.end > visible.end_byte {
            report.pending.push(section.clone());
            continue;
        }
        let existing = stored
            .iter()
            .find(|s| s.matches(section, &doc.record.digest, fingerprint, ctx.family));
        if let (Some(found), false) = (existing, opts.refresh) {
            if !on_event(SummaryEvent::Finished {
                summary: found,
                reused: true,
            }) {
                return Err(QaError::Cancelled);
            }
            report.summaries.push(found.clone());
            report.reused += 1;
            continue;
        }
        if !on_event(SummaryEvent::Started(section)) {
            return Err(QaError::Cancelled);
        }
        let summary = summarize_section(ctx, &doc, section, &visible, opts, on_event)?;
        // Stored at once: an interrupted run keeps what it finished.
        if let Err(e) = notes::store_summary(ctx.library, &summary) {
            report.notices.push(format!(
                "Warning: a summary was not saved to the notes: {e}"
            ));
        }
        if !on_event(SummaryEvent::Finished {
            summary: &summary,
            reused: false,
        }) {
            return Err(QaError::Cancelled);
        }
        report.summaries.push(summary);
        report.generated += 1;
    }
    if !report.pending.is_empty() {
        report.notices.push(format!(
            "{} section(s) not summarised yet: the model has not read them.",
            report.pending.len()
        ));
    }
    if ctx.model.info().is_demo {
        report.notices.push(
            "Summaries by the small bundled demo model: expect weak text; titles and pages are exact."
                .into(),
        );
    }
    Ok(report)
}

fn summarize_section(
    ctx: &QaContext<'_>,
    doc: &LoadedDocument,
    section: &Section,
    visible: &Visible,
    opts: &SummaryOptions,
    on_event: &mut dyn FnMut(SummaryEvent<'_>) -> bool,
) -> Result<SectionSummary, QaError> {
    let started = Instant::now();
    let fork = fork_at_or_before_byte(ctx, doc, visible, section.byte_range.start)?;
    let reading = Reading {
        mode: Mode::Section,
        // The state must stand at the section's start before the instruction.
        lead_in: Some(prepare_text(
            ctx,
            doc,
            fork.byte_offset..section.byte_range.start,
            false,
        )?),
        prompt: summary_prompt(ctx.family, &section.title, &doc.record.title),
        material: vec![MaterialPart {
            label: String::new(),
            text: prepare_text(ctx, doc, section.byte_range.clone(), true)?,
            cites: None,
        }],
        sampler: &opts.sampler,
    };
    let generated = generate_from_fork(ctx, &fork, visible, reading, started, 0.0, &mut |piece| {
        on_event(SummaryEvent::Text(piece))
    })?;
    Ok(SectionSummary {
        section: section.clone(),
        text: generated.text,
        document_id: doc.record.id.clone(),
        document_digest: doc.record.digest.clone(),
        prompt_version: PROMPT_VERSION,
        provenance: generated.provenance,
        created_at_unix_s: now_unix_s(),
    })
}
