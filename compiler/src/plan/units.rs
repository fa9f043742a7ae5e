//! A plan as a whole (docs/plan.md, "Units"): what was decided at plan time (bridge
//! modes, replica counts, the interface group and ownership mark), then the units of
//! steps in apply order.

use super::bridge::BridgeMode;
use super::ns::Ns;
use super::op::Op;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the plan's JSON shape; bumped on any incompatible change.
pub const PLAN_FORMAT: u32 = 1;

/// A compiled plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Version of this JSON shape.
    pub format: u32,
    /// Project name; namespaces and ownership marks include it so projects never collide.
    pub project: String,
    /// Interface group every created interface joins (derived from the project name), so
    /// the runtime can delete a project's interfaces in bulk.
    pub group: u32,
    /// Ownership mark (interface alias) every created interface carries.
    pub mark: String,
    /// Every bridge, with the mode it was given and the mode it will be realised as.
    pub bridges: Vec<BridgeDecision>,
    /// Replica counts used for each compose service.
    pub services: Vec<ServiceScale>,
    /// Units in apply order.
    pub units: Vec<Unit>,
}

/// How a bridge's mode was decided: at plan time, and shown in the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BridgeDecision {
    /// Bridge name.
    pub name: String,
    /// The mode asked for (in the configuration, or `--default-bridge-mode`).
    pub requested: BridgeMode,
    /// The mode used: never `auto`.
    pub mode: BridgeMode,
    /// Why, when `requested` was `auto`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// The replica count of one compose service and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceScale {
    /// Service name.
    pub service: String,
    /// Number of replicas planned.
    pub replicas: u32,
    /// Where the count comes from.
    pub source: ScaleSource,
}

/// Where a service's replica count comes from, in increasing priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ScaleSource {
    /// Nothing says: one replica.
    #[serde(rename = "default")]
    Default,
    /// The compose file (`scale` or `deploy.replicas`).
    #[serde(rename = "compose")]
    Compose,
    /// The `--scale SERVICE=N` option.
    #[serde(rename = "option")]
    ScaleOption,
}

impl ScaleSource {
    /// The name used in the plan's JSON and text forms.
    pub fn as_str(self) -> &'static str {
        match self {
            ScaleSource::Default => "default",
            ScaleSource::Compose => "compose",
            ScaleSource::ScaleOption => "option",
        }
    }
}

/// A group of steps applied and removed together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unit {
    /// Stable identifier: `network`, `node:NAME`, `container:NAME`, `service:NAME#I`,
    /// `patch:BRIDGE`.
    pub id: String,
    /// What the unit wires.
    pub kind: UnitKind,
    /// Units that must be applied before this one (always `network` for target units).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub after: Vec<String>,
    /// Steps in apply order.
    pub steps: Vec<Step>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// The shared network: conlink's namespace, nodes, bridges, tunnels.
    Network,
    /// One node's links and commands.
    Node,
    /// One container's links and commands (applied when the container runs).
    Container,
    /// One replica of a compose service (applied when that container runs).
    Service,
    /// The redirects of a patch bridge (applied once both its links exist).
    Patch,
}

/// One kernel-level action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// Stable identifier `UNIT/INDEX`.
    pub id: String,
    /// Where the step runs.
    pub ns: Ns,
    /// What it does.
    pub op: Op,
    /// What undoes it (run in the same namespace).
    pub undo: Op,
}
