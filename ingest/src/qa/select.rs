//! Choosing what the model reads for a question: the documents in scope, what of each is
//! visible (as-of page, reading progress), and the passages, best first.

use super::error::QaError;
use super::loaded::{floor_boundary, LoadedDocument};
use super::options::AskOptions;
use super::provenance::{Evidence, EvidenceRole};
use super::retrieve::{own_snippet, visible_part, Visible};
use super::QaContext;
use std::collections::HashMap;

/// The documents a question may use.
pub(crate) struct Scope {
    /// Ids for the search filter; `None`: the whole library.
    pub(crate) filter: Option<Vec<String>>,
    /// The single document in scope, if there is exactly one.
    pub(crate) only: Option<String>,
}

pub(crate) fn scope_ids(library: &crate::Library, opts: &AskOptions) -> Result<Scope, QaError> {
    let indexed: Vec<String> = match &opts.documents {
        Some(ids) => {
            let mut kept = Vec::new();
            for id in ids {
                if library.document(id)?.is_indexed() {
                    kept.push(id.clone());
                }
            }
            kept
        }
        None => library
            .documents()?
            .into_iter()
            .filter(|d| d.is_indexed())
            .map(|d| d.id)
            .collect(),
    };
    if indexed.is_empty() {
        return Err(QaError::NoDocuments(match &opts.documents {
            Some(_) => " among the documents named (not indexed or failed)".into(),
            None => " in the library".into(),
        }));
    }
    Ok(Scope {
        only: (indexed.len() == 1).then(|| indexed[0].clone()),
        filter: opts.documents.as_ref().map(|_| indexed),
    })
}

/// Documents loaded for this question, with what of each is visible.
#[derive(Default)]
pub(crate) struct DocumentCache {
    docs: HashMap<String, (LoadedDocument, Result<Visible, String>)>,
}

impl DocumentCache {
    pub(crate) fn get(
        &mut self,
        ctx: &QaContext<'_>,
        id: &str,
        as_of_page: Option<u32>,
    ) -> Result<(&LoadedDocument, VisibleResult), QaError> {
        if !self.docs.contains_key(id) {
            let doc = LoadedDocument::load(ctx.library, id)?;
            let visible = match visible_part(ctx.library, ctx.model.fingerprint(), &doc, as_of_page)
            {
                Ok(v) => Ok(v),
                // Kept as a message: the error is raised only if this document must answer.
                Err(e @ (QaError::NotReadYet { .. } | QaError::BadPage { .. })) => {
                    Err(e.to_string())
                }
                Err(e) => return Err(e),
            };
            self.docs.insert(id.to_string(), (doc, visible));
        }
        let (doc, visible) = &self.docs[id];
        Ok((
            doc,
            VisibleResult {
                visible: visible.clone(),
                title: doc.record.title.clone(),
                as_of_page,
            },
        ))
    }
}

/// A document's visible part, or the reason it has none (re-raised as the right error).
pub(crate) struct VisibleResult {
    pub(crate) visible: Result<Visible, String>,
    title: String,
    as_of_page: Option<u32>,
}

impl VisibleResult {
    pub(crate) fn into_result(self) -> Result<Visible, QaError> {
        match self.visible {
            Ok(v) => Ok(v),
            Err(_) if self.as_of_page == Some(0) => Err(QaError::BadPage {
                title: self.title,
                page: 0,
            }),
            Err(_) => Err(QaError::NotReadYet { title: self.title }),
        }
    }
}

/// Asking about one section (`within_bytes`, one document) when no passage in it matches: the
/// section itself (up to what is visible) becomes the passage.
pub(crate) fn section_as_passage(
    ctx: &QaContext<'_>,
    scope: &Scope,
    opts: &AskOptions,
    terms: &[String],
    docs: &mut DocumentCache,
) -> Result<Option<Evidence>, QaError> {
    let (Some(id), Some(within)) = (&scope.only, &opts.within_bytes) else {
        return Ok(None);
    };
    let (doc, visible) = docs.get(ctx, id, opts.as_of_page)?;
    let Ok(visible) = visible.visible else {
        return Ok(None);
    };
    let start = within.start;
    let end = within.end.min(visible.end_byte).min(doc.text.len() as u64);
    if start >= end {
        return Ok(None);
    }
    let chunk_index = doc.chunks.partition_point(|c| c.byte_end <= start) as u32;
    let s = floor_boundary(&doc.text, start as usize);
    let e = floor_boundary(&doc.text, end as usize);
    Ok(Some(Evidence {
        role: EvidenceRole::Read,
        document_id: doc.record.id.clone(),
        title: doc.record.title.clone(),
        chunk_index,
        byte_range: start..end,
        pages: doc.pages_of(&(start..end)),
        score: 0.0,
        snippet: Some(own_snippet(&doc.text[s..e], s as u64, terms)),
        supporting_sentence: None,
    }))
}

pub(crate) fn no_match(question: &str, doc: &LoadedDocument, opts: &AskOptions) -> QaError {
    let mut scope = format!(" in {}", doc.record.title);
    if let Some(page) = opts.as_of_page {
        scope.push_str(&format!(" up to page {page}"));
    }
    QaError::NoMatch {
        question: question.to_string(),
        scope,
    }
}

/// Whether this model has read (checkpointed) any document of the library: when it has read
/// none, "no passage matches" would hide the reason.
pub(crate) fn read_by_this_model(ctx: &QaContext<'_>) -> Result<bool, QaError> {
    for doc in ctx.library.documents()? {
        if !ctx
            .library
            .checkpoints(&doc.id, ctx.model.fingerprint())?
            .0
            .is_empty()
        {
            return Ok(true);
        }
    }
    Ok(false)
}
