//! `ingest`'s progress on stderr: a bar redrawn in place on a terminal; otherwise one line per
//! finished file and, in between, the latest status line at least every [`HEARTBEAT`]
//! ([`Heartbeat`]); nothing with `--json` (stdout then holds only the JSON summary). While a large file is prepared (hashed, extracted, tokenized, indexed) the
//! bar shows that stage and how far it is, not the reading share.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use ingest::{PrepareStage, Progress, ProgressEvent};

use super::heartbeat::Heartbeat;
use crate::tui::draw::{format_count, format_duration};
use crate::tui::inert_text::inert_name;

/// The bar is redrawn at most this often.
const REDRAW_INTERVAL: Duration = Duration::from_millis(100);
/// Width of the bar itself, in cells.
const BAR_CELLS: usize = 24;
/// Without a terminal, a status line is printed at least this often.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// Progress reporting for one run.
pub struct ProgressLine {
    /// Redraw a bar in place (stderr is a terminal) rather than print lines.
    in_place: bool,
    /// Print nothing at all.
    quiet: bool,
    last_drawn: Option<Instant>,
    current_file: String,
    /// The stage of the file being prepared, while one is.
    preparing: Option<String>,
    /// Piped output: the thread that prints the status when nothing else was printed.
    heartbeat: Option<Heartbeat>,
}

impl ProgressLine {
    /// A bar when `in_place`, else lines; `quiet` for neither.
    pub fn new(in_place: bool, quiet: bool) -> ProgressLine {
        ProgressLine {
            in_place,
            quiet,
            last_drawn: None,
            current_file: String::new(),
            preparing: None,
            heartbeat: (!in_place && !quiet).then(|| Heartbeat::start(HEARTBEAT)),
        }
    }

    /// Reports one event of the run.
    pub fn update(&mut self, progress: &Progress) {
        if self.quiet {
            return;
        }
        if matches!(progress.event, ProgressEvent::BetweenLayers) {
            return; // many a second; no progress implied
        }
        let mut stderr = std::io::stderr().lock();
        match &progress.event {
            ProgressEvent::Preparing {
                path,
                stage,
                done,
                total,
            } => {
                self.current_file = file_name(path);
                self.preparing = Some(stage_line(*stage, *done, *total));
            }
            ProgressEvent::FilePrepared { path, .. }
            | ProgressEvent::ReadingStarted { path, .. } => {
                self.current_file = file_name(path);
                self.preparing = None;
            }
            ProgressEvent::Warning { path, message } => {
                let at = path.as_deref().map(file_name).unwrap_or_default();
                let _ = writeln!(
                    stderr,
                    "{}warning: {} {}",
                    self.clear(),
                    at,
                    inert_name(message)
                );
            }
            ProgressEvent::FileFailed { path, reason } => {
                self.preparing = None;
                let _ = writeln!(
                    stderr,
                    "{}failed: {}: {}",
                    self.clear(),
                    inert_name(&path.display().to_string()),
                    inert_name(reason)
                );
            }
            ProgressEvent::FileFinished { outcome } if !self.in_place => {
                let t = &progress.totals;
                let path = inert_name(&outcome.path.display().to_string());
                let _ = writeln!(
                    stderr,
                    "[{}/{}] {:?}: {path}",
                    t.files_done, t.files_total, outcome.status
                );
            }
            _ => {}
        }
        drop(stderr);
        if let Some(heartbeat) = &self.heartbeat {
            let printed_a_line = matches!(
                progress.event,
                ProgressEvent::Warning { .. }
                    | ProgressEvent::FileFailed { .. }
                    | ProgressEvent::FileFinished { .. }
            );
            if printed_a_line {
                heartbeat.printed();
            }
            if !matches!(progress.event, ProgressEvent::ChunkRead { .. })
                || self
                    .last_drawn
                    .is_none_or(|t| t.elapsed() >= REDRAW_INTERVAL)
            {
                self.last_drawn = Some(Instant::now());
                heartbeat.set_line(self.status(progress));
            }
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let urgent = !matches!(progress.event, ProgressEvent::ChunkRead { .. });
        if !urgent
            && self
                .last_drawn
                .is_some_and(|t| t.elapsed() < REDRAW_INTERVAL)
        {
            return;
        }
        self.last_drawn = Some(Instant::now());
        let _ = write!(stderr, "{}{}", self.clear(), self.status(progress));
        let _ = stderr.flush();
    }

    /// The bar, or the preparing stage while a file is prepared.
    fn status(&self, progress: &Progress) -> String {
        match &self.preparing {
            Some(stage) => {
                let t = &progress.totals;
                format!(
                    "{stage} · {}/{} files · {}",
                    t.files_done, t.files_total, self.current_file
                )
            }
            None => bar_line(progress, &self.current_file),
        }
    }

    /// Clears the bar before the final output.
    pub fn finish(&mut self) {
        if let Some(mut heartbeat) = self.heartbeat.take() {
            heartbeat.stop();
        }
        if self.in_place && !self.quiet && self.last_drawn.is_some() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "{}", self.clear());
            let _ = stderr.flush();
        }
    }

    /// Carriage return and erase-line on a terminal, nothing otherwise.
    fn clear(&self) -> &'static str {
        if self.in_place {
            "\r\x1b[2K"
        } else {
            ""
        }
    }
}

