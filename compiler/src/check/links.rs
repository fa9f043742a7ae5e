//! Checks of `links` (config.md §4).

use super::names::interface_name;
use super::strings::{ethtool, forward, netem, route};
use super::{inner_span, CheckedBridge, CheckedLink, CheckedTunnel, Checker, NodeIndex};
use crate::diag::did_you_mean;
use crate::diag::Diagnostic;
use crate::model::{targets_of, BridgeMode, Link, LinkKind, StrList, Target};
use crate::plan::Mac;
use crate::source::Spanned;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

/// Checks the target fields of a link or command: exactly one, and a node that exists.
pub fn target(
    cx: &mut Checker,
    what: &str,
    whole: &Spanned<impl Sized>,
    service: &Option<Spanned<String>>,
    container: &Option<Spanned<String>>,
    node: &Option<Spanned<String>>,
    nodes: &NodeIndex,
) -> Option<Target> {
    let found = targets_of(service, container, node);
    match found.as_slice() {
        [] => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::no_target",
                    format!("this {what} names no target"),
                )
                .at(whole.span, format!("{what} without a target"))
                .help("add one of `service: NAME`, `container: NAME` or `node: NAME`"),
            );
            None
        }
        [(t, at)] => {
            if !matches!(t, Target::Node(_)) && !valid_engine_name(t.name()) {
                let message = if t.name().is_empty() {
                    format!("the {} name is empty", t.kind())
                } else {
                    format!("`{}` is not a valid {} name", t.name(), t.kind())
                };
                cx.report(
                    Diagnostic::error("conlink::check::target_name", message)
                    .at(at.span, "invalid name")
                    .help("container and service names start with a letter or digit, then letters, digits, `_`, `.` or `-`"),
                );
                return None;
            }
            if let Target::Node(name) = t {
                if !nodes.contains_key(name) {
                    let known: Vec<&str> = nodes.keys().map(String::as_str).collect();
                    let mut d = Diagnostic::error(
                        "conlink::check::unknown_node",
                        format!("unknown node `{name}`"),
                    )
                    .at(at.span, "no node of this name under `nodes`");
                    d = match did_you_mean(name, &known) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("declare it: `nodes: [{{name: {name}}}]`")),
                    };
                    cx.report(d);
                    return None;
                }
            }
            Some(t.clone())
        }
        [(t1, a1), (t2, a2), ..] => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::two_targets",
                    format!(
                        "this {what} names more than one target ({} and {})",
                        t1.kind(),
                        t2.kind()
                    ),
                )
                .at(a2.span, "second target")
                .also(a1.span, "first target")
                .help("a link or command lives in exactly one place; split it in two"),
            );
            None
        }
    }
}

