//! The recurrent state: per layer `att_x, aa, bb, pp, ffn_x` (engine/RWKV4.md §4), all f32, plain data.
//! Saved with bincode 2 behind a header that names the model it belongs to.

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::fingerprint::{Digest, Fingerprint};
use crate::shape::ModelShape;

/// Recurrent state of one block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerState {
    /// ln1 output of the previous token (token shift for time mixing).
    pub att_x: Vec<f32>,
    /// WKV numerator, scaled by exp(−pp).
    pub aa: Vec<f32>,
    /// WKV denominator, scaled by exp(−pp).
    pub bb: Vec<f32>,
    /// Running maximum exponent.
    pub pp: Vec<f32>,
    /// ln2 output of the previous token (token shift for channel mixing).
    pub ffn_x: Vec<f32>,
}

impl LayerState {
    /// The five vectors in the order they are saved and uploaded: att_x, aa, bb, pp, ffn_x.
    pub fn vectors(&self) -> [&[f32]; 5] {
        [&self.att_x, &self.aa, &self.bb, &self.pp, &self.ffn_x]
    }
}

/// Everything the model carries from one token to the next. Cloning forks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// One entry per block.
    pub layers: Vec<LayerState>,
    /// Tokens fed since the empty state.
    pub tokens_consumed: u64,
}

/// Why a saved state could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not a state file at all.
    #[error("not an rwkv-reader state (bad magic)")]
    BadMagic,
    /// Written by a newer or older format.
    #[error(
        "state format version {found} is not supported (this build reads version {supported})"
    )]
    Version {
        /// In the file.
        found: u32,
        /// What this build reads.
        supported: u32,
    },
    /// Cut short or corrupted.
    #[error("state is damaged or truncated ({0})")]
    Damaged(String),
    /// Computed by another model.
    #[error("state belongs to model {found}, not to the model in use ({expected})")]
    WrongModel {
        /// Fingerprint in the file.
        found: Fingerprint,
        /// Fingerprint of the model in use.
        expected: Fingerprint,
    },
}

/// First bytes of every saved state.
pub const STATE_MAGIC: [u8; 8] = *b"RWKVSTAT";
/// Bumped whenever the encoding changes.
pub const STATE_FORMAT_VERSION: u32 = 1;
/// Names the order and meaning of the per-layer vectors.
pub const STATE_LAYOUT: &str = "rwkv4/f32/att_x,aa,bb,pp,ffn_x";
/// Largest state accepted when decoding (a 14B model's is 4 MB): guards against a damaged length.
const STATE_DECODE_LIMIT_BYTES: usize = 1 << 30;

#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    layout: String,
    fingerprint: Fingerprint,
    tokens_consumed: u64,
}

impl State {
    /// The empty state of a model of `shape`: zeros, with `pp = -1e30` (engine/RWKV4.md §4).
    pub fn new(shape: &ModelShape) -> State {
        let c = shape.n_embd;
        let layer = LayerState {
            att_x: vec![0.0; c],
            aa: vec![0.0; c],
            bb: vec![0.0; c],
            pp: vec![-1e30; c],
            ffn_x: vec![0.0; c],
        };
        State {
            layers: vec![layer; shape.n_layer],
            tokens_consumed: 0,
        }
    }

    /// Width of the state's vectors (0 for a state with no layers).
    pub fn width(&self) -> usize {
        self.layers.first().map_or(0, |l| l.att_x.len())
    }

    /// Encodes the state: magic, then bincode of (header, state), then a digest of those bytes.
    pub fn to_bytes(&self, fingerprint: &Fingerprint) -> Vec<u8> {
        let header = Header {
            version: STATE_FORMAT_VERSION,
            layout: STATE_LAYOUT.to_string(),
            fingerprint: fingerprint.clone(),
            tokens_consumed: self.tokens_consumed,
        };
        let config = bincode::config::standard();
        let mut out = STATE_MAGIC.to_vec();
        // Encoding plain vectors and strings into a Vec cannot fail.
        if let Ok(bytes) = bincode::serde::encode_to_vec((&header, self), config) {
            out.extend_from_slice(&bytes);
        }
        let mut digest = Digest::default();
        digest.update(&out);
        out.extend_from_slice(digest.hex().as_bytes());
        out
    }

