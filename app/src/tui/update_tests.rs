//! The app driven headless by actions, with the workers' part played by plain events: what a
//! key does on each screen, which work it asks for, and that late reports of replaced jobs are
//! dropped.

use super::action::Action;
use super::keymap::KeyMap;
use super::messages::{Effect, WorkerEvent};
use super::state::*;

fn doc(id: &str, name: &str) -> DocEntry {
    DocEntry {
        id: id.into(),
        name: name.into(),
        path: format!("/docs/{name}"),
        status: DocStatus::Ready,
        ..DocEntry::default()
    }
}

/// 100 numbered lines, each "line N: the court ..." (a new page every 10 lines).
fn long_text() -> DocumentText {
    let mut text = String::new();
    let mut pages = Vec::new();
    for i in 0..100 {
        if i % 10 == 0 {
            pages.push(PageStart {
                page: i / 10 + 1,
                offset: text.len(),
            });
        }
        text.push_str(&format!("line {i}: the court heard the matter\n"));
    }
    DocumentText {
        doc_id: "a".into(),
        title: "a.txt".into(),
        text,
        pages,
    }
}

fn ready_app() -> AppState {
    let mut state = AppState::new(KeyMap::default().help_rows());
    state.apply(Action::Resize {
        width: 80,
        height: 24,
    });
    state.on_event(WorkerEvent::ModelLoaded(ModelBadge {
        name: "m".into(),
        n_params: 1,
        precision: "f32".into(),
        device: "cpu".into(),
        is_demo: true,
    }));
    state.on_event(WorkerEvent::LibraryListed {
        location: "/lib".into(),
        docs: vec![doc("a", "a.txt"), doc("b", "b.txt")],
    });
    state
}

fn open_a(state: &mut AppState) {
    let effects = state.apply(Action::Select);
    assert_eq!(effects, vec![Effect::OpenDocument { doc_id: "a".into() }]);
    assert_eq!(state.screen, Screen::Reader);
    state.on_event(WorkerEvent::DocumentLoaded(long_text()));
    state.on_event(WorkerEvent::NotesLoaded {
        doc_id: "a".into(),
        history: vec![],
        sections: vec![],
    });
}

fn type_line(state: &mut AppState, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        state.apply(Action::InputChar(c));
    }
    state.apply(Action::InputSubmit)
}

fn ask_job(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Ask { job, .. } => Some(*job),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Ask effect in {effects:?}"))
}

#[test]
fn library_moves_and_opens_documents() {
    let mut state = ready_app();
    state.apply(Action::Down);
    state.apply(Action::Down);
    assert_eq!(
        state.library.selected, 1,
        "selection stops at the last document"
    );
    state.apply(Action::Top);
    open_a(&mut state);
    assert_eq!(
        state.reader.doc.as_ref().map(|d| d.doc_id.as_str()),
        Some("a")
    );
    // Opening the open document again asks for nothing.
    state.apply(Action::ShowLibrary);
    assert_eq!(state.apply(Action::Select), vec![]);
}

#[test]
fn reader_scrolls_by_rows_and_pages_and_stops_at_the_end() {
    let mut state = ready_app();
    open_a(&mut state);
    let text = long_text().text;
    state.apply(Action::Down);
    assert_eq!(
        state.reader.top_offset,
        text.find("line 1:").unwrap_or(usize::MAX)
    );
    state.apply(Action::PageDown);
    let top = state.reader.top_offset;
    // 20 text rows at 80x24: a page keeps one row of overlap.
    assert!(
        text[top..].starts_with("line 20:"),
        "a page moves by rows: {:?}",
        &text[top..top + 8]
    );
    state.apply(Action::Bottom);
    let bottom = state.reader.top_offset;
    state.apply(Action::Down);
    state.apply(Action::ScrollDown);
    assert_eq!(
        state.reader.top_offset, bottom,
        "no scrolling past the last screen"
    );
    state.apply(Action::Top);
    assert_eq!(state.reader.top_offset, 0);
}

