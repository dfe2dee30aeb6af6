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
//! [`convert()`] (streamed tensor by tensor) and loaded in milliseconds by [`Model::load`]: the
//! weights stay in the memory-mapped file ([`WeightPrecision`] names the formats). States stay f32
//! whatever the weights; the [`Fingerprint`] names the precision, so a state is never resumed with
//! another form of the same model.
//!
//! [`TensorModel`] runs the same model with candle tensor ops on any candle device — a GPU when
//! built with the `cuda` feature, the WKV scan being a custom op — taking and returning the same
//! [`State`]. [`LanguageModel`] is the one interface both present to the rest of the product:
//! [`Model`] implements it, and so does [`DeviceModel`] (a tensor model with its identity);
//! [`load_model`] opens a checkpoint for a device by name (`cpu`, `cuda`, `cuda:N`).
//!
//! The math is written down in `engine/RWKV4.md`. The source is grouped by kind: `formats/` reads
//! and writes weight files (`.pth`, safetensors, GGUF, tensor names), `kernels/` holds the compute
//! kernels (element-wise, f32 panel products, Q8_0 products), and [`tools`] the benchmark,
//! evaluation and random-model helpers that are not part of reading a document.

mod device_model;
mod embedding;
mod error;
mod fingerprint;
mod formats;
mod forward;
mod generate;
mod kernels;
mod language_model;
mod linear;
mod memory_usage;
mod model;
mod precision;
mod rng;
mod sampler;
mod shape;
mod state;
mod tensor_forward;
mod tokenizer;
pub mod tools;
mod weights;
mod wkv_op;

pub use device_model::{load_model, DeviceModel};
pub use error::EngineError;
pub use fingerprint::{precision_label, Fingerprint, Q8_0_PRODUCTS_VERSION};
pub use formats::convert::{convert, convert_with_progress, ConvertReport};
pub use generate::{generate, Generation, StopReason};
pub use kernels::q8_dot_kernels::{limit_q8_path, q8_path, Q8Path};
pub use language_model::LanguageModel;
pub use model::Model;
pub use precision::WeightPrecision;
pub use rng::SplitMix64;
pub use sampler::{Sampler, SamplerConfig};
pub use shape::{ModelInfo, ModelShape};
pub use state::{LayerState, State, StateError};
pub use tensor_forward::{device_by_name, device_name, DeviceMatrices, TensorModel};
pub use tokenizer::{TextStream, Tokenizer};
