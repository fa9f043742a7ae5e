//! What links, commands and tunnels have in common: a target, addresses, a MAC. Each is
//! read by running its rules in order, the first that fails ending the reading.

use super::checker::{Checker, NodeIndex};
use super::rules::addresses::{ip, ip_broadcast, mac, mac_multicast};
use super::rules::targets::{no_target, target_name, two_targets, unknown_node, Found};
use crate::model::{StrList, Target};
use crate::plan::Mac;
use crate::source::{Span, Spanned};
use ipnet::IpNet;

/// The target of a link or command (`what`, written at `whole`) among the targets it
/// names (`found`): exactly one, with a valid name, and a node that exists.
pub(crate) fn target(
    cx: &mut Checker,
    what: &str,
    whole: Span,
    found: &Found,
    nodes: &NodeIndex,
) -> Option<Target> {
    let ok = no_target(cx, what, whole, found)
        && two_targets(cx, what, found)
        && target_name(cx, found)
        && unknown_node(cx, found, nodes);
    ok.then(|| found[0].0.clone())
}

/// The addresses of an `ip` list that are host addresses with a prefix.
pub(crate) fn ip_addresses(cx: &mut Checker, ips: &Option<StrList>) -> Vec<Spanned<IpNet>> {
    ips.iter()
        .flat_map(|list| list.0.iter())
        .filter_map(|written| ip(cx, written).filter(|net| ip_broadcast(cx, written, net.value)))
        .collect()
}

/// A `mac` that an interface can have.
pub(crate) fn mac_address(cx: &mut Checker, written: &Spanned<String>) -> Option<Spanned<Mac>> {
    mac(cx, written)
        .filter(|m| mac_multicast(cx, written, *m))
        .map(|m| Spanned::new(m, written.span))
}
