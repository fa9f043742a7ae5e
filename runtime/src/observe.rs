//! Reading back what is on the system: the links, addresses and routes of a namespace,
//! and which pinned namespaces are conlink's.
//!
//! A [`Snapshot`] is taken once per run of every namespace that existed before the run
//! (namespaces the run creates start empty, so nothing in them can already be in
//! place). The families compare their steps with it (`crate::families`): the basis of
//! convergence (`apply` changes only what differs) and of `status`. Here is only what
//! the kernel said, parsed: the dump requests and the parts of each answer conlink
//! compares. What a family reads for itself alone (tc qdiscs and filters, nft tables,
//! sysctls, ethtool features) it reads itself, when a step asks.

use crate::names;
use crate::netlink::{self, Socket};
use crate::netns;
use compiler::plan::Mac;
use ipnet::IpNet;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage, Prop};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;
use std::path::Path;

/// Links, addresses and routes of one namespace.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub links: Vec<LinkRead>,
    pub addrs: Vec<(u32, IpNet)>,
    pub routes: Vec<RouteRead>,
}

impl Snapshot {
    pub fn take(sock: &mut Socket) -> Result<Snapshot, netlink::Error> {
        let mut s = Snapshot::default();
        sock.dump_each(dump_links(), |m| {
            if let RouteNetlinkMessage::NewLink(m) = m {
                s.links.push(read_link(&m));
            }
        })?;
        sock.dump_each(dump_addrs(), |m| {
            if let RouteNetlinkMessage::NewAddress(m) = m {
                s.addrs.extend(read_addr(&m));
            }
        })?;
        for v6 in [false, true] {
            sock.dump_each(dump_routes(v6), |m| {
                if let RouteNetlinkMessage::NewRoute(m) = m {
                    s.routes.extend(read_route(&m));
                }
            })?;
        }
        Ok(s)
    }

    pub fn link(&self, name: &str) -> Option<&LinkRead> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.link(name).map(|l| l.index)
    }

    /// The name of the interface with ifindex `index`.
    pub fn name_of(&self, index: u32) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.as_str())
    }

    /// Whether the loopback carries ownership mark `mark` (a namespace conlink made).
    pub fn loopback_marked(&self, mark: &str) -> bool {
        self.link("lo")
            .is_some_and(|l| l.alias.as_deref() == Some(mark))
    }
}

// ---------------------------------------------------------------------------------
// Links.

/// What conlink reads back of an interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkRead {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    pub up: bool,
    pub master: Option<u32>,
    pub group: Option<u32>,
    pub alias: Option<String>,
    pub altnames: Vec<String>,
}

impl LinkRead {
    /// Whether the interface is conlink's for the project with ownership mark `mark` and
    /// interface group `group`: it carries the mark, or it is in the group with no alias
    /// at all. The kernel sets the group in the request that creates an interface, and
    /// the mark only in a later one (docs/plan.md, "Ownership"); an interface of the
    /// group without an alias is one whose run was stopped in between
    /// (docs/decisions.md, "Surviving SIGKILL").
    pub fn is_conlinks(&self, mark: &str, group: u32) -> bool {
        match &self.alias {
            Some(a) => a == mark,
            None => self.group == Some(group),
        }
    }
}

/// RTM_GETLINK dump request.
pub fn dump_links() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetLink(LinkMessage::default())
}

/// RTM_GETLINK for one interface (send it with [`Socket::get`]).
pub fn get_link(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    RouteNetlinkMessage::GetLink(m)
}

/// RTM_GETLINK for the interface named `name` (send it with [`Socket::get`]; the
/// kernel answers `ENODEV` when there is none).
pub fn get_link_by_name(name: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    RouteNetlinkMessage::GetLink(m)
}

