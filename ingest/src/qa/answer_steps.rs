//! Generating from a checkpoint: the steps an answer and a section summary share. The caller
//! forks the nearest checkpoint ([`super::fork`]) and says what to read (`Reading`);
//! `generate_from_fork` feeds it to a private copy of the forked state — the lead-in (text
//! from the checkpoint to where the prompt belongs), the prompt's opening (question or
//! instruction first), each passage of material after its label, the answer cue — then
//! generates, streaming text, and records where the state came from and what it cost.

use super::error::QaError;
use super::fork::{forward_cue, read_prepared, read_prompt, Fork, PreparedText};
use super::prompt::Prompt;
use super::provenance::{Mode, PassageRead, Provenance, Timing};
use super::retrieve::Visible;
use super::QaContext;
use engine::{Generation, SamplerConfig};
use std::time::Instant;

/// One passage of the material, with the label fed before it.
#[derive(Debug, Clone)]
pub(crate) struct MaterialPart {
    /// Prompt text fed before the passage (its page label); empty for none.
    pub label: String,
    /// The passage's text, tokenized.
    pub text: PreparedText,
    /// For answers: the evidence entry it reads and its page label, recorded in the provenance.
    pub cites: Option<(usize, String)>,
}

impl MaterialPart {
    /// The provenance entry of a passage that cites evidence.
    pub(crate) fn passage_read(&self) -> Option<PassageRead> {
        self.cites.as_ref().map(|(index, label)| PassageRead {
            evidence_index: *index,
            label: label.clone(),
            span: self.text.span.clone(),
        })
    }
}

/// What is fed after the fork, in order, and how generation runs.
#[derive(Debug, Clone)]
pub(crate) struct Reading<'a> {
    /// How the state is built (recorded in the provenance).
    pub mode: Mode,
    /// Document text read verbatim before the prompt, from where the fork stands (a section's
    /// start for summaries, the end of the visible text for whole-document answers).
    pub lead_in: Option<PreparedText>,
    /// The prompt: `before`, the material, then the cue `after`.
    pub prompt: Prompt,
    /// The passages read between the prompt's opening and its cue, in order.
    pub material: Vec<MaterialPart>,
    /// Sampling; the prompt's stop strings are added.
    pub sampler: &'a SamplerConfig,
}

/// Text generated from a reading, with its provenance.
#[derive(Debug, Clone)]
pub(crate) struct Generated {
    /// The text, trimmed.
    pub text: String,
    /// Where the state came from and what it cost.
    pub provenance: Provenance,
}

/// Feeds `reading` to a copy of `fork`'s state and generates, streaming pieces of text to
/// `on_text` (false cancels). `started` is when the answer or summary began; `retrieved_ms`
/// when its passages were chosen (0 for summaries).
pub(crate) fn generate_from_fork(
    ctx: &QaContext<'_>,
    fork: &Fork,
    visible: &Visible,
    reading: Reading<'_>,
    started: Instant,
    retrieved_ms: f64,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> Result<Generated, QaError> {
    let mut state = fork.state.clone();
    if let Some(lead_in) = &reading.lead_in {
        read_prepared(ctx, &mut state, lead_in)?;
    }
    let mut prompt_tokens = read_prompt(ctx, &mut state, &reading.prompt.before)?;
    for part in &reading.material {
        prompt_tokens += read_prompt(ctx, &mut state, &part.label)?;
        read_prepared(ctx, &mut state, &part.text)?;
    }
    let (logits, cue_tokens) = forward_cue(ctx, &mut state, &reading.prompt.after)?;
    let prompt_ready_ms = ms_since(started);
    let (generation, first_text_ms) = run_generation(
        ctx,
        &mut state,
        logits,
        &reading.prompt,
        reading.sampler,
        started,
        on_text,
    )?;
    let timing = Timing {
        retrieved_ms,
        prompt_ready_ms,
        first_text_ms,
        total_ms: ms_since(started),
    };
    let lead_in = reading.lead_in.map(|t| t.span);
    let passages: Vec<PassageRead> = reading
        .material
        .iter()
        .filter_map(MaterialPart::passage_read)
        .collect();
    let reread_tokens = lead_in.as_ref().map_or(0, |s| s.tokens)
        + reading
            .material
            .iter()
            .map(|p| p.text.span.tokens)
            .sum::<u64>();
    let provenance = Provenance {
        model: ctx.model.info().name.clone(),
        model_fingerprint: ctx.model.fingerprint().0.clone(),
        device: ctx.model.device().to_string(),
        family: ctx.family,
        mode: reading.mode,
        checkpoint: fork.checkpoint.clone(),
        lead_in,
        material: reading.material.first().map(|p| p.text.span.clone()),
        passages,
        reread_tokens,
        prompt_tokens: prompt_tokens + cue_tokens,
        generated_tokens: generation.tokens.len() as u64,
        stop_reason: generation.stop_reason,
        as_of_page: visible.as_of_page,
        visible_until_byte: visible.end_byte,
        reading: visible.reading.clone(),
        seed: reading.sampler.seed,
        warnings: fork.warnings.clone(),
        timing,
    };
    Ok(Generated {
        text: generation.text.trim().to_string(),
        provenance,
    })
}

/// Generates from `state`, streaming text to `on_text`; the time of the first piece of text.
fn run_generation(
    ctx: &QaContext<'_>,
    state: &mut engine::State,
    logits: Vec<f32>,
    prompt: &Prompt,
    sampler: &SamplerConfig,
    started: Instant,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> Result<(Generation, Option<f64>), QaError> {
    let mut cfg = sampler.clone();
    for stop in &prompt.stop {
        if !cfg.stop.contains(stop) {
            cfg.stop.push(stop.clone());
        }
    }
    let mut first_text_ms = None;
    // Leading whitespace after the cue ("Answer: ...") is not answer text yet.
    let mut seen_text = false;
    let generation = engine::generate(
        ctx.model,
        ctx.tokenizer,
        state,
        logits,
        &cfg,
        &mut |piece: &str| {
            let piece = if seen_text { piece } else { piece.trim_start() };
            if piece.is_empty() {
                // Nothing to show for this token, but a cancel must not wait for text.
                return ctx.check_cancel().is_ok();
            }
            seen_text = true;
            first_text_ms.get_or_insert_with(|| ms_since(started));
            ctx.check_cancel().is_ok() && on_text(piece)
        },
    )?;
    if generation.stop_reason == engine::StopReason::Cancelled {
        return Err(QaError::Cancelled);
    }
    Ok((generation, first_text_ms))
}

/// Milliseconds since `t`.
pub(crate) fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