#[test]
fn search_finds_highlights_and_cycles_hits() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Search);
    assert!(state.input.is_some());
    type_line(&mut state, "LINE 3");
    let hits = state.reader.search.hits.clone();
    // "line 3:" and "line 30".."line 39".
    assert_eq!(hits.len(), 11);
    assert_eq!(state.reader.search.current, Some(0));
    state.apply(Action::PrevHit);
    assert_eq!(
        state.reader.search.current,
        Some(10),
        "N wraps to the last hit"
    );
    state.apply(Action::NextHit);
    state.apply(Action::NextHit);
    assert_eq!(state.reader.search.current, Some(1));
    let focus = state.reader.focus.clone().unwrap_or_default();
    assert_eq!(focus, hits[1]);
    // Esc clears the highlights, a second Esc goes back to the Library.
    state.apply(Action::Back);
    assert!(state.reader.search.hits.is_empty());
    state.apply(Action::Back);
    assert_eq!(state.screen, Screen::Library);
}

#[test]
fn text_lines_take_letters_and_esc_closes_them() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Search);
    state.apply(Action::InputChar('q'));
    assert!(!state.should_quit, "q is text inside a line");
    state.apply(Action::Paste("ab\ncd".into()));
    state.apply(Action::InputBackspace);
    assert_eq!(state.input.as_ref().map(|l| l.text.as_str()), Some("qab c"));
    state.apply(Action::InputDeleteWord);
    assert_eq!(state.input.as_ref().map(|l| l.text.as_str()), Some("qab "));
    state.apply(Action::Back);
    assert!(state.input.is_none());
    state.apply(Action::Quit);
    assert!(state.should_quit);
}

#[test]
fn a_question_streams_in_and_its_evidence_jumps_into_the_reader() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Ask);
    assert_eq!(state.screen, Screen::Ask);
    let effects = type_line(&mut state, "Who heard it?");
    let job = ask_job(&effects);
    assert!(
        matches!(&effects[0], Effect::Ask { doc_id: Some(d), question, within: None, .. } if d == "a" && question == "Who heard it?")
    );
    let text = long_text().text;
    let at = text.find("line 25").unwrap_or(0);
    state.on_event(WorkerEvent::AskEvidence {
        job,
        evidence: vec![Evidence {
            doc_id: "a".into(),
            doc_name: "a.txt".into(),
            pages: (3, 3),
            range: at..at + 7,
            ..Evidence::default()
        }],
        note: None,
    });
    state.on_event(WorkerEvent::AskText {
        job,
        text: "The court".into(),
    });
    state.on_event(WorkerEvent::AskText {
        job,
        text: " (p.3).".into(),
    });
    state.on_event(WorkerEvent::AskFinished {
        job,
        status: GenerationStatus::Done,
        note: Some("read up to page 9".into()),
        provenance: "checkpoint 2 · 300 tokens re-read".into(),
    });
    let entry = state.ask.shown_entry().cloned().unwrap_or_default();
    assert_eq!(entry.answer, "The court (p.3).");
    assert_eq!(entry.status, GenerationStatus::Done);
    assert!(state.ask.job.is_none());
    // Enter on the evidence: the Reader shows the passage, highlighted, with context above.
    assert_eq!(state.apply(Action::Select), vec![]);
    assert_eq!(state.screen, Screen::Reader);
    assert_eq!(state.reader.focus, Some(at..at + 7));
    assert_eq!(state.reader.top_offset, text.find("line 23").unwrap_or(0));
}

