//! Finding the documents under the paths a user names: files and folders, recursively.
//! Problems (symlink loops, unreadable entries, unsupported types) are collected, never fatal.

use crate::ignore_file::IgnoreRules;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The kinds of document the library can read, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// Plain text (`.txt`, `.text`).
    Text,
    /// Markdown (`.md`, `.markdown`), kept as written.
    Markdown,
    /// HTML (`.html`, `.htm`, `.xhtml`), converted to text.
    Html,
    /// PDF, extracted page by page in a worker process.
    Pdf,
}

impl DocumentKind {
    /// The kind for a path's extension (case-insensitive), if it is one the library reads.
    pub fn from_path(path: &Path) -> Option<DocumentKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" => Some(DocumentKind::Text),
            "md" | "markdown" => Some(DocumentKind::Markdown),
            "html" | "htm" | "xhtml" => Some(DocumentKind::Html),
            "pdf" => Some(DocumentKind::Pdf),
            _ => None,
        }
    }
}

/// A file that will be ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredFile {
    /// Canonical (absolute, symlink-free) path; also the basis of the document id.
    pub path: PathBuf,
    /// How to extract its text.
    pub kind: DocumentKind,
    /// Size on disk.
    pub size_bytes: u64,
}

/// A path that was skipped while discovering, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryIssue {
    /// The path as found.
    pub path: PathBuf,
    /// Human-readable reason ("symlink loop", "unreadable: permission denied", ...).
    pub reason: String,
}

/// Everything found under the given paths.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Files to ingest, sorted by path, without duplicates.
    pub files: Vec<DiscoveredFile>,
    /// Paths that were skipped.
    pub issues: Vec<DiscoveryIssue>,
}

/// Walks `paths` (files or folders, recursively, following symlinks) and sorts what it finds into
/// files to ingest and issues. Hidden entries (names starting with `.`) inside folders, and what a
/// folder's `.rwkv-reader-ignore` lists, are skipped silently; a path named explicitly is always
/// considered.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut found = Discovery::default();
    let mut seen = BTreeSet::new();
    for root in paths {
        let mut ignore_rules = IgnoreRules::default();
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !(is_hidden(e.file_name()) || ignore_rules.is_ignored(root, e.path()))
            });
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_dir() => {}
                Ok(entry) => consider_file(entry.path(), &mut found, &mut seen),
                Err(err) => found.issues.push(walk_issue(root, &err)),
            }
        }
    }
    found.files.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

fn consider_file(path: &Path, found: &mut Discovery, seen: &mut BTreeSet<PathBuf>) {
    let issue = |reason: String| DiscoveryIssue {
        path: path.to_path_buf(),
        reason,
    };
    let Some(kind) = DocumentKind::from_path(path) else {
        let what = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) => format!("unsupported file type (.{ext})"),
            None => "unsupported file type (no extension)".to_string(),
        };
        found.issues.push(issue(what));
        return;
    };
    let canonical = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) => return found.issues.push(issue(format!("unreadable: {e}"))),
    };
    let meta = match std::fs::metadata(&canonical) {
        Ok(m) if m.is_file() => m,
        Ok(_) => return found.issues.push(issue("not a regular file".into())),
        Err(e) => return found.issues.push(issue(format!("unreadable: {e}"))),
    };
    // Opening is the only reliable readability test (permissions, ACLs, FUSE).
    if let Err(e) = std::fs::File::open(&canonical) {
        return found.issues.push(issue(format!("unreadable: {e}")));
    }
    if seen.insert(canonical.clone()) {
        found.files.push(DiscoveredFile {
            path: canonical,
            kind,
            size_bytes: meta.len(),
        });
    }
}

fn walk_issue(root: &Path, err: &walkdir::Error) -> DiscoveryIssue {
    let path = err.path().unwrap_or(root).to_path_buf();
    let reason = if let Some(ancestor) = err.loop_ancestor() {
        format!("symlink loop (points back to {})", ancestor.display())
    } else if let Some(io) = err.io_error() {
        match io.kind() {
            std::io::ErrorKind::NotFound => "not found (or a dangling symlink)".to_string(),
            _ => format!("unreadable: {io}"),
        }
    } else {
        err.to_string()
    };
    DiscoveryIssue { path, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn touch(path: &Path, content: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    #[test]
    fn finds_supported_files_recursively_and_reports_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("a.txt"), "a");
        touch(&root.join("sub/b.MD"), "b");
        touch(&root.join("sub/deeper/c.htm"), "<p>c</p>");
        touch(&root.join("sub/d.pdf"), "%PDF");
        touch(&root.join("e.docx"), "zip");
        touch(&root.join(".hidden/f.txt"), "hidden");
        symlink(root, root.join("sub/loop")).unwrap();
        symlink(root.join("missing.txt"), root.join("dangling.txt")).unwrap();

        let found = discover(&[root.to_path_buf()]);
        let names: Vec<_> = found
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        // Sorted by full path: "sub/d.pdf" < "sub/deeper/c.htm".
        assert_eq!(names, ["a.txt", "b.MD", "d.pdf", "c.htm"]);
        let kinds: Vec<_> = found.files.iter().map(|f| f.kind).collect();
        use DocumentKind::*;
        assert_eq!(kinds, [Text, Markdown, Pdf, Html]);
        let reasons: Vec<_> = found.issues.iter().map(|i| i.reason.as_str()).collect();
        assert!(
            reasons.iter().any(|r| r.starts_with("symlink loop")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|r| r.contains(".docx")), "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("dangling")),
            "{reasons:?}"
        );
    }

    #[test]
    fn unreadable_file_is_an_issue_not_a_failure() {
        // Root ignores permission bits; the check is meaningful only for ordinary users.
        if unsafe { libc::geteuid() } == 0 {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.txt");
        touch(&path, "x");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let found = discover(&[dir.path().to_path_buf()]);
        assert!(found.files.is_empty());
        assert!(found.issues[0].reason.starts_with("unreadable"));
    }

    #[test]
    fn what_a_folder_s_ignore_file_lists_is_not_read_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("README.md"), "about this folder");
        touch(&root.join("complaint.txt"), "a");
        touch(&root.join("drafts/old.txt"), "b");
        touch(
            &root.join(crate::ignore_file::IGNORE_FILE_NAME),
            "README.md\ndrafts\n",
        );
        let found = discover(&[root.to_path_buf()]);
        let names: Vec<_> = found
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["complaint.txt"]);
        assert!(found.issues.is_empty(), "{:?}", found.issues);
        let named = discover(&[root.join("README.md")]);
        assert_eq!(named.files.len(), 1, "a file named explicitly is read");
    }

    #[test]
    fn the_same_file_named_twice_is_ingested_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        touch(&file, "a");
        let found = discover(&[file.clone(), dir.path().to_path_buf()]);
        assert_eq!(found.files.len(), 1);
        assert!(found.issues.is_empty());
    }
}