/// `[#########...............]  37% 3/13 files · 8,249/68,903 tokens · 1155 tok/s · ETA 0:52 · 3 checkpoints · complaint.txt`
pub fn bar_line(progress: &Progress, file: &str) -> String {
    let t = &progress.totals;
    // Token totals are known once every file is prepared: before that, nothing is read yet
    // (not "100% of 0 tokens").
    let fraction = if t.tokens_total == 0 && t.files_done < t.files_total {
        0.0
    } else {
        t.fraction_done()
    };
    let filled = ((fraction * BAR_CELLS as f64).round() as usize).min(BAR_CELLS);
    let eta = t
        .eta
        .map_or_else(|| "–".to_string(), |d| format_duration(d.as_secs()));
    format!(
        "[{}{}] {:>3.0}% {}/{} files · {}/{} tokens · {:.0} tok/s · ETA {eta} · {} checkpoints · {file}",
        "#".repeat(filled),
        ".".repeat(BAR_CELLS - filled),
        fraction * 100.0,
        t.files_done,
        t.files_total,
        format_count(t.tokens_done),
        format_count(t.tokens_total),
        t.tokens_per_second,
        t.checkpoints_written,
    )
}

fn file_name(path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    inert_name(&name)
}

/// `tokenizing 45% of 300.0 MB`, `indexing 1,204 chunks`, `hashing 300.0 MB`.
pub fn stage_line(stage: PrepareStage, done: u64, total: u64) -> String {
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    match stage {
        PrepareStage::Indexing => format!("indexing {} chunks", format_count(total)),
        PrepareStage::ExtractingPages => format!("extracting page {done} of {total}"),
        PrepareStage::Chunking if total > 0 => format!(
            "tokenizing {:.0}% of {}",
            done as f64 * 100.0 / total as f64,
            mb(total)
        ),
        other => format!("{} {}", other.label(), mb(total)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::Totals;

    #[test]
    fn preparing_stages_show_how_far_they_are() {
        assert_eq!(
            stage_line(PrepareStage::Chunking, 150_000_000, 300_000_000),
            "tokenizing 50% of 300.0 MB"
        );
        assert_eq!(
            stage_line(PrepareStage::Extracting, 0, 300_000_000),
            "extracting 300.0 MB"
        );
        assert_eq!(
            stage_line(PrepareStage::ExtractingPages, 12, 300),
            "extracting page 12 of 300"
        );
        assert_eq!(
            stage_line(PrepareStage::Indexing, 0, 1204),
            "indexing 1,204 chunks"
        );
    }

    #[test]
    fn bar_is_empty_while_files_are_still_prepared() {
        let progress = Progress {
            event: ProgressEvent::Finished,
            totals: Totals {
                files_total: 1,
                ..Totals::default()
            },
        };
        assert!(
            bar_line(&progress, "big.txt").starts_with("[........................]   0% 0/1 files"),
            "{}",
            bar_line(&progress, "big.txt")
        );
    }

    #[test]
    fn bar_shows_share_counts_rate_and_eta() {
        let progress = Progress {
            event: ProgressEvent::Finished,
            totals: Totals {
                files_total: 13,
                files_done: 3,
                tokens_total: 1000,
                tokens_done: 250,
                tokens_per_second: 812.4,
                eta: Some(Duration::from_secs(52)),
                checkpoints_written: 3,
                ..Totals::default()
            },
        };
        assert_eq!(
            bar_line(&progress, "complaint.txt"),
            "[######..................]  25% 3/13 files · 250/1,000 tokens · 812 tok/s · ETA 0:52 · 3 checkpoints · complaint.txt"
        );
    }
}