#[test]
fn evidence_in_another_document_loads_it_then_jumps() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Ask);
    let job = ask_job(&type_line(&mut state, "q?"));
    state.on_event(WorkerEvent::AskEvidence {
        job,
        evidence: vec![Evidence {
            doc_id: "b".into(),
            range: 30..40,
            ..Evidence::default()
        }],
        note: None,
    });
    assert_eq!(
        state.apply(Action::Select),
        vec![Effect::OpenDocument { doc_id: "b".into() }]
    );
    let mut b = long_text();
    b.doc_id = "b".into();
    state.on_event(WorkerEvent::DocumentLoaded(b));
    assert_eq!(
        state.reader.doc.as_ref().map(|d| d.doc_id.as_str()),
        Some("b")
    );
    assert_eq!(state.reader.focus, Some(30..40));
}

#[test]
fn evidence_with_a_supporting_sentence_jumps_to_the_sentence() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Ask);
    let job = ask_job(&type_line(&mut state, "q?"));
    let text = long_text().text;
    let at = text.find("line 23").unwrap_or(0);
    // A first passage read from its checkpoint at the document's start.
    state.on_event(WorkerEvent::AskEvidence {
        job,
        evidence: vec![Evidence {
            doc_id: "a".into(),
            range: 0..at + 7,
            supporting_range: Some(at..at + 7),
            ..Evidence::default()
        }],
        note: None,
    });
    assert_eq!(state.apply(Action::Select), vec![]);
    assert_eq!(state.screen, Screen::Reader);
    assert_eq!(state.reader.focus, Some(at..at + 7));
    assert!(state.reader.top_offset > 0);
}

#[test]
fn esc_cancels_a_running_answer_and_late_tokens_are_dropped() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Ask);
    let job = ask_job(&type_line(&mut state, "first?"));
    state.on_event(WorkerEvent::AskText {
        job,
        text: "par".into(),
    });
    assert_eq!(state.apply(Action::Back), vec![Effect::Cancel { job }]);
    state.on_event(WorkerEvent::AskText {
        job,
        text: "tial".into(),
    });
    let entry = state.ask.shown_entry().cloned().unwrap_or_default();
    assert_eq!(
        (entry.answer.as_str(), entry.status),
        ("par", GenerationStatus::Cancelled)
    );
    // A new question while one runs cancels the old one; the old one's tokens go nowhere.
    state.apply(Action::Ask);
    let first = ask_job(&type_line(&mut state, "second?"));
    state.apply(Action::Ask);
    let effects = type_line(&mut state, "third?");
    assert!(effects.contains(&Effect::Cancel { job: first }));
    let third = ask_job(&effects);
    state.on_event(WorkerEvent::AskText {
        job: first,
        text: "stale".into(),
    });
    state.on_event(WorkerEvent::AskText {
        job: third,
        text: "fresh".into(),
    });
    let questions: Vec<_> = state
        .ask
        .entries
        .iter()
        .map(|e| (e.question.as_str(), e.answer.as_str()))
        .collect();
    assert_eq!(
        questions,
        vec![("third?", "fresh"), ("second?", ""), ("first?", "par")]
    );
}

#[test]
fn earlier_answers_are_listed_and_shown_with_enter() {
    let mut state = ready_app();
    open_a(&mut state);
    let old = |q: &str| QaEntry {
        question: q.into(),
        answer: format!("answer to {q}"),
        status: GenerationStatus::Done,
        ..QaEntry::default()
    };
    state.on_event(WorkerEvent::NotesLoaded {
        doc_id: "a".into(),
        history: vec![old("one"), old("two")],
        sections: vec![],
    });
    state.apply(Action::ShowAsk);
    assert_eq!(state.ask_rows(), 2);
    state.apply(Action::Down);
    state.apply(Action::Select);
    assert_eq!(
        state.ask.shown_entry().map(|e| e.question.as_str()),
        Some("two")
    );
}

