//! Rules about addresses: interface addresses, MAC addresses, a tunnel's remote,
//! whether a route's gateway is on the link, and one address on two interfaces of a
//! bridge.

use super::super::checked::{CheckedBridge, CheckedLink};
use super::super::checker::{inner_span, Checker};
use super::super::scale::offset_addr;
use crate::diag::Diagnostic;
use crate::model::Target;
use crate::plan::{Mac, Route};
use crate::source::Spanned;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// An `ip` that is not an address with a prefix length (`10.0.0.1/24`, `fd00::1/64`):
/// the prefix decides the subnet, so it is never guessed. Returns the address.
pub fn ip(cx: &mut Checker, ip: &Spanned<String>) -> Option<Spanned<IpNet>> {
    let v = ip.value.trim();
    if let Ok(net) = v.parse::<IpNet>() {
        return Some(Spanned::new(net, ip.span));
    }
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
    None
}

/// An IPv4 `ip` that is its subnet's broadcast address (`10.0.0.255/24`): no host can
/// have it.
pub fn ip_broadcast(cx: &mut Checker, written: &Spanned<String>, net: IpNet) -> bool {
    let IpNet::V4(n) = net else {
        return true;
    };
    if n.prefix_len() >= 31 || n.addr() != n.broadcast() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::ip_broadcast",
            format!(
                "`{}` is the broadcast address of {}",
                written.value.trim(),
                n.trunc()
            ),
        )
        .at(written.span, "broadcast address")
        .help("an interface address must be a host address of its subnet"),
    );
    false
}

/// A `mac` that is not six hex bytes separated by colons. Returns the address.
pub fn mac(cx: &mut Checker, m: &Spanned<String>) -> Option<Mac> {
    let mac = Mac::parse(&m.value.to_ascii_lowercase());
    if mac.is_none() {
        cx.report(
            Diagnostic::error(
                "conlink::check::mac",
                format!("`{}` is not a MAC address", m.value),
            )
            .at(m.span, "invalid MAC address")
            .help("write six hex bytes separated by colons, e.g. `02:00:00:00:00:01`"),
        );
    }
    mac
}

/// A `mac` with the multicast bit set: it names a group, and no interface can have it.
pub fn mac_multicast(cx: &mut Checker, written: &Spanned<String>, mac: Mac) -> bool {
    if !mac.is_multicast() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::mac_multicast",
            format!(
                "`{}` is a multicast address and cannot be an interface's MAC",
                written.value
            ),
        )
        .at(written.span, "the first byte is odd (multicast bit set)")
        .help("use an even first byte, e.g. `02:…` for a locally administered address"),
    );
    false
}

/// A tunnel's `remote` that is not an IP address (a host name, a CIDR): the kernel
/// takes an address. Returns it.
pub fn remote(cx: &mut Checker, remote: &Spanned<String>) -> Option<IpAddr> {
    let addr = remote.value.trim().parse::<IpAddr>().ok();
    if addr.is_none() {
        cx.report(
            Diagnostic::error(
                "conlink::check::remote",
                format!("`remote` must be an IP address, not `{}`", remote.value),
            )
            .at(remote.span, "not an IP address")
            .help("give the other host's underlay address, e.g. `192.168.0.2`"),
        );
    }
    addr
}

/// A route whose gateway is on none of the link's subnets. A warning, not an error:
/// the kernel can still accept it (with `onlink`, or through another route), but more
/// often it is a typo in the gateway or the address.
pub fn unreachable_gateway(
    cx: &mut Checker,
    r: &Spanned<String>,
    route: &Route,
    ips: &[Spanned<IpNet>],
) -> bool {
    let Some(via) = route.via else { return true };
    if route.onlink || ips.is_empty() || matches!(via, IpAddr::V6(v) if v.is_unicast_link_local()) {
        return true;
    }
    if ips.iter().any(|ip| ip.value.contains(&via)) {
        return true;
    }
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
    false
}

