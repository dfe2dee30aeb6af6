//! Shared by the damage-and-repair tests: a small library of two documents read by the demo
//! model, a snapshot of everything it stores (to compare a repaired library with an undamaged
//! one), and the repair call with the model.
#![allow(dead_code)] // each test binary uses a different subset

#[path = "../common/mod.rs"]
mod common;

pub use common::*;
use ingest::{CheckReport, Library, RepairReport, RepairTools};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A library of two short documents (about 6 chunks each with [`test_options`]: checkpoints at
/// 2, 4, 6 and the end) and their source folder.
pub struct Small {
    /// Holds the sources (`docs/`) and the library (`lib/`).
    pub root: tempfile::TempDir,
}

impl Small {
    /// Ingests the two documents.
    pub fn build() -> Small {
        let root = tempfile::tempdir().unwrap();
        let small = Small { root };
        write_file(&small.docs(), "lighthouse.txt", &prose("lighthouse", 6));
        write_file(&small.docs(), "orchard.txt", &prose("orchard", 5));
        small.ingest();
        small
    }

    /// The source folder.
    pub fn docs(&self) -> PathBuf {
        self.root.path().join("docs")
    }

    /// The library folder.
    pub fn lib(&self) -> PathBuf {
        self.root.path().join("lib")
    }

    /// Ingests the source folder again (as after "re-ingest needed").
    pub fn ingest(&self) -> ingest::Summary {
        let mut writer = Library::open_writer(&self.lib()).unwrap();
        ingest(&mut writer, &[self.docs()], &test_options()).0
    }

    /// The id of the document from `name`.
    pub fn id(&self, name: &str) -> String {
        let library = Library::open(&self.lib()).unwrap();
        let found = library.find_documents(name).unwrap();
        found[0].id.clone()
    }

    /// `documents/<id of name>/<file>`.
    pub fn doc_file(&self, name: &str, file: &str) -> PathBuf {
        self.lib().join("documents").join(self.id(name)).join(file)
    }

    /// The checkpoint folder of document `name` for the demo model.
    pub fn checkpoint_dir(&self, name: &str) -> PathBuf {
        let (model, _) = demo();
        ingest::layout::checkpoint_dir(
            &self.lib().join("checkpoints"),
            &model.fingerprint().0,
            &self.id(name),
        )
    }
}

/// Checks the library in `dir`.
pub fn check(dir: &Path) -> CheckReport {
    ingest::check_library(dir).unwrap()
}

/// Repairs the library in `dir` with the demo model (settings of [`test_options`]).
pub fn repair(dir: &Path) -> RepairReport {
    let report = check(dir);
    let (model, tokenizer) = demo();
    let options = test_options();
    let mut writer = Library::open_writer(dir).unwrap();
    let tools = RepairTools {
        model,
        tokenizer,
        options: &options,
    };
    ingest::repair_library(
        &mut writer,
        &report,
        Some(tools),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap()
}

/// Everything a library stores that must come back identical after a repair: records, texts,
/// chunk lists and checkpoints byte for byte, `library.json`, and the index's entries (its files
/// differ in names from one build to another).
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Relative path → bytes, for every file outside `index/` except lock files.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// The index's entries.
    pub index: String,
}

/// Takes a [`Snapshot`] of the library in `dir`.
pub fn snapshot(dir: &Path) -> Snapshot {
    let mut files = BTreeMap::new();
    for entry in walk(dir) {
        let rel = entry.strip_prefix(dir).unwrap().to_path_buf();
        let name = rel.to_string_lossy();
        if name.starts_with("index") || name.ends_with(".lock") {
            continue;
        }
        files.insert(rel, std::fs::read(&entry).unwrap());
    }
    let index = match ingest::layout::read_index_contents(&dir.join("index")) {
        Ok(contents) => format!("{contents:?}"),
        Err(e) => format!("unreadable: {e}"),
    };
    Snapshot { files, index }
}

/// Every file under `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Copies the folder `from` to `to` (files only, recursively).
pub fn copy_dir(from: &Path, to: &Path) {
    for file in walk(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// A question whose passage is in `lighthouse.txt`, answered with 4 tokens and nothing saved.
pub fn ask_lighthouse(library: &Library) -> Result<ingest::qa::Answer, ingest::qa::QaError> {
    let (model, tokenizer) = demo();
    let ctx = ingest::qa::QaContext::new(library, model, tokenizer);
    let mut options = ingest::qa::AskOptions {
        save_to_notes: false,
        ..ingest::qa::AskOptions::default()
    };
    options.sampler.max_tokens = 4;
    ingest::qa::ask(
        &ctx,
        "Was the lighthouse inspected before the lease?",
        &options,
        &mut |_| true,
    )
}

/// Whether an answer says that something was wrong.
pub fn warns(answer: &ingest::qa::Answer) -> bool {
    answer.notices.iter().any(|n| n.starts_with("Warning"))
}
