//! Medians and tails of timings, and the machine's load.

use std::time::Duration;

/// Median, p99 and maximum of a set of durations, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub median_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Summary {
    /// Summarises `samples` (empty: all zero).
    pub fn of(samples: &[Duration]) -> Summary {
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let i = ((us.len() as f64 - 1.0) * q).round() as usize;
            us.get(i).copied().unwrap_or(0.0)
        };
        Summary {
            count: us.len(),
            median_us: at(0.5),
            p99_us: at(0.99),
            max_us: us.last().copied().unwrap_or(0.0),
        }
    }
}

/// The 1, 5 and 15-minute load averages (`/proc/loadavg`), or "unknown".
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}
