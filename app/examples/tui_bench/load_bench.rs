//! # Part 2: responsiveness while the model generates
//!
//! A random-init model of the chosen shape reads a short document into a fresh library (as
//! `ingest` does), then the TUI's own workers are started with it (`Workers::start_with_loader`)
//! and the TUI's own loop (`UiLoop`: draw, wait, apply everything queued, dispatch) runs on this
//! thread, drawing into a `TestBackend`. A scripted user (`script`) on another thread sends keys
//! the way the terminal-input thread does. For every key: the time from sending it to the end of
//! the first frame drawn after it was applied. For the answer: the gaps between its tokens
//! (answer pieces, one per token but for the odd multi-byte character), with no keys pressed and
//! while typing.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _, Result};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::args::Args;
use crate::config::Config;
use crate::keyboard::{Keyboard, Phase, SentKeys};
use crate::model_choice::ModelChoice;
use crate::script::{self, Marks, Observed, Shared};
use crate::stats::Summary;
use crate::tui::events::{AppEvent, EventSink};
use crate::tui::keymap::KeyMap;
use crate::tui::messages::WorkerEvent;
use crate::tui::state::ModelStatus;
use crate::tui::ui_loop::UiLoop;
use crate::tui::workers::model_slot::LoadedModel;
use crate::tui::workers::{WorkerContext, Workers};

/// The GPT-NeoX tokenizer of the RWKV-4 Pile models (vocabulary 50,277, like the named shapes).
const TOKENIZER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../engine/tests/fixtures/20B_tokenizer.json"
);

/// What the loop recorded.
#[derive(Default)]
struct Record {
    /// (phase, send → drawn) of every key.
    key_latencies: Vec<(Phase, Duration)>,
    /// Time of each frame's `draw`, after the answer started.
    draw_times: Vec<Duration>,
    /// Worker events applied per turn (how many coalesce into one frame).
    events_per_turn: Vec<usize>,
    /// (job, arrival) of every answer piece.
    pieces: Vec<(u64, Instant)>,
    /// Arrival of every end of answer.
    asks_finished: Vec<Instant>,
    /// (arrival, tokens of the run read) of background reading's progress reports.
    reading: Vec<(Instant, u64)>,
    /// Arrival of background reading's reports that it paused for the question.
    reading_paused: Vec<Instant>,
}

/// Runs part 2 and prints its results.
pub fn run(args: &Args) -> Result<()> {
    let shape = engine::tools::random_init::named_shape(&args.shape)
        .with_context(|| format!("unknown shape {:?}", args.shape))?;
    println!(
        "\n## Responsiveness while a {} × {} random-init model (f32) answers; {} CPUs\n",
        shape.n_layer,
        shape.n_embd,
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    let weights = engine::tools::random_init::random_weights(shape, 7)?;
    let model = engine::Model::from_weights(
        weights,
        format!("random-init {}", args.shape),
        "random".into(),
        false,
    );
    let tokenizer = engine::Tokenizer::from_file(Path::new(TOKENIZER))?;
    println!("model built in {:.1} s", started.elapsed().as_secs_f64());

    let dir = tempfile::tempdir()?;
    let library_dir = dir.path().join("library");
    let doc_path = write_document(dir.path(), "keeper.txt", args.doc_words, true)?;
    let started = Instant::now();
    let tokens = ingest_document(&library_dir, &doc_path, &model, &tokenizer)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "document read into the library: {tokens} tokens in {seconds:.1} s ({:.1} tokens/s)",
        tokens as f64 / seconds
    );

    let (tx, rx) = mpsc::channel();
    let mut ui = UiLoop::new(KeyMap::default(), rx, args.size);
    let ctx = WorkerContext {
        library_dir,
        // Not loaded: the model is handed over below.
        model: ModelChoice::resolve(
            Some(Path::new("random-init")),
            None,
            None,
            "cpu".to_string(),
            &Config::default(),
        )?,
        export_dir: dir.path().to_path_buf(),
        ask_options: Config::default().ask_options(),
        ingest_options: Config::default().ingest_options(),
        // Read in the background all along, when asked for.
        paths: match args.read_words {
            0 => Vec::new(),
            words => vec![write_document(dir.path(), "background.txt", words, false)?],
        },
    };
    let loaded = LoadedModel {
        family: ctx.model.family_for(&model),
        model: std::sync::Arc::new(model),
        tokenizer,
    };
    ui.start_workers(Workers::start_with_loader(
        ctx,
        EventSink::new(tx.clone()),
        move |slot, sink| slot.put(loaded, false, sink),
    ));

    let sent: SentKeys = Arc::default();
    let shared: Shared = Arc::default();
    let keys = Keyboard::new(
        tx,
        Arc::clone(&sent),
        Duration::from_millis(args.key_interval_ms),
    );
    let (script_shared, baseline_s, typing_s) =
        (Arc::clone(&shared), args.baseline_s, args.typing_s);
    let user = thread::Builder::new()
        .name("scripted-user".into())
        .spawn(move || script::run(&keys, &script_shared, baseline_s, typing_s))?;

    let (width, height) = args.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    let record = drive(&mut ui, &mut terminal, &sent, &shared)?;
    ui.shutdown();
    let marks = user
        .join()
        .map_err(|_| anyhow!("the scripted user panicked"))??;
    report(&record, &marks, args);
    Ok(())
}

