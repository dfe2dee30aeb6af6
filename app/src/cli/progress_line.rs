//! `ingest`'s progress on stderr: a bar redrawn in place on a terminal, one line per finished
//! file otherwise, nothing with `--json` (stdout then holds only the JSON summary).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use ingest::{Progress, ProgressEvent};

use super::qa_cmds::inert;
use crate::tui::draw::{format_count, format_duration};

/// The bar is redrawn at most this often.
const REDRAW_INTERVAL: Duration = Duration::from_millis(100);
/// Width of the bar itself, in cells.
const BAR_CELLS: usize = 24;

/// Progress reporting for one run.
pub struct ProgressLine {
    /// Redraw a bar in place (stderr is a terminal) rather than print lines.
    in_place: bool,
    /// Print nothing at all.
    quiet: bool,
    last_drawn: Option<Instant>,
    current_file: String,
}

impl ProgressLine {
    /// A bar when `in_place`, else lines; `quiet` for neither.
    pub fn new(in_place: bool, quiet: bool) -> ProgressLine {
        ProgressLine {
            in_place,
            quiet,
            last_drawn: None,
            current_file: String::new(),
        }
    }

    /// Reports one event of the run.
    pub fn update(&mut self, progress: &Progress) {
        if self.quiet || matches!(progress.event, ProgressEvent::BetweenLayers) {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        match &progress.event {
            ProgressEvent::FilePrepared { path, .. }
            | ProgressEvent::ReadingStarted { path, .. } => self.current_file = file_name(path),
            ProgressEvent::Warning { path, message } => {
                let at = path.as_deref().map(file_name).unwrap_or_default();
                let _ = writeln!(
                    stderr,
                    "{}warning: {} {}",
                    self.clear(),
                    inert(&at),
                    inert(message)
                );
            }
            ProgressEvent::FileFailed { path, reason } => {
                let _ = writeln!(
                    stderr,
                    "{}failed: {}: {}",
                    self.clear(),
                    inert(&path.display().to_string()),
                    inert(reason)
                );
            }
            ProgressEvent::FileFinished { outcome } if !self.in_place => {
                let t = &progress.totals;
                let path = inert(&outcome.path.display().to_string());
                let _ = writeln!(
                    stderr,
                    "[{}/{}] {:?}: {path}",
                    t.files_done, t.files_total, outcome.status
                );
            }
            _ => {}
        }
        if !self.in_place {
            return;
        }
        let urgent = !matches!(progress.event, ProgressEvent::ChunkRead { .. });
        if !urgent
            && self
                .last_drawn
                .is_some_and(|t| t.elapsed() < REDRAW_INTERVAL)
        {
            return;
        }
        self.last_drawn = Some(Instant::now());
        let _ = write!(
            stderr,
            "{}{}",
            self.clear(),
            bar_line(progress, &self.current_file)
        );
        let _ = stderr.flush();
    }

    /// Clears the bar before the final output.
    pub fn finish(&mut self) {
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
    let fraction = t.fraction_done();
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
    inert(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::Totals;

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