/// Docker's rule for container (and compose service) names.
fn valid_engine_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// Checks one link.
pub fn link(cx: &mut Checker, l: &Spanned<Link>, nodes: &NodeIndex) -> Option<CheckedLink> {
    let errors_before = cx.diags.iter().filter(|d| d.is_error()).count();
    let target = target(cx, "link", l, &l.service, &l.container, &l.node, nodes);
    let kind = l.kind();
    let kind_at = l.kind.as_ref().map_or(l.span, |k| k.span);
    // A defaulted `type` has no place of its own to point at.
    let kind_given = l.kind.is_some();
    let dev = l
        .dev
        .clone()
        .unwrap_or_else(|| Spanned::new("eth0".into(), l.span));
    interface_name(cx, "`dev`", &dev);

    // bridge: required for veth, meaningless for the others.
    match (kind, &l.bridge) {
        (LinkKind::Veth, None) => cx.report(
            Diagnostic::error(
                "conlink::check::missing_bridge",
                "a veth link needs a `bridge`",
            )
            .at(l.span, "veth link without `bridge`")
            .help("add `bridge: NAME` (the bridge the outer end joins)"),
        ),
        (LinkKind::Veth, Some(b)) => {
            interface_name(cx, "bridge name", b);
        }
        (k, Some(b)) => cx.report(
            Diagnostic::error(
                "conlink::check::bridge_not_veth",
                format!("`bridge` applies only to veth links, not {}", k.as_str()),
            )
            .at(b.span, "not allowed here")
            .also_if(
                kind_given,
                kind_at,
                format!("this link is {}", k.with_article()),
            ),
        ),
        _ => {}
    }

    // outer-dev: the veth's outer end, or the parent of a *vlan/*vtap.
    match (&l.outer_dev, kind.has_parent(), kind) {
        (Some(o), _, LinkKind::Dummy) => cx.report(
            Diagnostic::error(
                "conlink::check::outer_dev_dummy",
                "a dummy link has no outer end",
            )
            .at(o.span, "remove `outer-dev`"),
        ),
        (Some(o), _, _) => {
            interface_name(cx, "`outer-dev`", o);
        }
        (None, true, k) => cx.report(
            Diagnostic::error(
                "conlink::check::missing_parent",
                format!(
                    "{} link needs `outer-dev`, its parent interface in the host namespace",
                    k.with_article()
                ),
            )
            .at(kind_at, format!("{} without a parent", k.as_str()))
            .help("add `outer-dev: eth0` (or whichever host interface carries it)"),
        ),
        _ => {}
    }

    let ips = addresses(cx, &l.ip);

    let mac = l.mac.as_ref().and_then(|m| {
        if matches!(kind, LinkKind::Ipvlan | LinkKind::Ipvtap) {
            cx.report(
                Diagnostic::error(
                    "conlink::check::mac_ipvlan",
                    format!(
                        "{} interface shares its parent's MAC; `mac` cannot be set",
                        kind.with_article()
                    ),
                )
                .at(m.span, "not allowed here"),
            );
            return None;
        }
        mac_address(cx, m)
    });

    let mut routes = Vec::new();
    for r in l.route.iter().flat_map(|r| r.0.iter()) {
        match route::parse_route(&r.value) {
            Ok(parsed) => {
                gateway_reachable(cx, r, &parsed, &ips);
                routes.push(Spanned::new(parsed, r.span));
            }
            Err(e) => cx.string_error("conlink::check::route", "route", r, e),
        }
    }

    let nat = l.nat.as_ref().and_then(|n| nat(cx, n, &ips));
    let netem = l.netem.as_ref().and_then(|n| netem_of(cx, n));
    let mut ethtools = Vec::new();
    for e in l.ethtool.iter().flat_map(|e| e.0.iter()) {
        match ethtool::parse_ethtool(&e.value) {
            Ok(p) => ethtools.push(p),
            Err(err) => cx.string_error("conlink::check::ethtool", "ethtool setting", e, err),
        }
    }

    let mode = l
        .mode
        .as_ref()
        .and_then(|m| mode(cx, kind, (kind_given, kind_at), m));

    let vlanid = match (kind, &l.vlanid) {
        (LinkKind::Vlan, Some(v)) => Some(v.value.0),
        (LinkKind::Vlan, None) => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::missing_vlanid",
                    "a vlan link needs a `vlanid`",
                )
                .at(kind_at, "vlan without an id")
                .help("add `vlanid: N` with N from 1 to 4094"),
            );
            None
        }
        (k, Some(v)) => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::vlanid_not_vlan",
                    format!("`vlanid` applies only to vlan links, not {}", k.as_str()),
                )
                .at(v.span, "not allowed here"),
            );
            None
        }
        (_, None) => None,
    };

    let mut forwards = Vec::new();
    for f in l.forward.iter().flat_map(|f| f.0.iter()) {
        match forward::parse_forward(&f.value) {
            Ok(p) => forwards.push(Spanned::new(p, f.span)),
            Err(e) => cx.string_error("conlink::check::forward", "forward", f, e),
        }
    }
    if let Some(first) = l.forward.as_ref().and_then(|f| f.0.first()) {
        if kind != LinkKind::Veth {
            cx.report(
                Diagnostic::error(
                    "conlink::check::forward_not_veth",
                    "`forward` needs a veth link on a bridge",
                )
                .at(
                    first.span,
                    format!("not possible on {} link", kind.with_article()),
                ),
            );
        } else if !ips.iter().any(|ip| ip.value.addr().is_ipv4()) {
            cx.report(
                Diagnostic::error(
                    "conlink::check::forward_without_ip",
                    "`forward` needs an IPv4 `ip` on the link",
                )
                .at(first.span, "forwarded to which address?")
                .help("add `ip: ADDRESS/PREFIX` to this link"),
            );
        }
    }

    let errors_after = cx.diags.iter().filter(|d| d.is_error()).count();
    if errors_after > errors_before {
        return None;
    }
    Some(CheckedLink {
        target: target?,
        span: l.span,
        kind,
        dev,
        bridge: l.bridge.clone(),
        outer_dev: l.outer_dev.clone(),
        ips,
        mac,
        mtu: l.mtu.map(|m| m.value.0),
        routes,
        nat,
        netem,
        ethtool: ethtools,
        mode,
        vlanid,
        forwards,
    })
}