/// The runtime's loop (`runtime::event_loop`), with the clock read around it.
fn drive(
    ui: &mut UiLoop,
    terminal: &mut Terminal<TestBackend>,
    sent: &SentKeys,
    shared: &Shared,
) -> Result<Record> {
    let mut record = Record::default();
    let mut keys_applied = 0usize;
    loop {
        let start = Instant::now();
        ui.draw(terminal)?;
        let drawn = Instant::now();
        if !record.pieces.is_empty() {
            record.draw_times.push(drawn - start);
        }
        let mut sent = sent
            .lock()
            .map_err(|_| anyhow!("the scripted user panicked"))?;
        let applied = keys_applied.min(sent.len());
        for key in sent.drain(..applied) {
            record.key_latencies.push((key.phase, drawn - key.at));
        }
        drop(sent);
        let mut worker_events = 0;
        keys_applied = 0;
        ui.turn(|event| match event {
            AppEvent::Terminal(_) => keys_applied += 1,
            AppEvent::Worker(event) => {
                worker_events += 1;
                match event {
                    WorkerEvent::AskText { job, .. } => record.pieces.push((*job, Instant::now())),
                    WorkerEvent::AskFinished { .. } => record.asks_finished.push(Instant::now()),
                    WorkerEvent::Reading(progress) if progress.paused => {
                        record.reading_paused.push(Instant::now())
                    }
                    WorkerEvent::Reading(progress) => {
                        record.reading.push((Instant::now(), progress.tokens_done))
                    }
                    _ => {}
                }
            }
            AppEvent::TerminalFailed(_) => {}
        })?;
        record.events_per_turn.push(worker_events);
        let state = &ui.state;
        let mut seen = shared
            .lock()
            .map_err(|_| anyhow!("the scripted user panicked"))?;
        *seen = Observed {
            model_ready: matches!(state.model, ModelStatus::Ready(_)),
            model_failed: match &state.model {
                ModelStatus::Failed { reason } => Some(reason.clone()),
                _ => None,
            },
            docs: state.library.docs.len(),
            doc_open: state.reader.doc.is_some(),
            answer_running: state.ask.job.is_some(),
            answer_pieces: record.pieces.len(),
            asks_finished: record.asks_finished.len(),
        };
        if state.should_quit {
            return Ok(record);
        }
    }
}

/// Tokens per second between `window`'s ends: gaps between two pieces of the same answer.
fn tokens_per_s(pieces: &[(u64, Instant)], window: (Instant, Instant)) -> (usize, f64) {
    let gaps: Vec<Duration> = pieces
        .windows(2)
        .filter(|w| w[0].0 == w[1].0 && w[0].1 >= window.0 && w[1].1 <= window.1)
        .map(|w| w[1].1 - w[0].1)
        .collect();
    let total: f64 = gaps.iter().map(Duration::as_secs_f64).sum();
    (gaps.len(), gaps.len() as f64 / total.max(1e-9))
}

