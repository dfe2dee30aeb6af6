//! Terminal events → actions. While a text line is open, printable keys are text; otherwise the
//! key map decides.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};

use super::action::Action;
use super::keymap::KeyMap;

/// The action for a terminal event, given whether a text line has the keyboard.
pub fn action_for_event(event: &Event, text_line_open: bool, keymap: &KeyMap) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            if text_line_open {
                text_line_action(key)
            } else {
                keymap.action_for(key)
            }
        }
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            _ => None,
        },
        Event::Paste(text) if text_line_open => Some(Action::Paste(text.clone())),
        Event::Resize(width, height) => Some(Action::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
    }
}

fn text_line_action(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Enter => Some(Action::InputSubmit),
        KeyCode::Esc => Some(Action::Back),
        KeyCode::Backspace if ctrl => Some(Action::InputDeleteWord),
        KeyCode::Backspace => Some(Action::InputBackspace),
        KeyCode::Char('c') if ctrl => Some(Action::Quit),
        KeyCode::Char('w') if ctrl => Some(Action::InputDeleteWord),
        KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
            Some(Action::InputChar(c))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn letters_are_text_in_a_line_and_actions_outside() {
        let map = KeyMap::default();
        assert_eq!(
            action_for_event(&press(KeyCode::Char('q')), true, &map),
            Some(Action::InputChar('q'))
        );
        assert_eq!(
            action_for_event(&press(KeyCode::Char('q')), false, &map),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for_event(&press(KeyCode::Esc), true, &map),
            Some(Action::Back)
        );
        assert_eq!(
            action_for_event(&press(KeyCode::Enter), true, &map),
            Some(Action::InputSubmit)
        );
        let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert_eq!(action_for_event(&ctrl_c, true, &map), Some(Action::Quit));
    }

    #[test]
    fn releases_are_ignored_and_resizes_pass_through() {
        let map = KeyMap::default();
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for_event(&Event::Key(release), false, &map), None);
        assert_eq!(
            action_for_event(&Event::Resize(60, 15), false, &map),
            Some(Action::Resize {
                width: 60,
                height: 15
            })
        );
    }
}
