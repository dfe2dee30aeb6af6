//! `rwkv-reader eval`: run tokens through the model and write the last logits and the final state to
//! a safetensors file, with the tensor names the reference fixtures use, so anyone can compare this
//! engine with another implementation on their own weights.

use std::path::Path;

use crate::error::EngineError;
use crate::model::Model;
use crate::state::State;

/// Result of an evaluation run.
#[derive(Debug, Clone)]
pub struct EvalOutput {
    /// Logits after the last token.
    pub logits_last: Vec<f32>,
    /// State after the last token.
    pub state: State,
}

/// Feeds `tokens` in chunks of `chunk_tokens` (0 = all at once) from the empty state.
pub fn evaluate(
    model: &Model,
    tokens: &[u32],
    chunk_tokens: usize,
) -> Result<EvalOutput, EngineError> {
    let mut state = model.new_state();
    let chunk = if chunk_tokens == 0 {
        tokens.len().max(1)
    } else {
        chunk_tokens
    };
    let mut logits = Vec::new();
    for part in tokens.chunks(chunk) {
        logits = model.forward(part, &mut state)?;
    }
    if logits.is_empty() {
        return Err(EngineError::NoTokens);
    }
    Ok(EvalOutput {
        logits_last: logits,
        state,
    })
}

/// Writes `logits_last` `V` and `state.{i}.{att_x,att_aa,att_bb,att_pp,ffn_x}` `C` as f32 safetensors.
pub fn write_eval(output: &EvalOutput, path: &Path) -> Result<(), EngineError> {
    let mut tensors: Vec<(String, Vec<u8>, usize)> = Vec::new();
    let mut add = |name: String, values: &[f32]| {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((name, bytes, values.len()));
    };
    add("logits_last".into(), &output.logits_last);
    for (i, layer) in output.state.layers.iter().enumerate() {
        add(format!("state.{i}.att_x"), &layer.att_x);
        add(format!("state.{i}.att_aa"), &layer.aa);
        add(format!("state.{i}.att_bb"), &layer.bb);
        add(format!("state.{i}.att_pp"), &layer.pp);
        add(format!("state.{i}.ffn_x"), &layer.ffn_x);
    }
    let views = tensors
        .iter()
        .map(|(name, bytes, len)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![*len], bytes)
                .map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    safetensors::serialize_to_file(views, None, path).map_err(|e| EngineError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
