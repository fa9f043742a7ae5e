//! Routes: `ip route add/del ROUTE dev DEV`, in every form the configuration accepts
//! (docs/configuration.md, "String languages: route, netem, ethtool": destination,
//! `via`, `metric`, `src`, `table`, `proto`, `scope`, `onlink`), and the host route to
//! conlink's external address that forwarded ports need. The requests, whether a
//! route is in place (in the snapshot of its namespace), and the removal of stale
//! routes on conlink's interfaces (`crate::differences::stale`).

use crate::action::{queue_for_dev, Action, At, Check, Subject};
use crate::context::Context;
use crate::engine::{Iface, Origin, Part};
use crate::error::StepError;
use crate::observe::{RouteRead, Snapshot};
use crate::planned::Planned;
use crate::state::Extra;
use compiler::plan::{Ns, Route};
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
    RouteType,
};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

/// `ip route add ROUTE dev DEV` (`Op::RouteAdd`), `ip route del` (`Op::RouteDel`).
pub struct Set<'a> {
    pub dev: &'a str,
    pub route: &'a Route,
    pub add: bool,
}

/// `ip route add EXTERNAL/32 dev DEV` (`Op::ExternalRouteAdd`), and its deletion
/// (`Op::ExternalRouteDel`): the address is conlink's external one, known at run time.
pub struct External<'a> {
    pub dev: &'a str,
    pub add: bool,
}

impl Action for Set<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let there = self.add
            && cx
                .snapshot(at.ns)
                .is_some_and(|s| has_route(s, self.dev, self.route));
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        send(cx, at, self.dev, self.route, self.add)
    }

    fn plan(&self, ns: &Ns, _: &str, planned: &mut Planned) {
        if self.add {
            let table = self.route.table.map_or(254, |t| t.0);
            planned.add_route(ns, self.dev, self.route.dst, table, self.route.via);
        }
    }

    /// Deleting is the undo of adding.
    fn subject(&self) -> Option<Subject<'_>> {
        (!self.add).then_some(Subject::Interface(self.dev))
    }
}

impl Action for External<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        if !self.add {
            return Ok(Check::Missing);
        }
        // Without an external address there is no route to it.
        let Ok(ext) = cx.external() else {
            return Ok(Check::Missing);
        };
        let route = host_route(IpAddr::V4(ext.addr));
        let there = cx
            .snapshot(at.ns)
            .is_some_and(|s| has_route(s, self.dev, &route));
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let ext = cx.external()?;
        send(
            cx,
            at,
            self.dev,
            &host_route(IpAddr::V4(ext.addr)),
            self.add,
        )
    }

    fn plan(&self, ns: &Ns, _: &str, planned: &mut Planned) {
        if self.add {
            planned.add_external_route(ns, self.dev);
        }
    }

    /// Deleting is the undo of adding.
    fn subject(&self) -> Option<Subject<'_>> {
        (!self.add).then_some(Subject::Interface(self.dev))
    }
}

/// Queues `ip route add|del ROUTE dev DEV`.
fn send(
    cx: &mut Context,
    at: &At,
    dev: &str,
    route: &Route,
    add: bool,
) -> Result<Extra, StepError> {
    if add {
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        queue_for_dev(cx, at, dev, flags, |i| self::add(i, route))
    } else {
        queue_for_dev(cx, at, dev, 0, |i| del(i, route))
    }
}

/// Whether `route` goes through `dev` in `snap`: same destination, table and gateway,
/// and the same metric when the route names one.
pub fn has_route(snap: &Snapshot, dev: &str, route: &Route) -> bool {
    let Some(i) = snap.index_of(dev) else {
        return false;
    };
    let table = route.table.map_or(254, |t| t.0);
    snap.routes.iter().any(|r| {
        r.oif == Some(i)
            && r.dst == route.dst
            && r.table == table
            && r.via == route.via
            && (route.metric.is_none() || r.metric == route.metric)
    })
}

/// Removes a stale route through interface `dev` of `ns`.
pub fn remove_stale(
    cx: &mut Context,
    ns: &Ns,
    dev: &str,
    route: &RouteRead,
) -> Result<(), StepError> {
    let i = cx.ifindex(Iface::Named { ns, name: dev })?;
    cx.queue(
        Origin::Cleanup,
        ns,
        del(i, &from_read(route)),
        0,
        Part::Main,
    )
}

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
fn from_read(r: &RouteRead) -> Route {
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

/// A host route to `addr` (`ip route add ADDR dev DEV`).
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
