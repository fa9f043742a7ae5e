//! Checking `nodes`, `tunnels` and `bridges` (docs/configuration.md, "Nodes",
//! "Tunnels" and "Bridges"), and, once links and tunnels are known, what a patch
//! bridge joins and the addresses on each bridge.

use super::checked::{CheckedBridge, CheckedLink, CheckedNode, CheckedTunnel};
use super::checker::{Checker, NodeIndex};
use super::rules::addresses::{self as address_rules, remote};
use super::rules::{bridges as bridge_rules, languages, names, nodes as node_rules};
use super::shared::{ip_addresses, mac_address};
use crate::model::{BridgeMode, Config};
use crate::plan::ServiceScale;
use crate::source::Spanned;
use indexmap::IndexMap;

/// Every node, by name, with the sysctls that passed.
pub fn nodes(cx: &mut Checker, cfg: &Config) -> NodeIndex {
    let mut out = IndexMap::new();
    for n in &cfg.nodes {
        names::node_name(cx, &n.name);
        let mut sysctls = Vec::new();
        for (key, value) in &n.sysctls.0 {
            if node_rules::sysctl(cx, key) && node_rules::sysctl_not_net(cx, key) {
                sysctls.push((key.value.clone(), value.value.0.clone()));
            }
        }
        out.insert(
            n.name.value.clone(),
            CheckedNode {
                name: n.name.clone(),
                sysctls,
            },
        );
    }
    out
}

/// Every tunnel that passed its rules.
pub fn tunnels(cx: &mut Checker, cfg: &Config) -> Vec<CheckedTunnel> {
    let mut out = Vec::new();
    for t in &cfg.tunnels {
        let errors = cx.errors();
        names::interface_name(cx, "bridge name", &t.bridge);
        let remote = remote(cx, &t.remote);
        let netem = t.netem.as_ref().and_then(|list| languages::netem(cx, list));
        let ips = ip_addresses(cx, &t.ip);
        let mac = t
            .mac
            .as_ref()
            .and_then(|m| mac_address(cx, m))
            .map(|m| m.value);
        if cx.errors() > errors {
            continue;
        }
        let Some(remote) = remote else { continue };
        out.push(CheckedTunnel {
            span: t.kind.span,
            kind: t.kind.value,
            bridge: t.bridge.clone(),
            remote,
            vni: t.vni.value.0,
            dstport: t.dstport.map_or(t.kind.value.default_port(), |p| p.value.0),
            netem,
            mtu: t.mtu.map(|m| m.value.0),
            ips,
            mac,
            options_at: [
                t.netem.as_ref().and_then(|n| n.0.first()).map(|n| n.span),
                t.ip.as_ref().and_then(|n| n.0.first()).map(|n| n.span),
                t.mtu.map(|m| m.span),
                t.mac.as_ref().map(|m| m.span),
            ]
            .into_iter()
            .flatten()
            .min(),
        });
    }
    out
}

/// Every bridge: listed ones first, then those only named by links and tunnels, in the
/// order they are first named. A bridge that gives no mode has `default_mode`.
pub fn bridges(
    cx: &mut Checker,
    cfg: &Config,
    links: &[CheckedLink],
    tunnels: &[CheckedTunnel],
    default_mode: BridgeMode,
) -> Vec<CheckedBridge> {
    let mut out: IndexMap<String, CheckedBridge> = IndexMap::new();
    for b in &cfg.bridges {
        names::interface_name(cx, "bridge name", &b.bridge);
        out.insert(
            b.bridge.value.clone(),
            CheckedBridge {
                name: b.bridge.clone(),
                mode: b.mode.map_or(default_mode, |m| m.value),
                mtu: b.mtu.map(|m| m.value.0),
            },
        );
    }
    let named = links
        .iter()
        .filter_map(|l| l.bridge.as_ref())
        .chain(tunnels.iter().map(|t| &t.bridge));
    for name in named {
        out.entry(name.value.clone())
            .or_insert_with(|| CheckedBridge {
                name: Spanned::new(name.value.clone(), name.span),
                mode: default_mode,
                mtu: None,
            });
    }
    for t in tunnels {
        bridge_rules::bridge_tunnel_name(cx, &out, t);
    }
    out.into_values().collect()
}

/// What each patch bridge joins: two links, no tunnel, no forward.
pub fn patch_bridges(
    cx: &mut Checker,
    bridges: &[CheckedBridge],
    links: &[CheckedLink],
    tunnels: &[CheckedTunnel],
) {
    for b in bridges.iter().filter(|b| b.mode == BridgeMode::Patch) {
        let on_it: Vec<&CheckedLink> = links
            .iter()
            .filter(|l| l.bridge.as_ref().is_some_and(|x| x.value == b.name.value))
            .collect();
        bridge_rules::patch_links(cx, b, &on_it);
        for t in tunnels {
            bridge_rules::patch_tunnel(cx, b, t);
        }
        for l in &on_it {
            bridge_rules::forward_patch(cx, b, l);
        }
    }
}

/// Addresses on each bridge: no address on two of its interfaces.
pub fn bridge_addresses(
    cx: &mut Checker,
    bridges: &[CheckedBridge],
    links: &[CheckedLink],
    services: &[ServiceScale],
) {
    let replicas = |s: &str| {
        services
            .iter()
            .find(|x| x.service == s)
            .map_or(1, |x| x.replicas)
    };
    for b in bridges {
        let on_it: Vec<&CheckedLink> = links
            .iter()
            .filter(|l| l.bridge.as_ref().is_some_and(|x| x.value == b.name.value))
            .collect();
        address_rules::duplicate_address(cx, b, &on_it, &replicas);
    }
}
