//! Every screen rendered into a `TestBackend` and compared with an insta snapshot, in empty,
//! loading, error and full states and at several terminal sizes, down to 60×15; plus a sweep of
//! tiny and odd sizes that must not panic.

use insta::assert_snapshot;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::draw;
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::state::*;

fn render(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    if let Err(e) = terminal.draw(|frame| draw(frame, state)) {
        panic!("draw: {e}");
    }
    terminal
}

/// A state at a given size (the Reader scrolls by the viewport, so it must match the backend).
fn base(width: u16, height: u16) -> AppState {
    let mut state = AppState::new(KeyMap::default().help_rows());
    state.apply(Action::Resize { width, height });
    state.model = ModelStatus::Ready(ModelBadge {
        name: "rwkv4-demo".into(),
        n_params: 5_123_456,
        precision: "f32".into(),
        device: "cpu".into(),
        is_demo: true,
    });
    state.library.location = "/home/ada/.local/share/rwkv-reader/library".into();
    state.library.loaded = true;
    state
}

fn docs() -> Vec<DocEntry> {
    vec![
        DocEntry {
            id: "d1".into(),
            name: "the-lighthouse-keeper.pdf".into(),
            path: "sample-docs/the-lighthouse-keeper.pdf".into(),
            status: DocStatus::Ready,
            pages: 24,
            tokens: 11_873,
            checkpoints: 3,
            checkpoint_bytes: 210_432,
            checkpoint_every_chunks: 8,
            warnings: vec![],
        },
        DocEntry {
            id: "d2".into(),
            name: "cases/03-motion-to-dismiss.pdf".into(),
            path: "sample-docs/cases/03-motion-to-dismiss.pdf".into(),
            status: DocStatus::Reading {
                tokens_read: 1_200,
                tokens_total: 4_000,
            },
            pages: 6,
            tokens: 1_200,
            checkpoints: 0,
            checkpoint_bytes: 0,
            checkpoint_every_chunks: 0,
            warnings: vec!["page 4 has no text layer (scanned?)".into()],
        },
        DocEntry {
            id: "d3".into(),
            name: "cases/encrypted-exhibit.pdf".into(),
            path: "sample-docs/cases/encrypted-exhibit.pdf".into(),
            status: DocStatus::Failed {
                reason: "encrypted PDF: a password is needed".into(),
            },
            ..DocEntry::default()
        },
        DocEntry {
            id: "d4".into(),
            name: "cases/notes.txt".into(),
            path: "sample-docs/cases/notes.txt".into(),
            status: DocStatus::Pending,
            ..DocEntry::default()
        },
    ]
}

const BOOK: &str = "Chapter 1: The Light\n\nThe keeper climbed the ninety steps every evening. The lamp had to be lit before the ships came round the point, and the keeper had never once been late.\n\nChapter 2: The Storm\n\nOn the third night the storm broke the glass. The keeper carried oil up the steps in the dark, and the light burned until morning.\n\nChapter 3: The Letter\n\nA letter came from the court in the spring. The keeper read it twice and put it in the drawer with the logbook.";

fn book() -> DocumentText {
    let page2 = BOOK.find("Chapter 2").unwrap_or(0);
    let page3 = BOOK.find("Chapter 3").unwrap_or(0);
    DocumentText {
        doc_id: "d1".into(),
        title: "the-lighthouse-keeper.pdf".into(),
        text: BOOK.into(),
        pages: vec![
            PageStart { page: 1, offset: 0 },
            PageStart {
                page: 2,
                offset: page2,
            },
            PageStart {
                page: 3,
                offset: page3,
            },
        ],
    }
}

fn library_state(width: u16, height: u16) -> AppState {
    let mut state = base(width, height);
    state.library.docs = docs();
    state.library.selected = 2;
    state
}

fn reader_state(width: u16, height: u16) -> AppState {
    let mut state = library_state(width, height);
    state.library.selected = 0;
    state.reader.doc = Some(book());
    state.screen = Screen::Reader;
    state
}

