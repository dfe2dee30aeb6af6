//! Random RWKV-4 weights of any shape, with the parameter ranges of RWKV-4's own initialisation
//! (decay ramps, first-token bonus, mix ramps), for benchmarks of shapes that cannot be downloaded.

use crate::embedding::Embedding;
use crate::error::EngineError;
use crate::formats::stored_tensor::StoredDType;
use crate::linear::Linear;
use crate::precision::WeightPrecision;
use crate::rng::SplitMix64;
use crate::shape::ModelShape;
use crate::weights::{Block, Mix, Norm, Weights};

/// Named shapes of the released RWKV-4 Pile models (engine/RWKV4.md §1).
pub const NAMED_SHAPES: [(&str, ModelShape); 6] = [
    (
        "169m",
        ModelShape {
            n_layer: 12,
            n_embd: 768,
            n_ffn: 3072,
            n_vocab: 50277,
        },
    ),
    (
        "430m",
        ModelShape {
            n_layer: 24,
            n_embd: 1024,
            n_ffn: 4096,
            n_vocab: 50277,
        },
    ),
    (
        "1b5",
        ModelShape {
            n_layer: 24,
            n_embd: 2048,
            n_ffn: 8192,
            n_vocab: 50277,
        },
    ),
    (
        "3b",
        ModelShape {
            n_layer: 32,
            n_embd: 2560,
            n_ffn: 10240,
            n_vocab: 50277,
        },
    ),
    (
        "7b",
        ModelShape {
            n_layer: 32,
            n_embd: 4096,
            n_ffn: 16384,
            n_vocab: 50277,
        },
    ),
    (
        "14b",
        ModelShape {
            n_layer: 40,
            n_embd: 5120,
            n_ffn: 20480,
            n_vocab: 50277,
        },
    ),
];

/// Looks up a named shape (`169m`, `430m`, `1b5`/`1.5b`, `3b`, `7b`, `14b`) or parses `LxC[xV]`.
pub fn named_shape(name: &str) -> Option<ModelShape> {
    let lower = name.to_ascii_lowercase().replace("1.5b", "1b5");
    if let Some((_, shape)) = NAMED_SHAPES.iter().find(|(n, _)| *n == lower) {
        return Some(*shape);
    }
    let parts: Vec<usize> = lower
        .split('x')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts[..] {
        [l, c] => Some(ModelShape {
            n_layer: l,
            n_embd: c,
            n_ffn: 4 * c,
            n_vocab: 50277,
        }),
        [l, c, v] => Some(ModelShape {
            n_layer: l,
            n_embd: c,
            n_ffn: 4 * c,
            n_vocab: v,
        }),
        _ => None,
    }
    .filter(|s| s.n_layer > 0 && s.n_embd > 0 && s.n_vocab > 0)
}

/// Builds random weights of `shape` from `seed`.
pub fn random_weights(shape: ModelShape, seed: u64) -> Result<Weights, EngineError> {
    let mut rng = SplitMix64::new(seed);
    let ModelShape {
        n_layer,
        n_embd: c,
        n_ffn: f,
        n_vocab: v,
    } = shape;
    let norm = |rng: &mut SplitMix64| {
        let (weight, bias) = random_norm(c, rng);
        Norm { weight, bias }
    };
    let dense = |out_f: usize, in_f: usize, rng: &mut SplitMix64| -> Result<Linear, EngineError> {
        Linear::new(random_dense(out_f, in_f, rng), out_f, in_f)
    };
    let emb = Embedding::from_f32(random_embedding(v, c, &mut rng), v, c)?;
    let mut blocks = Vec::with_capacity(n_layer);
    for layer in 0..n_layer {
        let ramps = LayerRamps::new(&shape, layer);
        blocks.push(Block {
            ln1: norm(&mut rng),
            ln2: norm(&mut rng),
            att_mix_k: Mix::from_values(ramps.att_mix_k),
            att_mix_v: Mix::from_values(ramps.att_mix_v),
            att_mix_r: Mix::from_values(ramps.att_mix_r),
            att_decay: ramps.time_decay.iter().map(|d| -d.exp()).collect(),
            att_first: ramps.time_first,
            att_key: dense(c, c, &mut rng)?,
            att_value: dense(c, c, &mut rng)?,
            att_receptance: dense(c, c, &mut rng)?,
            att_output: dense(c, c, &mut rng)?,
            ffn_mix_k: Mix::from_values(ramps.ffn_mix_k),
            ffn_mix_r: Mix::from_values(ramps.ffn_mix_r),
            ffn_key: dense(f, c, &mut rng)?,
            ffn_receptance: dense(c, c, &mut rng)?,
            ffn_value: dense(c, f, &mut rng)?,
        });
    }
    Ok(Weights {
        shape,
        emb,
        blocks,
        ln_out: norm(&mut rng),
        head: dense(v, c, &mut rng)?,
        stored: StoredDType::F32,
        precision: WeightPrecision::F32,
    })
}

