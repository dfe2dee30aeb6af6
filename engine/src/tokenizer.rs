//! Text ↔ token ids with any Hugging Face `tokenizer.json` (pure-Rust `fancy-regex` build), and a
//! streaming decoder that never emits half of a UTF-8 character split across tokens.

use std::path::{Path, PathBuf};

use crate::error::EngineError;

/// File names looked for next to a model's weights, in order.
pub const TOKENIZER_FILE_NAMES: [&str; 3] =
    ["tokenizer.json", "20B_tokenizer.json", "rwkv_vocab.json"];

/// A loaded tokenizer.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("path", &self.path)
            .finish()
    }
}

impl Tokenizer {
    /// Loads a `tokenizer.json` (e.g. GPT-NeoX `20B_tokenizer.json` for RWKV-4 Pile/Raven models).
    pub fn from_file(path: &Path) -> Result<Tokenizer, EngineError> {
        if !path.is_file() {
            return Err(EngineError::Tokenizer {
                path: path.to_path_buf(),
                reason: "no such file".into(),
            });
        }
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| EngineError::Tokenizer {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Tokenizer {
            inner,
            path: path.to_path_buf(),
        })
    }

    /// Finds the tokenizer that belongs to the weights at `model_path`: `<stem>.tokenizer.json`, then
    /// `TOKENIZER_FILE_NAMES` in the same folder.
    pub fn for_model(model_path: &Path) -> Result<Tokenizer, EngineError> {
        let dir = model_path.parent().unwrap_or(Path::new("."));
        let mut candidates = Vec::new();
        if let Some(stem) = model_path.file_stem() {
            candidates.push(dir.join(format!("{}.tokenizer.json", stem.to_string_lossy())));
        }
        candidates.extend(TOKENIZER_FILE_NAMES.iter().map(|n| dir.join(n)));
        match candidates.iter().find(|c| c.is_file()) {
            Some(found) => Tokenizer::from_file(found),
            None => Err(EngineError::Tokenizer {
                path: dir.to_path_buf(),
                reason: format!(
                    "no tokenizer found next to {} (looked for {}); pass one explicitly",
                    model_path.display(),
                    TOKENIZER_FILE_NAMES.join(", ")
                ),
            }),
        }
    }

    /// Where it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of ids the tokenizer can produce (including added tokens).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Token ids of `text` (no special tokens added).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, EngineError> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| EngineError::Encode(e.to_string()))
    }

    /// Text of `ids`; bytes that do not form valid UTF-8 become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }
}

/// Turns a stream of ids into text pieces as soon as they are complete characters.
///
/// It decodes a short window of recent ids twice — up to the last emitted id, and up to the new one —
/// and emits the difference, holding it back while it ends in a partial character (U+FFFD).
pub struct TextStream<'a> {
    tokenizer: &'a Tokenizer,
    ids: Vec<u32>,
    /// Start of the window that gives decoding its context (leading spaces and the like).
    prefix_offset: usize,
    /// End of what has been emitted.
    read_offset: usize,
}

impl<'a> TextStream<'a> {
    /// An empty stream.
    pub fn new(tokenizer: &'a Tokenizer) -> TextStream<'a> {
        TextStream {
            tokenizer,
            ids: Vec::new(),
            prefix_offset: 0,
            read_offset: 0,
        }
    }

    /// Adds one id; returns the text that became complete (possibly empty).
    pub fn push(&mut self, id: u32) -> String {
        self.ids.push(id);
        let before = self
            .tokenizer
            .decode(&self.ids[self.prefix_offset..self.read_offset]);
        let now = self.tokenizer.decode(&self.ids[self.prefix_offset..]);
        if now.len() > before.len()
            && !now.ends_with('\u{FFFD}')
            && now.is_char_boundary(before.len())
        {
            let piece = now[before.len()..].to_string();
            self.prefix_offset = self.read_offset;
            self.read_offset = self.ids.len();
            piece
        } else {
            String::new()
        }
    }

    /// Whatever is still held back (an incomplete character at the very end becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let before = self
            .tokenizer
            .decode(&self.ids[self.prefix_offset..self.read_offset]);
        let now = self.tokenizer.decode(&self.ids[self.prefix_offset..]);
        self.prefix_offset = self.ids.len();
        self.read_offset = self.ids.len();
        if now.len() > before.len() && now.is_char_boundary(before.len()) {
            now[before.len()..].to_string()
        } else {
            String::new()
        }
    }
}
