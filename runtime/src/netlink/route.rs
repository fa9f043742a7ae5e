//! rtnetlink requests for routes: `ip route add/del ROUTE dev DEV`, in every form
//! config.md §4.1 accepts (destination, `via`, `metric`, `src`, `table`, `proto`,
//! `scope`, `onlink`).

use compiler::plan::Route;
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
    RouteType,
};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RTPROT_BOOT: u8 = 3;

/// The message for `route` through the interface `index`.
pub fn message(index: u32, route: &Route) -> RouteMessage {
    let mut m = RouteMessage::default();
    let h = &mut m.header;
    h.address_family = if route.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    h.destination_prefix_length = route.dst.prefix_len();
    h.kind = RouteType::Unicast;
    h.protocol = RouteProtocol::from(route.proto.map_or(RTPROT_BOOT, |p| p.0));
    // As `ip route add` chooses: a route without a gateway is on-link (scope link),
    // one with a gateway is universe, unless the user gave a scope.
    let scope = route.scope.map(|s| s.0).unwrap_or(if route.via.is_some() {
        RT_SCOPE_UNIVERSE
    } else {
        RT_SCOPE_LINK
    });
    // IPv6 routes are always universe in the kernel's eyes.
    h.scope = RouteScope::from(if route.is_ipv6() {
        RT_SCOPE_UNIVERSE
    } else {
        scope
    });
    let table = route
        .table
        .map_or(u32::from(RouteHeader::RT_TABLE_MAIN), |t| t.0);
    if table < 256 {
        h.table = table as u8;
    } else {
        h.table = 252; // RT_TABLE_COMPAT: the real id is in RTA_TABLE
    }
    if route.onlink {
        h.flags = RouteFlags::Onlink;
    }
    if route.dst.prefix_len() > 0 {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(
                route.dst.addr(),
            )));
    }
    if let Some(via) = route.via {
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(via)));
    }
    if let Some(src) = route.src {
        m.attributes
            .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
    }
    if let Some(metric) = route.metric {
        m.attributes.push(RouteAttribute::Priority(metric));
    }
    m.attributes.push(RouteAttribute::Table(table));
    m.attributes.push(RouteAttribute::Oif(index));
    m
}

/// `ip route add` (NLM_F_CREATE | NLM_F_EXCL).
pub fn add(index: u32, route: &Route) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewRoute(message(index, route))
}

/// `ip route del`.
pub fn del(index: u32, route: &Route) -> RouteNetlinkMessage {
    let mut m = message(index, route);
    // Deletion matches on what is given; leave protocol and scope open as `ip route
    // del` does (scope NOWHERE matches any).
    m.header.protocol = RouteProtocol::from(0);
    m.header.scope = RouteScope::from(255);
    RouteNetlinkMessage::DelRoute(m)
}

/// The route a dumped one is, to delete it.
pub fn from_read(r: &RouteRead) -> Route {
    Route {
        dst: r.dst,
        via: r.via,
        metric: r.metric,
        src: None,
        table: Some(compiler::plan::RouteTable(r.table)),
        proto: None,
        scope: None,
        onlink: false,
    }
}

/// A host route to `addr` through `index` (`ip route add ADDR dev DEV`).
pub fn host_route(addr: IpAddr) -> Route {
    Route {
        dst: ipnet::IpNet::from(addr),
        via: None,
        metric: None,
        src: None,
        table: None,
        proto: None,
        scope: None,
        onlink: false,
    }
}

/// RTM_GETROUTE dump request for one family.
pub fn dump(v6: bool) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    RouteNetlinkMessage::GetRoute(m)
}

/// The parts of a dumped route conlink compares: (oif, table, destination, gateway, metric).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRead {
    pub oif: Option<u32>,
    pub table: u32,
    /// Who added it (`rtm_protocol`): 2 is the kernel itself, 9 router advertisements.
    pub protocol: u8,
    pub dst: ipnet::IpNet,
    pub via: Option<IpAddr>,
    pub metric: Option<u32>,
    pub src: Option<IpAddr>,
}

pub fn read(m: &RouteMessage) -> Option<RouteRead> {
    let v6 = m.header.address_family == AddressFamily::Inet6;
    let mut table = u32::from(m.header.table);
    let mut dst = None;
    let mut out = RouteRead {
        oif: None,
        table,
        protocol: u8::from(m.header.protocol),
        dst: if v6 {
            "::/0".parse().ok()?
        } else {
            "0.0.0.0/0".parse().ok()?
        },
        via: None,
        metric: None,
        src: None,
    };
    let addr = |a: &RouteAddress| match a {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    };
    for a in &m.attributes {
        match a {
            RouteAttribute::Oif(i) => out.oif = Some(*i),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(d) => dst = addr(d),
            RouteAttribute::Gateway(g) => out.via = addr(g),
            RouteAttribute::Priority(p) => out.metric = Some(*p),
            RouteAttribute::PrefSource(s) => out.src = addr(s),
            _ => {}
        }
    }
    out.table = table;
    if let Some(d) = dst {
        out.dst = ipnet::IpNet::new(d, m.header.destination_prefix_length).ok()?;
    }
    Some(out)
}
