//! Prompt templates per model family. Every prompt puts the question (or the instruction) *before*
//! the material, which is what RWKV-4 needs (RWKV paper, appendix J: RTE F1 44.2 → 74.8), and ends
//! with the family's answer cue.
//!
//! | family | question prompt | answer cue | stops at |
//! |---|---|---|---|
//! | Raven (chat-tuned) | `\n\nBob: Q\nAnswer using this passage from T:\n` + material | `\n\nAlice:` | blank line |
//! | Pile (base models, the demo) | `\n\nQuestion: Q\n\nThe answer is in this passage from T:\n\n` + material | `\n\nQuestion: Q\nAnswer:` | blank line |
//! | World | `\n\nUser: Q\nAnswer using this passage from T:\n` + material | `\n\nAssistant:` | blank line |
//!
//! The prompt starts with a blank line because the state it continues from stopped somewhere in
//! the middle of the document. Chat families end a turn at a blank line, so their material has
//! blank lines collapsed (ChatRWKV does the same to user messages).
//!
//! The material is one or more passages, each after its page label on a line of its own
//! ([`passage_label`]: `[pp. 8–9]`, then `[p. 12]` after a line break); with more than one the
//! opening says "these passages".

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Version of the templates below; stored with summaries so that a template change regenerates
/// them instead of reusing summaries made with another prompt.
pub const PROMPT_VERSION: u32 = 1;

/// A family of RWKV-4 models that share a prompt format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptFamily {
    /// Raven: instruction-tuned chat models (`Bob:` / `Alice:`).
    Raven,
    /// Pile base models and the bundled demo model (`Question:` / `Answer:`).
    Pile,
    /// World models (`User:` / `Assistant:`).
    World,
}

impl PromptFamily {
    /// Chooses the family from a model name such as `RWKV-4-Raven-7B-v12` or
    /// `RWKV-4-World-3B`; anything else (Pile base models, the demo model) is [`PromptFamily::Pile`].
    pub fn for_model_name(name: &str) -> PromptFamily {
        let lower = name.to_lowercase();
        if lower.contains("raven") {
            PromptFamily::Raven
        } else if lower.contains("world") {
            PromptFamily::World
        } else {
            PromptFamily::Pile
        }
    }

    /// Parses a config value: `raven`, `pile` (or `base`), `world`; case-insensitive.
    pub fn parse(name: &str) -> Option<PromptFamily> {
        match name.trim().to_lowercase().as_str() {
            "raven" => Some(PromptFamily::Raven),
            "pile" | "base" => Some(PromptFamily::Pile),
            "world" => Some(PromptFamily::World),
            _ => None,
        }
    }

    /// The name [`PromptFamily::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            PromptFamily::Raven => "raven",
            PromptFamily::Pile => "pile",
            PromptFamily::World => "world",
        }
    }

    /// Whether a blank line ends a turn (material must not contain blank lines).
    fn collapses_blank_lines(self) -> bool {
        matches!(self, PromptFamily::Raven | PromptFamily::World)
    }

    /// `(user, assistant)` role names of chat families.
    fn roles(self) -> Option<(&'static str, &'static str)> {
        match self {
            PromptFamily::Raven => Some(("Bob", "Alice")),
            PromptFamily::World => Some(("User", "Assistant")),
            PromptFamily::Pile => None,
        }
    }
}

impl std::fmt::Display for PromptFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PromptFamily {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PromptFamily::parse(s)
            .ok_or_else(|| format!("unknown prompt family {s:?} (raven, pile or world)"))
    }
}

/// A prompt around some material: fed as `before`, the material, then `after` (whose last token's
/// logits start generation). `after` alone is the prompt when there is no material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// Text fed before the material (question or instruction first).
    pub before: String,
    /// Text fed after the material: the answer cue.
    pub after: String,
    /// Generation stops before any of these.
    pub stop: Vec<String>,
}

/// Collapses runs of whitespace (a question typed over several lines becomes one line).
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn stops() -> Vec<String> {
    // A blank line ends the answer in all three formats; the role names catch a model that
    // starts the next turn after a single newline.
    vec![
        "\n\n".into(),
        "\nQuestion:".into(),
        "\nBob:".into(),
        "\nUser:".into(),
    ]
}

/// The prompt for a question about `passages` passages (the material is the text re-read from
/// the checkpoint to the end of the first passage, then the others, each after its
/// [`passage_label`]).
pub fn question_prompt(
    family: PromptFamily,
    question: &str,
    title: &str,
    passages: usize,
) -> Prompt {
    let q = one_line(question);
    let title = one_line(title);
    let these = if passages > 1 {
        "these passages"
    } else {
        "this passage"
    };
    match family.roles() {
        Some((user, assistant)) => Prompt {
            before: format!("\n\n{user}: {q}\nAnswer using {these} from {title}:\n"),
            after: format!("\n\n{assistant}:"),
            stop: stops(),
        },
        None => Prompt {
            before: format!("\n\nQuestion: {q}\n\nThe answer is in {these} from {title}:\n\n"),
            after: format!("\n\nQuestion: {q}\nAnswer:"),
            stop: stops(),
        },
    }
}

/// The text fed before a passage of an answer's material: its page label in brackets on a line
/// of its own (`[pp. 7–8]`). The first follows the prompt's opening, which ends a line already;
/// the others follow a passage, so they start a new line (a new paragraph for base models, a
/// single line break for chat families, where a blank line would end the turn).
pub fn passage_label(family: PromptFamily, page_label: &str, first: bool) -> String {
    let lead = match (first, family.collapses_blank_lines()) {
        (true, _) => "",
        (false, true) => "\n",
        (false, false) => "\n\n",
    };
    format!("{lead}[{}]\n", one_line(page_label))
}

