//! rtnetlink requests for interfaces: `ip link add/del/set`.
//!
//! Every request addresses interfaces by ifindex. conlink *chooses* the ifindex of
//! each interface it creates (the kernel honours `ifi_index` in RTM_NEWLINK), so a
//! whole batch — create, enslave, address, up — can be written before the kernel has
//! answered any of it: no request waits for a lookup of a just-created interface.

use compiler::plan::{IpvlanMode as PlanIpvlanMode, LinkSpec, Mac, MacvlanMode as PlanMacvlanMode};
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoVeth, IpVlanMode, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
    MacVlanMode, Prop,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::{
    LinkBridge, LinkDummy, LinkGeneve, LinkIpVlan, LinkIpVtap, LinkMacVlan, LinkMacVtap,
    LinkMessageBuilder, LinkUnspec, LinkVlan, LinkVxlan,
};
use std::net::IpAddr;
use std::os::fd::RawFd;

/// Everything one `ip link add` request carries.
#[derive(Clone, Debug)]
pub struct NewLink<'a> {
    pub name: &'a str,
    /// The ifindex conlink chose for it in its namespace.
    pub index: u32,
    /// Namespace to create it in, when not the socket's own.
    pub netns_fd: Option<RawFd>,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    pub group: u32,
    pub spec: &'a LinkSpec,
    /// Ifindex of the parent (`link`) in the socket's namespace, for *vlan/*vtap.
    pub parent: Option<u32>,
    /// The other end of a veth pair.
    pub peer: Option<NewPeer<'a>>,
    /// Ifindex of the bridge to enslave it to, in the namespace it is created in.
    pub master: Option<u32>,
    /// Create it up.
    pub up: bool,
}

/// The second end of a veth pair.
#[derive(Clone, Debug)]
pub struct NewPeer<'a> {
    pub name: &'a str,
    pub index: u32,
    pub netns_fd: Option<RawFd>,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    /// Transmit and receive queues of each end.
    pub queues: Option<u32>,
}

/// Why a link spec cannot be turned into a request.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{kind} needs its parent interface")]
    NoParent { kind: &'static str },
}

/// RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL: `ip link add`.
pub fn add_message(l: &NewLink) -> Result<LinkMessage, LinkError> {
    let parent = |kind| l.parent.ok_or(LinkError::NoParent { kind });
    // rtnetlink's kind builders write the kind-specific link info; the attributes every
    // kind shares are added below, in the order iproute2 writes them.
    let mut msg = match l.spec {
        LinkSpec::Veth { .. } => {
            LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Veth).build()
        }
        LinkSpec::Bridge => LinkBridge::new(l.name).build(),
        LinkSpec::Dummy => LinkDummy::new(l.name).build(),
        LinkSpec::Vlan { id, .. } => LinkVlan::new(l.name, parent("vlan")?, *id).build(),
        LinkSpec::Macvlan { mode, .. } => {
            LinkMacVlan::new(l.name, parent("macvlan")?, macvlan_mode(*mode)).build()
        }
        LinkSpec::Macvtap { mode, .. } => {
            LinkMacVtap::new(l.name, parent("macvtap")?, macvlan_mode(*mode)).build()
        }
        LinkSpec::Ipvlan { mode, .. } => {
            LinkIpVlan::new(l.name, parent("ipvlan")?, ipvlan_mode(*mode)).build()
        }
        LinkSpec::Ipvtap { mode, .. } => {
            LinkIpVtap::new(l.name, parent("ipvtap")?, ipvlan_mode(*mode)).build()
        }
        LinkSpec::Vxlan {
            vni,
            remote,
            dstport,
        } => {
            let b = LinkVxlan::new(l.name, *vni).port(*dstport);
            match remote {
                IpAddr::V4(a) => b.remote(*a),
                IpAddr::V6(a) => b.remote6(*a),
            }
            .build()
        }
        LinkSpec::Geneve {
            vni,
            remote,
            dstport,
        } => {
            let b = LinkGeneve::new(l.name, *vni);
            match remote {
                IpAddr::V4(a) => b.remote(*a),
                IpAddr::V6(a) => b.remote6(*a),
            }
            .port(*dstport)
            .build()
        }
    };
    msg.header.index = l.index;
    // Down unless the step says `up` (rtnetlink's bridge builder always asks for up).
    let flags = if l.up {
        LinkFlags::Up
    } else {
        LinkFlags::empty()
    };
    msg.header.flags = flags;
    msg.header.change_mask = flags;
    msg.attributes
        .retain(|a| !matches!(a, LinkAttribute::IfName(_)));
    let mut common = vec![LinkAttribute::IfName(l.name.to_string())];
    common.extend(shared(l.mtu, l.mac, l.group, l.netns_fd));
    common.extend(queues(l.peer.as_ref().and_then(|p| p.queues)));
    if let Some(master) = l.master {
        common.push(LinkAttribute::Controller(master));
    }
    // Shared attributes go first, the link info (kind and its data) last.
    common.append(&mut msg.attributes);
    msg.attributes = common;
    if let Some(peer) = &l.peer {
        let mut p = LinkMessage::default();
        p.header.index = peer.index;
        p.attributes
            .push(LinkAttribute::IfName(peer.name.to_string()));
        p.attributes
            .extend(shared(peer.mtu, peer.mac, l.group, peer.netns_fd));
        p.attributes.extend(queues(peer.queues));
        for a in msg.attributes.iter_mut() {
            if let LinkAttribute::LinkInfo(infos) = a {
                infos.push(LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p.clone()))));
            }
        }
    }
    Ok(msg)
}