fn evidence() -> Vec<Evidence> {
    let storm = BOOK.find("On the third night").unwrap_or(0);
    let letter = BOOK.find("A letter came").unwrap_or(0);
    vec![
        Evidence {
            doc_id: "d1".into(),
            doc_name: "the-lighthouse-keeper.pdf".into(),
            pages: (2, 2),
            range: storm..storm + 60,
            snippet: "On the third night the storm broke the glass".into(),
            supporting_sentence: String::new(),
            supporting_range: None,
            read: true,
            provenance: "read by the model · 1st of 1 · 212 tokens re-read · score 7.5".into(),
        },
        Evidence {
            doc_id: "d1".into(),
            doc_name: "the-lighthouse-keeper.pdf".into(),
            pages: (3, 3),
            range: letter..letter + 40,
            snippet: "A letter came from the court in the spring".into(),
            supporting_sentence: String::new(),
            supporting_range: None,
            read: false,
            provenance: "also matched · score 3.1".into(),
        },
    ]
}

fn ask_state(width: u16, height: u16) -> AppState {
    let mut state = reader_state(width, height);
    state.screen = Screen::Ask;
    state.ask.entries = vec![
        QaEntry {
            question: "What broke the glass?".into(),
            answer: "The storm on the third night broke the glass of the lamp (p.2).".into(),
            evidence: evidence(),
            note: None,
            provenance: "checkpoint 1 (p.2) · 212 tokens re-read · 31 generated".into(),
            status: GenerationStatus::Done,
        },
        QaEntry {
            question: "How many steps did the keeper climb?".into(),
            answer: "Ninety.".into(),
            evidence: vec![],
            note: None,
            provenance: String::new(),
            status: GenerationStatus::Done,
        },
    ];
    state
}

fn summaries_state(width: u16, height: u16) -> AppState {
    let mut state = reader_state(width, height);
    state.screen = Screen::Summaries;
    state.summaries.loaded = true;
    let titles = [
        "Chapter 1: The Light",
        "Chapter 2: The Storm",
        "Chapter 3: The Letter",
    ];
    state.summaries.sections = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let start = BOOK.find(title).unwrap_or(0);
            SectionSummary {
                index: i as u32,
                title: title.to_string(),
                pages: (i as u32 + 1, i as u32 + 1),
                range: start..start + title.len(),
                summary: if i < 2 {
                    format!("Summary of {title}: the keeper keeps the light.")
                } else {
                    String::new()
                },
                provenance: format!("from checkpoint {i}"),
                status: if i < 2 {
                    GenerationStatus::Done
                } else {
                    GenerationStatus::Generating
                },
            }
        })
        .collect();
    state.summaries.selected = 1;
    state
}

fn progress() -> ReadingProgress {
    ReadingProgress {
        file: "cases/03-motion-to-dismiss.pdf".into(),
        doc_id: "d2".into(),
        doc_tokens_read: 1_200,
        doc_tokens_total: 4_000,
        file_index: 2,
        files_total: 9,
        pages_done: 2,
        pages_total: 6,
        tokens_done: 13_073,
        tokens_total: 40_000,
        tokens_per_second: 812.4,
        eta_seconds: Some(33),
        checkpoints_written: 3,
        paused: false,
    }
}

const SIZES: [(u16, u16); 3] = [(60, 15), (80, 24), (120, 40)];

macro_rules! snapshot_sizes {
    ($name:literal, $make:expr) => {
        for (w, h) in SIZES {
            let state = $make(w, h);
            assert_snapshot!(format!("{}_{w}x{h}", $name), render(&state, w, h).backend());
        }
    };
}

#[test]
fn library_with_documents() {
    snapshot_sizes!("library", library_state);
}

/// Far down a long library the selected row is at the bottom of the table with the rows before
/// it above (only the visible rows are built; the snapshot was taken with all rows built).
#[test]
fn library_scrolled_far_down() {
    let mut state = library_state(60, 15);
    let template = docs().first().cloned().unwrap_or_default();
    state.library.docs = (0..500)
        .map(|i| DocEntry {
            id: format!("c{i}"),
            name: format!("cases/{i:03}-exhibit.pdf"),
            ..template.clone()
        })
        .collect();
    state.library.selected = 321;
    assert_snapshot!("library_scrolled_60x15", render(&state, 60, 15).backend());
}

