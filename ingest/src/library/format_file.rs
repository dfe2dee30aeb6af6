//! `library.json`: the library's format version, checked on opening and written when absent.

use crate::document::DocumentFiles;
use crate::error::{IngestError, Result};
use std::path::Path;

/// Version of the library layout (`library.json`).
pub const LIBRARY_FORMAT_VERSION: u32 = 1;

/// The library file's name.
pub const LIBRARY_FILE: &str = "library.json";

/// What `library.json` holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct LibraryFile {
    format_version: u32,
}

/// Checks `library.json`, writing it when absent. `Ok(Err(sentence))`: it is damaged (it holds
/// nothing a reader needs, so reading goes on and a writer rewrites it); a library of another
/// format version is an error.
pub(crate) fn check_format(dir: &Path) -> Result<std::result::Result<(), String>> {
    let path = dir.join(LIBRARY_FILE);
    match crate::atomic_file::read_json::<LibraryFile>(&path) {
        // A changed digit is damage when the documents are of this build's format; a library
        // written by a newer build is refused.
        Ok(Some(f))
            if f.format_version != LIBRARY_FORMAT_VERSION && !documents_of_this_format(dir) =>
        {
            Err(IngestError::Corrupt {
                path,
                reason: format!(
                    "library format version {}, this build reads {LIBRARY_FORMAT_VERSION}",
                    f.format_version
                ),
            })
        }
        Ok(Some(f)) if f.format_version != LIBRARY_FORMAT_VERSION => Ok(Err(format!(
            "{}: damaged library file: says format version {}, but its documents are of version {LIBRARY_FORMAT_VERSION}; it is rewritten by `rwkv-reader check --repair` or the next `ingest`",
            path.display(),
            f.format_version
        ))),
        Ok(Some(_)) => Ok(Ok(())),
        Ok(None) => write_library_file(dir).map(Ok),
        Err(e) => Ok(Err(format!(
            "{e}; it is rewritten by `rwkv-reader check --repair` or the next `ingest`"
        ))),
    }
}

/// What is wrong with `library.json`, if anything (for `check`); a library of a newer format is
/// an error.
pub(crate) fn library_file_damage(dir: &Path) -> Result<Option<String>> {
    if !dir.join(LIBRARY_FILE).exists() {
        return Ok(Some(format!(
            "{}: missing",
            dir.join(LIBRARY_FILE).display()
        )));
    }
    Ok(check_format(dir)?.err())
}

/// Writes `library.json` (atomically).
pub(crate) fn write_library_file(dir: &Path) -> Result<()> {
    crate::atomic_file::write_json_atomic(
        &dir.join(LIBRARY_FILE),
        &LibraryFile {
            format_version: LIBRARY_FORMAT_VERSION,
        },
    )
}

/// Whether a document record in `dir` parses as this build's format (a library file that says
/// otherwise is then damaged, not newer).
fn documents_of_this_format(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir.join("documents")) else {
        return false;
    };
    entries.flatten().any(|e| {
        let files = DocumentFiles::new(&dir.join("documents"), &e.file_name().to_string_lossy());
        matches!(files.read_record(), Ok(Some(_)))
    })
}
