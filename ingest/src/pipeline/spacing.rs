//! How far apart a document's checkpoints are: chosen so that a question waits about as long as
//! the user asked for, within the disk the user allows per document.
//!
//! A question forks the nearest checkpoint at or before its passage and reads, after the question,
//! everything from there to the passage's end, then up to a few more passages. The wait before the
//! first answer token is therefore about `(spacing + passages) / reading speed`: a slow model (a
//! 14B one on a CPU) needs checkpoints every chunk, a fast one can space them out and save disk.
//! Two bounds hold whatever the speed: at least one chunk between checkpoints, and at most
//! `max_chunks` (the configured spacing, 8 × 512 tokens by default), because the model reads that
//! span *after* the question and RWKV-4 was trained on contexts of 4,096 tokens — a question
//! followed by a much longer span is forgotten before the passage comes.

/// What the user asked for: a wait and a disk budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpacingTarget {
    /// The wait before the first answer token to aim for, in milliseconds.
    pub answer_wait_ms: u64,
    /// Disk for one document's checkpoints (of one model), in bytes.
    pub budget_bytes: u64,
}

impl Default for SpacingTarget {
    /// 15 s (a 1.5B Q8_0 model on a 2-core CPU then answers in about that), 256 MiB a document.
    fn default() -> Self {
        SpacingTarget {
            answer_wait_ms: 15_000,
            budget_bytes: 256 << 20,
        }
    }
}

/// What the reading run knows when it chooses a document's spacing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadingFacts {
    /// Measured reading speed of the model, tokens per second.
    pub tokens_per_s: f64,
    /// Mean tokens in one of the document's chunks.
    pub mean_chunk_tokens: f64,
    /// Chunks in the document.
    pub chunk_count: u32,
    /// Bytes of one saved state.
    pub state_bytes: u64,
}

/// Passages read besides the span from the checkpoint: the best passage and about one more.
const PASSAGES_IN_THE_WAIT: f64 = 2.0;

/// Chunks between two checkpoints for a document (at least 1, at most `max_chunks` unless the disk
/// budget needs more).
pub(crate) fn spacing_chunks(target: &SpacingTarget, facts: &ReadingFacts, max_chunks: u32) -> u32 {
    let max_chunks = max_chunks.max(1);
    let chunk = facts.mean_chunk_tokens.max(1.0);
    let wait_tokens = facts.tokens_per_s.max(0.0) * target.answer_wait_ms as f64 / 1000.0;
    let span_tokens = wait_tokens - PASSAGES_IN_THE_WAIT * chunk;
    let for_wait = if span_tokens.is_finite() && span_tokens > chunk {
        ((span_tokens / chunk).floor() as u32).clamp(1, max_chunks)
    } else {
        1
    };
    // Checkpoints written: one every `spacing` chunks and one at the end.
    let files_allowed = (target.budget_bytes / facts.state_bytes.max(1)).max(1);
    let for_disk = u64::from(facts.chunk_count)
        .div_ceil(files_allowed)
        .min(u64::from(u32::MAX)) as u32;
    for_wait.max(for_disk).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(tokens_per_s: f64, chunk_count: u32, state_bytes: u64) -> ReadingFacts {
        ReadingFacts {
            tokens_per_s,
            mean_chunk_tokens: 512.0,
            chunk_count,
            state_bytes,
        }
    }

    #[test]
    fn a_fast_model_keeps_the_configured_spacing_a_slow_one_checkpoints_every_chunk() {
        let target = SpacingTarget::default();
        // The demo model reads ~12,000 tokens/s: 15 s would allow 350 chunks; the cap holds.
        assert_eq!(spacing_chunks(&target, &facts(12_000.0, 200, 70_000), 8), 8);
        // A 1.5B Q8_0 model at ~300 tokens/s: 4,500 tokens, less two passages: 6 chunks.
        assert_eq!(spacing_chunks(&target, &facts(300.0, 200, 1 << 20), 8), 6);
        // A 14B model at a few tokens a second cannot meet the wait: one chunk apart (50 chunks
        // of 4 MiB states fit the default budget).
        assert_eq!(spacing_chunks(&target, &facts(3.0, 50, 4 << 20), 8), 1);
        assert_eq!(spacing_chunks(&target, &facts(0.0, 50, 4 << 20), 8), 1);
        // 200 chunks of it would take 800 MiB: the 256 MiB budget holds every 4th.
        assert_eq!(spacing_chunks(&target, &facts(3.0, 200, 4 << 20), 8), 4);
    }

    #[test]
    fn the_disk_budget_spaces_checkpoints_further_when_it_must() {
        let target = SpacingTarget {
            answer_wait_ms: 15_000,
            budget_bytes: 40 << 20,
        };
        // 14B states are 4.1 MB: 40 MiB hold 9 of them; 200 chunks need a spacing of 23.
        let spacing = spacing_chunks(&target, &facts(3.0, 200, 4_300_000), 8);
        assert_eq!(spacing, 23);
        assert!(200_u32.div_ceil(spacing) <= 9);
    }

    #[test]
    fn a_longer_wait_allows_a_wider_spacing_up_to_the_cap() {
        let short = SpacingTarget {
            answer_wait_ms: 5_000,
            ..SpacingTarget::default()
        };
        let long = SpacingTarget {
            answer_wait_ms: 60_000,
            ..SpacingTarget::default()
        };
        let f = facts(200.0, 100, 1 << 20);
        assert_eq!(spacing_chunks(&short, &f, 8), 1);
        assert_eq!(spacing_chunks(&long, &f, 8), 8);
        assert_eq!(spacing_chunks(&long, &f, 64), 21);
    }
}