#[test]
fn summaries_start_once_jump_ask_about_a_section_and_regenerate() {
    let mut state = ready_app();
    open_a(&mut state);
    let effects = state.apply(Action::ShowSummaries);
    let [Effect::Summarize {
        job,
        doc_id,
        section: None,
        ..
    }] = effects.as_slice()
    else {
        panic!("opening Summaries with none starts writing them: {effects:?}")
    };
    assert_eq!(doc_id, "a");
    let job = *job;
    let text = long_text().text;
    let at = text.find("line 20").unwrap_or(0);
    // Section numbers in the document need not be list positions: 4 and 9 here.
    let section = |index, title: &str, pages, range| SectionSummary {
        index,
        title: title.into(),
        pages,
        range,
        status: GenerationStatus::Starting,
        ..SectionSummary::default()
    };
    state.on_event(WorkerEvent::SummarySections {
        job,
        sections: vec![
            section(4, "Part 1", (1, 2), 0..at),
            section(9, "Part 2", (3, 4), at..text.len()),
        ],
    });
    state.on_event(WorkerEvent::SummaryText {
        job,
        section: 4,
        text: "Hear".into(),
    });
    assert_eq!(state.summaries.sections[0].summary, "Hear");
    state.on_event(WorkerEvent::SummaryDone {
        job,
        section: 4,
        summary: Some("Hearings.".into()),
        provenance: "checkpoint 0".into(),
        status: GenerationStatus::Done,
    });
    state.on_event(WorkerEvent::SummariesFinished {
        job,
        status: GenerationStatus::Done,
    });
    assert_eq!(state.summaries.sections[0].summary, "Hearings.");
    assert_eq!(state.summaries.sections[1].status, GenerationStatus::Done);
    // Leaving and coming back does not start again.
    state.apply(Action::ShowLibrary);
    assert_eq!(state.apply(Action::ShowSummaries), vec![]);
    // j moves, Enter jumps to the section's text.
    state.apply(Action::Down);
    state.apply(Action::Select);
    assert_eq!(state.screen, Screen::Reader);
    assert_eq!(state.reader.focus, Some(at..text.len()));
    // a asks about the selected section: its byte range goes along with the question.
    state.apply(Action::ShowSummaries);
    state.apply(Action::Ask);
    assert_eq!(
        state.input.as_ref().map(|l| l.text.as_str()),
        Some("In \"Part 2\", ")
    );
    let effects = type_line(&mut state, "who spoke?");
    assert!(
        matches!(&effects[0], Effect::Ask { within: Some(r), question, .. } if *r == (at..text.len()) && question == "In \"Part 2\", who spoke?")
    );
    // r regenerates the selected section only.
    state.apply(Action::ShowSummaries);
    let effects = state.apply(Action::Refresh);
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Summarize {
                section: Some(9),
                refresh: true,
                ..
            }]
        ),
        "{effects:?}"
    );
    assert!(state.summaries.sections[1].summary.is_empty());
}

#[test]
fn refresh_and_remove_in_the_library() {
    let mut state = ready_app();
    assert_eq!(
        state.apply(Action::Refresh),
        vec![Effect::Reread { doc_id: "a".into() }]
    );
    assert_eq!(state.apply(Action::Remove), vec![], "the first d only asks");
    assert_eq!(state.library.pending_remove.as_deref(), Some("a"));
    assert_eq!(
        state.apply(Action::Remove),
        vec![Effect::Remove { doc_id: "a".into() }]
    );
    state.apply(Action::Remove);
    state.apply(Action::Down);
    assert_eq!(
        state.apply(Action::Remove),
        vec![],
        "moving away cancels the confirmation"
    );
}

#[test]
fn export_names_the_current_document() {
    let mut state = ready_app();
    state.apply(Action::Down);
    assert_eq!(
        state.apply(Action::Export),
        vec![Effect::Export { doc_id: "b".into() }]
    );
    let mut empty = AppState::new(vec![]);
    assert_eq!(empty.apply(Action::Export), vec![]);
    assert!(empty.message.as_ref().is_some_and(|m| m.is_error));
}

