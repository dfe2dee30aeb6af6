//! What the library commands share: the model and library they open, and finding the documents
//! a `--doc NAME` means.

use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use ingest::{DocumentRecord, Library};

use super::Context;
use crate::tui::inert_text::inert_name;

/// The model (on the chosen device) and tokenizer chosen by the options and config.
pub(super) fn load_model(
    ctx: &Context,
) -> Result<(Arc<dyn engine::LanguageModel>, engine::Tokenizer)> {
    ctx.model_choice()?.load()
}

pub(super) fn open_library(ctx: &Context) -> Result<Library> {
    let dir = ctx.library_dir()?;
    // Only reading: a folder without a library is refused, not turned into an empty one.
    Library::open_existing(&dir).with_context(|| format!("opening the library {}", dir.display()))
}

/// Documents matching `--doc NAME` (all of them), or an error naming what the library holds.
pub(super) fn matching_documents(library: &Library, name: &str) -> Result<Vec<DocumentRecord>> {
    let found = library.find_documents(name)?;
    if found.is_empty() {
        let titles: Vec<String> = library.documents()?.into_iter().map(|d| d.title).collect();
        bail!(
            "no document in the library matches {name:?} (it holds: {})",
            if titles.is_empty() {
                "nothing yet".to_string()
            } else {
                titles.join(", ")
            }
        );
    }
    Ok(found)
}

/// Exactly one document: `--doc NAME`, or the only document in the library.
pub(super) fn one_document(library: &Library, name: Option<&str>) -> Result<DocumentRecord> {
    let found = match name {
        Some(name) => matching_documents(library, name)?,
        None => library.documents()?,
    };
    let names = found
        .iter()
        .map(|d| d.title.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let count = found.len();
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => bail!("the library is empty: add documents with `rwkv-reader ingest PATH`"),
        (Some(_), Some(_)) => bail!("{count} documents match; name one with --doc: {names}"),
    }
}

/// Damage the library noticed (documents left out, an unusable index), on stderr: for when no
/// answer carries it.
pub(super) fn print_noticed(library: &Library) {
    for warning in library.noticed() {
        eprintln!("warning: {}", inert_name(&warning));
    }
}
