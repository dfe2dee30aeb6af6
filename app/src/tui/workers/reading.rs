//! The reading thread: the only writer of the library in this process. It lists the library at
//! once, then (once the model is loaded) reads the paths given on the command line and resumes
//! every document of the library that is new, changed or not read to the end, reporting typed
//! progress. Re-read and remove requests interrupt the run (ingestion checkpoints before it
//! stops), are carried out, and reading goes on. While a question is answered it pauses between
//! two layers of the model (`foreground`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ingest::{
    Chunk, IngestOptions, Library, LibraryWriter, OutcomeStatus, Progress, ProgressEvent, Summary,
};

use super::convert::list_documents;
use super::foreground::Foreground;
use super::model_slot::{LoadedModel, ModelSlot};
use crate::tui::events::EventSink;
use crate::tui::messages::WorkerEvent;
use crate::tui::state::ReadingProgress;

/// Chunk-by-chunk progress is sent at most this often (the panel cannot show more).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// While files are being prepared (extracted, chunked, indexed) the library listing is refreshed
/// at most this often; it reads every document's record.
const LISTING_INTERVAL: Duration = Duration::from_millis(500);

/// What the UI asks of the reading thread.
#[derive(Debug)]
pub enum ReadingCommand {
    /// Forget what was read of a document and read it again from the start.
    Reread(String),
    /// Remove a document from the library.
    Remove(String),
    /// Stop (checkpointing first) and release the library.
    Shutdown,
}

/// The UI's handle on the reading thread.
pub struct ReadingHandle {
    commands: Sender<ReadingCommand>,
    /// Interrupts the ingestion run in progress (it checkpoints, then returns).
    interrupt: Arc<AtomicBool>,
    finished: Receiver<()>,
}

impl ReadingHandle {
    /// Starts the thread.
    pub fn spawn(
        library_dir: PathBuf,
        paths: Vec<PathBuf>,
        options: IngestOptions,
        model: Arc<ModelSlot>,
        foreground: Arc<Foreground>,
        sink: EventSink,
    ) -> std::io::Result<ReadingHandle> {
        let (commands, rx) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let interrupt = Arc::new(AtomicBool::new(false));
        let thread_interrupt = Arc::clone(&interrupt);
        let (panic_sink, panic_finished) = (sink.clone(), finished_tx.clone());
        super::spawn_guarded(
            "reading",
            move || {
                let thread = ReadingThread {
                    library_dir,
                    options,
                    sink,
                    interrupt: thread_interrupt,
                    foreground,
                    commands: rx,
                };
                thread.run(paths, &model);
                let _ = finished_tx.send(());
            },
            move |message| {
                super::crashed(
                    &panic_sink,
                    "reading (it stopped; restart to resume)",
                    &message,
                );
                let _ = panic_finished.send(());
            },
        )?;
        Ok(ReadingHandle {
            commands,
            interrupt,
            finished,
        })
    }

    /// Queues a command and interrupts the current run so that it is carried out soon.
    pub fn send(&self, command: ReadingCommand) {
        self.interrupt.store(true, Ordering::Relaxed);
        let _ = self.commands.send(command);
    }

