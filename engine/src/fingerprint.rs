//! A model fingerprint: the shape, the compute precision and a digest of a sample of every weight.
//! Saved states carry it, so a state is never fed to a model it was not computed with. Sampling keeps
//! it cheap for a 28 GB checkpoint; a change anywhere in a tensor's sampled positions, its size or its
//! precision changes it. For Q8_0 the precision part also names the version of the matrix products
//! ([`Q8_0_PRODUCTS_VERSION`]): products computed another way round differently, so a state read by
//! an older engine is not resumed by a newer one (nor filed in the same checkpoint folder).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::precision::WeightPrecision;
use crate::shape::ModelShape;

/// Values sampled from each tensor (evenly spaced, always including the first and last).
const SAMPLES_PER_TENSOR: usize = 4096;

/// Identifies one model in one compute precision, e.g. `rwkv4-12x768-f3072-v50277-f32-1b2c…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Fingerprint(pub String);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Fingerprint {
    /// A short form for file and directory names: the digest part only.
    pub fn short(&self) -> &str {
        self.0.rsplit('-').next().unwrap_or(&self.0)
    }
}

/// 64-bit FNV-1a, run twice with different offset bases for 128 bits.
#[derive(Debug, Clone)]
pub struct Digest {
    a: u64,
    b: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            a: 0xcbf2_9ce4_8422_2325,
            b: 0x6c62_272e_07bb_0142,
        }
    }
}

impl Digest {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.a = (self.a ^ byte as u64).wrapping_mul(Self::PRIME);
            self.b = (self.b ^ (byte as u64).rotate_left(5)).wrapping_mul(Self::PRIME);
        }
    }

    /// Feeds a sample of `values` (all of them if short) and their count.
    pub fn update_sampled(&mut self, values: &[f32]) {
        self.update_sampled_by(values.len(), |i| values[i]);
    }

    /// Same as [`Digest::update_sampled`] for a tensor of `len` values that is not an f32 slice
    /// (quantized, memory-mapped): `value_at(i)` is asked only for the sampled indices.
    pub fn update_sampled_by(&mut self, len: usize, value_at: impl Fn(usize) -> f32) {
        self.update(&(len as u64).to_le_bytes());
        if len <= SAMPLES_PER_TENSOR {
            for i in 0..len {
                self.update(&value_at(i).to_bits().to_le_bytes());
            }
            return;
        }
        let last = len - 1;
        for i in 0..SAMPLES_PER_TENSOR {
            let at = i * last / (SAMPLES_PER_TENSOR - 1);
            self.update(&value_at(at).to_bits().to_le_bytes());
        }
    }

    /// 32 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}{:016x}", self.a, self.b)
    }
}

/// Version of the Q8_0 matrix products, part of a Q8_0 model's fingerprint. Version 1 (named plain
/// `q8_0`) multiplied a chunk by dequantizing the weights to f32; version 2 (`q8_0v2`) computes the
/// chunk's block sums in integers, which rounds differently in the last bits.
pub const Q8_0_PRODUCTS_VERSION: u32 = 2;

/// What fingerprints call `precision`: its name, and for Q8_0 the products' version (`q8_0v2`).
pub fn precision_label(precision: WeightPrecision) -> String {
    match precision {
        WeightPrecision::Q8_0 => format!("{}v{Q8_0_PRODUCTS_VERSION}", precision.name()),
        other => other.name().to_string(),
    }
}

/// Builds the fingerprint from the shape, the precision and a digest of the weights.
pub fn fingerprint(shape: &ModelShape, precision: &str, weights_digest: &Digest) -> Fingerprint {
    Fingerprint(format!(
        "rwkv4-{}x{}-f{}-v{}-{}-{}",
        shape.n_layer,
        shape.n_embd,
        shape.n_ffn,
        shape.n_vocab,
        precision,
        weights_digest.hex()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_sees_changes_and_lengths() {
        let mut one = Digest::default();
        one.update_sampled(&[1.0, 2.0]);
        let mut two = Digest::default();
        two.update_sampled(&[1.0, 2.5]);
        let mut three = Digest::default();
        three.update_sampled(&[1.0, 2.0, 0.0]);
        assert_ne!(one.hex(), two.hex());
        assert_ne!(one.hex(), three.hex());
    }

    #[test]
    fn precision_is_part_of_the_fingerprint() {
        let shape = ModelShape {
            n_layer: 1,
            n_embd: 2,
            n_ffn: 8,
            n_vocab: 3,
        };
        let d = Digest::default();
        assert_ne!(
            fingerprint(&shape, "f32", &d),
            fingerprint(&shape, "q8_0", &d)
        );
    }

    #[test]
    fn q8_0_fingerprints_name_the_products_version() {
        assert_eq!(precision_label(WeightPrecision::F32), "f32");
        assert_eq!(precision_label(WeightPrecision::F16), "f16");
        let label = precision_label(WeightPrecision::Q8_0);
        assert_eq!(label, format!("q8_0v{Q8_0_PRODUCTS_VERSION}"));
        // The digest stays the last '-'-separated part.
        assert!(!label.contains('-'));
    }
}
