//! PDF text extraction, page by page, isolated in a child process.
//!
//! pdf-extract panics, loops forever and aborts the process on some files (see the project's
//! dependency notes), so it never runs in the caller's process. The parent re-executes a binary
//! (by default the current executable with the hidden subcommand [`WORKER_SUBCOMMAND`]) under an
//! address-space limit, reads pages as they are finished, and kills it when no page arrives for
//! [`PdfOptions::stall_timeout`]. If the worker dies on page *p*, page *p* is marked failed and a
//! new worker continues at *p + 1*, so one bad page never drops the document.
//!
//! The binary that hosts the worker must call [`run_worker_if_asked`] (which runs [`worker_main`]
//! when its first argument is [`WORKER_SUBCOMMAND`]) before doing anything else (no terminal
//! set-up, no logging to stdout).

mod page_furniture;
mod page_quality;
pub mod protocol;
mod worker;

pub use page_furniture::remove_page_furniture;
pub use page_quality::{classify_page, PageStatus};
pub use worker::{run_worker_if_asked, worker_main};

use protocol::{read_frame, Frame};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often a waiting parent checks for cancellation.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// The hidden subcommand that runs the extraction worker: `BINARY __extract-pdf FILE`.
pub const WORKER_SUBCOMMAND: &str = "__extract-pdf";

/// How to start an extraction worker: `program leading_args... FILE [--first-page N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before the file, normally just [`WORKER_SUBCOMMAND`].
    pub leading_args: Vec<OsString>,
}

impl WorkerCommand {
    /// `program __extract-pdf`: any binary that dispatches the subcommand to [`worker_main`].
    pub fn with_program(program: impl Into<PathBuf>) -> Self {
        WorkerCommand {
            program: program.into(),
            leading_args: vec![WORKER_SUBCOMMAND.into()],
        }
    }

    /// The running executable with [`WORKER_SUBCOMMAND`] (the default).
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self::with_program(std::env::current_exe()?))
    }
}

/// Limits for the extraction worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfOptions {
    /// Worker to run; `None` means [`WorkerCommand::current_exe`].
    pub worker: Option<WorkerCommand>,
    /// Kill the worker when no page has arrived for this long (a hang).
    pub stall_timeout: Duration,
    /// Upper bound for one whole document, restarts included.
    pub total_timeout: Duration,
    /// Address-space limit of the worker (`RLIMIT_AS`); a flate bomb fails instead of eating RAM.
    pub memory_limit_bytes: u64,
    /// How many times a worker that died may be restarted after the page it died on.
    pub max_restarts: u32,
}

impl Default for PdfOptions {
    fn default() -> Self {
        PdfOptions {
            worker: None,
            stall_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(600),
            memory_limit_bytes: 1 << 30,
            max_restarts: 3,
        }
    }
}

/// One extracted page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfPage {
    /// 1-based page number.
    pub number: u32,
    /// Its text; empty unless `status` is [`PageStatus::Ok`].
    pub text: String,
    /// What became of it.
    pub status: PageStatus,
}

/// Why a PDF as a whole yields nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// Encrypted with a user password.
    #[error("{0}")]
    Encrypted(String),
    /// Not a PDF, or damaged beyond reading (truncated, broken cross-reference table, ...).
    #[error("{0}")]
    Unreadable(String),
    /// A valid PDF without pages.
    #[error("the PDF has no pages")]
    NoPages,
    /// Extraction was cancelled (the worker was stopped); nothing is known about the file.
    #[error("cancelled")]
    Cancelled,
    /// The worker process could not be started.
    #[error("cannot start the PDF extraction worker {program}: {reason}")]
    WorkerUnavailable {
        /// The worker executable.
        program: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
}

/// Extracts every page of `path` (see the module doc). Pages that fail are returned with status
/// [`PageStatus::Failed`]; only document-level problems are errors.
pub fn extract_pdf(path: &Path, options: &PdfOptions) -> Result<Vec<PdfPage>, PdfError> {
    extract_pdf_cancellable(path, options, &AtomicBool::new(false))
}