/// `numtxqueues N numrxqueues N`.
fn queues(n: Option<u32>) -> Vec<LinkAttribute> {
    n.map_or_else(Vec::new, |n| {
        vec![LinkAttribute::NumTxQueues(n), LinkAttribute::NumRxQueues(n)]
    })
}

/// The attributes every new interface may carry: MTU, MAC, group and namespace.
fn shared(
    mtu: Option<u32>,
    mac: Option<Mac>,
    group: u32,
    netns_fd: Option<RawFd>,
) -> Vec<LinkAttribute> {
    let mut out = Vec::new();
    if let Some(mtu) = mtu {
        out.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(mac) = mac {
        out.push(LinkAttribute::Address(mac.0.to_vec()));
    }
    out.push(LinkAttribute::Group(group));
    if let Some(fd) = netns_fd {
        out.push(LinkAttribute::NetNsFd(fd));
    }
    out
}

/// The plan's mode, or `bridge` when it gives none (the kernel's own default, `vepa`,
/// would send frames between siblings out to the switch).
fn macvlan_mode(mode: Option<PlanMacvlanMode>) -> MacVlanMode {
    match mode.unwrap_or(PlanMacvlanMode::Bridge) {
        PlanMacvlanMode::Private => MacVlanMode::Private,
        PlanMacvlanMode::Vepa => MacVlanMode::Vepa,
        PlanMacvlanMode::Bridge => MacVlanMode::Bridge,
        PlanMacvlanMode::Passthru => MacVlanMode::Passthrough,
        PlanMacvlanMode::Source => MacVlanMode::Source,
    }
}

/// The plan's mode, or `l3` (the kernel's default) when it gives none.
fn ipvlan_mode(mode: Option<PlanIpvlanMode>) -> IpVlanMode {
    match mode.unwrap_or(PlanIpvlanMode::L3) {
        PlanIpvlanMode::L2 => IpVlanMode::L2,
        PlanIpvlanMode::L3 => IpVlanMode::L3,
        PlanIpvlanMode::L3s => IpVlanMode::L3S,
    }
}

fn by_index(index: u32) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m
}

/// `ip link del`.
pub fn del(index: u32) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelLink(by_index(index))
}

/// `ip link set DEV up|down`.
pub fn set_up(index: u32, up: bool) -> RouteNetlinkMessage {
    let mut m = by_index(index);
    m.header.change_mask = LinkFlags::Up;
    if up {
        m.header.flags = LinkFlags::Up;
    }
    RouteNetlinkMessage::SetLink(m)
}

/// `ip link set DEV master BRIDGE` (index 0: `nomaster`).
pub fn set_master(index: u32, master: u32) -> RouteNetlinkMessage {
    let mut m = by_index(index);
    m.attributes.push(LinkAttribute::Controller(master));
    RouteNetlinkMessage::SetLink(m)
}

/// `ip link set DEV alias TEXT`: conlink's ownership mark. The kernel ignores an alias
/// in RTM_NEWLINK, so it is set right after creation.
pub fn set_alias(index: u32, alias: &str) -> RouteNetlinkMessage {
    let mut m = by_index(index);
    m.attributes.push(LinkAttribute::IfAlias(alias.to_string()));
    RouteNetlinkMessage::SetLink(m)
}

/// The alias attribute, to add to another request changing the same interface.
pub fn alias_attribute(alias: &str) -> LinkAttribute {
    LinkAttribute::IfAlias(alias.to_string())
}

/// `ip link set DEV mtu N`.
pub fn set_mtu(index: u32, mtu: u32) -> RouteNetlinkMessage {
    let mut m = by_index(index);
    m.attributes.push(LinkAttribute::Mtu(mtu));
    RouteNetlinkMessage::SetLink(m)
}

/// `ip link set DEV address MAC`.
pub fn set_mac(index: u32, mac: Mac) -> RouteNetlinkMessage {
    let mut m = by_index(index);
    m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
    RouteNetlinkMessage::SetLink(m)
}

/// `ip link property add dev DEV altname NAME`.
pub fn add_altname(index: u32, altname: &str) -> RouteNetlinkMessage {
    let mut m = by_index(index);
    m.attributes
        .push(LinkAttribute::PropList(vec![Prop::AltIfName(
            altname.to_string(),
        )]));
    RouteNetlinkMessage::NewLinkProp(m)
}

/// RTM_GETLINK for one interface (send it with [`Socket::get`](super::Socket::get)).
pub fn get(index: u32) -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetLink(by_index(index))
}

/// RTM_GETLINK dump request.
pub fn dump() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetLink(LinkMessage::default())
}

/// What conlink reads back of an interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoRead {
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

/// Reads the parts of a dumped RTM_NEWLINK message that conlink compares.
pub fn read(m: &LinkMessage) -> LinkInfoRead {
    let mut out = LinkInfoRead {
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
