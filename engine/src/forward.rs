//! The forward pass (engine/RWKV4.md §5) over a chunk of tokens: every linear layer as one `[T, D]` matrix
//! product, the WKV recurrence as a sequential loop over the chunk, the output head only when logits
//! are wanted. Long inputs are cut into sub-chunks, which changes nothing but peak memory.

use crate::error::EngineError;
use crate::kernels;
use crate::model::Model;
use crate::state::{LayerState, State};
use crate::weights::Block;

/// Tokens processed together: bounds the activations (T × F floats) for any input length.
const MAX_ROWS_PER_PASS: usize = 256;

/// Which logits a pass returns (here and in `tensor_forward`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logits {
    None,
    Last,
    All,
}

impl Model {
    /// Feeds `tokens` (any number ≥ 1), advancing `state`, and returns the logits after the last
    /// token (length = vocabulary). Splitting the same tokens over several calls gives the same result.
    pub fn forward(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError> {
        if tokens.is_empty() {
            return Err(EngineError::NoTokens);
        }
        self.run(tokens, state, Logits::Last)
    }

    /// Feeds `tokens`, advancing `state`, without computing the output head: reading a document.
    /// An empty slice is allowed and changes nothing.
    pub fn read(&self, tokens: &[u32], state: &mut State) -> Result<(), EngineError> {
        self.run(tokens, state, Logits::None).map(|_| ())
    }

    /// [`Model::read`] that calls `between_layers` before every layer of every pass: it may block
    /// (pausing the reading, e.g. while a question is answered) and returns false to stop with
    /// [`EngineError::Cancelled`], leaving `state` part-way through a layer stack (throw it away).
    pub fn read_with(
        &self,
        tokens: &[u32],
        state: &mut State,
        between_layers: &mut dyn FnMut() -> bool,
    ) -> Result<(), EngineError> {
        self.run_checked(tokens, state, Logits::None, Some(between_layers))
            .map(|_| ())
    }

    /// Like [`Model::forward`] but returns the logits after every token, `[tokens.len() × vocab]`
    /// row-major (for evaluation: perplexity, comparisons with other implementations).
    pub fn forward_all(&self, tokens: &[u32], state: &mut State) -> Result<Vec<f32>, EngineError> {
        self.run(tokens, state, Logits::All)
    }

    fn run(
        &self,
        tokens: &[u32],
        state: &mut State,
        logits: Logits,
    ) -> Result<Vec<f32>, EngineError> {
        self.run_checked(tokens, state, logits, None)
    }

    fn run_checked<'c>(
        &self,
        tokens: &[u32],
        state: &mut State,
        logits: Logits,
        mut between_layers: Option<&mut (dyn FnMut() -> bool + 'c)>,
    ) -> Result<Vec<f32>, EngineError> {
        self.weights.shape.check_input(tokens, state)?;
        let mut out = Vec::new();
        let passes = tokens.chunks(MAX_ROWS_PER_PASS).count();
        for (i, part) in tokens.chunks(MAX_ROWS_PER_PASS).enumerate() {
            let x = self.blocks_forward(part, state, between_layers.as_deref_mut())?;
            match logits {
                Logits::All => out.extend(self.head(&x, part.len())?),
                Logits::Last if i + 1 == passes => {
                    let c = self.weights.shape.n_embd;
                    out = self.head(&x[(part.len() - 1) * c..], 1)?;
                }
                _ => {}
            }
            state.tokens_consumed += part.len() as u64;
        }
        Ok(out)
    }

    /// Embeds `tokens` and runs every block; returns the final hidden rows `[T × C]`.
    fn blocks_forward<'c>(
        &self,
        tokens: &[u32],
        state: &mut State,
        mut between_layers: Option<&mut (dyn FnMut() -> bool + 'c)>,
    ) -> Result<Vec<f32>, EngineError> {
        let c = self.weights.shape.n_embd;
        let mut x = Vec::with_capacity(tokens.len() * c);
        for &t in tokens {
            self.weights.emb.push_row(t as usize, &mut x);
        }
        for (block, layer_state) in self.weights.blocks.iter().zip(state.layers.iter_mut()) {
            if let Some(keep_going) = between_layers.as_deref_mut() {
                if !keep_going() {
                    return Err(EngineError::Cancelled);
                }
            }
            on_worker(|| {
                time_mix(block, layer_state, &mut x, tokens.len())?;
                channel_mix(block, layer_state, &mut x, tokens.len())
            })?;
        }
        Ok(x)
    }

    /// `LN(x; ln_out) · headᵀ` for `rows` rows.
    fn head(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, EngineError> {
        let ln = &self.weights.ln_out;
        let mut normed = vec![0.0f32; x.len()];
        kernels::layer_norm_rows(x, &ln.weight, &ln.bias, &mut normed);
        on_worker(|| self.weights.head.forward(&normed, rows))
    }
}

/// Runs `work` on a thread of rayon's pool and waits for it. The matrix products inside split
/// their work across the pool; started from a worker, each split is a push onto that worker's own
/// queue that an idle sibling steals, instead of a job injected from outside with the caller put to
/// sleep and woken for every product (85 of them per generated token at 169M). Measured on the
/// 2-core machine, interleaved in one process: 1–3 % more tokens per second when generating, a
/// third of the context switches.
fn on_worker<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// Time mixing ("attention") of one block, in place on `x`.
fn time_mix(
    block: &Block,
    state: &mut LayerState,
    x: &mut [f32],
    rows: usize,
) -> Result<(), EngineError> {
    let c = state.att_x.len();
    let mut xx = vec![0.0f32; x.len()];
    kernels::layer_norm_rows(x, &block.ln1.weight, &block.ln1.bias, &mut xx);
    let mut mixed = vec![0.0f32; x.len()];
    let mut project = |mix: &crate::weights::Mix, linear: &crate::linear::Linear| {
        kernels::token_shift_mix(&xx, &state.att_x, &mix.mix, &mix.one_minus, &mut mixed);
        linear.forward(&mixed, rows)
    };
    let k = project(&block.att_mix_k, &block.att_key)?;
    let v = project(&block.att_mix_v, &block.att_value)?;
    let mut r = project(&block.att_mix_r, &block.att_receptance)?;
    kernels::sigmoid_in_place(&mut r);
    let mut wkv = vec![0.0f32; x.len()];
    kernels::wkv_chunk(&k, &v, &block.att_first, &block.att_decay, state, &mut wkv);
    kernels::mul_in_place(&mut r, &wkv);
    let out = block.att_output.forward(&r, rows)?;
    kernels::add_in_place(x, &out);
    state.att_x.copy_from_slice(&xx[(rows - 1) * c..]);
    Ok(())
}

/// Channel mixing (the feed-forward part) of one block, in place on `x`.
fn channel_mix(
    block: &Block,
    state: &mut LayerState,
    x: &mut [f32],
    rows: usize,
) -> Result<(), EngineError> {
    let c = state.ffn_x.len();
    let mut xx = vec![0.0f32; x.len()];
    kernels::layer_norm_rows(x, &block.ln2.weight, &block.ln2.bias, &mut xx);
    let mut mixed = vec![0.0f32; x.len()];
    kernels::token_shift_mix(
        &xx,
        &state.ffn_x,
        &block.ffn_mix_r.mix,
        &block.ffn_mix_r.one_minus,
        &mut mixed,
    );
    let mut r = block.ffn_receptance.forward(&mixed, rows)?;
    kernels::sigmoid_in_place(&mut r);
    kernels::token_shift_mix(
        &xx,
        &state.ffn_x,
        &block.ffn_mix_k.mix,
        &block.ffn_mix_k.one_minus,
        &mut mixed,
    );
    let mut k = block.ffn_key.forward(&mixed, rows)?;
    kernels::relu_squared_in_place(&mut k);
    let v = block.ffn_value.forward(&k, rows)?;
    kernels::add_product(x, &r, &v);
    state.ffn_x.copy_from_slice(&xx[(rows - 1) * c..]);
    Ok(())
}