/// [`extract_pdf`] that stops the worker within ~0.1 s once `cancel` is set
/// ([`PdfError::Cancelled`]).
pub fn extract_pdf_cancellable(
    path: &Path,
    options: &PdfOptions,
    cancel: &AtomicBool,
) -> Result<Vec<PdfPage>, PdfError> {
    extract_pdf_reporting(path, options, cancel, &mut |_, _| {})
}

/// [`extract_pdf_cancellable`] that tells `on_page` each page as it arrives from the worker
/// (its number and the page count): a large PDF takes minutes.
pub fn extract_pdf_reporting(
    path: &Path,
    options: &PdfOptions,
    cancel: &AtomicBool,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<Vec<PdfPage>, PdfError> {
    let worker = match &options.worker {
        Some(w) => w.clone(),
        None => WorkerCommand::current_exe().map_err(|e| PdfError::WorkerUnavailable {
            program: PathBuf::from("(current executable)"),
            reason: e.to_string(),
        })?,
    };
    let deadline = Instant::now() + options.total_timeout;
    let mut page_count: Option<u32> = None;
    let mut pages: Vec<Option<PdfPage>> = Vec::new();
    let mut next_page = 1u32;
    let mut restarts = 0u32;
    loop {
        let mut count_seen = page_count.unwrap_or(0);
        let run = run_worker(
            &worker,
            path,
            next_page,
            options,
            deadline,
            cancel,
            &mut |frame| match frame {
                Frame::PageCount(n) => count_seen = *n,
                Frame::Page { number, .. } | Frame::PageFailed { number, .. } => {
                    on_page(*number, count_seen)
                }
                _ => {}
            },
        )?;
        if run.cancelled {
            return Err(PdfError::Cancelled);
        }
        let mut last_page_seen = next_page - 1;
        for frame in run.frames {
            match frame {
                Frame::PageCount(n) => {
                    page_count = Some(n);
                    pages.resize(n as usize, None);
                }
                Frame::Page {
                    number,
                    has_images,
                    missing_unicode_map,
                    text,
                } => {
                    let status = classify_page(&text, has_images, missing_unicode_map);
                    let text = if status.is_ok() { text } else { String::new() };
                    store(
                        &mut pages,
                        PdfPage {
                            number,
                            text,
                            status,
                        },
                    );
                    last_page_seen = last_page_seen.max(number);
                }
                Frame::PageFailed { number, reason } => {
                    let status = PageStatus::Failed { reason };
                    store(
                        &mut pages,
                        PdfPage {
                            number,
                            text: String::new(),
                            status,
                        },
                    );
                    last_page_seen = last_page_seen.max(number);
                }
                Frame::Encrypted(reason) => return Err(PdfError::Encrypted(reason)),
                Frame::Unreadable(reason) => return Err(PdfError::Unreadable(reason)),
                Frame::Done => {}
            }
        }
        let Some(count) = page_count else {
            return Err(PdfError::Unreadable(format!(
                "not a readable PDF: {}",
                run.end
            )));
        };
        if run.completed || last_page_seen >= count {
            break;
        }
        // The worker died or hung on the page after the last one it sent.
        let culprit = last_page_seen + 1;
        let status = PageStatus::Failed {
            reason: run.end.to_string(),
        };
        store(
            &mut pages,
            PdfPage {
                number: culprit,
                text: String::new(),
                status,
            },
        );
        if restarts >= options.max_restarts || Instant::now() >= deadline || culprit >= count {
            break;
        }
        restarts += 1;
        next_page = culprit + 1;
    }
    if page_count == Some(0) {
        return Err(PdfError::NoPages);
    }
    let pages = pages
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            page.unwrap_or_else(|| PdfPage {
                number: i as u32 + 1,
                text: String::new(),
                status: PageStatus::Failed {
                    reason: "not extracted: the extractor failed repeatedly on earlier pages"
                        .into(),
                },
            })
        })
        .collect();
    Ok(pages)
}

fn store(pages: &mut [Option<PdfPage>], page: PdfPage) {
    if let Some(slot) = (page.number as usize)
        .checked_sub(1)
        .and_then(|i| pages.get_mut(i))
    {
        *slot = Some(page);
    }
}