/// The random draws, in the order [`random_weights`] makes them, for generators that write a model
/// tensor by tensor (`quant_random`): the embedding `[V·C]`, then per layer ln1 and ln2 (weight then
/// bias, each by [`random_norm`]), the seven matrices in `Block` field order (by [`random_dense`]),
/// then ln_out and the head.
pub(crate) fn random_embedding(n_vocab: usize, n_embd: usize, rng: &mut SplitMix64) -> Vec<f32> {
    (0..n_vocab * n_embd).map(|_| rng.uniform(1.0)).collect()
}

/// LayerNorm weight (≈ 1) and bias (≈ 0) of width `c`.
pub(crate) fn random_norm(c: usize, rng: &mut SplitMix64) -> (Vec<f32>, Vec<f32>) {
    let weight = (0..c).map(|_| 1.0 + rng.uniform(0.1)).collect();
    let bias = (0..c).map(|_| rng.uniform(0.1)).collect();
    (weight, bias)
}

/// `[out, in]` weights, uniform with the standard deviation 1/sqrt(fan_in).
pub(crate) fn random_dense(out_f: usize, in_f: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let limit = (3.0 / in_f as f32).sqrt();
    (0..out_f * in_f).map(|_| rng.uniform(limit)).collect()
}

/// The per-layer vectors of RWKV-4's own initialisation, which draw nothing from the generator.
pub(crate) struct LayerRamps {
    /// Raw `time_decay` (the model uses −exp of it).
    pub time_decay: Vec<f32>,
    /// `time_first`.
    pub time_first: Vec<f32>,
    /// Time-mix mixes.
    pub att_mix_k: Vec<f32>,
    /// See `att_mix_k`.
    pub att_mix_v: Vec<f32>,
    /// See `att_mix_k`.
    pub att_mix_r: Vec<f32>,
    /// Channel-mix mixes.
    pub ffn_mix_k: Vec<f32>,
    /// See `ffn_mix_k`.
    pub ffn_mix_r: Vec<f32>,
}

impl LayerRamps {
    /// The vectors of layer `layer` of a model of `shape`.
    pub(crate) fn new(shape: &ModelShape, layer: usize) -> LayerRamps {
        let (n_layer, c) = (shape.n_layer, shape.n_embd);
        let ratio_0_to_1 = layer as f32 / (n_layer.max(2) - 1) as f32;
        let ratio_1_to_almost0 = 1.0 - layer as f32 / n_layer as f32;
        let channel = |h: usize| h as f32 / c as f32;
        let time_decay = (0..c)
            .map(|h| -5.0 + 8.0 * (h as f32 / (c.max(2) - 1) as f32).powf(0.7 + 1.3 * ratio_0_to_1))
            .collect();
        let time_first = (0..c)
            .map(|h| 0.3f32.ln() + (((h + 1) % 3) as f32 - 1.0) * 0.5)
            .collect();
        let mix = |power: f32, add: f32| -> Vec<f32> {
            (0..c)
                .map(|h| (channel(h).powf(power) + add).min(1.0))
                .collect()
        };
        LayerRamps {
            time_decay,
            time_first,
            att_mix_k: mix(ratio_1_to_almost0, 0.0),
            att_mix_v: mix(ratio_1_to_almost0, 0.3 * ratio_0_to_1),
            att_mix_r: mix(0.5 * ratio_1_to_almost0, 0.0),
            ffn_mix_k: mix(ratio_1_to_almost0, 0.0),
            ffn_mix_r: mix(ratio_1_to_almost0, 0.0),
        }
    }
}