#[test]
fn library_empty_loading_and_error() {
    let mut state = base(60, 15);
    assert_snapshot!("library_empty_60x15", render(&state, 60, 15).backend());
    state.library.loaded = false;
    state.model = ModelStatus::Loading {
        file_name: "rwkv4-demo.safetensors".into(),
    };
    assert_snapshot!("library_opening_60x15", render(&state, 60, 15).backend());
    state.library.error = Some("library in use by another rwkv-reader (pid 4242)".into());
    state.model = ModelStatus::Failed {
        reason: "no such file".into(),
    };
    assert_snapshot!("library_error_60x15", render(&state, 60, 15).backend());
}

#[test]
fn library_remove_confirmation() {
    let mut state = library_state(80, 24);
    state.apply(Action::Remove);
    assert_snapshot!(
        "library_remove_pending_80x24",
        render(&state, 80, 24).backend()
    );
}

#[test]
fn progress_panel_tall_and_short() {
    snapshot_sizes!("progress", |w, h| {
        let mut state = library_state(w, h);
        state.reading = Some(progress());
        state
    });
}

/// While a question is answered, background reading pauses and its panel says so.
#[test]
fn progress_panel_paused_for_a_question() {
    let mut state = ask_state(80, 24);
    state.ask.entries[0].status = GenerationStatus::Generating;
    state.reading = Some(ReadingProgress {
        paused: true,
        ..progress()
    });
    assert_snapshot!("progress_paused_80x24", render(&state, 80, 24).backend());
    let mut short = ask_state(60, 15);
    short.reading = state.reading.clone();
    assert_snapshot!("progress_paused_60x15", render(&short, 60, 15).backend());
}

#[test]
fn reader_with_pages_and_search_hits() {
    snapshot_sizes!("reader_search", |w, h| {
        let mut state = reader_state(w, h);
        state.apply(Action::Search);
        for c in "keeper".chars() {
            state.apply(Action::InputChar(c));
        }
        state.apply(Action::InputSubmit);
        state.apply(Action::NextHit);
        state
    });
}

#[test]
fn search_hits_are_highlighted_and_the_current_one_stands_out() {
    use ratatui::style::Color;
    let mut state = reader_state(80, 24);
    state.apply(Action::Search);
    for c in "keeper".chars() {
        state.apply(Action::InputChar(c));
    }
    state.apply(Action::InputSubmit);
    let terminal = render(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    let mut backgrounds = Vec::new();
    // The text area only: inside the border, right of the page gutter (the title and the status
    // bar mention the query too).
    for y in 2..22 {
        let cells: Vec<&str> = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
        for x in 7..cells.len().saturating_sub(5) {
            if cells[x..x + 6].concat() == "keeper" {
                backgrounds.push(buffer[(x as u16, y)].bg);
            }
        }
    }
    assert_eq!(backgrounds.len(), 4, "every hit on screen");
    assert_eq!(backgrounds[0], Color::LightMagenta, "the current hit");
    assert!(
        backgrounds[1..].iter().all(|bg| *bg == Color::Yellow),
        "{backgrounds:?}"
    );
}

#[test]
fn reader_search_line_open() {
    let mut state = reader_state(60, 15);
    state.apply(Action::Search);
    for c in "stor".chars() {
        state.apply(Action::InputChar(c));
    }
    assert_snapshot!(
        "reader_search_typing_60x15",
        render(&state, 60, 15).backend()
    );
}

#[test]
fn reader_empty_loading_and_error() {
    let mut state = base(60, 15);
    state.screen = Screen::Reader;
    assert_snapshot!("reader_none_60x15", render(&state, 60, 15).backend());
    state.library.docs = docs();
    state.reader.loading = Some("d1".into());
    assert_snapshot!("reader_loading_60x15", render(&state, 60, 15).backend());
    state.reader.loading = None;
    state.reader.error = Some("the extracted text is missing: re-read the document".into());
    assert_snapshot!("reader_error_60x15", render(&state, 60, 15).backend());
}

#[test]
fn hostile_text_is_drawn_inert() {
    let mut state = reader_state(60, 15);
    let hostile = "Title\u{1b}]0;pwned\u{7}\nred \u{1b}[31mtext\u{1b}[0m\r\nbell\u{7} csi\u{9b}2J tab\there\nrtl \u{202e}evil";
    state.reader.doc = Some(DocumentText {
        text: hostile.into(),
        title: "x\u{1b}[2Jy".into(),
        ..book()
    });
    state.library.docs[0].name = "evil\u{1b}[2J.txt".into();
    state.message = Some(StatusMessage {
        text: "msg\u{1b}[5m".into(),
        is_error: false,
    });
    let terminal = render(&state, 60, 15);
    let shown = terminal.backend().to_string();
    assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}') && !shown.contains('\u{9b}'));
    assert_snapshot!("reader_hostile_60x15", terminal.backend());
    state.screen = Screen::Library;
    let shown = render(&state, 60, 15).backend().to_string();
    assert!(shown.contains("evil␛[2J.txt"), "{shown}");
}