    /// Stops reading and waits up to `wait` for the last checkpoint to be written and the
    /// library released. Whatever happens, what was checkpointed before is kept.
    pub fn shutdown(self, wait: Duration) {
        self.send(ReadingCommand::Shutdown);
        match self.finished.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) | Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

struct ReadingThread {
    library_dir: PathBuf,
    options: IngestOptions,
    sink: EventSink,
    interrupt: Arc<AtomicBool>,
    /// Questions being answered, which reading makes way for.
    foreground: Arc<Foreground>,
    commands: Receiver<ReadingCommand>,
}

/// Whether the thread goes on after a command.
enum Next {
    Continue,
    Stop,
}

impl ReadingThread {
    fn run(&self, given_paths: Vec<PathBuf>, model: &ModelSlot) {
        let reader = match Library::open(&self.library_dir) {
            Ok(reader) => reader,
            Err(e) => {
                self.sink.send(WorkerEvent::LibraryFailed {
                    reason: e.to_string(),
                });
                return;
            }
        };
        self.send_listing(&reader, None);
        let Ok(model) = model.wait() else {
            // The status bar already says why; the library stays browsable.
            self.wait_for_shutdown("no model to read with");
            return;
        };
        self.send_listing(&reader, Some(&model));
        let mut writer = match Library::open_writer(&self.library_dir) {
            Ok(writer) => writer,
            Err(e) => {
                self.sink.send(WorkerEvent::Notice {
                    text: format!("Reading is off: {e}"),
                    is_error: true,
                });
                self.wait_for_shutdown("the library is in use by another process");
                return;
            }
        };
        let mut pending = paths_to_read(given_paths, &reader);
        loop {
            loop {
                match self.commands.try_recv() {
                    Ok(command) => {
                        if let Next::Stop = self.carry_out(command, &mut writer, &mut pending) {
                            return;
                        }
                        self.send_listing(&reader, Some(&model));
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            if pending.is_empty() {
                match self.commands.recv() {
                    Ok(command) => {
                        if let Next::Stop = self.carry_out(command, &mut writer, &mut pending) {
                            return;
                        }
                        self.send_listing(&reader, Some(&model));
                        continue;
                    }
                    Err(_) => return,
                }
            }
            self.interrupt.store(false, Ordering::Relaxed);
            let paths = std::mem::take(&mut pending);
            match self.ingest(&paths, &mut writer, &reader, &model) {
                // Interrupted for a command: carry it out, then resume the same paths.
                Ok(summary) if summary.cancelled => pending = paths,
                Ok(summary) => {
                    let (text, failed) = describe_run(&summary);
                    self.sink.send(WorkerEvent::ReadingFinished {
                        summary: text,
                        failed,
                    });
                }
                Err(e) => self.sink.send(WorkerEvent::ReadingFinished {
                    summary: format!("Reading stopped: {e}"),
                    failed: true,
                }),
            }
            self.send_listing(&reader, Some(&model));
        }
    }

    /// Without a writer only shutdown matters; other commands are answered with `why`.
    fn wait_for_shutdown(&self, why: &str) {
        while let Ok(command) = self.commands.recv() {
            match command {
                ReadingCommand::Shutdown => return,
                ReadingCommand::Reread(_) | ReadingCommand::Remove(_) => {
                    self.sink.send(WorkerEvent::Notice {
                        text: format!("Cannot change the library: {why}"),
                        is_error: true,
                    })
                }
            }
        }
    }

    fn carry_out(
        &self,
        command: ReadingCommand,
        writer: &mut LibraryWriter,
        pending: &mut Vec<PathBuf>,
    ) -> Next {
        let (id, reread) = match command {
            ReadingCommand::Shutdown => return Next::Stop,
            ReadingCommand::Reread(id) => (id, true),
            ReadingCommand::Remove(id) => (id, false),
        };
        let result = writer.document(&id).and_then(|record| {
            writer.remove_document(&id)?;
            Ok(record)
        });
        let notice = match result {
            Ok(record) if reread => {
                pending.push(record.source_path.clone());
                (
                    format!("Reading {} again from the start", record.title),
                    false,
                )
            }
            Ok(record) => {
                pending.retain(|p| *p != record.source_path);
                (format!("Removed {} from the library", record.title), false)
            }
            Err(e) => (format!("Could not change the library: {e}"), true),
        };
        self.sink.send(WorkerEvent::Notice {
            text: notice.0,
            is_error: notice.1,
        });
        Next::Continue
    }

    fn ingest(
        &self,
        paths: &[PathBuf],
        writer: &mut LibraryWriter,
        reader: &Library,
        model: &LoadedModel,
    ) -> ingest::Result<Summary> {
        let mut tracker = ProgressTracker::new(reader);
        let mut last_listing = Instant::now();
        let mut on_progress = |progress: Progress| {
            if matches!(progress.event, ProgressEvent::BetweenLayers) {
                // Many times a second, and no progress: only a chance to make way for a
                // question, within one layer's time even in the middle of a long chunk.
                if self.foreground.is_busy() {
                    let paused = ReadingProgress {
                        paused: true,
                        ..tracker.panel(&progress)
                    };
                    self.sink.send(WorkerEvent::Reading(paused));
                    // A re-read, remove or quit request still gets through (it sets `interrupt`).
                    self.foreground.wait_while_busy(&self.interrupt);
                    self.sink
                        .send(WorkerEvent::Reading(tracker.panel(&progress)));
                }
                return;
            }
            let prepared = matches!(progress.event, ProgressEvent::FilePrepared { .. });
            let finished_file = matches!(
                progress.event,
                ProgressEvent::FileFinished { .. } | ProgressEvent::FileFailed { .. }
            ) || (prepared && last_listing.elapsed() >= LISTING_INTERVAL);
            if let ProgressEvent::Warning { message, .. } = &progress.event {
                self.sink.send(WorkerEvent::Notice {
                    text: message.clone(),
                    is_error: false,
                });
            }
            if let Some(panel) = tracker.update(&progress) {
                self.sink.send(WorkerEvent::Reading(panel));
            }
            if finished_file {
                self.send_listing(reader, Some(model));
                last_listing = Instant::now();
            }
        };
        ingest::run(
            paths,
            writer,
            &*model.model,
            &model.tokenizer,
            &self.options,
            &mut on_progress,
            &self.interrupt,
        )
    }

    fn send_listing(&self, reader: &Library, model: Option<&LoadedModel>) {
        let location = self.library_dir.display().to_string();
        match list_documents(reader, model.map(|m| m.model.fingerprint())) {
            Ok(docs) => self
                .sink
                .send(WorkerEvent::LibraryListed { location, docs }),
            Err(e) => self.sink.send(WorkerEvent::LibraryFailed {
                reason: e.to_string(),
            }),
        }
    }
}

/// The paths given on the command line, then the source files of every document already in the
/// library (so new, changed and half-read documents are read; unchanged ones are skipped fast).
fn paths_to_read(given: Vec<PathBuf>, library: &Library) -> Vec<PathBuf> {
    let mut paths = given;
    if let Ok(docs) = library.documents() {
        for doc in docs {
            if doc.source_path.exists() && !paths.contains(&doc.source_path) {
                paths.push(doc.source_path);
            }
        }
    }
    paths
}

/// "Read 3 documents, 9 unchanged, 1 failed", and whether anything failed.
fn describe_run(summary: &Summary) -> (String, bool) {
    let read = summary.count(OutcomeStatus::Ingested);
    let unchanged = summary.count(OutcomeStatus::Skipped);
    let failed = summary.count(OutcomeStatus::Failed);
    let mut parts = vec![format!("Reading done: {read} read")];
    if unchanged > 0 {
        parts.push(format!("{unchanged} unchanged"));
    }
    if failed > 0 {
        parts.push(format!("{failed} failed (see Library)"));
    }
    (parts.join(", "), failed > 0)
}

/// Turns the run's event stream into the progress panel's numbers.
struct ProgressTracker<'a> {
    library: &'a Library,
    pages_of_file: HashMap<PathBuf, u32>,
    current: Option<CurrentFile>,
    last_sent: Option<Instant>,
}

struct CurrentFile {
    path: PathBuf,
    doc_id: String,
    chunks: Vec<Chunk>,
    chunks_read: u32,
}

impl<'a> ProgressTracker<'a> {
    fn new(library: &'a Library) -> Self {
        ProgressTracker {
            library,
            pages_of_file: HashMap::new(),
            current: None,
            last_sent: None,
        }
    }

    /// The panel after `progress`, or `None` when it is too soon to send another.
    fn update(&mut self, progress: &Progress) -> Option<ReadingProgress> {
        let mut urgent = true;
        match &progress.event {
            ProgressEvent::FilePrepared { path, pages, .. } => {
                self.pages_of_file.insert(path.clone(), *pages);
                self.set_current(path, 0);
            }
            ProgressEvent::ReadingStarted {
                path, from_chunk, ..
            } => self.set_current(path, *from_chunk),
            ProgressEvent::ChunkRead {
                path, chunks_read, ..
            } => {
                self.set_current(path, *chunks_read);
                urgent = false;
            }
            ProgressEvent::CheckpointWritten {
                path, chunks_read, ..
            } => self.set_current(path, *chunks_read),
            ProgressEvent::FileFailed { .. }
            | ProgressEvent::FileFinished { .. }
            | ProgressEvent::Discovered { .. } => {}
            ProgressEvent::Warning { .. }
            | ProgressEvent::Cancelled
            | ProgressEvent::Finished
            | ProgressEvent::Preparing { .. }
            | ProgressEvent::BetweenLayers => return None,
        }
        let now = Instant::now();
        if !urgent
            && self
                .last_sent
                .is_some_and(|t| now.duration_since(t) < PROGRESS_INTERVAL)
        {
            return None;
        }
        self.last_sent = Some(now);
        Some(self.panel(progress))
    }

    fn set_current(&mut self, path: &Path, chunks_read: u32) {
        if self.current.as_ref().is_none_or(|c| c.path != path) {
            let doc_id = ingest::document_id_for_path(path);
            let chunks = self.library.chunks(&doc_id).unwrap_or_default();
            self.current = Some(CurrentFile {
                path: path.to_path_buf(),
                doc_id,
                chunks,
                chunks_read: 0,
            });
        }
        if let Some(current) = &mut self.current {
            current.chunks_read = chunks_read;
        }
    }

    fn panel(&self, progress: &Progress) -> ReadingProgress {
        let totals = &progress.totals;
        let mut panel = ReadingProgress {
            file_index: (totals.files_done + 1).min(totals.files_total.max(1)),
            files_total: totals.files_total,
            tokens_done: totals.tokens_done,
            tokens_total: totals.tokens_total,
            tokens_per_second: totals.tokens_per_second,
            eta_seconds: totals.eta.map(|d| d.as_secs()),
            checkpoints_written: u32::try_from(totals.checkpoints_written).unwrap_or(u32::MAX),
            ..ReadingProgress::default()
        };
        if let Some(current) = &self.current {
            panel.file = display_path(&current.path);
            panel.doc_id = current.doc_id.clone();
            panel.pages_total = self.pages_of_file.get(&current.path).copied().unwrap_or(0);
            let done = current.chunks_read as usize;
            if let Some(last_read) = done.checked_sub(1).and_then(|i| current.chunks.get(i)) {
                panel.pages_done = last_read.page_end;
                panel.doc_tokens_read = last_read.token_offset + u64::from(last_read.token_count);
            }
            if let Some(last) = current.chunks.last() {
                panel.doc_tokens_total = last.token_offset + u64::from(last.token_count);
            }
        }
        panel
    }
}

/// A path relative to the current folder when it is inside it (`sample-docs/cases/answer.txt`),
/// else as it is.
fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}