/// The prompt for a question about everything read so far (`--whole`): no material, the
/// question goes right after the document.
pub fn gist_prompt(family: PromptFamily, question: &str, title: &str) -> Prompt {
    let q = one_line(question);
    let title = one_line(title);
    match family.roles() {
        Some((user, assistant)) => Prompt {
            before: String::new(),
            after: format!("\n\n{user}: About the text of {title} above: {q}\n\n{assistant}:"),
            stop: stops(),
        },
        None => Prompt {
            before: String::new(),
            after: format!("\n\nQuestion: {q}\nAnswer:"),
            stop: stops(),
        },
    }
}

/// The prompt for summarising a section: instruction first, then the section's text.
pub fn summary_prompt(family: PromptFamily, section_title: &str, title: &str) -> Prompt {
    let section = one_line(section_title);
    let title = one_line(title);
    match family.roles() {
        Some((user, assistant)) => Prompt {
            before: format!(
                "\n\n{user}: Summarize this section of {title}, \"{section}\", in a few sentences:\n"
            ),
            after: format!("\n\n{assistant}:"),
            stop: stops(),
        },
        None => Prompt {
            before: format!(
                "\n\nInstruction: Summarize the section \"{section}\" of {title} in a few sentences.\n\nSection:\n\n"
            ),
            after: "\n\nSummary:".to_string(),
            stop: stops(),
        },
    }
}

/// Document text as the family should see it inside a prompt: chat families get blank lines
/// collapsed to single newlines; base models read the text as it is.
pub fn prepare_material(family: PromptFamily, text: &str) -> Cow<'_, str> {
    if !family.collapses_blank_lines() || !text.contains("\n\n") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut newlines = 0usize;
    for c in text.chars() {
        if c == '\n' {
            newlines += 1;
            if newlines == 1 {
                out.push('\n');
            }
        } else {
            // Whitespace between newlines must not rebuild a blank line either.
            if newlines > 0 && c.is_whitespace() {
                continue;
            }
            newlines = 0;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_comes_from_the_model_name() {
        assert_eq!(
            PromptFamily::for_model_name("RWKV-4-Raven-7B-v12-Eng98%"),
            PromptFamily::Raven
        );
        assert_eq!(
            PromptFamily::for_model_name("RWKV-4-World-3B-v1"),
            PromptFamily::World
        );
        assert_eq!(
            PromptFamily::for_model_name("RWKV-4-Pile-169M-20220807-8023"),
            PromptFamily::Pile
        );
        assert_eq!(
            PromptFamily::for_model_name("rwkv4-demo"),
            PromptFamily::Pile
        );
        assert_eq!(PromptFamily::parse(" World "), Some(PromptFamily::World));
        assert_eq!(PromptFamily::parse("base"), Some(PromptFamily::Pile));
        assert!("gpt".parse::<PromptFamily>().is_err());
    }

    #[test]
    fn question_comes_before_the_material_and_the_cue_after() {
        let p = question_prompt(PromptFamily::Pile, "Who kept\n the light?", "book.txt", 1);
        assert_eq!(
            p.before,
            "\n\nQuestion: Who kept the light?\n\nThe answer is in this passage from book.txt:\n\n"
        );
        assert_eq!(p.after, "\n\nQuestion: Who kept the light?\nAnswer:");
        let r = question_prompt(PromptFamily::Raven, "Who?", "b", 3);
        assert_eq!(
            r.before,
            "\n\nBob: Who?\nAnswer using these passages from b:\n"
        );
        assert_eq!(r.after, "\n\nAlice:");
        let w = question_prompt(PromptFamily::World, "Who?", "b", 1);
        assert!(w.before.starts_with("\n\nUser: Who?"));
        assert_eq!(w.after, "\n\nAssistant:");
        assert!(p.stop.contains(&"\n\n".to_string()));
    }

    #[test]
    fn passages_are_labelled_with_their_pages() {
        assert_eq!(
            passage_label(PromptFamily::Pile, "pp. 7–8", true),
            "[pp. 7–8]\n"
        );
        assert_eq!(
            passage_label(PromptFamily::Pile, "p. 9", false),
            "\n\n[p. 9]\n"
        );
        // A chat turn must not be ended by a blank line between passages.
        assert_eq!(
            passage_label(PromptFamily::Raven, "p. 9", false),
            "\n[p. 9]\n"
        );
        assert_eq!(
            passage_label(PromptFamily::World, "p.\n9", false),
            "\n[p. 9]\n"
        );
    }

    #[test]
    fn gist_and_summary_prompts() {
        let g = gist_prompt(PromptFamily::Pile, "What is it about?", "b");
        assert!(g.before.is_empty());
        assert_eq!(g.after, "\n\nQuestion: What is it about?\nAnswer:");
        let s = summary_prompt(PromptFamily::Pile, "Chapter 2: Fog", "book.txt");
        assert!(s
            .before
            .contains("Summarize the section \"Chapter 2: Fog\" of book.txt"));
        assert_eq!(s.after, "\n\nSummary:");
        let s = summary_prompt(PromptFamily::Raven, "ORDER", "order.txt");
        assert!(s.before.starts_with("\n\nBob: Summarize"));
    }

    #[test]
    fn chat_material_has_no_blank_lines() {
        let text = "one\n\n  \n\ntwo\nthree\n\n";
        assert_eq!(
            prepare_material(PromptFamily::Raven, text),
            "one\ntwo\nthree\n"
        );
        assert_eq!(prepare_material(PromptFamily::Pile, text), text);
        assert!(matches!(
            prepare_material(PromptFamily::World, "a\nb"),
            Cow::Borrowed(_)
        ));
    }
}
