//! The one channel every thread reports into: what wakes the event loop, and the handle workers
//! send their reports through. Both the loop (`runtime`, `ui_loop`) and the workers use it, so it
//! lives apart from either.

use std::sync::mpsc::Sender;

use ratatui::crossterm::event::Event;

use super::messages::WorkerEvent;

/// Everything that wakes the event loop.
#[derive(Debug)]
pub enum AppEvent {
    /// A key, mouse, paste or resize event from the terminal.
    Terminal(Event),
    /// The terminal could no longer be read.
    TerminalFailed(String),
    /// A report from a worker.
    Worker(WorkerEvent),
}

/// Where workers send their reports. Sending never fails loudly: if the UI is gone, the report
/// has nobody to go to.
#[derive(Debug, Clone)]
pub struct EventSink(Sender<AppEvent>);

impl EventSink {
    /// A sink into the loop's channel.
    pub fn new(tx: Sender<AppEvent>) -> EventSink {
        EventSink(tx)
    }

    /// Sends one report to the UI.
    pub fn send(&self, event: WorkerEvent) {
        let _ = self.0.send(AppEvent::Worker(event));
    }
}