/// The same address on two interfaces of one bridge (two links, or two replicas of
/// one link, after replica offsets: replica i gets the written address + (i-1)). The
/// interfaces share one segment, so the address would answer from both and neither
/// would work reliably; the kernel accepts it without a word. `replicas` gives a
/// service's replica count. Each pair of links is reported once, at the first
/// address they share.
pub fn duplicate_address(
    cx: &mut Checker,
    bridge: &CheckedBridge,
    on_it: &[&CheckedLink],
    replicas: &dyn Fn(&str) -> u32,
) -> bool {
    // Where each address was first given: (link, replica, the `ip` value).
    let mut first: HashMap<IpAddr, (usize, u32, &Spanned<IpNet>)> = HashMap::new();
    let mut reported: Vec<(usize, usize)> = Vec::new();
    let mut ok = true;
    for (n, l) in on_it.iter().enumerate() {
        let count = match &l.target {
            Target::Service(s) => replicas(s),
            Target::Container(_) | Target::Node(_) => 1,
        };
        for replica in 1..=count {
            for ip in &l.ips {
                // A replica whose address leaves the subnet is the lowering's error.
                let Ok(addr) = offset_addr(ip.value, replica - 1) else {
                    continue;
                };
                let (m, other_replica, other_ip) = match first.get(&addr.addr()) {
                    None => {
                        first.insert(addr.addr(), (n, replica, ip));
                        continue;
                    }
                    Some(&seen) => seen,
                };
                // The same interface twice is not two interfaces.
                if (m, other_replica) == (n, replica) || reported.contains(&(m, n)) {
                    continue;
                }
                reported.push((m, n));
                ok = false;
                let name = |l: &CheckedLink, replica: u32, count: u32| {
                    let dev = &l.dev.value;
                    if count > 1 {
                        format!("{} (replica {replica}) {dev}", l.target)
                    } else {
                        format!("{} {dev}", l.target)
                    }
                };
                // What a label says: who has the address, and how, for a replica.
                let label = |l: &CheckedLink, replica: u32, count: u32| {
                    if replica > 1 {
                        format!("{} gets this + {}", name(l, replica, count), replica - 1)
                    } else {
                        format!("{} has it", name(l, replica, count))
                    }
                };
                let other = on_it[m];
                let other_count = match &other.target {
                    Target::Service(s) => replicas(s),
                    Target::Container(_) | Target::Node(_) => 1,
                };
                cx.report(
                    Diagnostic::error(
                        "conlink::check::duplicate_address",
                        format!(
                            "address {} is on two interfaces of bridge `{}`: {} and {}",
                            addr.addr(),
                            bridge.name.value,
                            name(other, other_replica, other_count),
                            name(l, replica, count)
                        ),
                    )
                    .at(ip.span, label(l, replica, count))
                    .also(other_ip.span, label(other, other_replica, other_count))
                    .help("give every interface on a bridge an address of its own (replica i of a service gets the written address + (i-1))"),
                );
            }
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;
    use crate::check::strings::parse_route;

    /// The first `ip` of the first link of `links: [LINK]`.
    fn first_ip(link: &str) -> (super::super::testing::Case, Spanned<String>) {
        let c = case(&format!("links: [{link}]"));
        let ip = c.link().ip.as_ref().expect("an ip").0[0].clone();
        (c, ip)
    }

    #[test]
    fn ip_reports_addresses_without_a_prefix() {
        for (text, codes) in [
            ("10.0.0.1/24", &[][..]),
            ("fd00::1/64", &[]),
            ("10.0.0.1", &["conlink::check::ip"]),
            ("10.0.0.1/", &["conlink::check::ip"]),
            ("10.0.0.1/33", &["conlink::check::ip"]),
            ("web", &["conlink::check::ip"]),
        ] {
            let (c, written) = first_ip(&format!("{{service: a, bridge: s, ip: '{text}'}}"));
            let (found, net) = c.run(|cx| ip(cx, &written));
            assert_eq!(found, codes, "{text}");
            assert_eq!(net.is_some(), codes.is_empty(), "{text}");
        }
    }

    #[test]
    fn ip_broadcast_reports_the_broadcast_address() {
        for (ip, codes) in [
            ("10.0.0.255/24", &["conlink::check::ip_broadcast"][..]),
            ("10.0.0.254/24", &[]),
            // /31 and /32 have no broadcast address.
            ("10.0.0.1/31", &[]),
            ("fd00::ffff/112", &[]),
        ] {
            let (c, written) = first_ip(&format!("{{service: a, bridge: s, ip: '{ip}'}}"));
            let net: IpNet = ip.parse().unwrap();
            assert_eq!(c.codes(|cx| ip_broadcast(cx, &written, net)), codes, "{ip}");
        }
    }

    #[test]
    fn mac_reports_what_is_not_a_mac() {
        for (mac_text, ok) in [
            ("02:00:00:00:00:01", true),
            ("02:AB:00:00:00:01", true),
            ("02:00:00:00:00", false),
            ("02:00:00:00:00:0g", false),
        ] {
            let c = case(&format!(
                "links: [{{service: a, bridge: s, mac: '{mac_text}'}}]"
            ));
            let m = c.link().mac.clone().unwrap();
            let (found, parsed) = c.run(|cx| mac(cx, &m));
            assert_eq!(parsed.is_some(), ok, "{mac_text}");
            let expected: &[&str] = if ok { &[] } else { &["conlink::check::mac"] };
            assert_eq!(found, expected, "{mac_text}");
        }
    }

    #[test]
    fn mac_multicast_reports_group_addresses() {
        let c = case("links: [{service: a, bridge: s, mac: '01:00:00:00:00:01'}]");
        let m = c.link().mac.clone().unwrap();
        let multicast = Mac::parse("01:00:00:00:00:01").unwrap();
        let unicast = Mac::parse("02:00:00:00:00:01").unwrap();
        assert_eq!(
            c.codes(|cx| mac_multicast(cx, &m, multicast)),
            ["conlink::check::mac_multicast"]
        );
        assert!(c.codes(|cx| mac_multicast(cx, &m, unicast)).is_empty());
    }

    #[test]
    fn remote_reports_what_is_not_an_address() {
        for (r, ok) in [
            ("192.0.2.1", true),
            ("fd00::2", true),
            ("host.example", false),
        ] {
            let c = case(&format!(
                "tunnels: [{{type: vxlan, bridge: s, vni: 1, remote: '{r}'}}]"
            ));
            let written = c.config.tunnels[0].remote.clone();
            let (found, addr) = c.run(|cx| remote(cx, &written));
            assert_eq!(addr.is_some(), ok, "{r}");
            assert_eq!(found.is_empty(), ok, "{r}");
        }
    }

    #[test]
    fn unreachable_gateway_warns_about_gateways_off_the_link() {
        let c =
            case("links: [{service: a, bridge: s, ip: 10.0.0.1/24, route: default via 10.9.0.1}]");
        let r = c.link().route.as_ref().unwrap().0[0].clone();
        let ips = vec![Spanned::new("10.0.0.1/24".parse().unwrap(), r.span)];
        let far = parse_route("default via 10.9.0.1").unwrap();
        let near = parse_route("default via 10.0.0.254").unwrap();
        let onlink = parse_route("default via 10.9.0.1 onlink").unwrap();
        let (found, _) = c.run(|cx| unreachable_gateway(cx, &r, &far, &ips));
        assert_eq!(found, ["conlink::check::unreachable_gateway"]);
        assert!(c
            .codes(|cx| unreachable_gateway(cx, &r, &near, &ips))
            .is_empty());
        assert!(c
            .codes(|cx| unreachable_gateway(cx, &r, &onlink, &ips))
            .is_empty());
        // No address: nothing to compare with.
        assert!(c
            .codes(|cx| unreachable_gateway(cx, &r, &far, &[]))
            .is_empty());
    }

    #[test]
    fn duplicate_address_reports_one_address_on_two_interfaces_of_a_bridge() {
        use crate::check::{check, CheckOptions};
        let codes = |yaml: &str, replicas: u32| {
            let c = case(yaml);
            let opts = CheckOptions {
                default_bridge_mode: crate::model::BridgeMode::Linux,
                compose_replicas: Vec::new(),
                scale: Vec::new(),
            };
            let (k, _) = check(&c.config, &opts, &c.sources);
            let on_it: Vec<&CheckedLink> = k.links.iter().collect();
            c.codes(|cx| duplicate_address(cx, &k.bridges[0], &on_it, &|_| replicas))
        };
        let two = |a: &str, b: &str| {
            format!("links: [{{container: a, bridge: s, ip: {a}}}, {{container: b, bridge: s, ip: {b}}}]")
        };
        assert_eq!(
            codes(&two("10.0.0.1/24", "10.0.0.1/16"), 1),
            ["conlink::check::duplicate_address"]
        );
        assert_eq!(
            codes(&two("'fd00::1/64'", "'fd00::1/64'"), 1),
            ["conlink::check::duplicate_address"]
        );
        assert!(codes(&two("10.0.0.1/24", "10.0.0.2/24"), 1).is_empty());
        // After replica offsets: web's second replica gets 10.0.0.2.
        let scaled = "links: [{service: web, bridge: s, ip: 10.0.0.1/24}, {container: b, bridge: s, ip: 10.0.0.2/24}]";
        assert!(codes(scaled, 1).is_empty());
        assert_eq!(codes(scaled, 2), ["conlink::check::duplicate_address"]);
        // Replicas of one link with two addresses in a row.
        let one = "links: [{service: web, bridge: s, ip: [10.0.0.1/24, 10.0.0.2/24]}]";
        assert_eq!(codes(one, 2), ["conlink::check::duplicate_address"]);
        // Two addresses of one interface are not two interfaces.
        let same = "links: [{container: a, bridge: s, ip: [10.0.0.1/24, 10.0.0.1/16]}]";
        assert!(codes(same, 1).is_empty());
    }
}
