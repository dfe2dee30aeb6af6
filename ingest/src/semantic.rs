//! Meaning, not just words: static word vectors for re-ranking passages.
//!
//! Word matching cannot tell that "How old is Charlotte?" is answered by "about twenty-seven",
//! or that "the use of a book without pictures" answers "what is a book of no use without".
//! A sentence encoder can, but running one over every passage would cost ingestion time, and
//! over the candidates at question time more than the 50 ms a question may take on two cores.
//! So the encoder is distilled once into a table (`assets/word_vectors.bin`, made by
//! `scripts/make_word_vectors.py` from all-MiniLM-L6-v2): one vector per word piece. A text's
//! vector is the frequency-weighted mean of its pieces' vectors ([`embed`]); the ranking
//! compares the question's with each candidate window's, and fuses that with the word score.
//!
//! The table is compiled into the binary (`include_bytes!`): nothing is downloaded or looked up
//! at run time.

mod embed;
mod table;
mod wordpiece;

pub use embed::{add_text, cosine};
pub use table::{WordVectors, WordVectorsError};

use std::sync::OnceLock;

/// The bundled table's bytes.
static BUNDLED_BYTES: &[u8] = include_bytes!("../assets/word_vectors.bin");
/// Where the bundled table lives in the repository, for errors.
const BUNDLED_PATH: &str = "ingest/assets/word_vectors.bin";

/// The bundled table, parsed once.
pub fn bundled() -> Result<&'static WordVectors, &'static WordVectorsError> {
    static TABLE: OnceLock<Result<WordVectors, WordVectorsError>> = OnceLock::new();
    TABLE
        .get_or_init(|| WordVectors::parse(BUNDLED_BYTES, BUNDLED_PATH))
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_loads_and_relates_words_by_meaning() {
        let table = bundled().unwrap();
        let vector = |text: &str| {
            let mut v = vec![0.0; table.dims()];
            add_text(table, text, &mut v);
            v
        };
        let age = vector("How old is she?");
        assert!(
            cosine(&age, &vector("She is about twenty-seven years of age."))
                > cosine(&age, &vector("The carriage drove to the house.")),
        );
        let book = vector("a book with no pictures or conversations");
        assert!(
            cosine(&book, &vector("what is the use of a book without pictures"))
                > cosine(&book, &vector("the rabbit ran across the field")),
        );
    }
}
