//! The author named on a document's title page ("By Henry David Thoreau", "by / Jane Austen,").
//!
//! Readers name a book's author in questions ("Why did Thoreau go to live in the woods?"), but
//! the text rarely does: a memoir says "I", a novel never names its author. The title page is
//! then the one place that holds the word, and a window there outranks the passage that
//! answers. The author's surname says *which document* the question is about, not *where* in
//! it; the ranking counts it for the document only.
//!
//! Only the surname is taken: a first name is often a character's too ("Jane Austen" wrote
//! about Jane Bennet).

/// How far into the text the title page may reach, in bytes.
const FRONT_MATTER_BYTES: usize = 4_000;
/// Most words in a byline's name (initials and particles included).
const MAX_NAME_WORDS: usize = 6;

/// Words that follow "by" on a title page without being a name ("By the Court", "BY THE
/// COMMISSION"), lowercased.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "the", "a", "an", "this", "his", "her", "its", "their", "order", "court", "commission",
    "board", "author", "authority", "direction", "permission", "special", "request", "way",
    "means", "chapter", "hand", "mail", "telephone", "email", "fax", "counsel", "deputy",
    "clerk", "judge", "justice", "plaintiff", "plaintiffs", "defendant", "defendants",
];

/// Surnames of the authors named by a byline in the first [`FRONT_MATTER_BYTES`] of `text`:
/// a line "By NAME" (or "by" alone, the name on the next line), where the name is a few
/// capitalised words, several names joined by "and" or commas.
pub fn byline_surnames(text: &str) -> Vec<String> {
    let mut end = FRONT_MATTER_BYTES.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let lines: Vec<&str> = text[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut surnames = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = strip_by(line) else {
            continue;
        };
        let names = if rest.is_empty() {
            lines.get(i + 1).copied().unwrap_or("")
        } else {
            rest
        };
        // Every part must be a name: "By Sunday, Mary had gone" is a sentence, not a byline.
        let names = names.replace(" AND ", " and ").replace(" And ", " and ");
        let parts: Option<Vec<String>> = names
            .split(" and ")
            .flat_map(|n| n.split(','))
            .filter(|n| !n.trim().is_empty())
            .map(surname_of)
            .collect();
        for surname in parts.unwrap_or_default() {
            if !surnames.contains(&surname) {
                surnames.push(surname);
            }
        }
    }
    surnames
}

/// The rest of a line that starts with the word "by", any case.
fn strip_by(line: &str) -> Option<&str> {
    let head = line.get(..2)?;
    if !head.eq_ignore_ascii_case("by") {
        return None;
    }
    let rest = &line[2..];
    if rest.is_empty() {
        return Some(rest);
    }
    rest.starts_with(|c: char| c.is_whitespace())
        .then(|| rest.trim())
}

/// The last word of `name` when it reads as a person's name: one to [`MAX_NAME_WORDS`] words,
/// each capitalised (or an initial, or a particle such as "de" or "van"), none of them
/// [`NOT_NAMES`].
fn surname_of(name: &str) -> Option<String> {
    let words: Vec<&str> = name
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > MAX_NAME_WORDS {
        return None;
    }
    let particle = |w: &str| {
        matches!(
            w,
            "de" | "da" | "di" | "du" | "van" | "von" | "der" | "la" | "le"
        )
    };
    let name_like = |w: &&str| {
        let lower = w.to_lowercase();
        !NOT_NAMES.contains(&lower.as_str())
            && (particle(w) || w.chars().next().is_some_and(char::is_uppercase))
            && w.chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '’' || c == '-')
    };
    if !words.iter().all(name_like) {
        return None;
    }
    let last = words.last()?;
    // An initial alone ("By J.") names nobody the question would spell out.
    (last.chars().count() > 1).then(|| last.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::byline_surnames;

    #[test]
    fn a_title_pages_byline_names_the_authors_surname() {
        let walden = "WALDEN, and ON THE DUTY OF CIVIL DISOBEDIENCE\n\nBy Henry David Thoreau\n\n\nContents\n";
        assert_eq!(byline_surnames(walden), vec!["thoreau"]);
        let austen = "PRIDE.\n  and\nPREJUDICE\n\n  by\n Jane Austen,\n\nwith a Preface by\nGeorge Saintsbury\n";
        assert_eq!(byline_surnames(austen), vec!["austen"]);
        let two = "THE FEDERALIST\n\nBY ALEXANDER HAMILTON, JAMES MADISON AND JOHN JAY\n";
        assert_eq!(byline_surnames(two), vec!["hamilton", "madison", "jay"]);
        let particle = "Démocratie\nby Alexis de Tocqueville\n";
        assert_eq!(byline_surnames(particle), vec!["tocqueville"]);
    }

    #[test]
    fn lines_that_are_not_bylines_name_nobody() {
        for text in [
            "BY THE COURT:\n\nThe motion is denied.",
            "By the time the ship came in, it was dark.",
            "Bylaws of the Society\n",
            "by\n\nthe way of the river\n",
            "By J.\n",
            "By Sunday, Mary had gone home.\n",
        ] {
            assert!(byline_surnames(text).is_empty(), "{text:?}");
        }
        // A byline past the title page is not one.
        let late = format!("{}\nBy John Smith\n", "word ".repeat(1_000));
        assert!(byline_surnames(&late).is_empty());
    }
}