/// Reads the parts of a dumped RTM_NEWLINK message that conlink compares.
pub fn read_link(m: &LinkMessage) -> LinkRead {
    let mut out = LinkRead {
        index: m.header.index,
        up: m.header.flags.contains(LinkFlags::Up),
        ..Default::default()
    };
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => out.name = n.clone(),
            LinkAttribute::Mtu(v) => out.mtu = Some(*v),
            LinkAttribute::Address(b) if b.len() == 6 => {
                out.mac = Some(Mac([b[0], b[1], b[2], b[3], b[4], b[5]]))
            }
            LinkAttribute::Controller(v) => out.master = Some(*v),
            LinkAttribute::Group(v) => out.group = Some(*v),
            LinkAttribute::IfAlias(s) => out.alias = Some(s.clone()),
            LinkAttribute::PropList(props) => {
                for p in props {
                    if let Prop::AltIfName(n) = p {
                        out.altnames.push(n.clone());
                    }
                }
            }
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        out.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Every interface of the socket's namespace.
pub fn links(sock: &mut Socket) -> Result<Vec<LinkRead>, netlink::Error> {
    let mut out = Vec::new();
    sock.dump_each(dump_links(), |m| {
        if let RouteNetlinkMessage::NewLink(m) = m {
            out.push(read_link(&m));
        }
    })?;
    Ok(out)
}

// ---------------------------------------------------------------------------------
// Addresses.

/// RTM_GETADDR dump request (all families).
pub fn dump_addrs() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetAddress(AddressMessage::default())
}

/// The interface and address of a dumped RTM_NEWADDR message.
pub fn read_addr(m: &AddressMessage) -> Option<(u32, IpNet)> {
    let addr = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(a) => Some(*a),
        _ => None,
    });
    let addr = addr.or_else(|| {
        m.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(a) => Some(*a),
            _ => None,
        })
    })?;
    IpNet::new(addr, m.header.prefix_len)
        .ok()
        .map(|net| (m.header.index, net))
}

// ---------------------------------------------------------------------------------
// Routes.

/// RTM_GETROUTE dump request for one family.
pub fn dump_routes(v6: bool) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    RouteNetlinkMessage::GetRoute(m)
}

/// Every route of one family in the socket's namespace, all tables.
pub fn routes(sock: &mut Socket, v6: bool) -> Result<Vec<RouteRead>, netlink::Error> {
    let mut out = Vec::new();
    sock.dump_each(dump_routes(v6), |m| {
        if let RouteNetlinkMessage::NewRoute(m) = m {
            out.extend(read_route(&m));
        }
    })?;
    Ok(out)
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

pub fn read_route(m: &RouteMessage) -> Option<RouteRead> {
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

// ---------------------------------------------------------------------------------
// Namespaces.

/// Pinned namespaces of `project` whose loopback carries the project's mark, and the
/// project's pins a killed run left half-made (`crate::netns::is_half_made_pin`): the
/// node namespaces, then conlink's own.
pub fn owned_namespaces(project: &str, dir: &Path, mark: &str) -> Vec<String> {
    let own = names::conlink_ns(project);
    let mut out = Vec::new();
    let mut candidates =
        netns::list_pinned(dir, &names::node_ns_prefix(project)).unwrap_or_default();
    candidates.push(own.clone());
    for name in candidates {
        let path = dir.join(&name);
        if netns::is_half_made_pin(&path) {
            out.push(name);
            continue;
        }
        let Ok(file) = netns::open(&path) else {
            continue;
        };
        // Only the loopback (ifindex 1) is asked for: a namespace may hold
        // thousands of interfaces.
        let marked = netns::enter(&file, || -> Result<bool, netlink::Error> {
            let mut sock = Socket::route()?;
            Ok(sock
                .get(get_link(1))?
                .into_iter()
                .filter_map(|m| match m {
                    RouteNetlinkMessage::NewLink(m) => Some(read_link(&m)),
                    _ => None,
                })
                .any(|l| l.index == 1 && l.alias.as_deref() == Some(mark)))
        });
        if let Ok(Ok(true)) = marked {
            out.push(name);
        }
    }
    // Nodes first, conlink's own namespace last.
    out.sort_by_key(|n| (n == &own, n.clone()));
    out
}
