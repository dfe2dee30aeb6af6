//! The ask benchmark: time to the first answer token on synthetic documents of very different
//! lengths, read with the same model and checkpoint spacing. Because an answer starts from the
//! nearest checkpoint, the time must not grow with the document (required: ratio ≤ 1.2 between a
//! 10K-token and a 1M-token document). Run by `rwkv-reader bench --ask`
//! (`scripts/bench_ask.sh`).

use super::ask::{ask, AskOptions};
use super::error::QaError;
use super::QaContext;
use crate::pipeline::{run, IngestOptions};
use crate::Library;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// A fact planted in a synthetic document, and the question that finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Needle {
    /// The question.
    pub question: String,
    /// The sentence planted.
    pub sentence: String,
    /// Page it is on.
    pub page: u32,
}

/// Filler prose with planted needles; pages separated by form feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticDocument {
    /// The text.
    pub text: String,
    /// The needles, in document order.
    pub needles: Vec<Needle>,
}

#[rustfmt::skip]
const FILLER: &[&str] = &[
    "the", "harbor", "keeper", "walked", "along", "the", "quay", "in", "morning", "light",
    "and", "a", "ship", "came", "slowly", "past", "rocks", "while", "gulls", "called", "over",
    "grey", "water", "old", "men", "mended", "nets", "beside", "boats", "they", "spoke", "of",
    "weather", "tides", "fish", "prices", "winter", "storms", "that", "had", "broken",
    "fences", "near", "village", "school", "children", "ran", "down", "lane", "toward",
    "market", "where", "bread", "was", "sold", "with", "apples", "cheese", "rope", "lamp",
    "oil", "letters", "arrived", "from", "city", "by", "coach", "each", "week", "clerk",
    "read", "them", "aloud", "to", "those", "who", "could", "not", "tavern", "fire", "burned",
    "late", "evening", "songs", "about", "sailors", "far", "away", "lighthouse", "turned",
    "its", "beam", "across", "bay", "fog", "rolled", "cold", "wind", "rain", "on", "roofs",
    "stone", "walls", "gardens", "grew", "beans", "onions", "potatoes", "church", "bell",
    "rang", "noon", "fishermen", "returned", "their", "catch", "counted", "salted", "stored",
    "barrels", "cellar", "under", "mill", "river", "ran", "fast", "after", "spring", "thaw",
    "bridge", "carts", "horses", "farmers", "brought", "wool", "grain",
];

/// Needles per document: enough that, at any size, they fall at all sorts of distances after
/// a checkpoint (the time to the first token depends on that distance, not on the length).
pub const NEEDLES: usize = 48;

/// Made-up words (no filler word is one): prefix × suffix gives every needle its own object.
#[rustfmt::skip]
const NEEDLE_PREFIXES: &[&str] = &[
    "zeph", "marrow", "quint", "brindle", "ostro", "pellu", "tamber", "vex", "quilli", "dross",
    "amber", "crow",
];
#[rustfmt::skip]
const NEEDLE_SUFFIXES: &[&str] = &["ine", "lock", "essa", "vane"];
#[rustfmt::skip]
const NEEDLE_NOUNS: &[&str] = &[
    "compass", "ledger", "lantern", "deed", "sextant", "chronometer", "charter", "seal",
];
#[rustfmt::skip]
const NEEDLE_PLACES: &[&str] = &[
    "tin box beneath the chapel floor", "hollow beam of the boathouse",
    "locked drawer of the pilot's desk", "oilskin pouch behind the bakery oven",
    "sea chest in the customs shed", "hayloft above the smithy",
    "false bottom of the tackle crate", "vestry cupboard", "well house by the orchard",
    "chimney of the salt store", "ice cellar of the inn", "signal cabin on the pier",
];

/// The object of needle `i` ("zephine compass").
fn needle_object(i: usize) -> String {
    let prefix = NEEDLE_PREFIXES[i % NEEDLE_PREFIXES.len()];
    let suffix = NEEDLE_SUFFIXES[(i / NEEDLE_PREFIXES.len()) % NEEDLE_SUFFIXES.len()];
    format!("{prefix}{suffix} {}", NEEDLE_NOUNS[i % NEEDLE_NOUNS.len()])
}

/// Words of filler per page.
const WORDS_PER_PAGE: usize = 350;

