//! What conlink knows about containers, in the engine-neutral form the rest of the
//! runtime uses: a [`Container`], an [`Event`] of its life, an [`EngineVersion`].
//!
//! Only what wiring needs is kept: identity (id, name, labels), whether it runs and
//! as which process (its network namespace is that process's), its network mode
//! (a container that shares another's namespace has none of its own), and when it was
//! created and started (so a restart can be told from the same run).

use super::compose::ComposeIdentity;
use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

/// A container as the engine describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// Full id (64 hex digits for Docker and Podman).
    pub id: String,
    /// Name without the leading `/` the API puts before it.
    pub name: String,
    pub state: ContainerState,
    /// The process whose namespaces the container has; `None` unless it runs.
    pub pid: Option<u32>,
    pub labels: BTreeMap<String, String>,
    /// `HostConfig.NetworkMode`: `none`, `default`, `bridge`, `host`,
    /// `container:ID`, a network's name … (empty when the engine does not say).
    pub network_mode: String,
    pub image: String,
    pub created: Option<SystemTime>,
    /// When its current (or last) run started; `None` if it never ran or the engine
    /// did not say (list answers do not carry it for stopped containers).
    pub started: Option<SystemTime>,
}

impl Container {
    pub fn is_running(&self) -> bool {
        self.state == ContainerState::Running && self.pid.is_some()
    }

    /// Its compose project, service and replica, from its labels (never its name).
    pub fn compose(&self) -> Option<ComposeIdentity> {
        ComposeIdentity::from_labels(&self.labels)
    }
}

/// A container's state, as the engines name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// A state this version of conlink does not know (kept as the engine wrote it).
    Other(String),
}

impl ContainerState {
    pub fn from_name(name: &str) -> ContainerState {
        match name {
            "created" | "configured" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" | "stopped" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            other => ContainerState::Other(other.to_string()),
        }
    }
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Other(s) => s,
        })
    }
}

/// One event of a container's life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The container's full id.
    pub id: String,
    /// The container's name (without `/`).
    pub name: String,
    /// The container's labels as the event carries them (the engine's own event
    /// attributes — name, image, exit code, signal — are not labels and are left out).
    pub labels: BTreeMap<String, String>,
    /// When the engine says it happened.
    pub time: SystemTime,
}

impl Event {
    pub fn compose(&self) -> Option<ComposeIdentity> {
        ComposeIdentity::from_labels(&self.labels)
    }
}

/// The events conlink follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The container's process started (a new network namespace exists).
    Start,
    /// The container's process ended (its namespace goes with it).
    Die { exit_code: Option<i64> },
}

/// Which events to deliver. The engine keeps recent events: with `since`, those that
/// happened from then on are delivered first, so a caller that reconnects after a
/// lost stream can ask for everything after the last event it saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventOptions {
    pub since: Option<SystemTime>,
    /// The engine ends the stream at this time (mostly for tests).
    pub until: Option<SystemTime>,
}

/// What the engine says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineVersion {
    /// The product: "Docker Engine", "Podman Engine", …
    pub product: String,
    /// The product's version ("20.10.24", "4.3.1").
    pub version: String,
    /// The Docker Engine API version it serves ("1.41").
    pub api_version: String,
    /// The oldest API version it accepts.
    pub min_api_version: Option<String>,
    pub os: String,
    pub arch: String,
    pub kernel: String,
}

impl EngineVersion {
    pub fn is_podman(&self) -> bool {
        self.product.to_ascii_lowercase().contains("podman")
    }
}

impl fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (API {})",
            self.product, self.version, self.api_version
        )
    }
}
