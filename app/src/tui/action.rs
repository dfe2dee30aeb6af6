//! What the user can ask the app to do. Keys map to actions (and can be rebound in the config
//! file by the actions' snake_case names); the app only ever reacts to actions, so tests drive
//! it headless with a list of them, exactly as the keyboard would.

use serde::{Deserialize, Serialize};

/// One user intent. The unit variants up to `Export` are bindable to keys; the rest are produced
/// by the runtime (typing into a text line, the mouse wheel, a resize).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the app (reading already checkpointed is kept; the next start resumes).
    Quit,
    /// Show or hide the list of every key.
    Help,
    /// Close the help or a text line, cancel a running answer or summary, or go back a screen.
    Back,
    /// Next screen (Library → Reader → Ask → Summaries).
    NextScreen,
    /// Previous screen.
    PrevScreen,
    /// Go to the Library screen.
    ShowLibrary,
    /// Go to the Reader screen.
    ShowReader,
    /// Go to the Ask screen.
    ShowAsk,
    /// Go to the Summaries screen.
    ShowSummaries,
    /// Move up one line or item.
    Up,
    /// Move down one line or item.
    Down,
    /// Move up one page.
    PageUp,
    /// Move down one page.
    PageDown,
    /// Go to the top.
    Top,
    /// Go to the bottom.
    Bottom,
    /// Open the selected document, jump to the selected evidence or section, or show an earlier
    /// answer.
    Select,
    /// Search the open document (Reader).
    Search,
    /// Next search hit.
    NextHit,
    /// Previous search hit.
    PrevHit,
    /// Type a question (in Summaries: about the selected section).
    Ask,
    /// Re-read the selected document (Library) or regenerate the selected summary (Summaries).
    Refresh,
    /// Remove the selected document from the library (press twice to confirm).
    Remove,
    /// Export the current document's questions, answers and summaries to Markdown.
    Export,
    /// Mouse wheel up: scroll a few lines.
    ScrollUp,
    /// Mouse wheel down: scroll a few lines.
    ScrollDown,
    /// A character typed into the open text line.
    InputChar(char),
    /// Delete the character before the cursor of the open text line.
    InputBackspace,
    /// Delete the word before the cursor of the open text line.
    InputDeleteWord,
    /// Submit the open text line (search, or send the question).
    InputSubmit,
    /// Text pasted into the open text line.
    Paste(String),
    /// The terminal now has this many columns and rows.
    Resize { width: u16, height: u16 },
}

impl Action {
    /// The actions a key can be bound to, in the order the help lists them.
    pub const BINDABLE: [Action; 23] = [
        Action::Help,
        Action::Quit,
        Action::Back,
        Action::ShowLibrary,
        Action::ShowReader,
        Action::ShowAsk,
        Action::ShowSummaries,
        Action::NextScreen,
        Action::PrevScreen,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Select,
        Action::Search,
        Action::NextHit,
        Action::PrevHit,
        Action::Ask,
        Action::Refresh,
        Action::Remove,
        Action::Export,
    ];

    /// The name used in the config file's `[keys]` table (`page_down`, `next_hit`, ...).
    pub fn config_name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => format!("{self:?}"),
        }
    }

    /// The bindable action called `name` in the config file, if there is one.
    pub fn from_config_name(name: &str) -> Option<Action> {
        Action::BINDABLE
            .iter()
            .find(|a| a.config_name() == name)
            .cloned()
    }

    /// One line for the help screen.
    pub fn description(&self) -> &'static str {
        match self {
            Action::Quit => "quit (reading resumes on the next start)",
            Action::Help => "show / hide this help",
            Action::Back => "back, close, or cancel generation",
            Action::NextScreen => "next screen",
            Action::PrevScreen => "previous screen",
            Action::ShowLibrary => "Library",
            Action::ShowReader => "Reader",
            Action::ShowAsk => "Ask",
            Action::ShowSummaries => "Summaries",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Select => "open / jump to text / show answer",
            Action::Search => "search the document",
            Action::NextHit => "next hit",
            Action::PrevHit => "previous hit",
            Action::Ask => "ask a question (Summaries: about the section)",
            Action::Refresh => "re-read document / regenerate summary",
            Action::Remove => "remove document (press twice)",
            Action::Export => "export notes to Markdown",
            Action::ScrollUp => "scroll up",
            Action::ScrollDown => "scroll down",
            Action::InputChar(_) => "type",
            Action::InputBackspace => "delete a character",
            Action::InputDeleteWord => "delete a word",
            Action::InputSubmit => "submit",
            Action::Paste(_) => "paste",
            Action::Resize { .. } => "resize",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_round_trip_for_every_bindable_action() {
        for action in Action::BINDABLE {
            let name = action.config_name();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert_eq!(Action::from_config_name(&name), Some(action));
        }
        assert_eq!(Action::PageDown.config_name(), "page_down");
        assert_eq!(Action::from_config_name("input_char"), None);
    }

    #[test]
    fn actions_serialise_for_scripts() {
        let script = vec![
            Action::Ask,
            Action::InputChar('x'),
            Action::Resize {
                width: 60,
                height: 15,
            },
        ];
        let json = serde_json::to_string(&script).unwrap_or_default();
        assert_eq!(
            json,
            r#"["ask",{"input_char":"x"},{"resize":{"width":60,"height":15}}]"#
        );
        let back: Vec<Action> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, script);
    }
}