/// A reproducible document of about `words` words, with [`NEEDLES`] needles spread evenly over
/// its length.
pub fn synthetic_document(words: usize, seed: u64) -> SyntheticDocument {
    let mut rng = engine::SplitMix64::new(seed);
    let needle_at: Vec<usize> = (0..NEEDLES)
        .map(|i| (words as f64 * (i as f64 + 0.5) / NEEDLES as f64) as usize)
        .collect();
    let mut text = String::with_capacity(words * 7);
    let mut needles = Vec::new();
    let mut page = 1u32;
    let mut written = 0usize;
    let mut page_words = 0usize;
    while written < words {
        // A paragraph of 3–6 sentences of 8–19 words.
        for _ in 0..3 + rng.below(4) {
            let len = 8 + rng.below(12);
            for k in 0..len {
                let w = FILLER[rng.below(FILLER.len())];
                if k == 0 {
                    let mut c = w.chars();
                    if let Some(first) = c.next() {
                        text.extend(first.to_uppercase());
                        text.push_str(c.as_str());
                    }
                } else {
                    text.push(' ');
                    text.push_str(w);
                }
            }
            text.push_str(". ");
            written += len;
            page_words += len;
            let i = needles.len();
            if needle_at.get(i).is_some_and(|&at| at <= written) {
                let object = needle_object(i);
                let place = NEEDLE_PLACES[i % NEEDLE_PLACES.len()];
                let sentence = format!("The {object} was hidden in the {place}.");
                text.push_str(&sentence);
                text.push(' ');
                needles.push(Needle {
                    question: format!("Where was the {object} hidden?"),
                    sentence,
                    page,
                });
            }
        }
        text.push_str("\n\n");
        if page_words >= WORDS_PER_PAGE {
            text.push('\x0c');
            page += 1;
            page_words = 0;
        }
    }
    SyntheticDocument { text, needles }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct AskBenchOptions {
    /// Document sizes, in tokens (approximate).
    pub document_tokens: Vec<u64>,
    /// Folder for the documents and libraries (reused between runs: unchanged documents are
    /// not read again).
    pub work_dir: PathBuf,
    /// Chunking and checkpoint spacing (the same for every size).
    pub ingest: IngestOptions,
    /// Times each needle question is asked.
    pub repeats: usize,
    /// Answer length.
    pub answer_tokens: usize,
    /// Passages read before each answer (`AskOptions::passages_read`).
    pub passages_read: usize,
}

/// One document size's measurements.
#[derive(Debug, Clone, Serialize)]
pub struct AskBenchRow {
    /// Tokens in the document.
    pub document_tokens: u64,
    /// Chunks in the document.
    pub chunks: u32,
    /// Seconds spent ingesting in this run (0 when the library was already there).
    pub ingest_s: f64,
    /// Questions asked (needles in whole checkpoint spans × repeats).
    pub questions: usize,
    /// Median time to the first answer text, milliseconds.
    pub first_token_ms_median: f64,
    /// Slowest time to the first answer text.
    pub first_token_ms_max: f64,
    /// Median time until the passage was chosen (search, document, visible part).
    pub retrieved_ms_median: f64,
    /// Median time until the prompt was fed (retrieval + checkpoint + re-read + prompt).
    pub prompt_ready_ms_median: f64,
    /// Median document tokens re-read for one answer.
    pub reread_tokens_median: u64,
    /// Most document tokens re-read for one answer.
    pub reread_tokens_max: u64,
    /// Least-squares fit of the time to the first token against the tokens re-read:
    /// milliseconds at zero re-read (fixed cost) and per 1,000 tokens re-read.
    pub fit_ms: (f64, f64),
    /// The fit evaluated at the median re-read of all sizes together: the time to the first
    /// token for the same distance from a checkpoint, whatever the document's length.
    pub first_token_ms_at_common_reread: f64,
    /// Whether every answer's evidence cited the needle's page.
    pub cited_needle_pages: bool,
}

/// The benchmark's result.
#[derive(Debug, Clone, Serialize)]
pub struct AskBenchReport {
    /// Model label.
    pub model: String,
    /// Chunk size asked for.
    pub target_chunk_tokens: usize,
    /// Checkpoint spacing in chunks.
    pub checkpoint_every_chunks: usize,
    /// Passages read before each answer.
    pub passages_read: usize,
    /// One row per document size, in the order asked.
    pub rows: Vec<AskBenchRow>,
    /// Median time to first token of the largest document over that of the smallest.
    pub ratio_largest_to_smallest: f64,
    /// The same ratio at the same distance from a checkpoint (see `first_token_ms_at_common_reread`).
    pub ratio_at_common_reread: f64,
    /// The re-read distance (tokens) used for that comparison.
    pub common_reread_tokens: f64,
}

/// Runs the benchmark; `on_status` receives a line per step.
pub fn run_ask_bench(
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    opts: &AskBenchOptions,
    on_status: &mut dyn FnMut(&str),
) -> Result<AskBenchReport, QaError> {
    std::fs::create_dir_all(&opts.work_dir)
        .map_err(|e| crate::IngestError::io(&opts.work_dir, e))?;
    let tokens_per_word = tokens_per_word(tokenizer)?;
    // Ingest every size first; then ask round-robin (needle by needle, size by size) so that
    // load from other processes on the machine falls on all sizes alike.
    let mut sizes = Vec::new();
    for &target in &opts.document_tokens {
        let words = (target as f64 / tokens_per_word) as usize;
        let doc = synthetic_document(words.max(NEEDLES * 20), 7);
        let path = opts.work_dir.join(format!("synthetic-{target}.txt"));
        write_if_changed(&path, &doc.text)?;
        let library_dir = opts.work_dir.join(format!("library-{target}"));
        on_status(&format!("ingesting {} ({target} tokens)", path.display()));
        let began = Instant::now();
        let id = ingest_one(&library_dir, &path, model, tokenizer, &opts.ingest)?;
        let ingest_s = began.elapsed().as_secs_f64();
        let library = Library::open(&library_dir)?;
        let needles =
            needles_in_whole_spans(&library, &id, &doc, opts.ingest.checkpoint_every_chunks)?;
        sizes.push((needles, library, id, ingest_s));
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); sizes.len()];
    for round in 0..opts.repeats.max(1) {
        on_status(&format!(
            "asking, round {} of {}",
            round + 1,
            opts.repeats.max(1)
        ));
        for i in 0..NEEDLES {
            for ((needles, library, id, _), out) in sizes.iter().zip(samples.iter_mut()) {
                let Some(needle) = needles.get(i) else {
                    continue;
                };
                out.push(measure(model, tokenizer, library, id, needle, opts)?);
            }
        }
    }
    let all_reread: Vec<f64> = samples
        .iter()
        .flatten()
        .map(|s| s.reread_tokens as f64)
        .collect();
    let common_reread = median(&all_reread);
    let mut rows = Vec::new();
    for ((_, library, id, ingest_s), samples) in sizes.iter().zip(&samples) {
        let record = library.document(id)?;
        let pick = |f: fn(&Sample) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
        let first = pick(|s| s.first_ms);
        let (fixed, per_token) = linear_fit(&pick(|s| s.reread_tokens as f64), &first);
        rows.push(AskBenchRow {
            document_tokens: record.token_count,
            chunks: record.chunk_count,
            ingest_s: *ingest_s,
            questions: samples.len(),
            first_token_ms_median: median(&first),
            first_token_ms_max: first.iter().copied().fold(0.0, f64::max),
            retrieved_ms_median: median(&pick(|s| s.retrieved_ms)),
            prompt_ready_ms_median: median(&pick(|s| s.ready_ms)),
            reread_tokens_median: median(&pick(|s| s.reread_tokens as f64)) as u64,
            reread_tokens_max: samples.iter().map(|s| s.reread_tokens).max().unwrap_or(0),
            cited_needle_pages: samples.iter().all(|s| s.cited),
            fit_ms: (fixed, per_token * 1000.0),
            first_token_ms_at_common_reread: fixed + per_token * common_reread,
        });
    }
    let ratio_of = |f: fn(&AskBenchRow) -> f64| match (rows.first(), rows.last()) {
        (Some(a), Some(b)) if f(a) > 0.0 => f(b) / f(a),
        _ => 1.0,
    };
    let ratio = ratio_of(|r| r.first_token_ms_median);
    let ratio_at_common_reread = ratio_of(|r| r.first_token_ms_at_common_reread);
    Ok(AskBenchReport {
        model: model.info().label(),
        target_chunk_tokens: opts.ingest.target_chunk_tokens,
        checkpoint_every_chunks: opts.ingest.checkpoint_every_chunks,
        passages_read: opts.passages_read,
        rows,
        ratio_largest_to_smallest: ratio,
        ratio_at_common_reread,
        common_reread_tokens: common_reread,
    })
}

