//! Keys → actions. Defaults give both arrows and vim keys; the config file's `[keys]` table
//! replaces the keys of any action it names:
//!
//! ```toml
//! [keys]
//! quit = ["q", "ctrl-c"]
//! page_down = ["ctrl-d", "pagedown", "space"]
//! ```
//!
//! Key names: a single character (`q`, `?`, `G`), or `enter`, `esc`, `tab`, `backtab`,
//! `backspace`, `delete`, `space`, `up`, `down`, `left`, `right`, `pageup`, `pagedown`, `home`,
//! `end`, `f1`..`f12`, each optionally prefixed by `ctrl-` and/or `alt-`.

use std::collections::{BTreeMap, HashMap};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// A key with the modifiers that matter. Shift is folded into the character (`G`, not
/// `shift-g`), because terminals disagree on whether they report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyPress {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
}

impl KeyPress {
    /// The key of a terminal key event.
    pub fn from_event(event: &KeyEvent) -> KeyPress {
        KeyPress {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses a key name such as `ctrl-d`, `G` or `pagedown`.
    pub fn parse(name: &str) -> Result<KeyPress, String> {
        let mut rest = name;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                lower => match lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    Some(n) if (1..=12).contains(&n) => KeyCode::F(n),
                    _ => return Err(format!("unknown key {name:?}")),
                },
            },
        };
        Ok(KeyPress { code, ctrl, alt })
    }

    /// The key's name as the help shows it and the config file accepts it.
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "backtab".into(),
            KeyCode::Backspace => "backspace".into(),
            KeyCode::Delete => "delete".into(),
            KeyCode::Up => "up".into(),
            KeyCode::Down => "down".into(),
            KeyCode::Left => "left".into(),
            KeyCode::Right => "right".into(),
            KeyCode::PageUp => "pageup".into(),
            KeyCode::PageDown => "pagedown".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::F(n) => format!("f{n}"),
            other => format!("{other:?}").to_ascii_lowercase(),
        };
        let mut name = String::new();
        if self.ctrl {
            name.push_str("ctrl-");
        }
        if self.alt {
            name.push_str("alt-");
        }
        name.push_str(&base);
        name
    }
}

/// The key bindings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMap {
    bindings: HashMap<KeyPress, Action>,
}

const DEFAULT_KEYS: &[(Action, &[&str])] = &[
    (Action::Help, &["?", "f1"]),
    (Action::Quit, &["q", "ctrl-c"]),
    (Action::Back, &["esc"]),
    (Action::ShowLibrary, &["1"]),
    (Action::ShowReader, &["2"]),
    (Action::ShowAsk, &["3"]),
    (Action::ShowSummaries, &["4"]),
    (Action::NextScreen, &["tab", "right", "l"]),
    (Action::PrevScreen, &["backtab", "left", "h"]),
    (Action::Up, &["up", "k"]),
    (Action::Down, &["down", "j"]),
    (Action::PageUp, &["pageup", "ctrl-u", "ctrl-b"]),
    (Action::PageDown, &["pagedown", "ctrl-d", "ctrl-f", "space"]),
    (Action::Top, &["home", "g"]),
    (Action::Bottom, &["end", "G"]),
    (Action::Select, &["enter"]),
    (Action::Search, &["/"]),
    (Action::NextHit, &["n"]),
    (Action::PrevHit, &["N"]),
    (Action::Ask, &["a"]),
    (Action::Refresh, &["r"]),
    (Action::Remove, &["d", "delete"]),
    (Action::Export, &["e"]),
];

impl Default for KeyMap {
    fn default() -> Self {
        let mut bindings = HashMap::new();
        for (action, keys) in DEFAULT_KEYS {
            for key in *keys {
                if let Ok(press) = KeyPress::parse(key) {
                    bindings.insert(press, action.clone());
                }
            }
        }
        KeyMap { bindings }
    }
}

