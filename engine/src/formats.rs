//! Weight files: the containers the engine reads (`.pth` torch zips, `.safetensors`, GGUF), the
//! tensor names of BlinkDL and Hugging Face checkpoints, and conversion to a single `.gguf`.

pub(crate) mod checkpoint_file;
pub(crate) mod convert;
pub(crate) mod gguf;
pub(crate) mod gguf_model;
pub(crate) mod names;
pub(crate) mod pth;
pub(crate) mod stored_tensor;
