//! The terminal UI. Its shape: terminal input → `Action` → `AppState::apply` → `Effect`s for the
//! workers; workers report `WorkerEvent`s over one channel → `AppState::on_event`; `draw` renders
//! the state. State and drawing never touch the model or the library, so tests build states by
//! hand or drive them with actions, and render them into a `TestBackend`.

pub mod action;
pub mod draw;
pub(crate) mod events;
pub mod inert_text;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod messages;
pub(crate) mod runtime;
pub mod state;
mod terminal;
pub mod text_rows;
pub(crate) mod ui_loop;
mod update;
mod update_events;
#[cfg(test)]
mod update_tests;
pub(crate) mod workers;

pub use runtime::{run, TuiSettings};
