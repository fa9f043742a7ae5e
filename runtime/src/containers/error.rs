//! What can go wrong between conlink and a container engine, in words that say what
//! to do about it.
//!
//! Every error names the socket or the container concerned. Engine API errors keep the
//! HTTP status and the engine's own message, because that message ("No such
//! container", "Container … is not running") is usually the most precise one there is.

use std::io;
use std::path::PathBuf;

use super::socket::{SocketChoice, UnsupportedHost};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No socket was found where conlink looked.
    #[error(
        "no container engine socket found; tried {}. Point conlink at the engine's \
         socket with --engine-socket PATH (or DOCKER_HOST=unix://PATH) for Docker, \
         --podman-socket PATH for Podman; inside a container, mount the socket \
         (e.g. /var/run/docker.sock:/var/run/docker.sock)",
        tried_list(.tried)
    )]
    SocketMissing { tried: Vec<SocketChoice> },

    /// `DOCKER_HOST` names something other than a local unix socket.
    #[error(transparent)]
    UnsupportedHost(#[from] UnsupportedHost),

    /// The socket exists but this process may not connect to it.
    #[error(
        "permission denied on the {engine} socket {path} ({origin}): run conlink as \
         root, or as a user allowed to use that socket"
    )]
    PermissionDenied {
        engine: &'static str,
        path: PathBuf,
        origin: String,
    },

    /// The socket file exists but nothing accepts connections on it.
    #[error(
        "the {engine} socket {path} ({origin}) does not answer: {source}; is the engine \
         running?"
    )]
    NotAnswering {
        engine: &'static str,
        path: PathBuf,
        origin: String,
        source: io::Error,
    },

    /// The engine answered a request with an error status.
    #[error("{what}: the engine answered {status}: {message}")]
    Api {
        what: String,
        status: u16,
        message: String,
    },

    /// No container has this id or name.
    #[error("no container named or with id {0:?}")]
    NotFound(String),

    /// The container exists but has no process (created, exited, dead, …).
    #[error("container {name} is not running (state: {state})")]
    NotRunning { name: String, state: String },

    /// The container's process id is not a process of this `/proc` (or is another
    /// process there).
    #[error(
        "cannot reach the network namespace of container {name}: {reason}; conlink \
         running in a container needs the host's process namespace (`pid: host` in \
         compose, `--pid host` for docker run)"
    )]
    PidNotVisible {
        name: String,
        pid: u32,
        reason: String,
    },

    /// The kernel refused to open the container's network namespace (its ptrace
    /// access check; see `access`).
    #[error("cannot open the network namespace of container {name} ({path}): {source}; {why}")]
    NamespaceRefused {
        name: String,
        path: PathBuf,
        source: io::Error,
        why: String,
    },

    /// Talking to the engine failed below the API (connection reset, malformed
    /// answer, timeout).
    #[error("{what}: {message}")]
    Transport { what: String, message: String },

    /// One event of the event stream could not be read; the stream goes on.
    #[error("an engine event could not be read: {0}")]
    EventDecode(String),

    /// A local file or directory (a log file, `/proc`) could not be used.
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

impl EngineError {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> EngineError {
        EngineError::Io {
            what: what.into(),
            source,
        }
    }
}

fn tried_list(tried: &[SocketChoice]) -> String {
    let each: Vec<String> = tried
        .iter()
        .map(|t| format!("{} ({}, {})", t.path.display(), t.engine, t.origin))
        .collect();
    each.join(", ")
}
