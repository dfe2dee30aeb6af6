//! A folder's own list of what not to read: `.rwkv-reader-ignore`, one pattern a line.
//!
//! A folder of case files often holds things that are not documents of the case — an index the
//! clerk wrote, the folder's own README, drafts. Listing them here keeps them out of the library
//! without moving them. A pattern names a file or folder relative to the folder that holds the
//! ignore file: `README.md`, `drafts`, `*.bak`, `notes/*.txt`. `*` matches any run of characters
//! but `/`, `?` one character; a pattern without `/` matches a name at any depth below that
//! folder. Lines starting with `#` and blank lines are skipped. A path named explicitly on the
//! command line is always read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The file name a folder's ignore patterns are read from.
pub const IGNORE_FILE_NAME: &str = ".rwkv-reader-ignore";

/// Ignore patterns of the folders met during one walk, read once per folder.
#[derive(Debug, Default)]
pub(crate) struct IgnoreRules {
    patterns_by_folder: HashMap<PathBuf, Vec<String>>,
}

impl IgnoreRules {
    /// Whether `path` (found below `root`) is listed in the ignore file of `root` or of any
    /// folder between `root` and `path`.
    pub(crate) fn is_ignored(&mut self, root: &Path, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(root) else {
            return false;
        };
        let mut folder = root.to_path_buf();
        let components: Vec<&str> = relative.iter().filter_map(|c| c.to_str()).collect();
        for depth in 0..components.len() {
            let below = &components[depth..];
            let patterns = self.patterns_of(&folder);
            if patterns.iter().any(|p| pattern_matches(p, below)) {
                return true;
            }
            folder.push(components[depth]);
        }
        false
    }

    fn patterns_of(&mut self, folder: &Path) -> &[String] {
        self.patterns_by_folder
            .entry(folder.to_path_buf())
            .or_insert_with(|| read_patterns(&folder.join(IGNORE_FILE_NAME)))
    }
}

/// The patterns in an ignore file; none when it is missing or unreadable (an unreadable ignore
/// file must not stop a folder from being read).
fn read_patterns(file: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.trim_matches('/').to_string())
        .filter(|line| !line.is_empty())
        .collect()
}

/// Whether `pattern` names the path whose components (relative to the ignore file's folder) are
/// `components`.
fn pattern_matches(pattern: &str, components: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    if parts.len() == 1 {
        // A bare name: the last component at any depth.
        return components
            .last()
            .is_some_and(|name| glob_matches(parts[0], name));
    }
    parts.len() == components.len()
        && parts
            .iter()
            .zip(components)
            .all(|(part, name)| glob_matches(part, name))
}

/// `*` and `?` wildcards over one path component.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            last_star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = last_star {
            p = star_p + 1;
            n = star_n + 1;
            last_star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_within_one_name() {
        assert!(glob_matches("README.md", "README.md"));
        assert!(!glob_matches("README.md", "README.mdx"));
        assert!(glob_matches("*.bak", "brief.bak"));
        assert!(glob_matches("draft-?.txt", "draft-2.txt"));
        assert!(!glob_matches("draft-?.txt", "draft-12.txt"));
        assert!(glob_matches("*a*b*", "xxaxxbxx"));
        assert!(!glob_matches("*a*b", "xxaxxbxxc"));
        assert!(glob_matches("*", ""));
    }

    #[test]
    fn a_bare_name_matches_at_any_depth_and_a_path_only_where_it_points() {
        assert!(pattern_matches("notes.txt", &["notes.txt"]));
        assert!(pattern_matches("notes.txt", &["sub", "notes.txt"]));
        assert!(pattern_matches("drafts", &["drafts"]));
        assert!(pattern_matches("sub/*.txt", &["sub", "a.txt"]));
        assert!(!pattern_matches("sub/*.txt", &["other", "a.txt"]));
        assert!(!pattern_matches("sub/*.txt", &["x", "sub", "a.txt"]));
    }

    #[test]
    fn rules_come_from_the_folder_and_its_ancestors_up_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(
            root.join(IGNORE_FILE_NAME),
            "# the folder's notes\nREADME.md\n",
        )
        .unwrap();
        std::fs::write(root.join("sub").join(IGNORE_FILE_NAME), "*.bak\n").unwrap();
        let mut rules = IgnoreRules::default();
        assert!(rules.is_ignored(root, &root.join("README.md")));
        assert!(rules.is_ignored(root, &root.join("sub/README.md")));
        assert!(rules.is_ignored(root, &root.join("sub/x.bak")));
        assert!(!rules.is_ignored(root, &root.join("x.bak")));
        assert!(!rules.is_ignored(root, &root.join("complaint.txt")));
        // Outside the walk's root nothing is ignored.
        assert!(!rules.is_ignored(&root.join("sub"), &root.join("README.md")));
    }
}
