//! Bridges and tunnels: how a bridge is realised (docs/configuration.md, "Bridges") and
//! what an Open vSwitch tunnel port carries (docs/configuration.md, "Tunnels").
//!
//! The configuration names the same sets (a bridge's `mode`, a tunnel's `type`), so
//! its types use these: one definition of each set for the language and the plan.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// How a bridge is realised.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BridgeMode {
    /// `ovs` where Open vSwitch is usable, otherwise `linux`; decided when planning.
    Auto,
    /// A Linux bridge in conlink's namespace.
    Linux,
    /// An Open vSwitch bridge.
    Ovs,
    /// No bridge device: exactly two links joined by tc redirects, so every frame passes.
    Patch,
}

impl BridgeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BridgeMode::Auto => "auto",
            BridgeMode::Linux => "linux",
            BridgeMode::Ovs => "ovs",
            BridgeMode::Patch => "patch",
        }
    }
}

/// Tunnel encapsulation.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TunnelKind {
    Geneve,
    Vxlan,
}

impl TunnelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelKind::Geneve => "geneve",
            TunnelKind::Vxlan => "vxlan",
        }
    }

    /// The UDP port IANA assigned to the encapsulation.
    pub fn default_port(self) -> u16 {
        match self {
            TunnelKind::Geneve => 6081,
            TunnelKind::Vxlan => 4789,
        }
    }
}

/// An OVS tunnel interface behind a port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OvsTunnel {
    /// The encapsulation (the OVS interface type).
    pub kind: TunnelKind,
    pub remote: IpAddr,
    pub vni: u32,
    pub dstport: u16,
}
