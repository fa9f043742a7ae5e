//! What the checks produce: the configuration with every value read and verified,
//! ready to lower (addresses as `IpNet`s, strings of the small languages as plan
//! values, targets resolved, every bridge named anywhere).

use super::strings::Forward;
use crate::model::{BridgeMode, CommandLine, LinkKind, Target, TunnelKind};
use crate::plan::{Ethtool, Mac, Netem, Route, ServiceScale};
use crate::source::{Span, Spanned};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

/// A link after checking.
#[derive(Clone, Debug)]
pub struct CheckedLink {
    pub target: Target,
    /// Where the link is written (its mapping).
    pub span: Span,
    pub kind: LinkKind,
    /// `dev`, with the span of `dev:` or of the link when defaulted.
    pub dev: Spanned<String>,
    pub bridge: Option<Spanned<String>>,
    pub outer_dev: Option<Spanned<String>>,
    pub ips: Vec<Spanned<IpNet>>,
    pub mac: Option<Spanned<Mac>>,
    pub mtu: Option<u32>,
    pub routes: Vec<Spanned<Route>>,
    pub nat: Option<Ipv4Addr>,
    pub netem: Option<Netem>,
    pub ethtool: Vec<Ethtool>,
    /// One of the kind's modes (the lowering reads it as the kind's mode type).
    pub mode: Option<String>,
    pub vlanid: Option<u16>,
    pub forwards: Vec<Spanned<Forward>>,
}

/// A bridge after checking: every bridge named anywhere, listed or not.
#[derive(Clone, Debug)]
pub struct CheckedBridge {
    pub name: Spanned<String>,
    /// The mode asked for (`auto` when neither the bridge nor the option says).
    pub mode: BridgeMode,
    pub mtu: Option<u32>,
}

/// A tunnel after checking.
#[derive(Clone, Debug)]
pub struct CheckedTunnel {
    pub span: Span,
    pub kind: TunnelKind,
    pub bridge: Spanned<String>,
    pub remote: IpAddr,
    pub vni: u32,
    pub dstport: u16,
    pub netem: Option<Netem>,
    pub mtu: Option<u32>,
    pub ips: Vec<Spanned<IpNet>>,
    pub mac: Option<Mac>,
    /// Where the first of `netem`, `ip`, `mtu` and `mac` is written, if any.
    pub options_at: Option<Span>,
}

impl CheckedTunnel {
    /// `<type>-<vni>` (docs/configuration.md, "Tunnels").
    pub fn name(&self) -> String {
        format!("{}-{}", self.kind.as_str(), self.vni)
    }
}

/// A command after checking.
#[derive(Clone, Debug)]
pub struct CheckedCommand {
    pub target: Target,
    pub span: Span,
    pub command: CommandLine,
}

/// A node after checking, with its sysctls in written order.
#[derive(Clone, Debug)]
pub struct CheckedNode {
    pub name: Spanned<String>,
    pub sysctls: Vec<(String, String)>,
}

/// The whole configuration after checking, ready to lower.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub links: Vec<CheckedLink>,
    pub bridges: Vec<CheckedBridge>,
    pub tunnels: Vec<CheckedTunnel>,
    pub commands: Vec<CheckedCommand>,
    pub nodes: Vec<CheckedNode>,
    /// Replica count of every compose service a link or command targets.
    pub services: Vec<ServiceScale>,
}