/// Parses `ip` values: an address with a prefix length, IPv4 or IPv6.
pub fn addresses(cx: &mut Checker, ips: &Option<StrList>) -> Vec<Spanned<IpNet>> {
    let mut out = Vec::new();
    for ip in ips.iter().flat_map(|l| l.0.iter()) {
        let v = ip.value.trim();
        match v.parse::<IpNet>() {
            Ok(IpNet::V4(n)) if n.prefix_len() < 31 && n.addr() == n.broadcast() => cx.report(
                Diagnostic::error(
                    "conlink::check::ip_broadcast",
                    format!("`{v}` is the broadcast address of {}", n.trunc()),
                )
                .at(ip.span, "broadcast address")
                .help("an interface address must be a host address of its subnet"),
            ),
            Ok(net) => out.push(Spanned::new(net, ip.span)),
            Err(_) => {
                let (message, help) = match v.split_once('/') {
                    None if v.parse::<IpAddr>().is_ok() => (
                        format!("`{v}` has no prefix length"),
                        format!("write it with its subnet, e.g. `{v}/24` (IPv6: `/64`)"),
                    ),
                    Some((a, "")) if a.parse::<IpAddr>().is_ok() => (
                        format!("`{v}` has an empty prefix length"),
                        format!("write the prefix length after the slash, e.g. `{a}/24`"),
                    ),
                    Some((a, p)) if a.parse::<IpAddr>().is_ok() => (
                        format!("`/{p}` is not a valid prefix length"),
                        "IPv4 prefixes are 0-32, IPv6 prefixes 0-128".to_string(),
                    ),
                    _ => (
                        format!("`{v}` is not an IP address with a prefix length"),
                        "write ADDRESS/PREFIX, e.g. `10.0.0.1/24` or `fd00::1/64`".to_string(),
                    ),
                };
                cx.report(
                    Diagnostic::error("conlink::check::ip", message)
                        .at(ip.span, "invalid address")
                        .help(help),
                );
            }
        }
    }
    out
}

pub fn mac_address(cx: &mut Checker, m: &Spanned<String>) -> Option<Spanned<Mac>> {
    match Mac::parse(&m.value.to_ascii_lowercase()) {
        None => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::mac",
                    format!("`{}` is not a MAC address", m.value),
                )
                .at(m.span, "invalid MAC address")
                .help("write six hex bytes separated by colons, e.g. `02:00:00:00:00:01`"),
            );
            None
        }
        Some(mac) if mac.is_multicast() => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::mac_multicast",
                    format!(
                        "`{}` is a multicast address and cannot be an interface's MAC",
                        m.value
                    ),
                )
                .at(m.span, "the first byte is odd (multicast bit set)")
                .help("use an even first byte, e.g. `02:…` for a locally administered address"),
            );
            None
        }
        Some(mac) => Some(Spanned::new(mac, m.span)),
    }
}

/// A route's gateway should be on one of the link's subnets (a warning: the kernel can
/// still accept it, e.g. with `onlink`).
fn gateway_reachable(
    cx: &mut Checker,
    r: &Spanned<String>,
    parsed: &crate::plan::Route,
    ips: &[Spanned<IpNet>],
) {
    let Some(via) = parsed.via else { return };
    if parsed.onlink || ips.is_empty() || matches!(via, IpAddr::V6(v) if v.is_unicast_link_local())
    {
        return;
    }
    if !ips.iter().any(|ip| ip.value.contains(&via)) {
        let at = r.value.find(&via.to_string()).map_or(r.span, |i| {
            inner_span(cx.sources, r, i, i + via.to_string().len())
        });
        cx.report(
            Diagnostic::warning(
                "conlink::check::unreachable_gateway",
                format!("gateway {via} is not on any subnet of this link's addresses"),
            )
            .at(at, "not reachable from this link")
            .help("check the address, or add `onlink` if the gateway is really on this link"),
        );
    }
}

