//! `route` strings: the arguments of `ip route add` without the device
//! (docs/configuration.md, "String languages: route, netem, ethtool").
//!
//! Grammar: `DEST [via GW] [metric N] [src ADDR] [table ID] [proto P] [scope S] [onlink]`,
//! options in any order, each at most once. `DEST` is `default` or an IPv4/IPv6 network;
//! a bare address is a host route (/32 or /128), as `ip` reads it. A network with host
//! bits set (`10.0.0.5/24`) is rejected, as the kernel rejects it ("Invalid prefix for
//! given prefix length"), with the network address as help. The destination, gateway and
//! source must be of one family; `default` takes its family from `via` or `src`, else it
//! is IPv4. conlink installs the route through the link's own device, so `dev DEVICE`
//! (or `oif`) is accepted only when it names that device, as conlink 2.x files write it
//! (2.x appended `dev IFACE` to the route and `ip` took the repetition); any other device
//! is refused.
//! `table`, `proto` and `scope` accept numbers or iproute2's names; the resolved numbers
//! are stored and the names come back when printing. `metric` may also be spelled
//! `priority` or `preference`, `proto` `protocol`, and the destination may follow `to`,
//! as `ip` allows.

use super::scan::{one_of, parse_integer, Cursor, NumberError, Seen, StringError, Word};
use crate::diag::did_you_mean;
use crate::plan::route::{PROTOCOL_NAMES, SCOPE_NAMES, TABLE_NAMES};
use crate::plan::{Route, RouteProtocol, RouteScope, RouteTable};
use ipnet::IpNet;
use std::net::IpAddr;

/// The options conlink supports, for suggestions and help texts.
const OPTIONS: &[&str] = &["via", "metric", "src", "table", "proto", "scope", "onlink"];

/// `ip route add` options that conlink does not offer: a clear refusal instead of
/// "unknown option".
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "as",
    "from",
    "tos",
    "dsfield",
    "expires",
    "mtu",
    "hoplimit",
    "advmss",
    "reordering",
    "rtt",
    "rto_min",
    "window",
    "cwnd",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "congctl",
    "rttvar",
    "ssthresh",
    "realms",
    "nexthop",
    "nhid",
    "vrf",
    "pref",
    "encap",
    "ttl-propagate",
    "fastopen_no_cookie",
];

/// Route types that may precede the destination in `ip route add`; conlink adds only
/// ordinary (unicast) routes through a device.
const ROUTE_TYPES: &[&str] = &[
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
    "anycast",
];

/// Parses a `route` string such as `default via 10.0.0.1 metric 100`, with no device
/// of its own: any `dev` is refused.
pub fn parse_route(input: &str) -> Result<Route, StringError> {
    parse_link_route(input, None)
}

