//! Choosing the next token as ChatRWKV's `PIPELINE` does: repetition penalties on the logits, then
//! top-p / top-k filtering of the probabilities, then temperature, then a seeded draw.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// Settings for one generation (ChatRWKV `PIPELINE_ARGS`, plus a seed, a length limit and stop strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplerConfig {
    /// Probabilities are raised to 1/temperature; 0 means always the most likely token.
    pub temperature: f32,
    /// Keep the most likely tokens whose probabilities add up to this (1.0 keeps all).
    pub top_p: f32,
    /// Keep at most this many tokens (0 = no limit).
    pub top_k: usize,
    /// Subtracted from the logit of every token already generated.
    pub presence_penalty: f32,
    /// Subtracted once more per earlier occurrence of the token.
    pub frequency_penalty: f32,
    /// Occurrence counts are multiplied by this after every token (ChatRWKV `alpha_decay`).
    pub penalty_decay: f32,
    /// Seed of the random draw: the same seed gives the same text.
    pub seed: u64,
    /// Upper bound on generated tokens.
    pub max_tokens: usize,
    /// Generation ends before any of these strings (which are not part of the answer).
    pub stop: Vec<String>,
    /// Generating this id ends generation (`<|endoftext|>` is 0 in RWKV tokenizers).
    pub end_of_text: Option<u32>,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            temperature: 1.0,
            top_p: 0.85,
            top_k: 0,
            presence_penalty: 0.2,
            frequency_penalty: 0.2,
            penalty_decay: 0.996,
            seed: 0,
            max_tokens: 200,
            stop: Vec::new(),
            end_of_text: Some(0),
        }
    }
}

/// A seeded sampler with its repetition memory.
pub struct Sampler {
    config: SamplerConfig,
    rng: SplitMix64,
    occurrence: HashMap<u32, f32>,
}

impl Sampler {
    /// A fresh sampler.
    pub fn new(config: SamplerConfig) -> Sampler {
        let rng = SplitMix64::new(config.seed);
        Sampler {
            config,
            rng,
            occurrence: HashMap::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SamplerConfig {
        &self.config
    }

    /// Picks the next token from `logits` (penalties are applied to a copy).
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        let mut logits = logits.to_vec();
        for (&token, &count) in &self.occurrence {
            if let Some(l) = logits.get_mut(token as usize) {
                *l -= self.config.presence_penalty + count * self.config.frequency_penalty;
            }
        }
        if self.config.temperature <= 0.0 {
            return argmax(&logits);
        }
        let probs = softmax(&logits);
        let mut order: Vec<u32> = (0..probs.len() as u32).collect();
        order.sort_by(|&a, &b| probs[b as usize].total_cmp(&probs[a as usize]));
        // top-p: the cutoff is the probability of the token at which the sorted sum reaches top_p;
        // everything less likely is dropped (ties with the cutoff survive, as in ChatRWKV).
        let mut cumulative = 0.0f64;
        let mut cutoff = 0.0f32;
        for &id in &order {
            cumulative += probs[id as usize] as f64;
            if cumulative >= self.config.top_p as f64 {
                cutoff = probs[id as usize];
                break;
            }
        }
        let mut kept: Vec<f64> = probs
            .iter()
            .map(|&p| if p < cutoff { 0.0 } else { p as f64 })
            .collect();
        if self.config.top_k > 0 && self.config.top_k < kept.len() {
            for &id in &order[self.config.top_k..] {
                kept[id as usize] = 0.0;
            }
        }
        if self.config.temperature != 1.0 {
            let power = 1.0 / self.config.temperature as f64;
            for p in &mut kept {
                *p = p.powf(power);
            }
        }
        let total: f64 = kept.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return argmax(&logits);
        }
        let mut target = self.rng.next_f64() * total;
        for (id, &p) in kept.iter().enumerate() {
            if p > 0.0 {
                if target < p {
                    return id as u32;
                }
                target -= p;
            }
        }
        // Rounding left a sliver past the last token: take the last one that was allowed.
        kept.iter()
            .rposition(|&p| p > 0.0)
            .map_or(0, |id| id as u32)
    }

    /// Records a generated token for the repetition penalties. `text` is its decoded text: as in
    /// ChatRWKV, whitespace and digits get the presence penalty but add nothing to the frequency count.
    pub fn observe(&mut self, token: u32, text: &str) {
        for count in self.occurrence.values_mut() {
            *count *= self.config.penalty_decay;
        }
        let weight = if !text.is_empty() && text.chars().all(|c| " \t0123456789".contains(c)) {
            0.0
        } else {
            1.0
        };
        *self.occurrence.entry(token).or_insert(0.0) += weight;
    }
}

fn argmax(values: &[f32]) -> u32 {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i as u32)
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&l| ((l - max) as f64).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|&e| (e / sum) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> Vec<f32> {
        vec![1.0, 3.0, 2.5, -1.0, 0.0, 2.9]
    }

    #[test]
    fn zero_temperature_is_greedy() {
        let mut s = Sampler::new(SamplerConfig {
            temperature: 0.0,
            ..Default::default()
        });
        assert_eq!(s.sample(&logits()), 1);
    }

    #[test]
    fn same_seed_same_draws_and_other_seed_differs() {
        let config = SamplerConfig {
            top_p: 1.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            ..Default::default()
        };
        let draw = |seed| {
            let mut s = Sampler::new(SamplerConfig {
                seed,
                ..config.clone()
            });
            (0..50).map(|_| s.sample(&logits())).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn top_k_one_and_tiny_top_p_keep_only_the_best() {
        let mut s = Sampler::new(SamplerConfig {
            top_k: 1,
            top_p: 1.0,
            ..Default::default()
        });
        assert!((0..20).all(|_| s.sample(&logits()) == 1));
        let mut s = Sampler::new(SamplerConfig {
            top_p: 0.01,
            ..Default::default()
        });
        assert!((0..20).all(|_| s.sample(&logits()) == 1));
    }

    #[test]
    fn top_p_never_picks_the_excluded_tail() {
        // probs of tokens 3 and 4 are tiny; with top_p 0.9 they are cut.
        let mut s = Sampler::new(SamplerConfig {
            top_p: 0.9,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            ..Default::default()
        });
        for _ in 0..500 {
            let t = s.sample(&logits());
            assert!(![3, 4].contains(&t), "picked {t}");
        }
    }

    #[test]
    fn penalties_push_repeated_tokens_down() {
        let mut s = Sampler::new(SamplerConfig {
            temperature: 0.0,
            presence_penalty: 1.0,
            frequency_penalty: 1.0,
            ..Default::default()
        });
        assert_eq!(s.sample(&logits()), 1);
        s.observe(1, "x");
        // token 1 now scores 3.0 - 2.0 = 1.0, below 2.9.
        assert_eq!(s.sample(&logits()), 5);
        // whitespace and digits count as present but never add to the frequency penalty
        let mut s2 = Sampler::new(SamplerConfig {
            temperature: 0.0,
            presence_penalty: 0.0,
            frequency_penalty: 5.0,
            ..Default::default()
        });
        s2.observe(1, " ");
        s2.observe(1, " ");
        assert_eq!(s2.sample(&logits()), 1);
    }
}