fn nat(cx: &mut Checker, n: &Spanned<String>, ips: &[Spanned<IpNet>]) -> Option<Ipv4Addr> {
    let addr = match n.value.trim().parse::<Ipv4Addr>() {
        Ok(a) => a,
        Err(_) => {
            cx.report(
                Diagnostic::error("conlink::check::nat", format!("`nat` must be an IPv4 address, not `{}`", n.value))
                    .at(n.span, "not an IPv4 address")
                    .help("write the address traffic is translated to, without a prefix, e.g. `10.0.0.100`"),
            );
            return None;
        }
    };
    if !ips.iter().any(|ip| ip.value.addr().is_ipv4()) {
        cx.report(
            Diagnostic::error(
                "conlink::check::nat_without_ip",
                "`nat` needs an IPv4 `ip` on the same link",
            )
            .at(n.span, "SNAT to which address?")
            .help("add `ip: ADDRESS/PREFIX` (IPv4) to this link"),
        );
        return None;
    }
    Some(addr)
}

/// netem list items are joined with spaces (config.md §4); an error inside is mapped
/// back to the item it came from.
pub(super) fn netem_of(cx: &mut Checker, list: &StrList) -> Option<crate::plan::Netem> {
    let mut joined = String::new();
    let mut starts = Vec::new();
    for item in &list.0 {
        if !joined.is_empty() {
            joined.push(' ');
        }
        starts.push(joined.len());
        joined.push_str(&item.value);
    }
    match netem::parse_netem(&joined) {
        Ok(n) => Some(n),
        Err(mut e) => {
            let i = starts.iter().rposition(|s| *s <= e.start).unwrap_or(0);
            e.start -= starts[i];
            e.end = e.end.saturating_sub(starts[i]);
            cx.string_error("conlink::check::netem", "netem", &list.0[i], e);
            None
        }
    }
}

fn mode(
    cx: &mut Checker,
    kind: LinkKind,
    (kind_given, kind_at): (bool, crate::source::Span),
    m: &Spanned<String>,
) -> Option<String> {
    let allowed: &[&str] = match kind {
        LinkKind::Macvlan | LinkKind::Macvtap => {
            &["private", "vepa", "bridge", "passthru", "source"]
        }
        LinkKind::Ipvlan | LinkKind::Ipvtap => &["l2", "l3", "l3s"],
        k => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::mode_kind",
                    format!("`mode` does not apply to {} links", k.as_str()),
                )
                .at(m.span, "not allowed here")
                .also_if(
                    kind_given,
                    kind_at,
                    format!("this link is {}", k.with_article()),
                ),
            );
            return None;
        }
    };
    if allowed.contains(&m.value.as_str()) {
        return Some(m.value.clone());
    }
    let mut d = Diagnostic::error(
        "conlink::check::mode",
        format!(
            "`{}` is not {} mode (one of: {})",
            m.value,
            kind.with_article(),
            allowed.join(", ")
        ),
    )
    .at(m.span, "unknown mode");
    if let Some(s) = did_you_mean(&m.value, allowed) {
        d = d.help(format!("did you mean `{s}`?"));
    }
    cx.report(d);
    None
}

/// A patch bridge joins exactly two links and nothing else; forwards need a real bridge.
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
        if on_it.len() != 2 {
            let mut d = Diagnostic::error(
                "conlink::check::patch_links",
                format!(
                    "patch bridge `{}` has {} link(s); a patch joins exactly two",
                    b.name.value,
                    on_it.len()
                ),
            )
            .at(b.name.span, "patch bridge")
            .help("use `mode: linux` (or ovs) for a bridge with more or fewer members");
            for l in on_it.iter().skip(2) {
                d = d.also(l.span, "one link too many");
            }
            cx.report(d);
        }
        for t in tunnels.iter().filter(|t| t.bridge.value == b.name.value) {
            cx.report(
                Diagnostic::error(
                    "conlink::check::patch_tunnel",
                    format!("tunnel cannot join patch bridge `{}`", b.name.value),
                )
                .at(t.bridge.span, "patch bridges join two veth links only")
                .help("use a linux or ovs bridge for tunnels"),
            );
        }
        for l in &on_it {
            if let Some(f) = l.forwards.first() {
                cx.report(
                    Diagnostic::error(
                        "conlink::check::forward_patch",
                        "`forward` needs a linux or ovs bridge",
                    )
                    .at(
                        f.span,
                        format!(
                            "`{}` is a patch bridge, which has no address to forward from",
                            b.name.value
                        ),
                    ),
                );
            }
        }
    }
}
