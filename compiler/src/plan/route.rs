//! Routes through a link's device, as `ip route add … dev DEV` takes them, and the
//! names iproute2 gives routing table, protocol and scope numbers.
//!
//! A route prints (`Display`) in the canonical form of a `route` string
//! (docs/configuration.md, "String languages: route, netem, ethtool"): the names come
//! back where iproute2 has one, the numbers otherwise.

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A route through the link's device, as `ip route add` takes it after the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Route {
    /// Destination network in CIDR notation, never with host bits set. `default` is
    /// `0.0.0.0/0` or `::/0`, which also carries the route's address family.
    #[serde(with = "ipnet_text")]
    #[schemars(with = "String")]
    pub dst: IpNet,
    /// Gateway address (`via`), of the destination's family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// Route metric (`metric`, also written `priority` or `preference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// Preferred source address for traffic to the destination (`src`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    /// Routing table (`table`); absent means the main table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<RouteTable>,
    /// Routing protocol recorded with the route (`proto`); absent means the kernel's
    /// default for added routes (`boot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<RouteProtocol>,
    /// Route scope (`scope`); absent means the kernel chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<RouteScope>,
    /// `onlink`: treat the gateway as directly reachable on the device even when no
    /// prefix on the device covers it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub onlink: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Route {
    /// A host route to `addr` (`/32` or `/128`), with no gateway: the address is on
    /// the device's link.
    pub fn host(addr: IpAddr) -> Route {
        Route {
            dst: IpNet::from(addr),
            via: None,
            metric: None,
            src: None,
            table: None,
            proto: None,
            scope: None,
            onlink: false,
        }
    }

    /// Whether this is an IPv6 route (`ip -6 route …`).
    pub fn is_ipv6(&self) -> bool {
        self.dst.addr().is_ipv6()
    }

    /// Whether the destination is `default` (prefix length 0).
    pub fn is_default(&self) -> bool {
        self.dst.prefix_len() == 0
    }
}

/// Generates a number type that `ip` also accepts by name: serialised as the bare
/// number, printed as the name where iproute2 has one.
macro_rules! named_number {
    ($(#[$doc:meta])* $name:ident($inner:ty), $names:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// iproute2's name for this number, if it has one.
            pub fn name(self) -> Option<&'static str> {
                $names
                    .iter()
                    .find(|(_, number)| u64::from(self.0) == *number)
                    .map(|(name, _)| *name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}

named_number!(
    /// A routing table number, 1–4294967295 (`main` is 254).
    RouteTable(u32),
    TABLE_NAMES
);
named_number!(
    /// A route protocol number, 0–255 (`rtm_protocol`, e.g. `static` is 4).
    RouteProtocol(u8),
    PROTOCOL_NAMES
);
named_number!(
    /// A route scope number, 0–255 (`global` 0, `link` 253, `host` 254).
    RouteScope(u8),
    SCOPE_NAMES
);

// Names as iproute2 ships them in /etc/iproute2/rt_tables, rt_protos and rt_scopes.
// Local additions to those files are deliberately not read: the compiler has no system
// access, and a plan must mean the same on every machine.

/// Routing table names and their numbers.
pub const TABLE_NAMES: &[(&str, u64)] = &[("default", 253), ("main", 254), ("local", 255)];
/// Route protocol names and their numbers.
pub const PROTOCOL_NAMES: &[(&str, u64)] = &[
    ("unspec", 0),
    ("redirect", 1),
    ("kernel", 2),
    ("boot", 3),
    ("static", 4),
    ("gated", 8),
    ("ra", 9),
    ("mrt", 10),
    ("zebra", 11),
    ("bird", 12),
    ("dnrouted", 13),
    ("xorp", 14),
    ("ntk", 15),
    ("dhcp", 16),
    ("keepalived", 18),
    ("babel", 42),
    ("ovn", 84),
    ("openr", 99),
    ("bgp", 186),
    ("isis", 187),
    ("ospf", 188),
    ("rip", 189),
    ("eigrp", 192),
];
/// Route scope names and their numbers.
pub const SCOPE_NAMES: &[(&str, u64)] = &[
    ("global", 0),
    ("site", 200),
    ("link", 253),
    ("host", 254),
    ("nowhere", 255),
];

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `default` alone means IPv4, so an IPv6 default route with neither gateway nor
        // source is printed as `::/0` to keep its family.
        let family_implied = !self.is_ipv6() || self.via.is_some() || self.src.is_some();
        if self.is_default() && family_implied {
            f.write_str("default")?;
        } else {
            write!(f, "{}", self.dst)?;
        }
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        if let Some(src) = self.src {
            write!(f, " src {src}")?;
        }
        if let Some(table) = self.table {
            write!(f, " table {table}")?;
        }
        if let Some(proto) = self.proto {
            write!(f, " proto {proto}")?;
        }
        if let Some(scope) = self.scope {
            write!(f, " scope {scope}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        Ok(())
    }
}

/// Serde for [`IpNet`] as CIDR text (`ipnet` is built without its `serde` feature).
mod ipnet_text {
    use ipnet::IpNet;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(net: &IpNet, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(net)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpNet, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