#[test]
fn a_failed_model_fails_questions_at_once() {
    let mut state = ready_app();
    state.on_event(WorkerEvent::ModelFailed {
        reason: "bad header".into(),
    });
    state.apply(Action::Ask);
    let effects = type_line(&mut state, "anything?");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Ask { .. })));
    assert!(
        matches!(&state.ask.entries[0].status, GenerationStatus::Failed(r) if r.contains("bad header"))
    );
}

#[test]
fn library_refreshes_keep_the_selected_document() {
    let mut state = ready_app();
    state.apply(Action::Down);
    state.on_event(WorkerEvent::LibraryListed {
        location: "/lib".into(),
        docs: vec![doc("0", "0.txt"), doc("a", "a.txt"), doc("b", "b.txt")],
    });
    assert_eq!(state.library.docs[state.library.selected].id, "b");
    state.on_event(WorkerEvent::LibraryListed {
        location: "/lib".into(),
        docs: vec![],
    });
    assert_eq!(state.library.selected, 0);
}

#[test]
fn help_opens_scrolls_and_closes() {
    let mut state = ready_app();
    state.apply(Action::Help);
    assert_eq!(state.help_scroll, Some(0));
    state.apply(Action::Down);
    assert_eq!(state.help_scroll, Some(1));
    state.apply(Action::Bottom);
    state.apply(Action::Back);
    assert_eq!(state.help_scroll, None);
    assert_eq!(state.screen, Screen::Library, "Esc closed the help only");
}

#[test]
fn tab_cycles_screens_both_ways() {
    let mut state = ready_app();
    let mut seen = vec![];
    for _ in 0..4 {
        state.apply(Action::NextScreen);
        seen.push(state.screen);
    }
    assert_eq!(
        seen,
        vec![
            Screen::Reader,
            Screen::Ask,
            Screen::Summaries,
            Screen::Library
        ]
    );
    state.apply(Action::PrevScreen);
    assert_eq!(state.screen, Screen::Summaries);
}

#[test]
fn a_question_behind_running_summaries_is_queued_until_it_starts() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::ShowSummaries);
    let Some(summaries) = state.summaries.job else {
        panic!("summaries did not start")
    };
    state.apply(Action::Ask);
    let job = ask_job(&type_line(&mut state, "who?"));
    let GenerationStatus::Queued(waiting_for) = state.ask.entries[0].status.clone() else {
        panic!("not queued: {:?}", state.ask.entries[0].status)
    };
    assert!(waiting_for.contains("summaries"), "{waiting_for}");
    let line = state.message.clone().map(|m| m.text).unwrap_or_default();
    assert!(
        line.starts_with("Question queued: waiting for the summaries"),
        "{line}"
    );
    // The summaries end; the worker turns to the question.
    state.on_event(WorkerEvent::SummariesFinished {
        job: summaries,
        status: GenerationStatus::Done,
    });
    state.on_event(WorkerEvent::JobStarted { job });
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Starting);
    state.on_event(WorkerEvent::AskText {
        job,
        text: "Ada".into(),
    });
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Generating);
}

#[test]
fn esc_on_summaries_stops_the_summaries_before_a_queued_question() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::ShowSummaries);
    let summaries = state.summaries.job;
    state.apply(Action::Ask);
    let job = ask_job(&type_line(&mut state, "who?"));
    state.apply(Action::ShowSummaries);
    let effects = state.apply(Action::Back);
    assert_eq!(
        effects,
        vec![Effect::Cancel {
            job: summaries.unwrap_or(u64::MAX)
        }]
    );
    assert!(state.summaries.job.is_none());
    assert!(matches!(
        state.ask.entries[0].status,
        GenerationStatus::Queued(_)
    ));
    // The question runs as soon as the worker gets to it.
    state.on_event(WorkerEvent::JobStarted { job });
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Starting);
}

