//! The shape of an RWKV-4 model, inferred from its tensors, and the facts shown to users.

use serde::{Deserialize, Serialize};

/// Dimensions of an RWKV-4 model (engine/RWKV4.md §1): all inferred from tensor shapes, never configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Number of blocks (1 + highest block index).
    pub n_layer: usize,
    /// Embedding width C.
    pub n_embd: usize,
    /// Channel-mix hidden width F (4·C in every released model).
    pub n_ffn: usize,
    /// Vocabulary size V (rows of the embedding and of the head).
    pub n_vocab: usize,
}

impl ModelShape {
    /// Parameter count of a model of this shape (embedding, blocks, head; ln0 included).
    pub fn n_params(&self) -> u64 {
        let (c, f, v) = (self.n_embd as u64, self.n_ffn as u64, self.n_vocab as u64);
        let per_layer = 4 * c * c      // att key/value/receptance/output
            + 2 * c * f + c * c        // ffn key, value; receptance
            + 4 * c                    // ln1, ln2
            + 5 * c                    // att time_mix ×3, decay, first
            + 2 * c; // ffn time_mix ×2
        2 * v * c + self.n_layer as u64 * per_layer + 2 * c + 2 * c
    }

    /// Floats in one saved state: 5 vectors of width C per layer (engine/RWKV4.md §4).
    pub fn state_floats(&self) -> usize {
        5 * self.n_layer * self.n_embd
    }
}

/// What a user is told about the model in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// A human name: the checkpoint's metadata name, else its file name.
    pub name: String,
    /// Blocks.
    pub n_layer: usize,
    /// Width.
    pub n_embd: usize,
    /// Channel-mix width.
    pub n_ffn: usize,
    /// Vocabulary size.
    pub n_vocab: usize,
    /// Parameter count.
    pub n_params: u64,
    /// Precision the weights are computed in ("f32", "q8_0", ...).
    pub precision: String,
    /// Precision the checkpoint stored ("f32", "bf16", "f16").
    pub stored_precision: String,
    /// The checkpoint format ("pth", "safetensors (BlinkDL names)", ...).
    pub format: String,
    /// True for the small demo model bundled with rwkv-reader (its answers are labelled as such).
    pub is_demo: bool,
    /// Where it computes: `cpu` (the CPU engine) or a device such as `cuda:0`.
    #[serde(default = "cpu")]
    pub device: String,
}

fn cpu() -> String {
    "cpu".to_string()
}

impl ModelInfo {
    /// A short label such as `"demo model · 5.1M params · f32"`,
    /// `"RWKV-4-Pile-14B · 14.2B params · q8_0"` or `"RWKV-4-Pile-14B · 14.2B params · q8_0 on cuda:0"`.
    pub fn label(&self) -> String {
        let name = if self.is_demo {
            "demo model".to_string()
        } else {
            self.name.clone()
        };
        let on = if self.device == "cpu" {
            String::new()
        } else {
            format!(" on {}", self.device)
        };
        format!(
            "{name} · {} params · {}{on}",
            human_count(self.n_params),
            self.precision
        )
    }
}

/// `1_415_000_000` → `"1.4B"`, `5_100_000` → `"5.1M"`.
pub fn human_count(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1}B", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}K", n / 1e3)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_of_169m_shape_match_the_released_model() {
        let shape = ModelShape {
            n_layer: 12,
            n_embd: 768,
            n_ffn: 3072,
            n_vocab: 50277,
        };
        let n = shape.n_params();
        // RWKV-4-Pile-169M has 169.3M parameters.
        assert!((169_000_000..170_000_000).contains(&n), "{n}");
    }

    #[test]
    fn human_count_rounds() {
        assert_eq!(human_count(1_415_000_000), "1.4B");
        assert_eq!(human_count(5_100_000), "5.1M");
        assert_eq!(human_count(999), "999");
    }
}
