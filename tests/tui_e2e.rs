//! End to end: the real `rwkv-reader` binary in a real terminal (tmux), on the sample documents
//! and the bundled demo model, with a private library and config in a temporary folder.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod sandbox;
mod tmux_harness;

use std::time::Duration;

use sandbox::{binary, project_root, Sandbox};
use tmux_harness::TmuxSession;

/// Generous: the first start loads the model in the dev profile on a busy 2-core machine.
const STARTUP: Duration = Duration::from_secs(60);
/// Reading the sample book (36 pages, ~21,000 tokens) takes ~10 s with the demo model here.
const READING: Duration = Duration::from_secs(300);
/// An answer: re-reading from a checkpoint plus up to 120 generated tokens.
const ANSWER: Duration = Duration::from_secs(180);
/// The sample book, as a PDF so that citations carry real page numbers.
const BOOK: &str = "sample-docs/the-keeper-of-tallow-point.pdf";

impl Sandbox {
    fn start(&self, args: &[&str], width: u16, height: u16) -> TmuxSession {
        TmuxSession::start(binary(), args, &self.env(), &project_root(), width, height)
    }

    fn start_with(
        &self,
        extra_env: &[(&'static str, String)],
        args: &[&str],
        width: u16,
        height: u16,
    ) -> TmuxSession {
        let mut env = self.env();
        env.extend_from_slice(extra_env);
        TmuxSession::start(binary(), args, &env, &project_root(), width, height)
    }
}

#[test]
fn opens_sample_docs_shows_the_library_and_model_then_quits_with_q() {
    let sandbox = Sandbox::new();
    let tui = sandbox.start(&["sample-docs/"], 100, 30);
    tui.wait_for("1 Library", STARTUP);
    // The model is named in the status bar while it loads and once it is loaded.
    tui.wait_until("the model in the status bar", STARTUP, |s| {
        s.contains("rwkv4-demo") || s.contains("demo model")
    });
    tui.keys(&["?"]);
    tui.wait_for("Keys", STARTUP);
    tui.keys(&["Escape"]);
    tui.wait_until("help closed", STARTUP, |s| !s.contains(" Keys "));
    tui.keys(&["q"]);
    assert_eq!(
        tui.wait_exit(STARTUP),
        0,
        "exit status; screen:\n{}",
        tui.screen()
    );
}

#[test]
fn a_panic_gives_the_terminal_back_before_it_is_reported() {
    let sandbox = Sandbox::new();
    let env = [("RWKV_READER_PANIC_AFTER_FIRST_FRAME", "1".to_string())];
    let tui = sandbox.start_with(&env, &[], 80, 24);
    assert_eq!(
        tui.wait_exit(STARTUP),
        101,
        "a panic exits with 101:\n{}",
        tui.screen()
    );
    let screen = tui.wait_for("panicking on purpose", STARTUP);
    assert!(
        !screen.contains("1 Library"),
        "the panic is printed on the main screen:\n{screen}"
    );
    // (tmux hides the cursor of a dead pane, so the cursor cannot be checked here.)
    let modes = tui.pane_format("#{alternate_on} #{mouse_any_flag} #{mouse_button_flag}");
    assert_eq!(modes, "0 0 0", "alternate screen off, mouse reporting off");
}

#[test]
fn a_broken_config_file_is_reported_before_the_terminal_is_touched() {
    let sandbox = Sandbox::new();
    if let Err(e) = std::fs::write(
        sandbox.dir.path().join("config.toml"),
        "[keys]\nquit = [\"hyper-q\"]\n",
    ) {
        panic!("config: {e}");
    }
    let output = std::process::Command::new(binary())
        .envs(sandbox.env())
        .current_dir(project_root())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => panic!("running {}: {e}", binary().display()),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("hyper-q") && stderr.contains("config.toml"),
        "the error names the key and the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A user's whole session: open a sample book, wait for reading to finish, ask a question, see an
/// answer with a page citation, open Summaries and jump to a section, quit — then start again
/// and see the library restored without re-reading.
#[test]
fn read_a_book_ask_jump_to_a_section_quit_and_resume_without_rereading() {
    let sandbox = Sandbox::new();
    let tui = sandbox.start(&[BOOK], 100, 30);

    // Reading finishes in the background; the Library shows the book as read.
    let screen = tui.wait_until("the book read to the end", READING, |s| {
        s.lines()
            .any(|l| l.contains("the-keeper-of-tallow-point.pdf") && l.contains("ready"))
    });
    assert!(screen.contains("36"), "the book has 36 pages:\n{screen}");

    // Open it, ask a question; the answer streams in with its evidence and provenance.
    tui.keys(&["Enter"]);
    tui.wait_for("page 1/36", STARTUP);
    tui.keys(&["a"]);
    tui.wait_for("> ", STARTUP);
    tui.type_text("Who kept the light at Tallow Point?");
    tui.keys(&["Enter"]);
    // The answer's provenance line ("… · re-read N tokens · M generated") comes when it is
    // done; the evidence lists the tokens re-read per passage as soon as the passages are found.
    let screen = tui.wait_for(" generated", ANSWER);
    assert!(screen.contains("re-read"), "{screen}");
    assert!(
        screen.contains("read by the model"),
        "the passages read are marked:\n{screen}"
    );
    assert!(
        screen.contains("Q: Who kept the light at Tallow Point?"),
        "{screen}"
    );
    assert!(
        screen.contains("demo model"),
        "the answer is labelled as the demo model's:\n{screen}"
    );
    let evidence: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("Evidence ("))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .collect();
    assert!(!evidence.is_empty(), "no evidence listed:\n{screen}");
    assert!(
        evidence.iter().all(|l| has_page_citation(l)),
        "every passage cites its pages:\n{}",
        evidence.join("\n")
    );

    // Summaries: the book's chapters; Enter on one shows its text in the Reader.
    tui.keys(&["4"]);
    tui.wait_for("Chapter 2: An Empty Tower", STARTUP);
    tui.keys(&["j", "j"]);
    let screen = tui.wait_until("Chapter 3 selected", STARTUP, |s| {
        s.lines()
            .any(|l| l.contains('▸') && l.contains("Chapter 3: The Logbook"))
    });
    assert!(
        screen.contains("pp.8–10"),
        "sections show their pages:\n{screen}"
    );
    tui.keys(&["Enter"]);
    let screen = tui.wait_until("the Reader at Chapter 3", STARTUP, |s| {
        s.contains("tallow-point.pdf — page")
            && s.contains("Chapter 3: The Logbook")
            && !s.contains('▸')
    });
    assert!(
        screen
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("page 7/36") || l.contains("page 8/36")),
        "{screen}"
    );

    tui.keys(&["q"]);
    assert_eq!(
        tui.wait_exit(STARTUP),
        0,
        "exit status; screen:\n{}",
        tui.screen()
    );
    drop(tui);

    // Started again without arguments: the library is there, and nothing is read again.
    let tui = sandbox.start(&[], 100, 30);
    let screen = tui.wait_for("Reading done: 0 read, 1 unchanged", READING);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("the-keeper-of-tallow-point.pdf") && l.contains("ready")),
        "{screen}"
    );
    // The earlier question is in the book's notes.
    tui.keys(&["Enter", "3"]);
    tui.wait_for("Who kept the light at Tallow Point?", STARTUP);
    tui.keys(&["q"]);
    assert_eq!(
        tui.wait_exit(STARTUP),
        0,
        "exit status; screen:\n{}",
        tui.screen()
    );
}

