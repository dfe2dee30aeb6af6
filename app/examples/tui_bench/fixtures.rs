//! A busy state to draw: a long book open in the Reader with a search over it, a big library, a
//! long streamed answer with evidence, many sections with summaries, and reading in progress.

use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::state::*;

/// Sentences the long document is made of (varied lengths, so rows wrap differently).
const SENTENCES: [&str; 6] = [
    "The keeper climbed the spiral stair at dusk and lit the great lamp, as his father had done before him.",
    "Nobody in the village remembered a winter so long.",
    "Ships passed far out, their lights like slow sparks on the black water, and none of them turned toward the point.",
    "He wrote every evening in the log: the wind, the sea, the ships, and once, the name of a woman he had not seen in thirty years.",
    "\"The court will hear the matter on Tuesday,\" the clerk said.",
    "Tallow and salt, salt and tallow.",
];

/// About `bytes` of text in paragraphs, with a page every ~3,000 bytes.
pub fn long_document(bytes: usize) -> DocumentText {
    let mut text = String::with_capacity(bytes + 200);
    let mut pages = Vec::new();
    let mut sentence = 0usize;
    while text.len() < bytes {
        if pages
            .last()
            .is_none_or(|p: &PageStart| text.len() - p.offset >= 3_000)
        {
            let page = u32::try_from(pages.len() + 1).unwrap_or(u32::MAX);
            pages.push(PageStart {
                page,
                offset: text.len(),
            });
        }
        for _ in 0..(3 + sentence % 5) {
            text.push_str(SENTENCES[sentence % SENTENCES.len()]);
            text.push(' ');
            sentence += 1;
        }
        text.push_str("\n\n");
    }
    DocumentText {
        doc_id: "keeper".into(),
        title: "the-keeper-of-tallow-point.txt".into(),
        text,
        pages,
    }
}

/// The busy state, for a terminal of `size`.
pub fn busy_state(size: (u16, u16)) -> AppState {
    let mut state = AppState::new(KeyMap::default().help_rows());
    state.viewport = size;
    state.model = ModelStatus::Ready(ModelBadge {
        name: "RWKV-4-Pile-1B5".into(),
        n_params: 1_515_106_304,
        precision: "f32".into(),
        device: "cpu".into(),
        is_demo: false,
    });
    state.library.location = "/home/reader/.local/share/rwkv-reader/library".into();
    state.library.loaded = true;
    state.library.docs = (0..200)
        .map(|i| DocEntry {
            id: if i == 0 {
                "keeper".into()
            } else {
                format!("doc{i}")
            },
            name: format!("cases/exhibit-{i:03}-deposition-transcript.pdf"),
            path: format!("/home/reader/cases/exhibit-{i:03}-deposition-transcript.pdf"),
            status: match i % 4 {
                0 => DocStatus::Ready,
                1 => DocStatus::Reading {
                    tokens_read: 12_288,
                    tokens_total: 40_000,
                },
                2 => DocStatus::Pending,
                _ => DocStatus::Partial {
                    reason: "stopped at quit".into(),
                },
            },
            pages: 120,
            tokens: 40_000,
            checkpoints: 9,
            checkpoint_bytes: 0,
            checkpoint_every_chunks: 0,
            warnings: vec!["3 pages without a text layer".into()],
        })
        .collect();
    let doc = long_document(4_000_000);
    let middle = doc.text.len() / 2;
    state.reader.doc = Some(doc);
    state.reader.top_offset = middle;
    // The Reader's own search, as `/salt` Enter would run it: hits highlighted from the middle.
    state.screen = Screen::Reader;
    state.apply(Action::Search);
    for c in "salt".chars() {
        state.apply(Action::InputChar(c));
    }
    state.apply(Action::InputSubmit);
    state.ask.entries = (0..20)
        .map(|i| QaEntry {
            question: format!("Question {i}: where was the brass compass hidden?"),
            answer: "It was hidden beneath the chapel floor, in a tin box wrapped in oilcloth. "
                .repeat(if i == 0 { 30 } else { 2 }),
            evidence: (0..3)
                .map(|e| Evidence {
                    doc_id: "keeper".into(),
                    doc_name: "the-keeper-of-tallow-point.txt".into(),
                    pages: (40 + e, 41 + e),
                    range: 100_000 * e as usize..100_000 * e as usize + 400,
                    snippet: "…the brass compass lay in the tin box beneath the chapel floor…"
                        .into(),
                    supporting_sentence: String::new(),
                    supporting_range: None,
                    read: true,
                    provenance: "read by the model · 1st of 3 · 1,530 tokens re-read".into(),
                })
                .collect(),
            note: None,
            provenance: "checkpoint 3 at token 12,288; 1,530 tokens re-read".into(),
            status: if i == 0 {
                GenerationStatus::Generating
            } else {
                GenerationStatus::Done
            },
        })
        .collect();
    state.summaries.loaded = true;
    state.summaries.sections = (0..300)
        .map(|i| SectionSummary {
            index: i,
            title: format!("Chapter {i}"),
            pages: (i * 4 + 1, i * 4 + 4),
            range: i as usize * 13_000..(i as usize + 1) * 13_000,
            summary: "The keeper lights the lamp; a ship does not turn; the log grows. ".repeat(3),
            provenance: "checkpoint 2 at token 8,192".into(),
            status: GenerationStatus::Done,
        })
        .collect();
    state.reading = Some(ReadingProgress {
        file: "cases/exhibit-001-deposition-transcript.pdf".into(),
        doc_id: "doc1".into(),
        doc_tokens_read: 12_288,
        doc_tokens_total: 40_000,
        file_index: 2,
        files_total: 200,
        pages_done: 37,
        pages_total: 120,
        tokens_done: 52_288,
        tokens_total: 8_000_000,
        tokens_per_second: 14.6,
        eta_seconds: Some(544_000),
        checkpoints_written: 12,
        paused: false,
    });
    state
}
