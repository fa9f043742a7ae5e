//! Kinds of interface a step creates ([`LinkSpec`]), what the plan knows about each
//! kind, and the kind-specific words of `ip link add … type KIND …`.
//!
//! Everything that depends on the kind is a method here with a match that names every
//! kind, so adding a kind fails to compile until each question is answered for it.

use super::mac::Mac;
use super::ns::Ns;
use super::words::Cmd;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The kind-specific part of a new interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LinkSpec {
    /// A veth pair; the step creates the first end, `peer` is the other.
    Veth { peer: VethPeer },
    /// A Linux bridge.
    Bridge,
    /// A dummy interface.
    Dummy,
    /// An 802.1Q VLAN on a parent interface in the step's namespace.
    Vlan { parent: String, id: u16 },
    /// A macvlan on a parent interface in the step's namespace.
    Macvlan {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<MacvlanMode>,
    },
    /// A macvtap on a parent interface in the step's namespace.
    Macvtap {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<MacvlanMode>,
    },
    /// An ipvlan on a parent interface in the step's namespace.
    Ipvlan {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<IpvlanMode>,
    },
    /// An ipvtap on a parent interface in the step's namespace.
    Ipvtap {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<IpvlanMode>,
    },
    /// A VXLAN tunnel device whose UDP socket lives in the step's namespace.
    Vxlan {
        vni: u32,
        remote: IpAddr,
        dstport: u16,
    },
    /// A Geneve tunnel device whose UDP socket lives in the step's namespace.
    Geneve {
        vni: u32,
        remote: IpAddr,
        dstport: u16,
    },
}

impl LinkSpec {
    /// The kernel's name for the kind (`IFLA_INFO_KIND`, as `ip link add … type KIND`
    /// takes it and `ip -d link` shows it).
    pub fn kind_name(&self) -> &'static str {
        match self {
            LinkSpec::Veth { .. } => "veth",
            LinkSpec::Bridge => "bridge",
            LinkSpec::Dummy => "dummy",
            LinkSpec::Vlan { .. } => "vlan",
            LinkSpec::Macvlan { .. } => "macvlan",
            LinkSpec::Macvtap { .. } => "macvtap",
            LinkSpec::Ipvlan { .. } => "ipvlan",
            LinkSpec::Ipvtap { .. } => "ipvtap",
            LinkSpec::Vxlan { .. } => "vxlan",
            LinkSpec::Geneve { .. } => "geneve",
        }
    }

    /// The interface the new one is created on (`ip link add link PARENT …`), in the
    /// step's namespace: the host-side parent of a *vlan/*vtap link.
    pub fn parent(&self) -> Option<&str> {
        match self {
            LinkSpec::Vlan { parent, .. }
            | LinkSpec::Macvlan { parent, .. }
            | LinkSpec::Macvtap { parent, .. }
            | LinkSpec::Ipvlan { parent, .. }
            | LinkSpec::Ipvtap { parent, .. } => Some(parent),
            LinkSpec::Veth { .. }
            | LinkSpec::Bridge
            | LinkSpec::Dummy
            | LinkSpec::Vxlan { .. }
            | LinkSpec::Geneve { .. } => None,
        }
    }

    /// Whether conlink creates this kind from one namespace into another: a tunnel
    /// from its underlay into conlink's namespace, a *vlan/*vtap from its parent's
    /// namespace into the target. Such an interface holds on to the namespace it was
    /// created from (the tunnel's socket, the parent) until the kernel has really
    /// deleted it, so teardown deletes these before the namespaces they live in. (A
    /// veth's peer is created in another namespace too, but the pair belongs to
    /// neither side: deleting either end deletes both.)
    pub fn is_created_from_another_namespace(&self) -> bool {
        match self {
            LinkSpec::Vlan { .. }
            | LinkSpec::Macvlan { .. }
            | LinkSpec::Macvtap { .. }
            | LinkSpec::Ipvlan { .. }
            | LinkSpec::Ipvtap { .. }
            | LinkSpec::Vxlan { .. }
            | LinkSpec::Geneve { .. } => true,
            LinkSpec::Veth { .. } | LinkSpec::Bridge | LinkSpec::Dummy => false,
        }
    }

    /// Transmit and receive queues asked for at creation, when the kind takes them
    /// (`numtxqueues`/`numrxqueues`, for each end of a veth).
    pub fn queues(&self) -> Option<u32> {
        match self {
            LinkSpec::Veth { peer } => peer.queues,
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

    /// Appends `type KIND …`: the kind and its own arguments, as `ip link add` ends.
    pub(crate) fn write_type<'c>(&self, cmd: &'c mut Cmd) -> &'c mut Cmd {
        cmd.raw("type").raw(self.kind_name());
        match self {
            LinkSpec::Veth { peer } => {
                cmd.raw("peer name")
                    .word(&peer.name)
                    .raw("netns")
                    .ns(&peer.netns);
                if let Some(mtu) = peer.mtu {
                    cmd.raw("mtu").raw(mtu);
                }
                if let Some(mac) = peer.mac {
                    cmd.raw("address").raw(mac);
                }
                if let Some(q) = peer.queues {
                    cmd.raw("numtxqueues").raw(q).raw("numrxqueues").raw(q);
                }
                cmd
            }
            LinkSpec::Bridge | LinkSpec::Dummy => cmd,
            LinkSpec::Vlan { id, .. } => cmd.raw("id").raw(id),
            LinkSpec::Macvlan { mode, .. } | LinkSpec::Macvtap { mode, .. } => {
                with_mode(cmd, mode.map(MacvlanMode::as_str))
            }
            LinkSpec::Ipvlan { mode, .. } | LinkSpec::Ipvtap { mode, .. } => {
                with_mode(cmd, mode.map(IpvlanMode::as_str))
            }
            LinkSpec::Vxlan {
                vni,
                remote,
                dstport,
            }
            | LinkSpec::Geneve {
                vni,
                remote,
                dstport,
            } => cmd
                .raw("id")
                .raw(vni)
                .raw("remote")
                .raw(remote)
                .raw("dstport")
                .raw(dstport),
        }
    }
}