/// How one worker run ended, for messages.
enum WorkerEnd {
    Exited(i32),
    Signaled(i32),
    Stalled(Duration),
    OutOfTime,
}

impl std::fmt::Display for WorkerEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerEnd::Exited(code) => write!(f, "extractor exited with code {code}"),
            WorkerEnd::Signaled(sig) => write!(
                f,
                "extractor crashed ({}; a malformed PDF, or over the memory limit)",
                signal_name(*sig)
            ),
            WorkerEnd::Stalled(t) => write!(
                f,
                "extractor made no progress for {} s (a loop in the PDF's structure?) and was stopped",
                t.as_secs()
            ),
            WorkerEnd::OutOfTime => write!(f, "extraction took longer than the time allowed for one PDF"),
        }
    }
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGKILL => "SIGKILL",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    };
    format!("{name} ({sig})")
}

struct WorkerRun {
    frames: Vec<Frame>,
    /// A `Done` frame arrived.
    completed: bool,
    /// Stopped because cancellation was requested.
    cancelled: bool,
    end: WorkerEnd,
}

fn run_worker(
    worker: &WorkerCommand,
    path: &Path,
    first_page: u32,
    options: &PdfOptions,
    deadline: Instant,
    cancel: &AtomicBool,
    on_frame: &mut dyn FnMut(&Frame),
) -> Result<WorkerRun, PdfError> {
    let mut cmd = Command::new(&worker.program);
    cmd.args(&worker.leading_args)
        .arg(path)
        .arg("--first-page")
        .arg(first_page.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let memory_limit = options.memory_limit_bytes;
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: memory_limit as libc::rlim_t,
                rlim_max: memory_limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // An abort in pdf-extract must not leave a core file per bad PDF.
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| PdfError::WorkerUnavailable {
        program: worker.program.clone(),
        reason: e.to_string(),
    })?;
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let Some(mut stdout) = stdout else { return };
        while let Ok(Some(frame)) = read_frame(&mut stdout) {
            if tx.send(frame).is_err() {
                break;
            }
        }
    });
    // Drain stderr so a chatty worker never blocks on a full pipe.
    let stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        if let Some(mut stderr) = stderr {
            let mut sink = [0u8; 4096];
            while matches!(stderr.read(&mut sink), Ok(n) if n > 0) {}
        }
    });

    let mut frames = Vec::new();
    let mut completed = false;
    let mut killed_for = None;
    let mut cancelled = false;
    let mut last_progress = Instant::now();
    loop {
        let now = Instant::now();
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            killed_for = Some(WorkerEnd::Exited(-1));
            break;
        }
        if now >= deadline {
            killed_for = Some(WorkerEnd::OutOfTime);
            break;
        }
        let stall_at = last_progress + options.stall_timeout;
        if now >= stall_at {
            killed_for = Some(WorkerEnd::Stalled(options.stall_timeout));
            break;
        }
        // Wake up at least every CANCEL_POLL to notice cancellation.
        let wait = CANCEL_POLL.min(deadline - now).min(stall_at - now);
        match rx.recv_timeout(wait) {
            Ok(frame) => {
                completed |= frame == Frame::Done;
                on_frame(&frame);
                frames.push(frame);
                last_progress = Instant::now();
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if killed_for.is_some() {
        let _ = child.kill();
    }
    let status = child.wait();
    let _ = reader.join();
    let _ = drain.join();
    // Frames that raced with the kill are still valid pages.
    frames.extend(rx.try_iter());
    completed |= frames.last() == Some(&Frame::Done);
    let end = match (killed_for, status) {
        (Some(why), _) => why,
        (None, Ok(st)) => match st.signal() {
            Some(sig) => WorkerEnd::Signaled(sig),
            None => WorkerEnd::Exited(st.code().unwrap_or(-1)),
        },
        (None, Err(_)) => WorkerEnd::Exited(-1),
    };
    Ok(WorkerRun {
        frames,
        completed,
        cancelled,
        end,
    })
}
