//! Checking links (docs/configuration.md, "Links"): the rules that apply to one link,
//! in order, and the [`CheckedLink`] it becomes when none of them reports an error.

use super::checked::CheckedLink;
use super::checker::{Checker, NodeIndex};
use super::rules::{addresses, kinds, languages, names, nat_forward};
use super::shared::{ip_addresses, mac_address, target};
use crate::model::{targets_of, Link};
use crate::source::Spanned;

/// Checks one link.
pub fn link(cx: &mut Checker, l: &Spanned<Link>, nodes: &NodeIndex) -> Option<CheckedLink> {
    let errors_before = cx.errors();
    let target = target(
        cx,
        "link",
        l.span,
        &targets_of(&l.service, &l.container, &l.node),
        nodes,
    );
    let dev = l
        .dev
        .clone()
        .unwrap_or_else(|| Spanned::new("eth0".into(), l.span));
    names::interface_name(cx, "`dev`", &dev);

    // bridge: required for some kinds (veth), meaningless for the others.
    kinds::missing_bridge(cx, l);
    if kinds::bridge_not_veth(cx, l) {
        if let Some(b) = &l.bridge {
            names::interface_name(cx, "bridge name", b);
        }
    }

    // outer-dev: the outer end's name, or the parent of a *vlan/*vtap.
    if kinds::outer_dev_dummy(cx, l) {
        if let Some(o) = &l.outer_dev {
            names::interface_name(cx, "`outer-dev`", o);
        }
    }
    kinds::missing_parent(cx, l);

    let ips = ip_addresses(cx, &l.ip);
    let mac = l
        .mac
        .as_ref()
        .filter(|_| kinds::mac_ipvlan(cx, l))
        .and_then(|m| mac_address(cx, m));

    let mut routes = Vec::new();
    for r in l.route.iter().flat_map(|r| r.0.iter()) {
        if let Some(route) = languages::route(cx, l.dev(), r) {
            addresses::unreachable_gateway(cx, r, &route, &ips);
            routes.push(Spanned::new(route, r.span));
        }
    }

    let nat = l
        .nat
        .as_ref()
        .and_then(|n| nat_forward::nat(cx, n).filter(|_| nat_forward::nat_without_ip(cx, n, &ips)));
    let netem = l.netem.as_ref().and_then(|n| languages::netem(cx, n));
    let ethtool = l
        .ethtool
        .iter()
        .flat_map(|e| e.0.iter())
        .filter_map(|e| languages::ethtool(cx, e))
        .collect();

    let mode = l
        .mode
        .as_ref()
        .filter(|_| kinds::mode_kind(cx, l) && kinds::mode(cx, l))
        .map(|m| m.value.clone());

    kinds::missing_vlanid(cx, l);
    let vlanid = l
        .vlanid
        .filter(|_| kinds::vlanid_not_vlan(cx, l))
        .map(|v| v.value.0);

    let written_forwards = l.forward.as_ref().map_or(&[][..], |f| &f.0[..]);
    let forwards = written_forwards
        .iter()
        .filter_map(|f| languages::forward(cx, f).map(|p| Spanned::new(p, f.span)))
        .collect();
    if kinds::forward_not_veth(cx, l) {
        nat_forward::forward_without_ip(cx, written_forwards, &ips);
    }

    if cx.errors() > errors_before {
        return None;
    }
    Some(CheckedLink {
        target: target?,
        span: l.span,
        kind: l.kind(),
        dev,
        bridge: l.bridge.clone(),
        outer_dev: l.outer_dev.clone(),
        ips,
        mac,
        mtu: l.mtu.map(|m| m.value.0),
        routes,
        nat,
        netem,
        ethtool,
        mode,
        vlanid,
        forwards,
    })
}
