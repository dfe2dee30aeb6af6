//! Checkpoint tensor names: BlinkDL's are canonical here; Hugging Face `RwkvForCausalLM` names are
//! mapped onto them (engine/RWKV4.md §2.2), and newer RWKV versions are recognised so they can be refused.

/// Which naming convention a checkpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `emb.weight`, `blocks.N.att.key.weight`, ... (BlinkDL `.pth` and safetensors made from it).
    BlinkDl,
    /// `rwkv.embeddings.weight`, `rwkv.blocks.N.attention.key.weight`, ... (transformers).
    HuggingFace,
}

impl Naming {
    /// Guesses the convention from the names present.
    pub fn detect<'a>(names: impl IntoIterator<Item = &'a str>) -> Naming {
        if names.into_iter().any(|n| n.starts_with("rwkv.")) {
            Naming::HuggingFace
        } else {
            Naming::BlinkDl
        }
    }
}

/// Maps a Hugging Face tensor name to its BlinkDL name; other names pass through unchanged.
pub fn to_blinkdl(name: &str) -> String {
    let Some(rest) = name.strip_prefix("rwkv.") else {
        return name.to_string();
    };
    if rest == "embeddings.weight" {
        return "emb.weight".to_string();
    }
    if let Some(ln) = rest.strip_prefix("ln_out.") {
        return format!("ln_out.{ln}");
    }
    rest.replace(".pre_ln.", ".ln0.")
        .replace(".attention.", ".att.")
        .replace(".feed_forward.", ".ffn.")
        .replace("time_mix_key", "time_mix_k")
        .replace("time_mix_value", "time_mix_v")
        .replace("time_mix_receptance", "time_mix_r")
}

/// Returns the name of a tensor that marks a checkpoint as RWKV-5, -6 or -7, if there is one.
/// engine/RWKV4.md §2.3: v4 iff no key contains `ln_x`, `gate.weight` or `time_maa`; `time_faaaa` is v5/v6 only.
pub fn newer_version_marker<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const MARKERS: [&str; 6] = [
        "ln_x",
        "gate.weight",
        "time_maa",
        "time_faaaa",
        "time_decay_w",
        "att.w0",
    ];
    names
        .into_iter()
        .find(|name| MARKERS.iter().any(|marker| name.contains(marker)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_names_map_to_blinkdl() {
        let cases = [
            ("rwkv.embeddings.weight", "emb.weight"),
            ("rwkv.blocks.0.pre_ln.weight", "blocks.0.ln0.weight"),
            ("rwkv.blocks.3.ln2.bias", "blocks.3.ln2.bias"),
            (
                "rwkv.blocks.1.attention.time_mix_key",
                "blocks.1.att.time_mix_k",
            ),
            (
                "rwkv.blocks.1.attention.time_mix_value",
                "blocks.1.att.time_mix_v",
            ),
            (
                "rwkv.blocks.1.attention.time_mix_receptance",
                "blocks.1.att.time_mix_r",
            ),
            (
                "rwkv.blocks.1.attention.time_decay",
                "blocks.1.att.time_decay",
            ),
            (
                "rwkv.blocks.1.attention.output.weight",
                "blocks.1.att.output.weight",
            ),
            (
                "rwkv.blocks.2.feed_forward.time_mix_key",
                "blocks.2.ffn.time_mix_k",
            ),
            (
                "rwkv.blocks.2.feed_forward.value.weight",
                "blocks.2.ffn.value.weight",
            ),
            ("rwkv.ln_out.weight", "ln_out.weight"),
            ("head.weight", "head.weight"),
        ];
        for (hf, blink) in cases {
            assert_eq!(to_blinkdl(hf), blink, "{hf}");
        }
    }

    #[test]
    fn newer_versions_are_recognised() {
        assert_eq!(
            newer_version_marker(["emb.weight", "blocks.0.att.ln_x.weight"]),
            Some("blocks.0.att.ln_x.weight")
        );
        assert_eq!(
            newer_version_marker(["blocks.0.att.time_maa_x"]),
            Some("blocks.0.att.time_maa_x")
        );
        assert_eq!(
            newer_version_marker(["emb.weight", "blocks.0.att.time_first"]),
            None
        );
    }
}
