//! Checks of `nodes`, `tunnels` and `bridges` (config.md §5, §6, §8).

use super::links::{addresses, mac_address, netem_of};
use super::names::{interface_name, node_name};
use super::{
    CheckOptions, CheckedBridge, CheckedLink, CheckedNode, CheckedTunnel, Checker, NodeIndex,
};
use crate::diag::Diagnostic;
use crate::model::Config;
use crate::source::Spanned;
use indexmap::IndexMap;
use std::net::IpAddr;

pub fn nodes(cx: &mut Checker, cfg: &Config) -> NodeIndex {
    let mut out = IndexMap::new();
    for n in &cfg.nodes {
        node_name(cx, &n.name);
        let mut sysctls = Vec::new();
        for (key, value) in &n.sysctls.0 {
            let (key, key_span) = (&key.value, key.span);
            let ok = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
                && !key
                    .split(['.', '/'])
                    .any(|part| part.is_empty() || part == "..");
            if !ok {
                cx.report(
                    Diagnostic::error(
                        "conlink::check::sysctl",
                        format!("`{key}` is not a sysctl name"),
                    )
                    .at(key_span, "not a sysctl name")
                    .help("write sysctl names as `sysctl` does, e.g. `net.ipv4.ip_forward`"),
                );
                continue;
            }
            if !key.starts_with("net.") && !key.starts_with("net/") {
                cx.report(
                    Diagnostic::error(
                        "conlink::check::sysctl_not_net",
                        format!("`{key}` is not a network sysctl; only `net.*` sysctls are per namespace"),
                    )
                    .at(key_span, "not per network namespace"),
                );
                continue;
            }
            sysctls.push((key.clone(), value.value.0.clone()));
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

pub fn tunnels(cx: &mut Checker, cfg: &Config) -> Vec<CheckedTunnel> {
    let mut out = Vec::new();
    for t in &cfg.tunnels {
        let errors = cx.diags.len();
        interface_name(cx, "bridge name", &t.bridge);
        let remote = t.remote.value.trim().parse::<IpAddr>();
        if remote.is_err() {
            cx.report(
                Diagnostic::error(
                    "conlink::check::remote",
                    format!("`remote` must be an IP address, not `{}`", t.remote.value),
                )
                .at(t.remote.span, "not an IP address")
                .help("give the other host's underlay address, e.g. `192.168.0.2`"),
            );
        }
        let netem = t.netem.as_ref().and_then(|list| netem_of(cx, list));
        let ips = addresses(cx, &t.ip);
        let mac = t
            .mac
            .as_ref()
            .and_then(|m| mac_address(cx, m))
            .map(|m| m.value);
        if cx.diags.len() > errors {
            continue;
        }
        let Ok(remote) = remote else { continue };
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
/// order they are first named.
pub fn bridges(
    cx: &mut Checker,
    cfg: &Config,
    links: &[CheckedLink],
    tunnels: &[CheckedTunnel],
    opts: &CheckOptions,
) -> Vec<CheckedBridge> {
    let mut out: IndexMap<String, CheckedBridge> = IndexMap::new();
    for b in &cfg.bridges {
        interface_name(cx, "bridge name", &b.bridge);
        out.insert(
            b.bridge.value.clone(),
            CheckedBridge {
                name: b.bridge.clone(),
                mode: b.mode.map_or(opts.default_bridge_mode, |m| m.value),
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
                mode: opts.default_bridge_mode,
                mtu: None,
            });
    }
    // A bridge may not take the name of a tunnel interface (both live in conlink's namespace).
    for t in tunnels {
        if let Some(b) = out.get(&t.name()) {
            cx.report(
                Diagnostic::error(
                    "conlink::check::bridge_tunnel_name",
                    format!(
                        "bridge `{}` has the name of a tunnel interface",
                        b.name.value
                    ),
                )
                .at(b.name.span, "same name as the tunnel's interface")
                .also(t.span, "this tunnel's interface is named this way"),
            );
        }
    }
    out.into_values().collect()
}
