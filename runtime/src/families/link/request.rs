//! rtnetlink requests for interfaces (`ip link add/del/set`), and everything the runtime
//! knows about each kind of interface beyond what the plan's `LinkSpec` says of itself
//! (its kernel kind, parent and whether it is created from another namespace): how to
//! create it ([`add_message`]), its peer ([`peer`]) and the kernel feature it needs
//! ([`feature`]). A new kind of interface in the plan's `LinkSpec` is
//! added here (docs/contributing.md, "Adding a link kind — runtime"); the compiler
//! makes every `match` below fail until it is.
//!
//! Builders are pure: they take ifindexes (the engine gives them,
//! `crate::engine::Engine::ifindex`) and return the message. `tests/request_bytes.rs`
//! checks the bytes against what iproute2 sends for the same command.

use crate::error::LinkError;
use compiler::plan::{
    IpvlanMode as PlanIpvlanMode, LinkSpec, Mac, MacvlanMode as PlanMacvlanMode, VethPeer,
};
use rtnetlink::packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL};
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
    /// The ifindex conlink proposes for it in its namespace.
    pub index: u32,
    /// Namespace to create it in, when not the socket's own.
    pub netns_fd: Option<RawFd>,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    pub group: u32,
    pub spec: &'a LinkSpec,
    /// Ifindex of the parent (`link`) in the socket's namespace, for *vlan/*vtap
    /// (`LinkSpec::parent`).
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

/// Makes a create request (from [`add_message`]) leave the choice of ifindexes to the
/// kernel: the engine sends it again so when an index it proposed was taken
/// (`crate::engine`).
pub fn kernel_chooses(msg: &mut RouteNetlinkMessage) {
    let RouteNetlinkMessage::NewLink(m) = msg else {
        return;
    };
    m.header.index = 0;
    for a in m.attributes.iter_mut() {
        if let LinkAttribute::LinkInfo(infos) = a {
            for i in infos.iter_mut() {
                if let LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))) = i {
                    p.header.index = 0;
                }
            }
        }
    }
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

/// The flags `ip link property add` sends with its request (the kernel reads none of
/// them: adding a name an interface already has fails either way).
pub const ADD_PROPERTY: u16 = NLM_F_CREATE | NLM_F_EXCL | NLM_F_APPEND;

/// `ip link property add dev DEV altname NAME` (send with [`ADD_PROPERTY`]).
pub fn add_altname(index: u32, altname: &str) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewLinkProp(altname_message(index, altname))
}

/// `ip link property del dev DEV altname NAME`.
pub fn del_altname(index: u32, altname: &str) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelLinkProp(altname_message(index, altname))
}

fn altname_message(index: u32, altname: &str) -> LinkMessage {
    let mut m = by_index(index);
    m.attributes
        .push(LinkAttribute::PropList(vec![Prop::AltIfName(
            altname.to_string(),
        )]));
    m
}

// ---------------------------------------------------------------------------------
// What each kind of interface is.

/// The other end, created in the same request (a veth pair).
pub fn peer(spec: &LinkSpec) -> Option<&VethPeer> {
    match spec {
        LinkSpec::Veth { peer } => Some(peer),
        LinkSpec::Bridge
        | LinkSpec::Dummy
        | LinkSpec::Vlan { .. }
        | LinkSpec::Macvlan { .. }
        | LinkSpec::Macvtap { .. }
        | LinkSpec::Ipvlan { .. }
        | LinkSpec::Ipvtap { .. }
        | LinkSpec::Vxlan { .. }
        | LinkSpec::Geneve { .. } => None,
    }
}

