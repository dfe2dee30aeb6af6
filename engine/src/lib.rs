//! # rwkv-engine
//!
//! RWKV-4 inference on candle, built for reading long documents: a chunk of tokens at a time, the
//! recurrent [`State`] carried between chunks, saved and restored bit for bit, and generation from a
//! forked state. It knows nothing of documents or terminals.
//!
//! ```no_run
//! use engine::{Model, Tokenizer, SamplerConfig, generate};
//! # fn main() -> Result<(), engine::EngineError> {
//! let model = Model::load("RWKV-4-Pile-169M.pth".as_ref())?;
//! let tokenizer = Tokenizer::for_model("RWKV-4-Pile-169M.pth".as_ref())?;
//! let mut state = model.new_state();
//! model.read(&tokenizer.encode("A long book ...")?, &mut state)?;      // no logits: cheap
//! let mut fork = state.clone();                                        // the original stays intact
//! let logits = model.forward(&tokenizer.encode("\n\nQuestion: who?\n\nAnswer:")?, &mut fork)?;
//! let answer = generate(&model, &tokenizer, &mut fork, logits, &SamplerConfig::default(), &mut |piece| {
//!     print!("{piece}");
//!     true
//! })?;
//! # Ok(()) }
//! ```
//!
//! The math follows the reference implementation (PyPI `rwkv` 0.8.32, strategy `cpu fp32`) and is
//! tested against outputs it recorded (`tests/reference.rs`).
//!
//! Large models run from a single `.gguf` file with Q8_0 (or f16) weights, made once by
//! [`convert::convert`] (streamed tensor by tensor) and loaded in milliseconds by [`Model::load`]: the
//! weights stay in the memory-mapped file (see [`gguf_model`] for the layout, [`precision`] for the
//! formats). States stay f32 whatever the weights; the [`Fingerprint`] names the precision, so a
//! state is never resumed with another form of the same model.
//!
//! [`TensorModel`] runs the same model with candle tensor ops on any candle device — a GPU when
//! built with the `cuda` feature, the WKV scan being the custom op in [`wkv_op`] — taking and
//! returning the same [`State`] (see [`tensor_forward`]).

pub mod bench;
pub mod config;
pub mod convert;
pub mod embedding;
pub mod error;
pub mod eval;
pub mod fingerprint;
mod forward;
mod generate;
pub mod gguf;
pub mod gguf_model;
mod huge_pages;
pub mod kernels;
pub mod linear;
pub mod model;
pub mod names;
mod panel_kernels;
pub mod panels;
pub mod precision;
mod pth;
mod q8_0_kernels;
mod q8_activations;
pub mod q8_dot_kernels;
mod q8_panels;
pub mod quant_random;
pub mod random_init;
mod rng;
pub mod sampler;
pub mod source;
pub mod state;
pub mod tensor_forward;
pub mod tokenizer;
pub mod weights;
pub mod wkv_op;

pub use config::{ModelInfo, ModelShape};
pub use error::EngineError;
pub use fingerprint::Fingerprint;
pub use generate::{generate, Generation, StopReason};
pub use model::Model;
pub use precision::WeightPrecision;
pub use rng::SplitMix64;
pub use sampler::{Sampler, SamplerConfig};
pub use state::{LayerState, State, StateError};
pub use tensor_forward::TensorModel;
pub use tokenizer::{TextStream, Tokenizer};