impl KeyMap {
    /// The defaults with the config file's `[keys]` table applied: each action named there gets
    /// exactly the keys listed (its default keys are dropped), and a key listed there leaves
    /// whatever action it had before.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut map = KeyMap::default();
        for (action_name, keys) in overrides {
            let action = Action::from_config_name(action_name).ok_or_else(|| {
                format!("[keys]: unknown action {action_name:?} (see `?` in the app for the names)")
            })?;
            map.bindings.retain(|_, bound| *bound != action);
            for key in keys {
                let press =
                    KeyPress::parse(key).map_err(|e| format!("[keys] {action_name}: {e}"))?;
                map.bindings.insert(press, action.clone());
            }
        }
        Ok(map)
    }

    /// The action bound to a key event, if any.
    pub fn action_for(&self, event: &KeyEvent) -> Option<Action> {
        let press = KeyPress::from_event(event);
        self.bindings.get(&press).cloned()
    }

    /// Names of the keys bound to `action`, sorted for a stable help screen.
    pub fn keys_for(&self, action: &Action) -> Vec<String> {
        let mut presses: Vec<&KeyPress> = self
            .bindings
            .iter()
            .filter(|(_, bound)| *bound == action)
            .map(|(press, _)| press)
            .collect();
        presses.sort_by_key(|p| (p.name().chars().count() > 1, p.ctrl, p.alt, p.name()));
        presses.into_iter().map(KeyPress::name).collect()
    }

    /// (keys, description) for every bindable action, in help order.
    pub fn help_rows(&self) -> Vec<(String, String)> {
        Action::BINDABLE
            .iter()
            .map(|a| {
                let keys = self.keys_for(a);
                let keys = if keys.is_empty() {
                    "(unbound)".to_string()
                } else {
                    keys.join(" ")
                };
                (keys, format!("{} [{}]", a.description(), a.config_name()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, modifiers, KeyEventKind::Press)
    }

    #[test]
    fn arrows_and_vim_keys_both_move() {
        let map = KeyMap::default();
        assert_eq!(
            map.action_for(&key(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action_for(&key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action_for(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action_for(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action_for(&key(KeyCode::Char('z'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn every_bindable_action_has_a_default_key() {
        let map = KeyMap::default();
        for action in Action::BINDABLE {
            assert!(!map.keys_for(&action).is_empty(), "{action:?} has no key");
        }
    }

    #[test]
    fn default_keys_are_not_bound_twice() {
        let mut seen = std::collections::HashSet::new();
        for (_, keys) in DEFAULT_KEYS {
            for k in *keys {
                assert!(
                    seen.insert(KeyPress::parse(k).map_err(|e| e.to_string())),
                    "{k} twice"
                );
            }
        }
    }

    #[test]
    fn key_names_round_trip() {
        for name in [
            "q",
            "?",
            "G",
            "ctrl-d",
            "alt-x",
            "ctrl-alt-k",
            "pagedown",
            "f5",
            "space",
            "backtab",
        ] {
            let press = KeyPress::parse(name).map_err(|e| e.to_string());
            assert_eq!(press.map(|p| p.name()), Ok(name.to_string()));
        }
        assert!(KeyPress::parse("hyper-q").is_err());
        assert!(KeyPress::parse("f13").is_err());
        assert_eq!(
            KeyPress::parse("ctrl-").map(|p| p.name()),
            Err("unknown key \"ctrl-\"".into())
        );
    }

    #[test]
    fn overrides_replace_an_actions_keys_and_steal_keys() {
        let mut overrides = BTreeMap::new();
        overrides.insert("quit".to_string(), vec!["x".to_string()]);
        overrides.insert("down".to_string(), vec!["q".to_string()]);
        let map = KeyMap::with_overrides(&overrides).map_err(|e| e.to_string());
        let Ok(map) = map else { panic!("{map:?}") };
        assert_eq!(map.keys_for(&Action::Quit), vec!["x"]);
        assert_eq!(
            map.action_for(&key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action_for(&key(KeyCode::Char('j'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn overrides_report_unknown_actions_and_keys() {
        let mut overrides = BTreeMap::new();
        overrides.insert("fly".to_string(), vec!["x".to_string()]);
        assert!(KeyMap::with_overrides(&overrides).is_err_and(|e| e.contains("fly")));
        let mut overrides = BTreeMap::new();
        overrides.insert("quit".to_string(), vec!["meta-x".to_string()]);
        assert!(KeyMap::with_overrides(&overrides).is_err_and(|e| e.contains("meta-x")));
    }
}