/// The kernel feature a kind needs, with the module that provides it (named when the
/// kernel answers "Unknown device type").
pub fn feature(spec: &LinkSpec) -> &'static str {
    match spec {
        LinkSpec::Veth { .. } => "veth pairs (veth)",
        LinkSpec::Bridge => "bridges (bridge)",
        LinkSpec::Dummy => "dummy interfaces (dummy)",
        LinkSpec::Vlan { .. } => "vlan interfaces (8021q)",
        LinkSpec::Macvlan { .. } => "macvlan interfaces (macvlan)",
        LinkSpec::Macvtap { .. } => "macvtap interfaces (macvtap)",
        LinkSpec::Ipvlan { .. } => "ipvlan interfaces (ipvlan)",
        LinkSpec::Ipvtap { .. } => "ipvtap interfaces (ipvtap)",
        LinkSpec::Vxlan { .. } => "vxlan tunnels (vxlan)",
        LinkSpec::Geneve { .. } => "geneve tunnels (geneve)",
    }
}

/// The kernel kind names (`LinkSpec::kind_name`) of the kinds created from another
/// namespace (`LinkSpec::is_created_from_another_namespace`), for `destroy` without a state
/// file, which knows interfaces only as the kernel shows them.
pub const MADE_FROM_ELSEWHERE: &[&str] = &[
    "vxlan", "geneve", "macvlan", "macvtap", "ipvlan", "ipvtap", "vlan",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// One interface of every kind, each named after its kind.
    fn every_kind() -> Vec<LinkSpec> {
        let parent = || "eth0".to_string();
        let remote = "192.0.2.1".parse().unwrap();
        let peer = VethPeer {
            name: "p".into(),
            netns: compiler::plan::Ns::Host,
            mtu: None,
            mac: None,
            queues: None,
        };
        vec![
            LinkSpec::Veth { peer },
            LinkSpec::Bridge,
            LinkSpec::Dummy,
            LinkSpec::Vlan {
                parent: parent(),
                id: 5,
            },
            LinkSpec::Macvlan {
                parent: parent(),
                mode: None,
            },
            LinkSpec::Macvtap {
                parent: parent(),
                mode: None,
            },
            LinkSpec::Ipvlan {
                parent: parent(),
                mode: None,
            },
            LinkSpec::Ipvtap {
                parent: parent(),
                mode: None,
            },
            LinkSpec::Vxlan {
                vni: 1,
                remote,
                dstport: 4789,
            },
            LinkSpec::Geneve {
                vni: 1,
                remote,
                dstport: 6081,
            },
        ]
    }

    #[test]
    fn the_kinds_made_from_elsewhere_are_the_ones_destroy_looks_for() {
        let kinds = every_kind();
        let mut from_elsewhere: Vec<&str> = kinds
            .iter()
            .filter(|s| s.is_created_from_another_namespace())
            .map(LinkSpec::kind_name)
            .collect();
        from_elsewhere.sort_unstable();
        let mut listed = MADE_FROM_ELSEWHERE.to_vec();
        listed.sort_unstable();
        assert_eq!(from_elsewhere, listed);
        // Each has a parent or is a tunnel; nothing else does.
        for s in &kinds {
            let tunnel = matches!(s, LinkSpec::Vxlan { .. } | LinkSpec::Geneve { .. });
            assert_eq!(
                s.is_created_from_another_namespace(),
                s.parent().is_some() || tunnel,
                "{s:?}"
            );
        }
    }

    #[test]
    fn every_kind_is_built_with_its_kernel_kind() {
        for spec in every_kind() {
            let msg = add_message(&NewLink {
                name: "x",
                index: 7,
                netns_fd: None,
                mtu: None,
                mac: None,
                group: 1,
                spec: &spec,
                parent: spec.parent().map(|_| 2),
                peer: peer(&spec).map(|p| NewPeer {
                    name: &p.name,
                    index: 8,
                    netns_fd: None,
                    mtu: None,
                    mac: None,
                    queues: None,
                }),
                master: None,
                up: false,
            })
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
            let kinds: Vec<String> = msg
                .attributes
                .iter()
                .filter_map(|a| match a {
                    LinkAttribute::LinkInfo(infos) => Some(infos),
                    _ => None,
                })
                .flatten()
                .filter_map(|i| match i {
                    LinkInfo::Kind(k) => Some(k.to_string()),
                    _ => None,
                })
                .collect();
            assert_eq!(kinds, [spec.kind_name()], "{spec:?}");
        }
    }
}