/// The needles that lie before the document's last *whole* checkpoint span. A needle in the
/// trailing partial span (the chunks after the last multiple of the spacing) is re-read from a
/// checkpoint at most that short span away; a short document has proportionally more of those,
/// which would flatter it. Asking only needles in whole spans gives every size the same spread
/// of distances from a checkpoint, so the comparison is of length alone.
fn needles_in_whole_spans(
    library: &Library,
    id: &str,
    doc: &SyntheticDocument,
    checkpoint_every_chunks: usize,
) -> Result<Vec<Needle>, QaError> {
    let chunks = library.chunks(id)?;
    let every = checkpoint_every_chunks.max(1);
    let whole = chunks.len() / every * every;
    // Shorter than one span, or ending exactly on one: every needle counts.
    let end = match chunks.get(whole) {
        Some(first_after) if whole > 0 => first_after.byte_start as usize,
        _ => return Ok(doc.needles.clone()),
    };
    let text = library.document_text(id)?;
    Ok(doc
        .needles
        .iter()
        .filter(|n| text.find(&n.sentence).is_some_and(|at| at < end))
        .cloned()
        .collect())
}

/// One question's measurements.
#[derive(Debug, Clone, Copy)]
struct Sample {
    first_ms: f64,
    retrieved_ms: f64,
    ready_ms: f64,
    reread_tokens: u64,
    cited: bool,
}

