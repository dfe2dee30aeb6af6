//! The command line a script relies on, with the real binary and the demo model: `ingest`'s exit
//! status and JSON counts, read-only commands refusing a folder without a library, names printed
//! inert, `check`/`check --repair` on a damaged library, `search` warning about what it left out,
//! and Ctrl-C / SIGTERM during reading saving the state from before the chunk.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod sandbox;

use sandbox::Sandbox;
use serde_json::Value;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A small text file in the sandbox.
fn write(sandbox: &Sandbox, name: &str, text: &str) -> String {
    let path = sandbox.path(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const PROSE: &str = "The keeper trimmed the lamp at dusk. The supply boat came on Thursdays.\n\n\
                     The inspector wrote that the lighthouse lens was cracked.\n";

#[test]
fn ingest_exit_status_and_json_counts_tell_a_script_what_happened() {
    let sandbox = Sandbox::new();
    let good = write(&sandbox, "good.txt", PROSE);
    let empty = write(&sandbox, "empty.txt", "");
    let missing = sandbox.path("missing.txt").to_string_lossy().into_owned();

    let out = sandbox.run(&["ingest", &good, "--json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));

    let out = sandbox.run(&["ingest", &good, &empty, &missing, "--json"]);
    assert_eq!(code(&out), Some(1), "some input failed: {}", stderr(&out));
    let summary: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let files = summary["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{summary}");
    assert_eq!(summary["totals"]["files_total"], 3, "{summary}");
    let failed = files.iter().filter(|f| f["status"] == "failed").count();
    assert_eq!(failed, 2, "{summary}");

    // Every input failing is a failure too, not "0 ingested" and success.
    let out = sandbox.run(&["ingest", &missing]);
    assert_eq!(code(&out), Some(1), "{}", stdout(&out));

    // Usage errors and library errors: 2.
    assert_eq!(code(&sandbox.run(&["ingest"])), Some(2));
    let not_a_dir = write(&sandbox, "plain-file", "x");
    let out = sandbox.run(&["ingest", &good, "--library", &not_a_dir]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    let help = stdout(&sandbox.run(&["ingest", "--help"]));
    assert!(help.contains("Exit status"), "{help}");
}

#[test]
fn commands_that_only_read_refuse_a_folder_without_a_library() {
    let sandbox = Sandbox::new();
    let nowhere = sandbox.path("no-such-library");
    let nowhere_str = nowhere.to_string_lossy().into_owned();
    for args in [
        vec!["search", "x"],
        vec!["ask", "Who?"],
        vec!["summarize"],
        vec!["export", "--doc", "x"],
        vec!["check"],
    ] {
        let mut args = args.clone();
        args.extend(["--library", &nowhere_str]);
        let out = sandbox.run(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&out).contains(&nowhere_str) && stderr(&out).contains("no library"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!nowhere.exists(), "{args:?} created {nowhere_str}");
    }
}

#[test]
fn file_names_with_control_characters_are_printed_inert() {
    let sandbox = Sandbox::new();
    let name = write(&sandbox, "evil\nname\t\u{1b}[2J\u{7}.txt", PROSE);
    let out = sandbox.run(&["ingest", &name]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    let row = table
        .lines()
        .find(|l| l.contains("evil"))
        .unwrap_or_else(|| panic!("no row: {table}"));
    assert!(
        row.contains("evil\u{240a}name\u{2409}\u{241b}[2J\u{2407}.txt"),
        "{row:?}"
    );
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'));

    let out = sandbox.run(&["search", "lighthouse"]);
    let hits = stdout(&out);
    assert!(hits.contains("evil\u{240a}name"), "{hits}");
    assert!(!hits.contains("evil\nname"), "{hits}");
}

#[test]
fn check_finds_a_deleted_index_search_warns_and_repair_rebuilds_it() {
    let sandbox = Sandbox::new();
    let good = write(&sandbox, "lighthouse.txt", PROSE);
    assert_eq!(code(&sandbox.run(&["ingest", &good])), Some(0));
    let out = sandbox.run(&["check"]);
    assert_eq!(code(&out), Some(0), "{}{}", stdout(&out), stderr(&out));

    std::fs::remove_dir_all(sandbox.path("library/index")).unwrap();
    let out = sandbox.run(&["search", "lighthouse", "--json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let result: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result["hits"].as_array().map(Vec::len), Some(0));
    assert!(
        result["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "{result}"
    );
    let out = sandbox.run(&["search", "lighthouse"]);
    assert!(stdout(&out).contains("Warning:"), "{}", stdout(&out));

    let out = sandbox.run(&["check", "--json"]);
    assert_eq!(code(&out), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["problems"][0]["part"], "index", "{report}");
    assert_eq!(report["problems"][0]["remedy"]["action"], "rebuild-index");

    let out = sandbox.run(&["check", "--repair"]);
    assert_eq!(code(&out), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("repaired"), "{}", stdout(&out));
    let out = sandbox.run(&["search", "lighthouse", "--json"]);
    let result: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result["hits"].as_array().map(Vec::len), Some(1), "{result}");
    assert_eq!(result["warnings"].as_array().map(Vec::len), Some(0));
}

/// A text long enough that the demo model reads it for many seconds.
fn long_text() -> String {
    let mut s = String::new();
    for i in 0..6000 {
        s.push_str(&format!(
            "Entry {i}. The keeper logged the weather, the oil and the passing ships; \
             on day {i} the wind was from the north-west and the lamp burned clear.\n\n"
        ));
    }
    s
}

/// Starts `ingest` of a long file, waits until reading is under way (a status line with a
/// reading rate on the piped stderr), sends `signal`, and returns the exit status and stdout.
fn interrupt_reading(sandbox: &Sandbox, signal: i32) -> (Option<i32>, String) {
    let book = write(sandbox, "long.txt", &long_text());
    let mut child = Command::new(sandbox::binary())
        .args(["ingest", &book, "--checkpoint-every", "100000"])
        .current_dir(sandbox::project_root())
        .envs(sandbox.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let reading = line.contains("tok/s") && !line.contains(" 0 tok/s");
        seen.push(line);
        if reading {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|l| l.contains("tok/s")),
        "no reading status line: {seen:?}"
    );
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with the pid of our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The checkpoint files of the library, by name.
fn checkpoint_names(sandbox: &Sandbox) -> Vec<String> {
    let mut names = Vec::new();
    let root = sandbox.path("library/checkpoints");
    for model in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for doc in std::fs::read_dir(model.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            for f in std::fs::read_dir(doc.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                names.push(f.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names
}

#[test]
fn sigint_and_sigterm_stop_reading_and_save_the_state_before_the_chunk() {
    for (signal, expected) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let sandbox = Sandbox::new();
        let (status, table) = interrupt_reading(&sandbox, signal);
        assert_eq!(status, Some(expected), "{table}");
        assert!(table.contains("interrupted"), "{table}");
        // With checkpoints 100,000 chunks apart, the only file is the one saved on the signal.
        let names = checkpoint_names(&sandbox);
        assert_eq!(names.len(), 1, "{names:?}");
        assert_ne!(names[0], "00000000.ckpt", "{names:?}");
        let out = sandbox.run(&["check"]);
        // Reading is incomplete (that is what an interruption is); nothing is damaged.
        assert!(!stdout(&out).contains("checksum"), "{}", stdout(&out));
    }
}