fn with_mode<'c>(cmd: &'c mut Cmd, mode: Option<&str>) -> &'c mut Cmd {
    match mode {
        Some(mode) => cmd.raw("mode").word(mode),
        None => cmd,
    }
}

/// The second end of a veth pair, created in the same request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VethPeer {
    pub name: String,
    /// Namespace the peer is created in.
    pub netns: Ns,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<Mac>,
    /// Transmit and receive queues of each end (`numtxqueues`/`numrxqueues`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub queues: Option<u32>,
}

/// How a macvlan or macvtap shares its parent with its siblings. Where a plan gives
/// none, the runtime asks for `bridge` (not the kernel's default, `vepa`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MacvlanMode {
    /// Frames between interfaces on the same parent are dropped.
    Private,
    /// Frames between interfaces on the same parent go out to the switch on the parent,
    /// which may send them back (802.1Qbg VEPA).
    Vepa,
    /// Interfaces on the same parent reach each other directly.
    Bridge,
    /// The one interface on the parent takes over the parent's traffic.
    Passthru,
    /// Frames are accepted only from a list of source MAC addresses.
    Source,
}

impl MacvlanMode {
    /// Every mode, in the order `ip link` documents them.
    pub const ALL: [MacvlanMode; 5] = [
        MacvlanMode::Private,
        MacvlanMode::Vepa,
        MacvlanMode::Bridge,
        MacvlanMode::Passthru,
        MacvlanMode::Source,
    ];

    /// Every mode's name, in the same order.
    pub const NAMES: [&'static str; 5] = {
        let mut names = [""; 5];
        let mut i = 0;
        while i < names.len() {
            names[i] = MacvlanMode::ALL[i].as_str();
            i += 1;
        }
        names
    };

    /// The name as `ip link` and the configuration spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Passthru => "passthru",
            MacvlanMode::Source => "source",
        }
    }

    /// The mode of that name.
    pub fn from_name(name: &str) -> Option<MacvlanMode> {
        MacvlanMode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// The layer at which an ipvlan or ipvtap hands traffic to its parent. Where a plan
/// gives none, the runtime asks for `l3`, the kernel's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpvlanMode {
    /// Layer 2: the parent switches frames, broadcasts included.
    L2,
    /// Layer 3: the parent routes packets; no broadcast or multicast.
    L3,
    /// Layer 3 with netfilter on the traffic (connection tracking works).
    L3s,
}

impl IpvlanMode {
    /// Every mode, in the order `ip link` documents them.
    pub const ALL: [IpvlanMode; 3] = [IpvlanMode::L2, IpvlanMode::L3, IpvlanMode::L3s];

    /// Every mode's name, in the same order.
    pub const NAMES: [&'static str; 3] = {
        let mut names = [""; 3];
        let mut i = 0;
        while i < names.len() {
            names[i] = IpvlanMode::ALL[i].as_str();
            i += 1;
        }
        names
    };

    /// The name as `ip link` and the configuration spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            IpvlanMode::L2 => "l2",
            IpvlanMode::L3 => "l3",
            IpvlanMode::L3s => "l3s",
        }
    }

    /// The mode of that name.
    pub fn from_name(name: &str) -> Option<IpvlanMode> {
        IpvlanMode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}
