//! nftables tables conlink owns (for `nat` and `forward`, docs/configuration.md,
//! "forward and nat"), and their text in nft's own syntax.
//!
//! A table is added in one piece with its chains and rules, and removed in one piece:
//! that is how a step adds it atomically and how its inverse deletes it.

use super::words::{EXTERNAL_ADDR, EXTERNAL_IF};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// An nftables family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NftFamily {
    Ip,
    Ip6,
    Inet,
}

impl NftFamily {
    /// The family as nft spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftFamily::Ip => "ip",
            NftFamily::Ip6 => "ip6",
            NftFamily::Inet => "inet",
        }
    }
}

/// A base chain of a conlink-owned table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NftChain {
    pub name: String,
    /// The netfilter hook the chain is attached to.
    pub hook: NftHook,
    /// Chain type.
    #[serde(rename = "type")]
    pub kind: NftChainType,
    pub priority: i32,
    pub rules: Vec<NftRule>,
}

/// A netfilter hook of the `ip`, `ip6` and `inet` families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NftHook {
    /// Packets arriving, before routing (where destination NAT happens).
    Prerouting,
    /// Packets for this namespace, after routing.
    Input,
    /// Packets routed through this namespace.
    Forward,
    /// Packets this namespace sends.
    Output,
    /// Packets leaving, after routing (where source NAT happens).
    Postrouting,
}

impl NftHook {
    /// The hook as nft spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftHook::Prerouting => "prerouting",
            NftHook::Input => "input",
            NftHook::Forward => "forward",
            NftHook::Output => "output",
            NftHook::Postrouting => "postrouting",
        }
    }
}

/// The type of a base chain, which decides what its rules may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NftChainType {
    /// Accept or drop packets.
    Filter,
    /// Rewrite addresses and ports (the first packet of each connection passes).
    Nat,
    /// Reroute packets whose marks or addresses changed.
    Route,
}

impl NftChainType {
    /// The type as nft spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftChainType::Filter => "filter",
            NftChainType::Nat => "nat",
            NftChainType::Route => "route",
        }
    }
}

/// A protocol and port match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PortMatch {
    /// The transport protocol.
    pub proto: Protocol,
    pub dport: u16,
}

/// A transport protocol that has ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// The name as written in a forward and in nft (`tcp`, `udp`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One rule of a conlink-owned chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum NftRule {
    /// Rewrite the destination of matching packets.
    Dnat {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        iifname: Option<String>,
        /// Match only packets entering through conlink's external interface (resolved at run time).
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        iif_external: bool,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        port: Option<PortMatch>,
        to: IpAddr,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        to_port: Option<u16>,
    },
    /// Rewrite the source of packets leaving through `oifname`.
    Snat {
        oifname: String,
        /// Only packets to this address (with `port`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        daddr: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        port: Option<PortMatch>,
        /// New source; `None` means conlink's external address (resolved at run time).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        to: Option<IpAddr>,
    },
}

// ---------------------------------------------------------------------------------
// nft syntax, for the text form of a step.

/// `chain NAME { type nat hook prerouting priority -100; RULE; … }`
pub(crate) fn chain_text(chain: &NftChain, family: NftFamily) -> String {
    let mut text = format!(
        "chain {} {{ type {} hook {} priority {};",
        chain.name,
        chain.kind.as_str(),
        chain.hook.as_str(),
        chain.priority
    );
    for rule in &chain.rules {
        text.push(' ');
        text.push_str(&rule_text(rule, family));
        text.push(';');
    }
    text.push_str(" }");
    text
}

/// One rule in nft syntax, e.g. `iifname "eth0" tcp dport 80 dnat to 10.0.0.1:8080`.
fn rule_text(rule: &NftRule, family: NftFamily) -> String {
    let mut parts: Vec<String> = Vec::new();
    match rule {
        NftRule::Dnat {
            iifname,
            iif_external,
            port,
            to,
            to_port,
        } => {
            if let Some(name) = iifname {
                parts.push(format!("iifname {}", nft_string(name)));
            }
            if *iif_external {
                parts.push(format!("iifname {EXTERNAL_IF}"));
            }
            parts.extend(port.as_ref().map(port_text));
            parts.push(nat_target("dnat", family, Some(to), *to_port));
        }
        NftRule::Snat {
            oifname,
            daddr,
            port,
            to,
        } => {
            parts.push(format!("oifname {}", nft_string(oifname)));
            if let Some(daddr) = daddr {
                parts.push(format!("{} daddr {daddr}", ip_keyword(daddr)));
            }
            parts.extend(port.as_ref().map(port_text));
            parts.push(nat_target("snat", family, to.as_ref(), None));
        }
    }
    parts.join(" ")
}

/// `dnat to ADDR[:PORT]`; `inet` tables name the address family (`dnat ip to …`); a
/// missing address is conlink's external one.
fn nat_target(verb: &str, family: NftFamily, addr: Option<&IpAddr>, port: Option<u16>) -> String {
    let Some(addr) = addr else {
        return format!("{verb} to {EXTERNAL_ADDR}");
    };
    let verb = match family {
        NftFamily::Inet => format!("{verb} {}", ip_keyword(addr)),
        NftFamily::Ip | NftFamily::Ip6 => verb.to_string(),
    };
    match (addr, port) {
        (_, None) => format!("{verb} to {addr}"),
        (IpAddr::V4(_), Some(port)) => format!("{verb} to {addr}:{port}"),
        (IpAddr::V6(_), Some(port)) => format!("{verb} to [{addr}]:{port}"),
    }
}

fn ip_keyword(addr: &IpAddr) -> &'static str {
    match addr {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ip6",
    }
}

fn port_text(port: &PortMatch) -> String {
    format!("{} dport {}", port.proto, port.dport)
}

/// A double-quoted nft string.
fn nft_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
