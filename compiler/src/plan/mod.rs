//! The plan: the compiler's output and the runtime's input (docs/plan.md, "What a plan
//! is").
//!
//! A plan is an ordered list of [`Unit`]s, each an ordered list of [`Step`]s. A step is
//! one kernel-level action ([`Op`], the equivalent of one `ip`/`tc`/`ovs-vsctl`/
//! `ethtool`/`sysctl`/nft command), the namespace it runs in ([`Ns`], symbolic, never a
//! pid), and the action that undoes it. Everything in a plan is decided at compile time
//! and is deterministic; values only known at run time (pids, ifindexes, container ids,
//! conlink's external address) appear as symbols the runtime resolves.
//!
//! This folder is the contract between the compiler and the runtime, and the only part
//! of the compiler the runtime imports. So it defines every value a step carries (link
//! specs, MAC addresses, routes, netem and ethtool settings, nft tables, command lines),
//! the one-line rendering of a step ([`op_line`]) and the placeholders for run-time
//! values, and it imports nothing from the rest of the compiler. Closed sets are enums
//! here, so the runtime maps them with exhaustive matches and a plan's JSON form cannot
//! name a mode, hook or protocol the runtime does not know. The parsers that turn
//! configuration strings into these values belong to the checks, not to the plan.
//!
//! One file per subject: [`units`] (the plan, its units and steps), [`ns`]
//! (namespaces), [`op`] (the actions and their inverses), [`link`] (kinds of
//! interface), [`mac`], [`route`], [`netem`], [`ethtool`], [`nft`], [`bridge`] (bridge
//! modes and tunnels), [`command`], [`ready`] (the marker of a wired container),
//! [`words`] (quoting and placeholders) and [`line`](mod@line) (a step as a command
//! line).

pub mod bridge;
pub mod command;
pub mod ethtool;
pub mod line;
pub mod link;
pub mod mac;
pub mod netem;
pub mod nft;
pub mod ns;
pub mod op;
pub mod ready;
pub mod route;
#[cfg(test)]
pub(crate) mod sample;
pub mod units;
pub mod words;

pub use bridge::{BridgeMode, OvsTunnel, TunnelKind};
pub use command::CommandLine;
pub use ethtool::{Ethtool, FeatureSetting};
pub use line::{op_line, op_line_named};
pub use link::{IpvlanMode, LinkSpec, MacvlanMode, VethPeer};
pub use mac::Mac;
pub use netem::{Chance, Delay, Distribution, Netem, Percent, Reorder};
pub use nft::{NftChain, NftChainType, NftFamily, NftHook, NftRule, PortMatch, Protocol};
pub use ns::Ns;
pub use op::{Op, Qdisc, QdiscParent};
pub use ready::{ready_altname, ready_project, READY_PREFIX};
pub use route::{Route, RouteProtocol, RouteScope, RouteTable};
pub use units::{
    BridgeDecision, Plan, ScaleSource, ServiceScale, Step, Unit, UnitKind, PLAN_FORMAT,
};
pub use words::{NsNames, EXTERNAL_ADDR, EXTERNAL_IF, SAVED};

/// The JSON Schema of a plan's JSON form (committed at `schema/plan.schema.json`).
pub fn plan_schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(Plan);
    schema.insert("$id".into(), PLAN_SCHEMA_ID.into());
    schema
}

/// Stable identifier of the plan schema.
pub const PLAN_SCHEMA_ID: &str = "urn:conlink:schema:plan:v1";
