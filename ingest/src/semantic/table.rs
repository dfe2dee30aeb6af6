//! The table of static word-piece vectors: its file format and loading.
//!
//! Made by `scripts/make_word_vectors.py` from all-MiniLM-L6-v2 (every WordPiece of its
//! vocabulary run through the whole encoder, PCA to a few hundred dimensions, int8 per row).
//! Format, little-endian: the magic `RWVEC1\0\0`, the number of entries and of dimensions
//! (`u32` each), every piece as a `u16` byte length and its UTF-8 bytes (in vocabulary order,
//! which is roughly by frequency: the weighting in [`super::embed`] depends on it), one `f32`
//! scale per entry, then the `i8` vectors, one row per entry.

use std::collections::HashMap;
use std::path::PathBuf;

/// First bytes of a table file.
pub const MAGIC: &[u8; 8] = b"RWVEC1\0\0";

/// Why a table could not be used.
#[derive(Debug, thiserror::Error)]
#[error("word vectors {path}: {reason}")]
pub struct WordVectorsError {
    /// The file the table came from (for the bundled one, its path in the repository).
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// Static vectors of a WordPiece vocabulary, quantized to int8 with a scale per row.
#[derive(Debug)]
pub struct WordVectors {
    ids: HashMap<String, u32>,
    dims: usize,
    scales: Vec<f32>,
    values: Vec<i8>,
    /// Id of the first whole word of the vocabulary (after the reserved entries and single
    /// characters); ids from here on count roughly by falling frequency.
    first_word: u32,
}

/// Reads through a byte slice, naming what was being read when it runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {} while reading {what}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl WordVectors {
    /// Parses a table from `bytes`; `path` names it in errors.
    pub fn parse(bytes: &[u8], path: impl Into<PathBuf>) -> Result<WordVectors, WordVectorsError> {
        Self::parse_inner(bytes).map_err(|reason| WordVectorsError {
            path: path.into(),
            reason,
        })
    }

    fn parse_inner(bytes: &[u8]) -> Result<WordVectors, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len(), "the magic")? != MAGIC {
            return Err("not a word-vector table (bad magic)".into());
        }
        let entries = r.u32("the number of entries")? as usize;
        let dims = r.u32("the number of dimensions")? as usize;
        if entries == 0 || dims == 0 || dims > 4_096 || entries > 1_000_000 {
            return Err(format!(
                "implausible size: {entries} entries of {dims} dimensions"
            ));
        }
        let mut ids = HashMap::with_capacity(entries);
        let mut first_word = None;
        for id in 0..entries as u32 {
            let len = r.take(2, "a piece's length")?;
            let len = u16::from_le_bytes([len[0], len[1]]) as usize;
            let piece = std::str::from_utf8(r.take(len, "a piece")?)
                .map_err(|_| format!("piece {id} is not UTF-8"))?;
            // The first entry of more than one letter that is not reserved ("[unused3]").
            if first_word.is_none()
                && piece.chars().count() > 1
                && piece.chars().all(char::is_alphanumeric)
            {
                first_word = Some(id);
            }
            ids.insert(piece.to_string(), id);
        }
        let scales: Vec<f32> = r
            .take(entries * 4, "the scales")?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(bad) = scales.iter().position(|s| !s.is_finite()) {
            return Err(format!("the scale of entry {bad} is not a finite number"));
        }
        let values: Vec<i8> = r
            .take(entries * dims, "the vectors")?
            .iter()
            .map(|&b| b as i8)
            .collect();
        if r.at != bytes.len() {
            return Err(format!(
                "{} bytes left over after the vectors",
                bytes.len() - r.at
            ));
        }
        Ok(WordVectors {
            ids,
            dims,
            scales,
            values,
            first_word: first_word.unwrap_or(0),
        })
    }

    /// Dimensions of a vector.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The id of a piece (a word-initial piece as is, a continuation with its `##`).
    pub fn id(&self, piece: &str) -> Option<u32> {
        self.ids.get(piece).copied()
    }

    /// Rough frequency rank of an id: 1 for the commonest word, larger for rarer pieces; 1 for
    /// the reserved entries and single characters, which carry little meaning alone.
    pub fn rank(&self, id: u32) -> u32 {
        id.saturating_sub(self.first_word) + 1
    }

    /// Adds `weight` × the vector of `id` to `sum` (of [`Self::dims`] values).
    pub fn add_to(&self, id: u32, weight: f32, sum: &mut [f32]) {
        let row = id as usize;
        let (Some(&scale), Some(values)) = (
            self.scales.get(row),
            self.values.get(row * self.dims..(row + 1) * self.dims),
        ) else {
            return;
        };
        let w = weight * scale;
        for (s, &v) in sum.iter_mut().zip(values) {
            *s += w * f32::from(v);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A table of `pieces`, each a `dims`-long vector.
    pub(crate) fn table_bytes(pieces: &[(&str, Vec<i8>)], dims: u32) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend((pieces.len() as u32).to_le_bytes());
        out.extend(dims.to_le_bytes());
        for (p, _) in pieces {
            out.extend((p.len() as u16).to_le_bytes());
            out.extend(p.as_bytes());
        }
        for _ in pieces {
            out.extend((1.0f32 / 127.0).to_le_bytes());
        }
        for (_, v) in pieces {
            out.extend(v.iter().map(|&x| x as u8));
        }
        out
    }

    #[test]
    fn a_table_reads_back_what_was_written() {
        let bytes = table_bytes(
            &[
                ("[PAD]", vec![0, 0]),
                ("a", vec![1, 2]),
                ("cat", vec![127, 0]),
            ],
            2,
        );
        let t = WordVectors::parse(&bytes, "t.bin").unwrap();
        assert_eq!((t.dims(), t.id("cat"), t.rank(2)), (2, Some(2), 1));
        let mut sum = [0.0; 2];
        t.add_to(2, 2.0, &mut sum);
        assert!((sum[0] - 2.0).abs() < 1e-6 && sum[1] == 0.0);
    }

    #[test]
    fn a_damaged_table_is_refused_with_its_path_and_the_reason() {
        let bytes = table_bytes(&[("a", vec![1, 2]), ("cat", vec![127, 0])], 2);
        let err = WordVectors::parse(&bytes[..bytes.len() - 1], "vectors.bin").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("vectors.bin") && text.contains("truncated"),
            "{text}"
        );
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(WordVectors::parse(&bad, "v.bin")
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let mut longer = bytes;
        longer.push(0);
        assert!(WordVectors::parse(&longer, "v.bin")
            .unwrap_err()
            .to_string()
            .contains("left over"));
    }
}
