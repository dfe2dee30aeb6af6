//! The benchmark's flags (a handful; parsed by hand to keep the example free of extra crates).

use anyhow::{bail, Context as _, Result};

/// What to run and for how long.
#[derive(Debug, Clone)]
pub struct Args {
    /// Model shape for the load part: `169m`, `430m`, `1.5b`/`1b5`, or `LxC`.
    pub shape: String,
    /// Seconds of answer generation timed with no keys pressed.
    pub baseline_s: f64,
    /// Seconds of keys (scrolling, typing) sent while the answer generates.
    pub typing_s: f64,
    /// Milliseconds between two scripted keys (40 ms: a fast typist, 25 keys a second).
    pub key_interval_ms: u64,
    /// Terminal size of the load part.
    pub size: (u16, u16),
    /// Words of the document the question is asked about (it is read by the model first).
    pub doc_words: usize,
    /// Words of a second document read in the background all along (0: none), to see a
    /// question answered while the library is being read.
    pub read_words: usize,
    /// Frames drawn per screen and size in the drawing part.
    pub draw_frames: usize,
    /// Only the drawing part.
    pub draw_only: bool,
    /// Only the load part.
    pub load_only: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            shape: "1.5b".into(),
            baseline_s: 20.0,
            typing_s: 60.0,
            key_interval_ms: 40,
            size: (120, 40),
            doc_words: 120,
            read_words: 0,
            draw_frames: 400,
            draw_only: false,
            load_only: false,
        }
    }
}

const USAGE: &str = "tui_bench [--shape 169m|430m|1.5b|LxC] [--baseline-s S] [--typing-s S] \
[--key-interval-ms MS] [--size COLSxROWS] [--doc-words N] [--read-words N] [--draw-frames N] [--draw-only] [--load-only]";

impl Args {
    /// Parses the flags after the program name.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args> {
        let mut parsed = Args::default();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("{flag} needs a value\nusage: {USAGE}"))
            };
            match flag.as_str() {
                "--shape" => parsed.shape = value()?,
                "--baseline-s" => parsed.baseline_s = number(&flag, &value()?)?,
                "--typing-s" => parsed.typing_s = number(&flag, &value()?)?,
                "--key-interval-ms" => parsed.key_interval_ms = number(&flag, &value()?)?,
                "--doc-words" => parsed.doc_words = number(&flag, &value()?)?,
                "--read-words" => parsed.read_words = number(&flag, &value()?)?,
                "--draw-frames" => parsed.draw_frames = number(&flag, &value()?)?,
                "--size" => {
                    let text = value()?;
                    let (cols, rows) = text
                        .split_once('x')
                        .with_context(|| format!("--size {text}: expected COLSxROWS"))?;
                    parsed.size = (number(&flag, cols)?, number(&flag, rows)?);
                }
                "--draw-only" => parsed.draw_only = true,
                "--load-only" => parsed.load_only = true,
                "-h" | "--help" => bail!("usage: {USAGE}"),
                other => bail!("unknown flag {other}\nusage: {USAGE}"),
            }
        }
        Ok(parsed)
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("{flag}: {text:?} is not a number"))
}