fn report(record: &Record, marks: &Marks, args: &Args) {
    let ms = |us: f64| us / 1000.0;
    println!(
        "first answer token {:.1} s after the question was sent (re-reading the passage)",
        (marks.first_piece - marks.question_sent).as_secs_f64()
    );
    let (n_base, base) = tokens_per_s(&record.pieces, marks.baseline);
    let (n_typing, typing) = tokens_per_s(&record.pieces, marks.typing);
    println!("answer speed, no keys pressed: {base:.2} tokens/s ({n_base} tokens)");
    let (n_all, all) = tokens_per_s(&record.pieces, (marks.first_piece, marks.typing.1));
    println!("answer speed, both windows together: {all:.2} tokens/s ({n_all} tokens)");
    println!(
        "answer speed while typing ({} ms between keys): {typing:.2} tokens/s ({n_typing} tokens)",
        args.key_interval_ms
    );
    for (phase, name) in [
        (Phase::Typing, "while the answer generates"),
        (Phase::Setup, "setup keys"),
    ] {
        let latencies: Vec<Duration> = record
            .key_latencies
            .iter()
            .filter(|(p, _)| *p == phase)
            .map(|(_, d)| *d)
            .collect();
        let s = Summary::of(&latencies);
        println!(
            "key → frame drawn, {name}: {} keys, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            s.count,
            ms(s.median_us),
            ms(s.p99_us),
            ms(s.max_us)
        );
    }
    let draws = Summary::of(&record.draw_times);
    println!(
        "frames drawn during the answer: {}, draw median {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        draws.count, draws.median_us, draws.p99_us, draws.max_us
    );
    let coalesced = record.events_per_turn.iter().filter(|n| **n > 1).count();
    println!(
        "turns that applied more than one worker event (coalesced into one frame): {coalesced} of {}",
        record.events_per_turn.len()
    );
    let stopped = |sent: Option<Instant>| {
        sent.and_then(|sent| {
            record
                .asks_finished
                .iter()
                .find(|t| **t >= sent)
                .map(|end| *end - sent)
        })
    };
    if let Some(wait) = stopped(marks.cancel_sent) {
        println!(
            "Esc while generating → worker stopped (model free for the next job): {:.0} ms",
            wait.as_secs_f64() * 1000.0
        );
    }
    if let Some(wait) = stopped(marks.cancel_reading_sent) {
        println!(
            "Esc while re-reading the passage → worker stopped: {:.0} ms",
            wait.as_secs_f64() * 1000.0
        );
    }
    if let Some(paused) = record.reading_paused.first() {
        println!(
            "background reading paused for the question {:.1} s after the question was sent",
            (*paused - marks.question_sent).as_secs_f64()
        );
    }
    for (name, window) in [
        ("no keys pressed", marks.baseline),
        ("while typing", marks.typing),
    ] {
        let inside: Vec<&(Instant, u64)> = record
            .reading
            .iter()
            .filter(|(t, _)| *t >= window.0 && *t <= window.1)
            .collect();
        if let (Some(first), Some(last)) = (inside.first(), inside.last()) {
            let seconds = (last.0 - first.0).as_secs_f64().max(1e-9);
            println!(
                "background reading beside the answer, {name}: {:.1} tokens/s",
                (last.1 - first.1) as f64 / seconds
            );
        }
    }
}

/// A document of about `words` words, holding the fact the question asks about (`with_fact`).
fn write_document(dir: &Path, name: &str, words: usize, with_fact: bool) -> Result<PathBuf> {
    let filler = "The keeper climbed the stair at dusk and lit the lamp while ships passed far out on the black water.";
    let mut text = String::from("The Keeper of Tallow Point\n\n");
    let mut count = 0;
    while count < words {
        text.push_str(filler);
        text.push(' ');
        count += filler.split_whitespace().count();
        if with_fact && count >= words / 2 && !text.contains("compass") {
            text.push_str("The brass compass was hidden beneath the chapel floor, in a tin box. ");
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Reads the document into a new library with `model`, as the reading worker would.
fn ingest_document(
    library_dir: &Path,
    doc: &Path,
    model: &engine::Model,
    tokenizer: &engine::Tokenizer,
) -> Result<u64> {
    let mut writer = ingest::Library::open_writer(library_dir)?;
    let summary = ingest::run(
        &[doc.to_path_buf()],
        &mut writer,
        model,
        tokenizer,
        &ingest::IngestOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )?;
    Ok(summary.totals.tokens_done)
}
