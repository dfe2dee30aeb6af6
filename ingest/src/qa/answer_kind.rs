//! What kind of answer a question asks for, from its question words: "when" asks for a date,
//! "how many", "how old", "how far" for a number, "which judge" or "who wrote the opinion" for
//! a judge, "what did the court order?" for a ruling. A window of text holding a word of that
//! kind (a year, a month, "twenty-seven", "10,000", "Justice", "Honorable", "DENIES",
//! "remanded") is likelier to hold the answer than one that only repeats the question's words,
//! so such windows get a bonus when ranked.

/// The kinds of answer recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// A date or time: a year, a month, a weekday, a clock time.
    Date,
    /// A quantity: digits or a number word.
    Number,
    /// The judge or justice who decided, heard or wrote a court paper: a word that names the
    /// office ("Justice", "Honorable", "Hon.", "Curiam", the "J." of "KAGAN, J., delivered the
    /// opinion"), as captions, author lines and signatures do.
    Judge,
    /// What a court did: granted, denied, affirmed, reversed, remanded.
    Ruling,
}

#[rustfmt::skip]
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "thousand", "million", "billion", "dozen", "half", "score", "twice", "thrice",
    "first", "second", "third", "fourth", "fifth",
];

#[rustfmt::skip]
const DATE_WORDS: &[&str] = &[
    "january", "february", "april", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "clock", "noon", "midnight", "yesterday", "tomorrow", "spring",
    "summer", "autumn", "winter", "morning", "evening",
];

/// Question openings asking for a quantity (lowercased, as word sequences).
#[rustfmt::skip]
const NUMBER_CUES: &[&[&str]] = &[
    &["how", "many"], &["how", "much"], &["how", "long"], &["how", "old"], &["how", "far"],
    &["how", "big"], &["how", "large"], &["how", "often"], &["how", "high"], &["how", "tall"],
    &["how", "wide"], &["how", "deep"], &["what", "age"], &["what", "amount"],
    &["what", "percentage"], &["what", "number"], &["what", "sum"], &["what", "price"],
];

/// Question openings asking for a date or time.
#[rustfmt::skip]
const DATE_CUES: &[&[&str]] = &[
    &["when"], &["what", "year"], &["which", "year"], &["what", "date"], &["what", "day"],
    &["which", "day"], &["what", "time"], &["what", "month"], &["which", "month"],
];

/// Question openings asking which judge decided, heard or wrote a court paper.
#[rustfmt::skip]
const JUDGE_CUES: &[&[&str]] = &[
    &["which", "judge"], &["which", "judges"], &["what", "judge"], &["which", "justice"],
    &["which", "justices"], &["what", "justice"], &["which", "magistrate"],
    &["who", "wrote"], &["who", "authored"], &["who", "delivered"], &["who", "decided"],
    &["who", "signed"], &["who", "heard"], &["who", "sat"], &["who", "presided"],
    &["whose", "opinion"],
];

/// Words that make a "who wrote it" question one about a court paper rather than a letter or
/// a poem in a novel.
#[rustfmt::skip]
const COURT_WORDS: &[&str] = &[
    "opinion", "order", "decision", "judgment", "ruling", "case", "court", "motion", "motions",
    "appeal", "panel", "dissent", "concurrence",
];

/// Words naming a judge's office, as captions, panels and signature lines write them.
#[rustfmt::skip]
const JUDGE_WORDS: &[&str] = &[
    "justice", "justices", "judge", "judges", "honorable", "honourable", "curiam", "presiding",
    "j", "jj", "hon",
];

/// Who decides, in a question asking what a court did ("what did the First Circuit do with
/// the appeal?", "how did the court rule on …?").
#[rustfmt::skip]
const DECIDERS: &[&str] = &[
    "court", "circuit", "judge", "justices", "panel", "magistrate", "tribunal",
];

/// What a decider does, within three words after it.
const DECIDING: &[&str] = &[
    "do", "decide", "rule", "order", "grant", "resolve", "dispose",
];

/// Words of a court's disposition.
#[rustfmt::skip]
const RULING_WORDS: &[&str] = &[
    "grant", "grants", "granted", "deny", "denies", "denied", "defers", "deferred", "reserves",
    "affirm", "affirms", "affirmed", "reverse", "reverses", "reversed", "remand", "remanded",
    "vacate", "vacated", "vacates", "dismiss", "dismissed", "dismisses", "sustained", "overruled",
    "ordered", "orders",
];