/// `p.12` or `pp.8–10` somewhere in the line.
fn has_page_citation(line: &str) -> bool {
    ["p.", "pp."].iter().any(|prefix| {
        line.match_indices(prefix)
            .any(|(i, _)| line[i + prefix.len()..].starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Keys come from the config file's `[keys]` table (the help shows them), and `e` writes the
/// open document's notes as Markdown into the configured folder.
#[test]
fn rebound_keys_and_export_follow_the_config_file() {
    let sandbox = Sandbox::new();
    let exports = sandbox.dir.path().join("exports");
    if let Err(e) = std::fs::create_dir_all(&exports) {
        panic!("exports dir: {e}");
    }
    let config = format!(
        "export_dir = \"{}\"\n[keys]\nquit = [\"x\"]\n",
        exports.display()
    );
    if let Err(e) = std::fs::write(sandbox.dir.path().join("config.toml"), config) {
        panic!("config: {e}");
    }
    let tui = sandbox.start(
        &["sample-docs/cases/order-on-motion-to-dismiss.txt"],
        100,
        30,
    );
    tui.wait_until("the order read", READING, |s| {
        s.lines()
            .any(|l| l.contains("order-on-motion-to-dismiss.txt") && l.contains("ready"))
    });
    tui.keys(&["e"]);
    let screen = tui.wait_for("Exported to", STARTUP);
    let file = exports.join("order-on-motion-to-dismiss.notes.md");
    let markdown = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        markdown.contains("order-on-motion-to-dismiss"),
        "{}:\n{markdown}\n{screen}",
        file.display()
    );
    // q is no longer quit: the app is still there to show its help, which lists x.
    tui.keys(&["q", "?"]);
    let help = tui.wait_for(" Keys ", STARTUP);
    assert!(
        help.lines()
            .any(|l| l.contains("quit (reading resumes") && l.contains("│x ")),
        "help shows the rebound key:\n{help}"
    );
    // Esc and x in one write would read as alt-x: wait for the help to close first.
    tui.keys(&["Escape"]);
    tui.wait_until("help closed", STARTUP, |s| !s.contains(" Keys "));
    tui.keys(&["x"]);
    assert_eq!(
        tui.wait_exit(STARTUP),
        0,
        "exit status; screen:\n{}",
        tui.screen()
    );
}