#[test]
fn ask_with_evidence_and_history() {
    snapshot_sizes!("ask", ask_state);
}

#[test]
fn ask_streaming_and_typing() {
    let mut state = ask_state(80, 24);
    state.apply(Action::Ask);
    for c in "Who wrote the letter?".chars() {
        state.apply(Action::InputChar(c));
    }
    assert_snapshot!("ask_typing_80x24", render(&state, 80, 24).backend());
    let effects = state.apply(Action::InputSubmit);
    let job = effects.iter().find_map(|e| match e {
        crate::tui::messages::Effect::Ask { job, .. } => Some(*job),
        _ => None,
    });
    let Some(job) = job else {
        panic!("no ask effect in {effects:?}")
    };
    use crate::tui::messages::WorkerEvent;
    state.on_event(WorkerEvent::AskEvidence {
        job,
        evidence: evidence()[1..].to_vec(),
        note: Some("still reading: answered from pages 1–3 of 24".into()),
    });
    state.on_event(WorkerEvent::AskText {
        job,
        text: "The court".into(),
    });
    assert_snapshot!("ask_streaming_80x24", render(&state, 80, 24).backend());
}

/// A question sent while summaries are being written waits, and says so in the answer pane
/// and the status line.
#[test]
fn ask_queued_behind_summaries() {
    let mut state = ask_state(80, 24);
    state.summaries.job = Some(99);
    state.apply(Action::Ask);
    for c in "Who wrote the letter?".chars() {
        state.apply(Action::InputChar(c));
    }
    state.apply(Action::InputSubmit);
    assert_snapshot!("ask_queued_80x24", render(&state, 80, 24).backend());
}

#[test]
fn ask_empty_and_failed() {
    let mut state = base(60, 15);
    state.screen = Screen::Ask;
    assert_snapshot!("ask_empty_library_60x15", render(&state, 60, 15).backend());
    let mut state = reader_state(60, 15);
    state.screen = Screen::Ask;
    assert_snapshot!("ask_no_questions_60x15", render(&state, 60, 15).backend());
    state.ask.entries.push(QaEntry {
        question: "Why?".into(),
        status: GenerationStatus::Failed("the index could not be read: permission denied".into()),
        ..QaEntry::default()
    });
    assert_snapshot!("ask_failed_60x15", render(&state, 60, 15).backend());
}

#[test]
fn summaries_list_and_text() {
    snapshot_sizes!("summaries", summaries_state);
}