#[test]
fn a_question_asked_while_the_model_loads_is_queued_and_esc_cancels_it() {
    let mut state = AppState::new(KeyMap::default().help_rows());
    state.on_event(WorkerEvent::ModelLoading {
        file_name: "RWKV-4-Pile-1B5.pth".into(),
    });
    state.on_event(WorkerEvent::LibraryListed {
        location: "/lib".into(),
        docs: vec![doc("a", "a.txt")],
    });
    state.apply(Action::Ask);
    let job = ask_job(&type_line(&mut state, "who?"));
    assert_eq!(
        state.ask.entries[0].status,
        GenerationStatus::Queued("the model to load".into())
    );
    let line = state.message.clone().map(|m| m.text);
    assert_eq!(
        line.as_deref(),
        Some("Question queued: waiting for the model to load")
    );
    // Loading ends; the question stays queued until the worker says it started it.
    state.on_event(WorkerEvent::ModelLoaded(ModelBadge::default()));
    assert!(matches!(
        state.ask.entries[0].status,
        GenerationStatus::Queued(_)
    ));
    assert_eq!(state.apply(Action::Back), vec![Effect::Cancel { job }]);
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Cancelled);
    // The worker's own end of the cancelled job changes nothing.
    state.on_event(WorkerEvent::AskFinished {
        job,
        status: GenerationStatus::Cancelled,
        note: None,
        provenance: String::new(),
    });
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Cancelled);
}

#[test]
fn a_question_replacing_a_running_one_waits_for_it_to_stop() {
    let mut state = ready_app();
    open_a(&mut state);
    state.apply(Action::Ask);
    let first = ask_job(&type_line(&mut state, "who?"));
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Starting);
    state.apply(Action::Ask);
    let effects = type_line(&mut state, "where?");
    assert_eq!(effects.first(), Some(&Effect::Cancel { job: first }));
    let second = ask_job(&effects);
    assert_eq!(state.ask.entries[1].status, GenerationStatus::Cancelled);
    assert_eq!(
        state.ask.entries[0].status,
        GenerationStatus::Queued("the cancelled answer to stop".into())
    );
    state.on_event(WorkerEvent::JobStarted { job: second });
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Starting);
    assert_eq!(state.message, None, "the queued line is gone once it runs");
}

#[test]
fn a_question_during_background_reading_runs_beside_it_at_once() {
    let mut state = ready_app();
    state.on_event(WorkerEvent::Reading(ReadingProgress {
        file: "b.txt".into(),
        doc_id: "b".into(),
        ..ReadingProgress::default()
    }));
    open_a(&mut state);
    state.apply(Action::Ask);
    let effects = type_line(&mut state, "who?");
    assert!(
        matches!(effects.as_slice(), [Effect::Ask { .. }]),
        "{effects:?}"
    );
    assert_eq!(state.ask.entries[0].status, GenerationStatus::Starting);
    assert_eq!(state.message, None);
}

#[test]
fn summaries_asked_for_during_an_answer_are_queued_behind_it() {
    let mut state = ready_app();
    open_a(&mut state);
    state.on_event(WorkerEvent::NotesLoaded {
        doc_id: "a".into(),
        history: vec![],
        sections: vec![SectionSummary {
            index: 0,
            title: "Chapter 1".into(),
            ..SectionSummary::default()
        }],
    });
    state.apply(Action::Ask);
    ask_job(&type_line(&mut state, "who?"));
    state.apply(Action::ShowSummaries);
    let effects = state.apply(Action::Refresh);
    let Some(Effect::Summarize { job, .. }) = effects.last().cloned() else {
        panic!("no summary asked for: {effects:?}")
    };
    assert!(matches!(
        state.summaries.sections[0].status,
        GenerationStatus::Queued(_)
    ));
    state.on_event(WorkerEvent::JobStarted { job });
    assert_eq!(
        state.summaries.sections[0].status,
        GenerationStatus::Starting
    );
}