/// Parses the `route` string of a link whose interface is `own_dev`: a `dev` naming
/// `own_dev` is accepted (it says what conlink does anyway), any other is refused.
pub fn parse_link_route(input: &str, own_dev: Option<&str>) -> Result<Route, StringError> {
    let mut cursor = Cursor::new(input);
    let Some(mut first) = cursor.next() else {
        let example = "e.g. `default via 10.0.0.1` or `192.168.0.0/16 via 10.0.0.1`";
        return Err(StringError::whole(input, "empty route")
            .with_help(format!("write `DEST [via GW] …`, {example}")));
    };
    if first.text == "to" {
        first = cursor.value(first, "a destination")?;
    }
    let dst_word = first;
    let dst = parse_destination(first)?;

    let mut seen = Seen::default();
    // Addresses keep their words until the family check, which points at them.
    let mut via: Option<(IpAddr, Word)> = None;
    let mut src: Option<(IpAddr, Word)> = None;
    let mut route = Route {
        dst: IpNet::V4(Default::default()), // settled after the options
        via: None,
        metric: None,
        src: None,
        table: None,
        proto: None,
        scope: None,
        onlink: false,
    };

    while let Some(word) = cursor.next() {
        match word.text {
            "via" => {
                seen.first("via", word)?;
                let value = cursor.value(word, "a gateway address")?;
                via = Some((parse_address(value, "via")?, value));
            }
            "src" => {
                seen.first("src", word)?;
                let value = cursor.value(word, "a source address")?;
                src = Some((parse_address(value, "src")?, value));
            }
            "metric" | "priority" | "preference" => {
                seen.first("metric", word)?;
                let value = cursor.value(word, "a number")?;
                let metric = name_or_number(value, word.text, &[], u64::from(u32::MAX))?;
                route.metric = Some(metric as u32);
            }
            "table" => {
                seen.first("table", word)?;
                let value = cursor.value(word, "a table number or name")?;
                let table = name_or_number(value, "table", TABLE_NAMES, u64::from(u32::MAX))?;
                if table == 0 {
                    // Table 0 is "unspecified"; the kernel would quietly use `main`.
                    return Err(StringError::at(value, "table 0 is not a routing table")
                        .with_help("write `table main`, or leave `table` out"));
                }
                route.table = Some(RouteTable(table as u32));
            }
            "proto" | "protocol" => {
                seen.first("proto", word)?;
                let value = cursor.value(word, "a protocol number or name")?;
                let proto = name_or_number(value, "proto", PROTOCOL_NAMES, 255)?;
                route.proto = Some(RouteProtocol(proto as u8));
            }
            "scope" => {
                seen.first("scope", word)?;
                let value = cursor.value(word, "a scope number or name")?;
                let scope = name_or_number(value, "scope", SCOPE_NAMES, 255)?;
                route.scope = Some(RouteScope(scope as u8));
            }
            "onlink" => {
                seen.first("onlink", word)?;
                route.onlink = true;
            }
            "dev" | "oif" => match (cursor.next(), own_dev) {
                (Some(device), Some(own)) if device.text == own => seen.first("dev", word)?,
                (device, own) => return Err(device_given(word, device, own)),
            },
            _ => return Err(unknown_option(word, via.is_some())),
        }
    }

    route.dst = settle_family(dst, dst_word, via, src)?;
    route.via = via.map(|(addr, _)| addr);
    route.src = src.map(|(addr, _)| addr);
    Ok(route)
}

