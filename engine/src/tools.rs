//! Helpers around the engine that reading a document does not need: throughput benchmarks,
//! evaluation output for comparison with other implementations, and random-init models of the
//! published shapes (in memory, or written as Q8_0/f16 `.gguf` files) for both.

pub mod bench;
pub mod eval;
pub mod quant_random;
pub mod random_init;

pub use crate::weights::Weights;
pub use crate::wkv_op::{wkv, PARAM_ROWS};
