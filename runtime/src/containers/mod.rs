//! Container engines: how conlink finds containers, follows their lives and runs
//! commands in them (docs/configuration.md, "Targets": `container:` and `service:`).
//!
//! An engine is one implementation of [`ContainerEngine`]: [`docker::DockerEngine`]
//! speaks the Docker Engine API on a unix socket, which serves Docker and Podman's
//! Docker-compatible service alike; [`fake::FakeEngine`] keeps containers in memory
//! for tests. Around the trait: where the sockets are ([`socket`]), what a container
//! is ([`model`]) and which compose replica it is ([`compose`]), which container
//! conlink itself runs in ([`own`]), how many replicas a plan follows
//! ([`replicas`]), how to reach a container's network
//! namespace ([`namespace`]) and why the kernel may refuse it (`access`), and which
//! container a `container:`/`service:` symbol names ([`resolver`]). Errors are
//! [`EngineError`]s.
//!
//! Every Engine API call conlink makes is in [`docker::DockerEngine`]'s implementation
//! of the trait (version, list, inspect, events, exec and its inspection), so that
//! the calls can be named and filtered in one place.
//!
//! The trait is blocking, like the rest of the runtime.

mod access;
pub mod commands;
pub mod compose;
mod convert;
pub mod docker;
pub mod error;
pub mod fake;
pub mod model;
pub mod namespace;
pub mod own;
mod probe;
pub mod replicas;
pub mod resolver;
pub mod socket;
mod timestamp;

pub use error::EngineError;
pub use model::{Container, ContainerState, EngineVersion, Event, EventKind, EventOptions};

use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// One container engine.
pub trait ContainerEngine: Send + Sync {
    /// What the engine says about itself.
    fn version(&self) -> Result<EngineVersion, EngineError>;

    /// The containers the filter selects, running or not, each as [`inspect`]
    /// describes it (with its process id when it runs).
    ///
    /// [`inspect`]: ContainerEngine::inspect
    fn list(&self, filter: &ListFilter) -> Result<Vec<Container>, EngineError>;

    /// One container, by full id, unique id prefix or name.
    fn inspect(&self, id_or_name: &str) -> Result<Container, EngineError>;

    /// The containers' start and die events from `options.since` (default: the
    /// moment of the call, so nothing that happens while the stream connects is
    /// lost) on.
    ///
    /// The stream ends when the engine closes it (at `options.until`, or when it
    /// stops or the connection breaks). Reconnecting is the caller's job: open a
    /// new stream with `since` set to the last event's time, and compare with
    /// [`list`](ContainerEngine::list), since the engine keeps only recent events.
    fn events(&self, options: &EventOptions) -> Result<Events, EngineError>;

    /// Runs `command` (a program and its arguments, no shell) in a running container,
    /// writing its standard output and error to `output` as they come, and returns
    /// its exit code.
    fn exec(
        &self,
        container: &str,
        command: &[String],
        output: &mut dyn Write,
    ) -> Result<i64, EngineError>;
}

/// Which containers [`ContainerEngine::list`] returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Labels every container must have: `KEY` or `KEY=VALUE`.
    pub labels: Vec<String>,
    /// Only running containers (the default is all, stopped ones included).
    pub running_only: bool,
}

/// Runs `command` in `container` with its output appended to the file `log` (created
/// if needed), and returns its exit code.
pub fn exec_logged(
    engine: &dyn ContainerEngine,
    container: &str,
    command: &[String],
    log: &Path,
) -> Result<i64, EngineError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| EngineError::io(format!("opening the log file {}", log.display()), e))?;
    engine.exec(container, command, &mut file)
}

/// A stream of container events: an iterator that blocks until the next event and
/// ends with the stream, plus [`Events::recv_timeout`] for callers that must also
/// look at something else (an interrupt) now and then.
///
/// An `Err` item is either [`EngineError::EventDecode`] (one event could not be
/// read; the stream goes on) or the error that broke the stream (it ends after it).
pub struct Events {
    rx: Receiver<Result<Event, EngineError>>,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl Events {
    /// Events from a channel; `on_drop` stops their producer when the caller is
    /// done with them.
    pub fn new(
        rx: Receiver<Result<Event, EngineError>>,
        on_drop: Option<Box<dyn FnOnce() + Send>>,
    ) -> Events {
        Events { rx, on_drop }
    }

    /// The next item, waiting at most `timeout`. `Err(Disconnected)` means the
    /// stream ended.
    pub fn recv_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Result<Event, EngineError>, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }
}

impl Iterator for Events {
    type Item = Result<Event, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rx.recv().ok()
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if let Some(stop) = self.on_drop.take() {
            stop();
        }
    }
}
