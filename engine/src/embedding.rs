//! The embedding table (ln0 already folded in): one row of `n_embd` values per token, read a row at a
//! time. It is kept in f32, or encoded (f16, Q8_0) in memory or in a memory-mapped GGUF file, where
//! reading a token's row decodes only that row — a 14B model's 50277 × 5120 table is never
//! dequantized as a whole, and only the pages of rows actually used become resident.

use crate::error::EngineError;
use crate::fingerprint::Digest;
use crate::formats::gguf::MappedBytes;
use crate::precision::WeightPrecision;

/// Where encoded rows live.
#[derive(Debug, Clone)]
enum Bytes {
    Owned(Vec<u8>),
    Mapped(MappedBytes),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m.as_slice(),
        }
    }
}

#[derive(Debug, Clone)]
enum Store {
    F32(Vec<f32>),
    Encoded {
        precision: WeightPrecision,
        bytes: Bytes,
        row_bytes: usize,
    },
}

/// The token embedding table `[n_vocab, n_embd]`.
#[derive(Debug, Clone)]
pub struct Embedding {
    store: Store,
    n_vocab: usize,
    n_embd: usize,
}

impl Embedding {
    /// Wraps an f32 table of `n_vocab × n_embd` values, row-major.
    pub fn from_f32(
        values: Vec<f32>,
        n_vocab: usize,
        n_embd: usize,
    ) -> Result<Embedding, EngineError> {
        if n_vocab.checked_mul(n_embd) != Some(values.len()) {
            return Err(table_error(format!(
                "{} values are not a {n_vocab}x{n_embd} embedding table",
                values.len()
            )));
        }
        Ok(Embedding {
            store: Store::F32(values),
            n_vocab,
            n_embd,
        })
    }

    /// Encodes an f32 table in `precision`, in memory.
    pub fn encode(
        values: &[f32],
        n_vocab: usize,
        n_embd: usize,
        precision: WeightPrecision,
    ) -> Result<Embedding, EngineError> {
        if precision == WeightPrecision::F32 {
            return Embedding::from_f32(values.to_vec(), n_vocab, n_embd);
        }
        let row_bytes = row_bytes(precision, n_embd)?;
        if n_vocab.checked_mul(n_embd) != Some(values.len()) {
            return Err(table_error(format!(
                "{} values are not a {n_vocab}x{n_embd} embedding table",
                values.len()
            )));
        }
        let mut bytes = Vec::with_capacity(row_bytes * n_vocab);
        precision.encode(values, &mut bytes);
        Ok(Embedding {
            store: Store::Encoded {
                precision,
                bytes: Bytes::Owned(bytes),
                row_bytes,
            },
            n_vocab,
            n_embd,
        })
    }

    /// A table stored in `precision` in a memory-mapped file; `bytes` must be exactly its size.
    pub fn mapped(
        bytes: MappedBytes,
        precision: WeightPrecision,
        n_vocab: usize,
        n_embd: usize,
    ) -> Result<Embedding, EngineError> {
        let row_bytes = row_bytes(precision, n_embd)?;
        if row_bytes.checked_mul(n_vocab) != Some(bytes.len()) {
            return Err(table_error(format!(
                "{} bytes are not a {n_vocab}x{n_embd} {precision} embedding table",
                bytes.len()
            )));
        }
        Ok(Embedding {
            store: Store::Encoded {
                precision,
                bytes: Bytes::Mapped(bytes),
                row_bytes,
            },
            n_vocab,
            n_embd,
        })
    }

    /// How the rows are stored.
    pub fn precision(&self) -> WeightPrecision {
        match &self.store {
            Store::F32(_) => WeightPrecision::F32,
            Store::Encoded { precision, .. } => *precision,
        }
    }

    /// Rows.
    pub fn n_vocab(&self) -> usize {
        self.n_vocab
    }

    /// Values per row.
    pub fn n_embd(&self) -> usize {
        self.n_embd
    }

    /// Appends the row of `token` (`n_embd` values) to `out`. Callers check `token < n_vocab`; a
    /// row past the end appends zeros rather than reading out of bounds.
    pub fn push_row(&self, token: usize, out: &mut Vec<f32>) {
        let start = out.len();
        let c = self.n_embd;
        match &self.store {
            Store::F32(v) => match v.get(token * c..(token + 1) * c) {
                Some(row) => out.extend_from_slice(row),
                None => out.resize(start + c, 0.0),
            },
            Store::Encoded {
                precision,
                bytes,
                row_bytes,
            } => {
                out.resize(start + c, 0.0);
                let all = bytes.as_slice();
                if let Some(row) = all.get(token * row_bytes..(token + 1) * row_bytes) {
                    precision.decode_into(row, &mut out[start..]);
                }
            }
        }
    }

    /// Feeds a sample of the table, as the forward pass reads it, into `digest`. For an f32 table
    /// this is exactly `Digest::update_sampled` of the values, whether in memory or mapped.
    pub fn digest_into(&self, digest: &mut Digest) {
        match &self.store {
            Store::F32(v) => digest.update_sampled(v),
            Store::Encoded {
                precision, bytes, ..
            } => {
                let all = bytes.as_slice();
                digest
                    .update_sampled_by(self.n_vocab * self.n_embd, |i| precision.decode_at(all, i));
            }
        }
    }

    /// This table stored in `precision` (in memory). Only lowering precision is possible.
    pub fn to_precision(&self, precision: WeightPrecision) -> Result<Embedding, EngineError> {
        if precision == self.precision() {
            return Ok(self.clone());
        }
        let Store::F32(values) = &self.store else {
            return Err(table_error(format!(
                "a {} embedding cannot be stored as {precision}",
                self.precision()
            )));
        };
        Embedding::encode(values, self.n_vocab, self.n_embd, precision)
    }
}

fn row_bytes(precision: WeightPrecision, n_embd: usize) -> Result<usize, EngineError> {
    precision.bytes_for(n_embd).ok_or_else(|| {
        table_error(format!(
            "rows of {n_embd} values cannot be stored as {precision} (blocks of {})",
            precision.block_values()
        ))
    })
}

fn table_error(reason: String) -> EngineError {
    EngineError::Candle(candle_core::Error::Msg(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_rows_decode_near_the_f32_rows() -> Result<(), EngineError> {
        let (v, c) = (5, 64);
        let values: Vec<f32> = (0..v * c)
            .map(|i| ((i * 37) % 29) as f32 / 9.0 - 1.5)
            .collect();
        let exact = Embedding::from_f32(values.clone(), v, c)?;
        for precision in [WeightPrecision::F16, WeightPrecision::Q8_0] {
            let table = exact.to_precision(precision)?;
            for token in 0..v {
                let (mut want, mut got) = (Vec::new(), Vec::new());
                exact.push_row(token, &mut want);
                table.push_row(token, &mut got);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 0.02, "{precision}: {g} vs {w}");
                }
            }
        }
        assert!(Embedding::encode(&values[..5 * 60], 5, 60, WeightPrecision::Q8_0).is_err());
        Ok(())
    }
}