#[test]
fn summaries_empty_states() {
    let mut state = base(60, 15);
    state.screen = Screen::Summaries;
    assert_snapshot!("summaries_no_doc_60x15", render(&state, 60, 15).backend());
    let mut state = reader_state(60, 15);
    state.screen = Screen::Summaries;
    state.summaries.loaded = true;
    assert_snapshot!("summaries_none_60x15", render(&state, 60, 15).backend());
    state.summaries.job = Some(7);
    assert_snapshot!("summaries_finding_60x15", render(&state, 60, 15).backend());
}

#[test]
fn help_lists_every_key() {
    let mut state = library_state(80, 40);
    state.apply(Action::Help);
    let shown = render(&state, 80, 40).backend().to_string();
    for action in Action::BINDABLE {
        assert!(
            shown.contains(action.description()),
            "help lacks {action:?}"
        );
    }
    assert_snapshot!("help_80x40", render(&state, 80, 40).backend());
    let mut small = library_state(60, 15);
    small.apply(Action::Help);
    small.apply(Action::PageDown);
    assert_snapshot!("help_scrolled_60x15", render(&small, 60, 15).backend());
}

#[test]
fn status_bar_names_the_model_in_every_state() {
    let mut state = library_state(80, 24);
    let line = |state: &AppState| {
        let terminal = render(state, 80, 24);
        let text = terminal.backend().to_string();
        text.lines().last().unwrap_or_default().to_string()
    };
    assert!(
        line(&state).contains("rwkv4-demo · 5.1M · f32 · cpu · demo model"),
        "{}",
        line(&state)
    );
    state.model = ModelStatus::Ready(ModelBadge {
        name: "RWKV-4-Pile-1B5".into(),
        n_params: 1_515_106_304,
        precision: "q8_0".into(),
        device: "cuda:0".into(),
        is_demo: false,
    });
    assert!(line(&state).contains("RWKV-4-Pile-1B5 · 1.5B · q8_0 · cuda:0"));
    assert!(!line(&state).contains("demo"));
    state.model = ModelStatus::Loading {
        file_name: "RWKV-4-Pile-1B5.pth".into(),
    };
    assert!(line(&state).contains("loading model RWKV-4-Pile-1B5.pth"));
}

#[test]
fn no_screen_panics_at_any_size() {
    let makers: [fn(u16, u16) -> AppState; 5] = [
        library_state,
        reader_state,
        ask_state,
        summaries_state,
        |w, h| {
            let mut s = library_state(w, h);
            s.reading = Some(progress());
            s.apply(Action::Help);
            s
        },
    ];
    for w in [
        0u16, 1, 2, 3, 5, 8, 13, 20, 33, 59, 60, 61, 99, 100, 101, 157,
    ] {
        for h in [0u16, 1, 2, 3, 4, 5, 7, 10, 14, 15, 16, 19, 20, 21, 33] {
            for make in makers {
                let mut state = make(w, h);
                for action in [Action::PageDown, Action::Bottom, Action::Down, Action::Up] {
                    state.apply(action);
                }
                render(&state, w.max(1), h.max(1));
            }
        }
    }
}

#[test]
fn the_supporting_sentence_is_highlighted_in_the_evidence_list() {
    let mut state = ask_state(100, 30);
    for entry in &mut state.ask.entries {
        entry.evidence = evidence();
        entry.evidence[0].supporting_sentence = "The storm broke the lamp glass.".into();
    }
    let terminal = render(&state, 100, 30);
    let buffer = terminal.backend().buffer();
    let found = (0..buffer.area.height).find_map(|y| {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        // Cells, not bytes: the borders are multi-byte characters.
        row.find("The storm broke the lamp glass.")
            .map(|at| (row[..at].chars().count() as u16, y))
    });
    let Some((x, y)) = found else {
        panic!("the supporting sentence is not drawn");
    };
    let cell = &buffer[(x, y)];
    assert_eq!(cell.fg, ratatui::style::Color::Yellow);
    assert!(cell.modifier.contains(ratatui::style::Modifier::BOLD));
    // The other passage has none: its snippet is drawn plainly.
    let plain = (0..buffer.area.height).any(|y| {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        row.contains("A letter came from the court")
    });
    assert!(plain);
}
