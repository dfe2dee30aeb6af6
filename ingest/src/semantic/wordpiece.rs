//! Splitting text into the table's WordPiece entries, as BERT's uncased tokenizer does:
//! lowercase, accents dropped, words split at anything not a letter or digit, then each word
//! cut greedily into the longest pieces the vocabulary holds (`playing` → `play`, `##ing`).
//! Punctuation is left out: alone, it says nothing about what a passage is about.

use super::table::WordVectors;

/// Longest word looked up; longer runs (URLs, digit strings) are skipped, as BERT maps them to
/// its unknown token.
const MAX_WORD_CHARS: usize = 100;

/// Calls `each` with the id of every piece of `text`, in order; words the vocabulary cannot
/// spell are skipped.
pub fn for_each_piece(table: &WordVectors, text: &str, mut each: impl FnMut(u32)) {
    let mut word = String::new();
    let mut piece = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                word.push(fold_accent(lower));
            }
            continue;
        }
        if !word.is_empty() && word.chars().count() <= MAX_WORD_CHARS {
            split_word(table, &word, &mut piece, &mut each);
        }
        word.clear();
    }
}

/// Greedy longest-match-first split of one lowercased word; nothing when some part of it is
/// not in the vocabulary (BERT's `[UNK]` for the whole word).
fn split_word(table: &WordVectors, word: &str, piece: &mut String, each: &mut impl FnMut(u32)) {
    let mut found = [0u32; 16];
    let mut count = 0;
    let mut start = 0;
    while start < word.len() {
        let mut end = word.len();
        let mut id = None;
        while end > start {
            if word.is_char_boundary(end) {
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.push_str(&word[start..end]);
                id = table.id(piece);
                if id.is_some() {
                    break;
                }
            }
            end -= 1;
        }
        match id {
            Some(id) if count < found.len() => {
                found[count] = id;
                count += 1;
                start = end;
            }
            _ => return,
        }
    }
    found[..count].iter().for_each(|&id| each(id));
}

/// The letter without its accent, for the accented Latin letters common in English text
/// ("café", "naïve", "Brontë"); others unchanged.
fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::tests::table_bytes;
    use super::*;

    #[test]
    fn words_are_cut_into_the_longest_pieces_the_vocabulary_holds() {
        let pieces = ["[UNK]", "play", "##ing", "##s", "cafe", "p", "##l"];
        let table =
            WordVectors::parse(&table_bytes(&pieces.map(|p| (p, vec![0i8])), 1), "t.bin").unwrap();
        let mut ids = Vec::new();
        for_each_piece(&table, "Playing, plays! Café xyz", |id| ids.push(id));
        // play ##ing | play ##s | cafe | (xyz: unknown, skipped)
        assert_eq!(ids, [1, 2, 1, 3, 4]);
    }
}