/// The question's words, lowercased, split at anything not alphanumeric.
fn lowercase_words(question: &str) -> Vec<String> {
    question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether the question asks about a court paper: it names a judge's office ("which
/// justice") or the paper itself ("who wrote the opinion").
fn about_a_court_paper(words: &[String]) -> bool {
    words.iter().any(|w| {
        JUDGE_WORDS.contains(&w.as_str()) || w == "magistrate" || COURT_WORDS.contains(&w.as_str())
    })
}

/// Whether the question asks what a court did: a decider followed closely by what it does
/// ("what did the court order instead?"), or "what became of" a motion or a claim.
fn asks_what_a_court_did(words: &[String]) -> bool {
    let decides = words.iter().enumerate().any(|(i, w)| {
        DECIDERS.contains(&w.as_str())
            && words[i + 1..]
                .iter()
                .take(3)
                .any(|v| DECIDING.contains(&v.as_str()))
    });
    let has = |cue: &[&str]| words.windows(cue.len()).any(|w| w == cue);
    decides || ((has(&["became", "of"]) || has(&["happened", "to"])) && about_a_court_paper(words))
}

impl AnswerKind {
    /// The kind `question` asks for, if its words say.
    pub fn of_question(question: &str) -> Option<AnswerKind> {
        let words = lowercase_words(question);
        let has = |cue: &[&str]| words.windows(cue.len()).any(|w| w == cue);
        if DATE_CUES.iter().any(|c| has(c)) {
            Some(AnswerKind::Date)
        } else if NUMBER_CUES.iter().any(|c| has(c)) {
            Some(AnswerKind::Number)
        } else if JUDGE_CUES.iter().any(|c| has(c)) && about_a_court_paper(&words) {
            Some(AnswerKind::Judge)
        } else if asks_what_a_court_did(&words) {
            Some(AnswerKind::Ruling)
        } else {
            None
        }
    }

    /// The words of `question` that only say what kind of answer it wants ("old" in "how old
    /// is she?", "big" in "how big was the house?"): as search terms they find the text that
    /// uses the same adjective ("an old maid", "big words"), rarely the one that gives the
    /// number ("about twenty-seven", "ten feet wide"). Lowercased.
    pub fn cue_words(question: &str) -> Vec<String> {
        let words = lowercase_words(question);
        let mut out = Vec::new();
        for cue in NUMBER_CUES {
            for w in words.windows(cue.len()).filter(|w| w == cue) {
                if let Some(last) = w.last() {
                    out.push(last.clone());
                }
            }
        }
        out
    }

    /// Whether `word` (as written in the text) is of this kind.
    pub fn matches(self, word: &str) -> bool {
        let lower = word.to_lowercase();
        let digits = word.chars().filter(char::is_ascii_digit).count();
        match self {
            AnswerKind::Number => digits > 0 || NUMBER_WORDS.contains(&lower.as_str()),
            AnswerKind::Date => {
                let year = digits == 4
                    && word.len() == 4
                    && matches!(word.as_bytes().first(), Some(b'1' | b'2'));
                // "May" and "March" are months only capitalised (and even then not always).
                year || DATE_WORDS.contains(&lower.as_str()) || matches!(word, "May" | "March")
            }
            AnswerKind::Judge => JUDGE_WORDS.contains(&lower.as_str()),
            AnswerKind::Ruling => RULING_WORDS.contains(&lower.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_words_name_the_kind_of_answer() {
        assert_eq!(
            AnswerKind::of_question("How old is Charlotte Lucas?"),
            Some(AnswerKind::Number)
        );
        assert_eq!(
            AnswerKind::of_question("When was the case argued?"),
            Some(AnswerKind::Date)
        );
        assert_eq!(
            AnswerKind::of_question("In what year did he leave?"),
            Some(AnswerKind::Date)
        );
        assert_eq!(
            AnswerKind::of_question("Who wrote the opinion?"),
            Some(AnswerKind::Judge)
        );
        assert!(AnswerKind::Number.matches("twenty"));
        assert!(AnswerKind::Number.matches("10,000"));
        assert!(!AnswerKind::Number.matches("woman"));
        assert!(AnswerKind::Date.matches("1845"));
        assert!(AnswerKind::Date.matches("November"));
        assert!(!AnswerKind::Date.matches("12345"));
    }

    /// Asserts that each question of `asking` asks for `kind`, each of `not_asking` for none,
    /// and that `kind` holds the words of `of_kind` and not those of `not_of_kind`.
    fn assert_kind(
        kind: AnswerKind,
        asking: &[&str],
        not_asking: &[&str],
        of_kind: &[&str],
        not_of_kind: &[&str],
    ) {
        for q in asking {
            assert_eq!(AnswerKind::of_question(q), Some(kind), "{q}");
        }
        for q in not_asking {
            assert_eq!(AnswerKind::of_question(q), None, "{q}");
        }
        for w in of_kind {
            assert!(kind.matches(w), "{w}");
        }
        for w in not_of_kind {
            assert!(!kind.matches(w), "{w}");
        }
    }

    #[test]
    fn who_decided_or_wrote_a_court_paper_asks_for_a_judge() {
        assert_kind(
            AnswerKind::Judge,
            &[
                "Who wrote the opinion of the court in Gift Surplus?",
                "Which judge decided the motions in limine in MASS v. Hughes?",
                "Which justices did not take part in the decision?",
                "Who signed the order on the motions in limine?",
            ],
            // "Who wrote" about a letter in a novel is not about a court.
            &[
                "How did the boy get his writing into print without anyone knowing who wrote it?",
                "Who signed the telegram asking Nick to postpone the funeral?",
                "What reason did the trial judge give for refusing the motion?",
            ],
            &["Justice", "HONORABLE"],
            &["court"],
        );
    }

    #[test]
    fn what_a_court_did_asks_for_a_ruling() {
        assert_kind(
            AnswerKind::Ruling,
            &[
                "What did the First Circuit do with Calvary Chapel's appeal?",
                "After refusing terminating sanctions, what did the court order instead?",
                "How did the court rule on the hearsay objection?",
                "What became of the motion to strike?",
            ],
            &[
                "What happened to the keeper of the light?",
                "What standard of review applies to the fee award?",
                "Why did the court keep out the licensing total?",
            ],
            &["DENIES", "remanded"],
            &["motion"],
        );
    }

    #[test]
    fn the_adjective_of_a_how_question_is_a_cue_not_a_topic() {
        assert_eq!(
            AnswerKind::cue_words("How old is Charlotte Lucas?"),
            ["old"]
        );
        assert_eq!(
            AnswerKind::cue_words("How long and how large is the pond?"),
            ["long", "large"]
        );
        assert!(AnswerKind::cue_words("When did the old man leave?").is_empty());
    }
}