/// The destination network once the destination, gateway and source are known to be
/// of one family. `default` (`dst` is `None`) has no family of its own: it takes the
/// gateway's, else the source's, else IPv4, as `ip` does.
fn settle_family(
    dst: Option<IpNet>,
    dst_word: Word<'_>,
    via: Option<(IpAddr, Word<'_>)>,
    src: Option<(IpAddr, Word<'_>)>,
) -> Result<IpNet, StringError> {
    let reference = match dst {
        Some(net) => Some((
            net.addr().is_ipv6(),
            format!("the destination `{}`", dst_word.text),
        )),
        None => via
            .map(|(addr, _)| (addr.is_ipv6(), format!("the gateway `{addr}`")))
            .or_else(|| src.map(|(addr, _)| (addr.is_ipv6(), format!("the source `{addr}`")))),
    };
    let Some((is_ipv6, what)) = reference else {
        return Ok(IpNet::V4(Default::default()));
    };
    for (addr, word) in [via, src].into_iter().flatten() {
        if addr.is_ipv6() != is_ipv6 {
            let message = format!(
                "`{addr}` is {} but {what} is {}",
                family(addr.is_ipv6()),
                family(is_ipv6)
            );
            return Err(StringError::at(word, message).with_help(
                "a route's destination, gateway and source must all be IPv4 or all IPv6",
            ));
        }
    }
    Ok(match dst {
        Some(net) => net,
        None if is_ipv6 => IpNet::V6(Default::default()),
        None => IpNet::V4(Default::default()),
    })
}

/// `dev DEVICE` (or `oif`) naming another device than the link's own (`own`), or with
/// no device, or where there is no link: refused, covering the device name too, since
/// the help says to remove both.
fn device_given(word: Word<'_>, device: Option<Word<'_>>, own: Option<&str>) -> StringError {
    let end = device.map_or(word.end(), |d| d.end());
    let removal = device.map_or(word.text.to_string(), |d| {
        format!("{} {}", word.text, d.text)
    });
    match (device, own) {
        (Some(device), Some(own)) => {
            let message = format!(
                "the route names device `{}`, but it goes through this link's own device `{own}`",
                device.text
            );
            StringError::new(word.start..end, message).with_help(format!(
                "remove `{removal}`, or write `dev {own}`; a route through `{}` belongs on the link whose `dev` is `{}`",
                device.text, device.text
            ))
        }
        (None, Some(_)) => StringError::at(word, format!("`{}` needs a device", word.text))
            .with_help(format!(
                "remove `{removal}`: the route goes through the link's own device"
            )),
        (_, None) => {
            let message = format!(
                "`{}` is not allowed in a route: conlink installs the route through the link's own `dev`",
                word.text
            );
            StringError::new(word.start..end, message).with_help(format!("remove `{removal}`"))
        }
    }
}

fn family(is_ipv6: bool) -> &'static str {
    if is_ipv6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// The destination: `None` for `default` (family decided later), else the network.
fn parse_destination(word: Word<'_>) -> Result<Option<IpNet>, StringError> {
    if word.text == "default" {
        return Ok(None);
    }
    if OPTIONS.contains(&word.text) || word.text == "dev" {
        return Err(StringError::at(
            word,
            format!("a route starts with its destination, found `{}`", word.text),
        )
        .with_help("write `default` or a network first, e.g. `default via 10.0.0.1`"));
    }
    if ROUTE_TYPES.contains(&word.text) {
        return Err(
            StringError::at(word, format!("route type `{}` is not supported", word.text))
                .with_help(
                    "conlink adds ordinary routes through the link's device: `DEST [via GW] …`",
                ),
        );
    }

    let (addr_text, prefix) = match word.text.split_once('/') {
        Some((addr_text, prefix_text)) => (addr_text, Some(prefix_text)),
        None => (word.text, None),
    };
    let addr_word = word.slice(0..addr_text.len());
    let Ok(addr) = addr_text.parse::<IpAddr>() else {
        let error = if prefix.is_some() {
            StringError::at(addr_word, format!("`{addr_text}` is not an IP address"))
        } else {
            StringError::at(word, format!("`{}` is not a route destination", word.text))
                .with_help("write `default` or a network such as `10.0.0.0/24` or `2001:db8::/64`")
        };
        return Err(error.suggest(word.text, &["default"]));
    };
    let max_len = if addr.is_ipv6() { 128 } else { 32 };
    let prefix_len = match prefix {
        None => max_len,
        Some(prefix_text) => {
            let prefix_word = word.slice(addr_text.len() + 1..word.text.len());
            if prefix_text.is_empty() {
                return Err(StringError::at(word, "missing prefix length after `/`")
                    .with_help(format!("write e.g. `{addr_text}/{max_len}`")));
            }
            match parse_integer(prefix_text) {
                Ok(len) if len <= u64::from(max_len) => len as u8,
                Ok(_) | Err(NumberError::TooLarge) => {
                    return Err(StringError::at(
                        prefix_word,
                        format!(
                            "prefix length `{prefix_text}` is too long for an {} address",
                            family(addr.is_ipv6())
                        ),
                    )
                    .with_help(format!("at most {max_len}")));
                }
                Err(_) => {
                    return Err(StringError::at(
                        prefix_word,
                        format!("`{prefix_text}` is not a prefix length"),
                    )
                    .with_help(format!("a number from 0 to {max_len}")));
                }
            }
        }
    };
    // The length was checked against the family, so construction cannot fail.
    let net = IpNet::new(addr, prefix_len).map_err(|_| StringError::at(word, "invalid network"))?;
    if net.trunc() != net {
        return Err(StringError::at(
            word,
            format!(
                "invalid prefix for given prefix length: `{}` has host bits set",
                word.text
            ),
        )
        .with_help(format!(
            "the network is `{}`; for a route to the single host write `{addr}/{max_len}`",
            net.trunc()
        )));
    }
    Ok(Some(net))
}

fn parse_address(word: Word<'_>, keyword: &str) -> Result<IpAddr, StringError> {
    word.text.parse().map_err(|_| {
        let mut error = StringError::at(
            word,
            format!("`{keyword}` needs an IP address, found `{}`", word.text),
        );
        if word.text.contains('/') {
            error = error.with_help(format!(
                "write the address without a prefix length after `{keyword}`"
            ));
        }
        error
    })
}

/// A number within `0..=max`, or one of `names`.
fn name_or_number(
    word: Word<'_>,
    keyword: &str,
    names: &[(&str, u64)],
    max: u64,
) -> Result<u64, StringError> {
    if let Some((_, number)) = names.iter().find(|(name, _)| *name == word.text) {
        return Ok(*number);
    }
    let name_list: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
    match parse_integer(word.text) {
        Ok(number) if number <= max => Ok(number),
        Ok(_) | Err(NumberError::TooLarge) => Err(StringError::at(
            word,
            format!(
                "`{keyword}` value `{}` is too large (at most {max})",
                word.text
            ),
        )),
        Err(NumberError::Negative) => Err(StringError::at(
            word,
            format!("`{keyword}` value `{}` must not be negative", word.text),
        )),
        Err(NumberError::NotANumber) => {
            let error = if names.is_empty() {
                StringError::at(
                    word,
                    format!("`{keyword}` needs a number, found `{}`", word.text),
                )
            } else {
                StringError::at(word, format!("unknown {keyword} `{}`", word.text))
            };
            let help = match did_you_mean(word.text, &name_list) {
                Some(close) => format!("did you mean `{close}`?"),
                None if names.is_empty() => format!("a number from 0 to {max}"),
                None => format!("a number from 0 to {max}, or one of {}", one_of(&name_list)),
            };
            Err(error.with_help(help))
        }
    }
}

fn unknown_option(word: Word<'_>, has_via: bool) -> StringError {
    if UNSUPPORTED_OPTIONS.contains(&word.text) {
        return StringError::at(
            word,
            format!("route option `{}` is not supported", word.text),
        )
        .with_help(format!("conlink supports {}", one_of(OPTIONS)));
    }
    if !has_via && word.text.parse::<IpAddr>().is_ok() {
        return StringError::at(word, format!("unexpected address `{}`", word.text))
            .with_help(format!("did you mean `via {}`?", word.text));
    }
    let error = StringError::at(word, format!("unknown route option `{}`", word.text));
    match did_you_mean(word.text, OPTIONS) {
        Some(close) => error.with_help(format!("did you mean `{close}`?")),
        None => error.with_help(format!("conlink supports {}", one_of(OPTIONS))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(input: &str) -> Route {
        match parse_route(input) {
            Ok(route) => route,
            Err(e) => panic!("{input:?}: {e:?}"),
        }
    }

    /// The error for `input`, with the text its range covers.
    fn error(input: &str) -> (StringError, &str) {
        let e = parse_route(input).expect_err(input);
        let covered = &input[e.range()];
        (e, covered)
    }

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn addr(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn round_trips(input: &str, canonical: &str) {
        let parsed = route(input);
        assert_eq!(parsed.to_string(), canonical, "{input:?}");
        assert_eq!(route(canonical), parsed, "{canonical:?}");
    }

    #[test]
    fn destinations() {
        let r = route("default");
        assert_eq!(r.dst, net("0.0.0.0/0"));
        assert!(r.is_default() && !r.is_ipv6());
        assert_eq!(route("10.0.0.0/8").dst, net("10.0.0.0/8"));
        assert_eq!(route("10.0.0.5").dst, net("10.0.0.5/32"));
        assert_eq!(route("10.0.0.5/32").dst, net("10.0.0.5/32"));
        assert_eq!(route("0.0.0.0/0").dst, net("0.0.0.0/0"));
        assert_eq!(route("2001:db8::/32").dst, net("2001:db8::/32"));
        assert_eq!(route("2001:db8::1").dst, net("2001:db8::1/128"));
        assert_eq!(route("::/0").dst, net("::/0"));
        assert_eq!(route("to 10.1.0.0/16").dst, net("10.1.0.0/16"));
        assert_eq!(route("  10.1.0.0/16\t").dst, net("10.1.0.0/16"));
    }

    #[test]
    fn every_option() {
        let r = route(
            "192.168.0.0/16 via 10.0.0.1 metric 100 src 10.0.0.2 table 100 proto static scope global onlink",
        );
        assert_eq!(
            r,
            Route {
                dst: net("192.168.0.0/16"),
                via: Some(addr("10.0.0.1")),
                metric: Some(100),
                src: Some(addr("10.0.0.2")),
                table: Some(RouteTable(100)),
                proto: Some(RouteProtocol(4)),
                scope: Some(RouteScope(0)),
                onlink: true,
            }
        );
        // Any order gives the same route.
        assert_eq!(
            route("192.168.0.0/16 onlink scope 0 proto 4 table 100 src 10.0.0.2 metric 100 via 10.0.0.1"),
            r
        );
    }

    #[test]
    fn aliases() {
        assert_eq!(route("default priority 5").metric, Some(5));
        assert_eq!(route("default preference 5").metric, Some(5));
        assert_eq!(
            route("default protocol bird").proto,
            Some(RouteProtocol(12))
        );
    }

    #[test]
    fn names_and_numbers() {
        for (name, number) in [
            ("main", 254),
            ("local", 255),
            ("default", 253),
            ("7", 7),
            ("4294967295", u32::MAX),
        ] {
            assert_eq!(
                route(&format!("default table {name}")).table,
                Some(RouteTable(number)),
                "{name}"
            );
        }
        for (name, number) in [
            ("kernel", 2),
            ("boot", 3),
            ("static", 4),
            ("ra", 9),
            ("dhcp", 16),
            ("babel", 42),
            ("bgp", 186),
            ("unspec", 0),
            ("255", 255),
            ("0", 0),
        ] {
            assert_eq!(
                route(&format!("default proto {name}")).proto,
                Some(RouteProtocol(number)),
                "{name}"
            );
        }
        for (name, number) in [
            ("global", 0),
            ("site", 200),
            ("link", 253),
            ("host", 254),
            ("nowhere", 255),
            ("17", 17),
        ] {
            assert_eq!(
                route(&format!("10.0.0.0/8 scope {name}")).scope,
                Some(RouteScope(number)),
                "{name}"
            );
        }
        assert_eq!(route("default metric 0").metric, Some(0));
        assert_eq!(route("default metric 4294967295").metric, Some(u32::MAX));
        assert_eq!(RouteTable(254).name(), Some("main"));
        assert_eq!(RouteTable(100).name(), None);
        assert_eq!(RouteScope(253).to_string(), "link");
        assert_eq!(RouteProtocol(200).to_string(), "200");
    }

    #[test]
    fn families() {
        let r = route("default via fe80::1");
        assert_eq!(r.dst, net("::/0"));
        assert!(r.is_ipv6());
        assert_eq!(route("default src 2001:db8::2").dst, net("::/0"));
        assert_eq!(route("default via 10.0.0.1").dst, net("0.0.0.0/0"));
        assert_eq!(
            route("2001:db8::/32 via 2001:db8:1::1 src 2001:db8:1::2").via,
            Some(addr("2001:db8:1::1"))
        );

        let (e, at) = error("10.0.0.0/8 via fe80::1");
        assert_eq!(
            e.message,
            "`fe80::1` is IPv6 but the destination `10.0.0.0/8` is IPv4"
        );
        assert_eq!(at, "fe80::1");
        let (e, at) = error("2001:db8::/32 src 10.0.0.2");
        assert_eq!(
            e.message,
            "`10.0.0.2` is IPv4 but the destination `2001:db8::/32` is IPv6"
        );
        assert_eq!(at, "10.0.0.2");
        let (e, at) = error("default src 10.0.0.2 via fe80::1");
        assert_eq!(
            e.message,
            "`10.0.0.2` is IPv4 but the gateway `fe80::1` is IPv6"
        );
        assert_eq!(at, "10.0.0.2");
        let (e, at) = error("::/0 via 10.0.0.1");
        assert_eq!(at, "10.0.0.1");
        assert!(e.help.unwrap().contains("must all be IPv4 or all IPv6"));
    }

    #[test]
    fn display_round_trips() {
        round_trips("default via 10.0.0.1", "default via 10.0.0.1");
        round_trips("0.0.0.0/0 via 10.0.0.1", "default via 10.0.0.1");
        round_trips("default", "default");
        round_trips("::/0", "::/0");
        round_trips("default via fe80::1", "default via fe80::1");
        round_trips("default src 2001:db8::2", "default src 2001:db8::2");
        round_trips("10.0.0.5", "10.0.0.5/32");
        round_trips("2001:db8::1", "2001:db8::1/128");
        round_trips(
            "to 172.16.0.0/12 onlink scope link proto 4 table 254 src 10.0.0.2 priority 7 via 10.0.0.1",
            "172.16.0.0/12 via 10.0.0.1 metric 7 src 10.0.0.2 table main proto static scope link onlink",
        );
        round_trips(
            "10.0.0.0/8 table 100 proto 200 scope 17",
            "10.0.0.0/8 table 100 proto 200 scope 17",
        );
    }

    #[test]
    fn serialises_with_numbers_and_cidr_text() {
        let r = route("default via 10.0.0.1 table main proto static");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"dst": "0.0.0.0/0", "via": "10.0.0.1", "table": 254, "proto": 4})
        );
        let back: Route = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        let schema = serde_json::to_value(schemars::schema_for!(Route)).unwrap();
        assert_eq!(schema["properties"]["dst"]["type"], "string");
        assert!(schema["properties"]["via"]["description"]
            .as_str()
            .unwrap()
            .contains("Gateway"));
        assert_eq!(schema["required"], serde_json::json!(["dst"]));
    }

    #[test]
    fn host_bits_are_rejected_with_the_network_as_help() {
        let (e, at) = error("10.0.0.5/24 via 10.0.0.1");
        assert_eq!(
            e.message,
            "invalid prefix for given prefix length: `10.0.0.5/24` has host bits set"
        );
        assert_eq!(at, "10.0.0.5/24");
        let help = e.help.unwrap();
        assert!(
            help.contains("`10.0.0.0/24`") && help.contains("`10.0.0.5/32`"),
            "{help}"
        );
        let (e, at) = error("2001:db8::1/64");
        assert!(e.help.unwrap().contains("`2001:db8::/64`"));
        assert_eq!(at, "2001:db8::1/64");
    }

    #[test]
    fn bad_destinations() {
        let (e, at) = error("");
        assert_eq!((e.message.as_str(), at), ("empty route", ""));
        let (e, _) = error("   ");
        assert_eq!(e.range(), 0..3);

        let (e, at) = error("defualt via 10.0.0.1");
        assert_eq!(e.message, "`defualt` is not a route destination");
        assert_eq!(e.help.as_deref(), Some("did you mean `default`?"));
        assert_eq!(at, "defualt");

        let (e, at) = error("10.0.0.300/24");
        assert_eq!(e.message, "`10.0.0.300` is not an IP address");
        assert_eq!(at, "10.0.0.300");

        let (e, at) = error("10.0.0.0/33");
        assert_eq!(
            e.message,
            "prefix length `33` is too long for an IPv4 address"
        );
        assert_eq!(at, "33");
        let (e, at) = error("::/129");
        assert_eq!(e.help.as_deref(), Some("at most 128"));
        assert_eq!(at, "129");
        let (_, at) = error("10.0.0.0/99999999999999999999999");
        assert_eq!(at, "99999999999999999999999");
        let (e, at) = error("10.0.0.0/x");
        assert_eq!(
            (e.message.as_str(), at),
            ("`x` is not a prefix length", "x")
        );
        let (e, at) = error("10.0.0.0/-1");
        assert_eq!(at, "-1");
        assert!(e.message.contains("not a prefix length"));
        let (e, at) = error("10.0.0.0/");
        assert_eq!(
            (e.message.as_str(), at),
            ("missing prefix length after `/`", "10.0.0.0/")
        );

        let (e, at) = error("via 10.0.0.1");
        assert_eq!(
            e.message,
            "a route starts with its destination, found `via`"
        );
        assert_eq!(at, "via");
        let (e, at) = error("blackhole 10.0.0.0/8");
        assert_eq!(
            (e.message.as_str(), at),
            ("route type `blackhole` is not supported", "blackhole")
        );
        let (e, at) = error("to");
        assert_eq!((e.message.as_str(), at), ("`to` needs a destination", "to"));
    }

    #[test]
    fn dev_is_refused() {
        let (e, at) = error("default via 10.0.0.1 dev eth0");
        assert!(
            e.message.starts_with("`dev` is not allowed in a route"),
            "{}",
            e.message
        );
        assert_eq!(at, "dev eth0");
        assert_eq!(e.help.as_deref(), Some("remove `dev eth0`"));
        let (e, at) = error("default dev");
        assert_eq!((at, e.help.as_deref()), ("dev", Some("remove `dev`")));
        let (_, at) = error("default oif eth1");
        assert_eq!(at, "oif eth1");
        let (e, at) = error("dev eth0");
        assert_eq!(at, "dev");
        assert!(e.message.contains("starts with its destination"));
    }

    /// A 2.x route naming the link's own device is accepted and means the same route;
    /// another device is refused saying why.
    #[test]
    fn dev_of_the_link_itself_is_accepted() {
        let own = |input: &str| parse_link_route(input, Some("eth1"));
        let with_dev = own("10.128.0.0/15 via 10.200.0.2 dev eth1").unwrap();
        assert_eq!(with_dev, own("10.128.0.0/15 via 10.200.0.2").unwrap());
        assert_eq!(
            own("default oif eth1 via 10.0.0.1").unwrap().via,
            own("default via 10.0.0.1").unwrap().via
        );

        let input = "10.128.0.0/15 via 10.200.0.2 dev eth2";
        let e = own(input).unwrap_err();
        assert_eq!(
            e.message,
            "the route names device `eth2`, but it goes through this link's own device `eth1`"
        );
        assert_eq!(&input[e.range()], "dev eth2");
        assert!(e
            .help
            .as_deref()
            .unwrap()
            .contains("belongs on the link whose `dev` is `eth2`"));

        let e = own("default via 10.0.0.1 dev").unwrap_err();
        assert_eq!(e.message, "`dev` needs a device");
        let e = own("default dev eth1 dev eth1").unwrap_err();
        assert_eq!(e.message, "`dev` is given more than once");
    }

    #[test]
    fn misspelled_and_unsupported_options() {
        let (e, at) = error("default vai 10.0.0.1");
        assert_eq!(e.message, "unknown route option `vai`");
        assert_eq!(e.help.as_deref(), Some("did you mean `via`?"));
        assert_eq!(at, "vai");
        let (e, _) = error("default metirc 5");
        assert_eq!(e.help.as_deref(), Some("did you mean `metric`?"));
        let (e, at) = error("default onlnk");
        assert_eq!(
            (e.help.as_deref(), at),
            (Some("did you mean `onlink`?"), "onlnk")
        );
        let (e, _) = error("default frobnicate");
        assert!(e
            .help
            .unwrap()
            .starts_with("conlink supports `via`, `metric`"));

        let (e, at) = error("default via 10.0.0.1 mtu 1400");
        assert_eq!(
            (e.message.as_str(), at),
            ("route option `mtu` is not supported", "mtu")
        );
        let (e, at) = error("default 10.0.0.1");
        assert_eq!(
            (e.message.as_str(), at),
            ("unexpected address `10.0.0.1`", "10.0.0.1")
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `via 10.0.0.1`?"));
        let (e, _) = error("default via 10.0.0.1 10.0.0.2");
        assert!(e.help.unwrap().starts_with("conlink supports"));
    }

    #[test]
    fn repeated_options() {
        let (e, at) = error("default via 10.0.0.1 via 10.0.0.2");
        assert_eq!(
            (e.message.as_str(), at),
            ("`via` is given more than once", "via")
        );
        assert_eq!(e.start, 21);
        let (e, at) = error("default metric 1 priority 2");
        assert_eq!(
            (e.message.as_str(), at),
            ("`metric` is given more than once", "priority")
        );
        let (_, at) = error("default onlink onlink");
        assert_eq!(at, "onlink");
        let (e, _) = error("default proto 1 protocol 2");
        assert_eq!(e.message, "`proto` is given more than once");
    }

    #[test]
    fn bad_values() {
        let (e, at) = error("default via");
        assert_eq!(
            (e.message.as_str(), at),
            ("`via` needs a gateway address", "via")
        );
        let (e, at) = error("default via gateway");
        assert_eq!(
            (e.message.as_str(), at),
            ("`via` needs an IP address, found `gateway`", "gateway")
        );
        let (e, _) = error("default via 10.0.0.1/24");
        assert!(e.help.unwrap().contains("without a prefix length"));
        let (e, at) = error("default src 10.0.0.256");
        assert_eq!(at, "10.0.0.256");
        assert!(e.message.starts_with("`src` needs an IP address"));

        let (e, at) = error("default metric 4294967296");
        assert_eq!(
            e.message,
            "`metric` value `4294967296` is too large (at most 4294967295)"
        );
        assert_eq!(at, "4294967296");
        let (e, _) = error("default metric -1");
        assert_eq!(e.message, "`metric` value `-1` must not be negative");
        let (e, at) = error("default priority high");
        assert_eq!(
            (e.message.as_str(), at),
            ("`priority` needs a number, found `high`", "high")
        );
        let (_, at) = error("default metric 99999999999999999999999999");
        assert_eq!(at, "99999999999999999999999999");

        let (e, at) = error("default table mian");
        assert_eq!((e.message.as_str(), at), ("unknown table `mian`", "mian"));
        assert_eq!(e.help.as_deref(), Some("did you mean `main`?"));
        let (e, _) = error("default table customers");
        assert_eq!(
            e.help.as_deref(),
            Some("a number from 0 to 4294967295, or one of `default`, `main` and `local`")
        );
        let (e, at) = error("default table 0");
        assert_eq!(
            (e.message.as_str(), at),
            ("table 0 is not a routing table", "0")
        );
        let (_, at) = error("default table unspec");
        assert_eq!(at, "unspec");
        let (e, at) = error("default proto 256");
        assert_eq!(
            (e.message.as_str(), at),
            ("`proto` value `256` is too large (at most 255)", "256")
        );
        let (e, _) = error("default proto statik");
        assert_eq!(e.help.as_deref(), Some("did you mean `static`?"));
        let (e, _) = error("default scope lnk");
        assert_eq!(e.help.as_deref(), Some("did you mean `link`?"));
        let (e, _) = error("default scope universe");
        assert_eq!(e.message, "unknown scope `universe`");
        let (e, at) = error("default table");
        assert_eq!(
            (e.message.as_str(), at),
            ("`table` needs a table number or name", "table")
        );
    }

    #[test]
    fn unicode_and_garbage() {
        let (e, at) = error("défaut via 10.0.0.1");
        assert_eq!(at, "défaut");
        assert_eq!(e.help.as_deref(), Some("did you mean `default`?"));
        let (_, at) = error("default via 10.0.0.1 🦀");
        assert_eq!(at, "🦀");
        let (_, at) = error("default\u{a0}via 10.0.0.1");
        assert_eq!(at, "default\u{a0}via");
        let (_, at) = error("10.0.0.0/２４");
        assert_eq!(at, "２４");
        let (_, at) = error("é/8");
        assert_eq!(at, "é");
    }
}
