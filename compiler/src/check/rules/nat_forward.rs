//! Rules about `nat` and `forward` (docs/configuration.md, "forward and nat"): both
//! translate to and from the link's own IPv4 address, so both need one.

use super::super::checker::Checker;
use crate::diag::Diagnostic;
use crate::source::Spanned;
use ipnet::IpNet;
use std::net::Ipv4Addr;

/// A `nat` that is not an IPv4 address (a CIDR, an IPv6 address): 1:1 NAT maps one
/// IPv4 address onto another. Returns the address.
pub fn nat(cx: &mut Checker, n: &Spanned<String>) -> Option<Ipv4Addr> {
    let addr = n.value.trim().parse::<Ipv4Addr>().ok();
    if addr.is_none() {
        cx.report(
            Diagnostic::error(
                "conlink::check::nat",
                format!("`nat` must be an IPv4 address, not `{}`", n.value),
            )
            .at(n.span, "not an IPv4 address")
            .help(
                "write the address traffic is translated to, without a prefix, e.g. `10.0.0.100`",
            ),
        );
    }
    addr
}

/// A `nat` on a link with no IPv4 `ip`: traffic leaving the link is translated to the
/// link's own address, and there is none.
pub fn nat_without_ip(cx: &mut Checker, n: &Spanned<String>, ips: &[Spanned<IpNet>]) -> bool {
    if ips.iter().any(|ip| ip.value.addr().is_ipv4()) {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::nat_without_ip",
            "`nat` needs an IPv4 `ip` on the same link",
        )
        .at(n.span, "SNAT to which address?")
        .help("add `ip: ADDRESS/PREFIX` (IPv4) to this link"),
    );
    false
}

/// A `forward` on a link with no IPv4 `ip` (on a kind that can forward at all):
/// forwarded traffic goes to the link's address, and there is none.
pub fn forward_without_ip(
    cx: &mut Checker,
    forwards: &[Spanned<String>],
    ips: &[Spanned<IpNet>],
) -> bool {
    let Some(first) = forwards.first() else {
        return true;
    };
    if ips.iter().any(|ip| ip.value.addr().is_ipv4()) {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::forward_without_ip",
            "`forward` needs an IPv4 `ip` on the link",
        )
        .at(first.span, "forwarded to which address?")
        .help("add `ip: ADDRESS/PREFIX` to this link"),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;

    fn v4() -> Vec<Spanned<IpNet>> {
        vec![Spanned::new(
            "10.0.0.1/24".parse().unwrap(),
            Default::default(),
        )]
    }

    fn v6() -> Vec<Spanned<IpNet>> {
        vec![Spanned::new(
            "fd00::1/64".parse().unwrap(),
            Default::default(),
        )]
    }

    #[test]
    fn nat_reports_what_is_not_an_ipv4_address() {
        for (n, ok) in [
            ("10.0.0.100", true),
            ("10.0.0.100/24", false),
            ("fd00::1", false),
        ] {
            let c = case(&format!("links: [{{service: a, bridge: s, nat: '{n}'}}]"));
            let written = c.link().nat.clone().unwrap();
            let (found, addr) = c.run(|cx| nat(cx, &written));
            assert_eq!(addr.is_some(), ok, "{n}");
            assert_eq!(found.is_empty(), ok, "{n}");
        }
    }

    #[test]
    fn nat_without_ip_reports_links_without_an_ipv4_address() {
        let c = case("links: [{service: a, bridge: s, nat: 10.0.0.100}]");
        let n = c.link().nat.clone().unwrap();
        assert_eq!(
            c.codes(|cx| nat_without_ip(cx, &n, &v6())),
            ["conlink::check::nat_without_ip"]
        );
        assert!(c.codes(|cx| nat_without_ip(cx, &n, &v4())).is_empty());
    }

    #[test]
    fn forward_without_ip_reports_links_without_an_ipv4_address() {
        let c = case("links: [{service: a, bridge: s, forward: '80:80/tcp'}]");
        let f = c.link().forward.clone().unwrap().0;
        assert_eq!(
            c.codes(|cx| forward_without_ip(cx, &f, &[])),
            ["conlink::check::forward_without_ip"]
        );
        assert!(c.codes(|cx| forward_without_ip(cx, &f, &v4())).is_empty());
        assert!(c.codes(|cx| forward_without_ip(cx, &[], &[])).is_empty());
    }
}
