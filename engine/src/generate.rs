//! Generation from a state: sample, stream the text, feed the token back, until a stop string,
//! end-of-text, the token limit or the caller says stop.

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::language_model::LanguageModel;
use crate::sampler::{Sampler, SamplerConfig};
use crate::state::State;
use crate::tokenizer::{TextStream, Tokenizer};

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// `max_tokens` were generated.
    MaxTokens,
    /// A stop string was produced (it is not part of the text).
    StopString,
    /// The model produced its end-of-text token.
    EndOfText,
    /// The caller's callback returned false.
    Cancelled,
}

/// The outcome of [`generate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// Generated text, stop string excluded.
    pub text: String,
    /// Generated token ids (the stop string's tokens included, end-of-text excluded).
    pub tokens: Vec<u32>,
    /// Why it ended.
    pub stop_reason: StopReason,
}

/// Generates from `state`, which must already have consumed the prompt, whose last `forward` gave
/// `logits`. The state is advanced (fork it with `clone()` to keep the original). `on_text` receives
/// each new piece of text as soon as it is certain not to be the start of a stop string; returning
/// false cancels. It is called after every token — with an empty piece when the token completed no
/// character or may still begin a stop string — so that a cancel never waits for visible text.
pub fn generate(
    model: &dyn LanguageModel,
    tokenizer: &Tokenizer,
    state: &mut State,
    logits: Vec<f32>,
    config: &SamplerConfig,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> Result<Generation, EngineError> {
    let mut sampler = Sampler::new(config.clone());
    let mut stream = TextStream::new(tokenizer);
    let mut logits = logits;
    let mut tokens = Vec::new();
    let mut text = String::new();
    // Bytes of `text` already handed to `on_text`.
    let mut emitted = 0;
    let stop_reason = loop {
        if tokens.len() >= config.max_tokens {
            break StopReason::MaxTokens;
        }
        let token = sampler.sample(&logits);
        if Some(token) == config.end_of_text {
            break StopReason::EndOfText;
        }
        tokens.push(token);
        let piece = stream.push(token);
        sampler.observe(token, &tokenizer.decode(&[token]));
        text.push_str(&piece);
        if let Some(at) = earliest_stop(&text, &config.stop) {
            text.truncate(at);
            if text.len() > emitted && !on_text(&text[emitted..]) {
                break StopReason::Cancelled;
            }
            break StopReason::StopString;
        }
        let safe = (text.len() - held_back(&text, &config.stop)).max(emitted);
        let keep_going = on_text(&text[emitted..safe]);
        emitted = safe;
        if !keep_going {
            break StopReason::Cancelled;
        }
        logits = model.forward(&[token], state)?;
    };
    if stop_reason != StopReason::StopString {
        text.push_str(&stream.finish());
        // What was held back is shown now that no stop string can follow — unless the caller
        // has stopped listening.
        if text.len() > emitted && stop_reason != StopReason::Cancelled {
            on_text(&text[emitted..]);
        }
    }
    Ok(Generation {
        text,
        tokens,
        stop_reason,
    })
}

/// Byte position of the first stop string in `text`.
fn earliest_stop(text: &str, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min()
}

/// Length of the longest suffix of `text` that is a proper prefix of a stop string: it must not be
/// shown yet, since the next token may complete the stop string.
fn held_back(text: &str, stops: &[String]) -> usize {
    let mut longest = 0;
    for stop in stops {
        for (len, _) in stop.char_indices().skip(1) {
            if len > longest && text.ends_with(&stop[..len]) {
                longest = len;
            }
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_prefixes_are_held_back() {
        let stops = vec!["\n\nQuestion:".to_string()];
        assert_eq!(held_back("answer\n", &stops), 1);
        assert_eq!(held_back("answer\n\nQue", &stops), 5);
        assert_eq!(held_back("answer", &stops), 0);
        assert_eq!(earliest_stop("a\n\nQuestion: b", &stops), Some(1));
    }
}