    /// Decodes bytes written by [`State::to_bytes`], refusing damage and states of other models.
    pub fn from_bytes(bytes: &[u8], expected: &Fingerprint) -> Result<State, StateError> {
        let header = Self::peek_header(bytes)?;
        if header.fingerprint != *expected {
            return Err(StateError::WrongModel {
                found: header.fingerprint,
                expected: expected.clone(),
            });
        }
        let body = &bytes[STATE_MAGIC.len()..bytes.len() - 32];
        let config = bincode::config::standard().with_limit::<STATE_DECODE_LIMIT_BYTES>();
        let ((_, state), _): ((Header, State), usize) =
            bincode::serde::decode_from_slice(body, config)
                .map_err(|e| StateError::Damaged(e.to_string()))?;
        let width = state.width();
        let consistent = state
            .layers
            .iter()
            .all(|l| l.vectors().iter().all(|v| v.len() == width));
        if !consistent || state.tokens_consumed != header.tokens_consumed {
            return Err(StateError::Damaged("inconsistent vectors".into()));
        }
        Ok(state)
    }

    /// Reads only the header (after checking magic, version and digest): which model, how many tokens.
    pub fn peek(bytes: &[u8]) -> Result<(Fingerprint, u64), StateError> {
        Self::peek_header(bytes).map(|h| (h.fingerprint, h.tokens_consumed))
    }

    fn peek_header(bytes: &[u8]) -> Result<Header, StateError> {
        if bytes.len() < STATE_MAGIC.len() || bytes[..STATE_MAGIC.len()] != STATE_MAGIC {
            return Err(StateError::BadMagic);
        }
        if bytes.len() < STATE_MAGIC.len() + 32 {
            return Err(StateError::Damaged("too short".into()));
        }
        let (payload, stored_digest) = bytes.split_at(bytes.len() - 32);
        let mut digest = Digest::default();
        digest.update(payload);
        let config = bincode::config::standard().with_limit::<STATE_DECODE_LIMIT_BYTES>();
        let header: Header =
            bincode::serde::decode_from_slice(&payload[STATE_MAGIC.len()..], config)
                .map(|(h, _)| h)
                .map_err(|e| StateError::Damaged(e.to_string()))?;
        if header.version != STATE_FORMAT_VERSION {
            return Err(StateError::Version {
                found: header.version,
                supported: STATE_FORMAT_VERSION,
            });
        }
        if digest.hex().as_bytes() != stored_digest {
            return Err(StateError::Damaged("checksum mismatch".into()));
        }
        if header.layout != STATE_LAYOUT {
            return Err(StateError::Damaged(format!(
                "unknown layout {}",
                header.layout
            )));
        }
        Ok(header)
    }
}

impl ModelShape {
    /// Checks a forward pass's inputs against this shape: the state's layers and widths, and
    /// every token below the vocabulary size (both forward paths give the same errors).
    pub(crate) fn check_input(&self, tokens: &[u32], state: &State) -> Result<(), EngineError> {
        if state.layers.len() != self.n_layer
            || state
                .layers
                .iter()
                .any(|l| l.vectors().iter().any(|v| v.len() != self.n_embd))
        {
            return Err(EngineError::StateShape {
                got_layers: state.layers.len(),
                got_width: state.width(),
                want_layers: self.n_layer,
                want_width: self.n_embd,
            });
        }
        if let Some(&token) = tokens.iter().find(|&&t| t as usize >= self.n_vocab) {
            return Err(EngineError::TokenOutOfRange {
                token,
                n_vocab: self.n_vocab,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (State, Fingerprint) {
        let shape = ModelShape {
            n_layer: 2,
            n_embd: 3,
            n_ffn: 12,
            n_vocab: 5,
        };
        let mut state = State::new(&shape);
        state.layers[1].aa = vec![0.1, f32::MIN_POSITIVE, -3.5e-12];
        state.tokens_consumed = 42;
        (state, Fingerprint("rwkv4-test".into()))
    }

    #[test]
    fn save_load_is_bit_exact() -> Result<(), StateError> {
        let (state, fp) = sample();
        let back = State::from_bytes(&state.to_bytes(&fp), &fp)?;
        assert_eq!(back, state);
        Ok(())
    }

    #[test]
    fn other_models_and_damage_are_refused() {
        let (state, fp) = sample();
        let bytes = state.to_bytes(&fp);
        let other = Fingerprint("rwkv4-other".into());
        assert!(matches!(
            State::from_bytes(&bytes, &other),
            Err(StateError::WrongModel { .. })
        ));
        for cut in [0, 5, 9, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                State::from_bytes(&bytes[..cut], &fp).is_err(),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x10;
        assert!(matches!(
            State::from_bytes(&flipped, &fp),
            Err(StateError::Damaged(_))
        ));
    }
}