fn measure(
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    library: &Library,
    id: &str,
    needle: &Needle,
    opts: &AskBenchOptions,
) -> Result<Sample, QaError> {
    let ctx = QaContext::new(library, model, tokenizer);
    let ask_opts = AskOptions {
        documents: Some(vec![id.to_string()]),
        save_to_notes: false,
        sampler: engine::SamplerConfig {
            max_tokens: opts.answer_tokens,
            ..super::ask::answer_sampler()
        },
        passages_read: opts.passages_read,
        ..AskOptions::default()
    };
    let answer = ask(&ctx, &needle.question, &ask_opts, &mut |_| true)?;
    let t = answer.provenance.timing;
    Ok(Sample {
        first_ms: t.first_text_ms.unwrap_or(t.total_ms),
        retrieved_ms: t.retrieved_ms,
        ready_ms: t.prompt_ready_ms,
        reread_tokens: answer.provenance.reread_tokens,
        cited: answer
            .evidence
            .first()
            .is_some_and(|e| e.pages.0 <= needle.page && needle.page <= e.pages.1),
    })
}

fn tokens_per_word(tokenizer: &engine::Tokenizer) -> Result<f64, QaError> {
    let sample = synthetic_document(2_000, 1);
    let tokens = tokenizer
        .encode(&sample.text)
        .map_err(|e| QaError::Tokenizer(e.to_string()))?;
    let words = sample.text.split_whitespace().count().max(1);
    Ok((tokens.len() as f64 / words as f64).max(0.1))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), QaError> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    crate::atomic_file::write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Ingests `path` into the library at `dir` (skipped when unchanged); the document id.
fn ingest_one(
    dir: &Path,
    path: &Path,
    model: &dyn engine::LanguageModel,
    tokenizer: &engine::Tokenizer,
    options: &IngestOptions,
) -> Result<String, QaError> {
    let mut writer = Library::open_writer(dir)?;
    let cancel = AtomicBool::new(false);
    let summary = run(
        &[path.to_path_buf()],
        &mut writer,
        model,
        tokenizer,
        options,
        &mut |_| {},
        &cancel,
    )?;
    let outcome = summary
        .files
        .first()
        .ok_or_else(|| QaError::NoDocuments(format!(": {} was not ingested", path.display())))?;
    outcome.document_id.clone().ok_or_else(|| {
        QaError::NoDocuments(format!(
            ": {} failed: {}",
            path.display(),
            outcome.reason.as_deref().unwrap_or("unknown reason")
        ))
    })
}

/// Least-squares line `y = a + b·x`: `(a, b)`; `(mean y, 0)` when `x` does not vary.
fn linear_fit(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len().min(y.len()) as f64;
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean_x = x.iter().sum::<f64>() / n;
    let mean_y = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|v| (v - mean_x).powi(2)).sum();
    let sxy: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - mean_x) * (b - mean_y))
        .sum();
    if sxx == 0.0 {
        return (mean_y, 0.0);
    }
    let slope = sxy / sxx;
    (mean_y - slope * mean_x, slope)
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_documents_are_reproducible_with_distinct_needles() {
        let a = synthetic_document(5_000, 7);
        assert_eq!(a, synthetic_document(5_000, 7));
        assert_eq!(a.needles.len(), NEEDLES);
        let objects: std::collections::HashSet<String> = (0..NEEDLES).map(needle_object).collect();
        assert_eq!(linear_fit(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]), (1.0, 2.0));
        assert_eq!(objects.len(), NEEDLES);
        let pages = a.text.matches('\x0c').count() as u32 + 1;
        for n in &a.needles {
            assert!(a.text.contains(&n.sentence));
            assert!(n.page >= 1 && n.page <= pages);
            // The needle is on the page it claims.
            let page_text = a.text.split('\x0c').nth(n.page as usize - 1).unwrap();
            assert!(page_text.contains(&n.sentence), "{n:?}");
        }
    }
}
