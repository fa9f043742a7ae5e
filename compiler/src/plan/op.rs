//! The actions of a plan ([`Op`]) and the action that undoes each (docs/plan.md,
//! "Steps and inverses"), written side by side so each pair is reviewed together.

use super::bridge::OvsTunnel;
use super::command::CommandLine;
use super::ethtool::Ethtool;
use super::link::LinkSpec;
use super::mac::Mac;
use super::netem::Netem;
use super::nft::{NftChain, NftFamily};
use super::ns::Ns;
use super::route::Route;
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A queueing discipline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Qdisc {
    /// `tc qdisc add dev DEV root netem …`
    Netem { netem: Box<Netem> },
    /// `tc qdisc add dev DEV ingress` (handle ffff:)
    Ingress,
}

/// Where a qdisc is attached, for deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QdiscParent {
    Root,
    Ingress,
}

/// One kernel-level action. Each variant reads like the command a person would type;
/// [`Op::inverse`] gives the action that undoes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Create the step's namespace (`ip netns add`). For `conlink` this is the project's
    /// namespace when conlink runs on a host; inside a container it is the container's
    /// own and nothing is created.
    NetnsAdd,
    /// Delete the step's namespace.
    NetnsDel,
    /// `sysctl -w KEY=VALUE` inside the namespace.
    Sysctl { key: String, value: String },
    /// Put back the value a `sysctl` step found (recorded by the runtime).
    SysctlRestore { key: String },
    /// `ip link add NAME … [master BRIDGE] [up] type KIND …`: create an interface with
    /// its final name, namespace, MTU, MAC, bridge and state in one request.
    LinkAdd {
        name: String,
        /// Namespace the interface is created in, when not the step's own (tunnels: the
        /// socket stays in the step's namespace, the device goes here).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        netns: Option<Ns>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mtu: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mac: Option<Mac>,
        /// The full generated name, when `name` had to be shortened to 15 bytes; the
        /// runtime records it as an altname where the kernel allows.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        altname: Option<String>,
        /// The bridge it is enslaved to from the start (`master BRIDGE`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        master: Option<String>,
        /// Created up (`up`). A veth's peer cannot be: the kernel opens it before the
        /// pair is joined, so the peer gets a step of its own.
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        up: bool,
        /// Boxed: the largest part of the largest op, and steps are many.
        spec: Box<LinkSpec>,
    },
    /// `ip link del NAME` (in `netns` when given). Deleting one end of a veth deletes both.
    LinkDel {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        netns: Option<Ns>,
    },
    /// `ip link set DEV up`
    LinkUp { dev: String },
    /// `ip link set DEV down`
    LinkDown { dev: String },
    /// `ip link set DEV master BRIDGE`
    LinkSetMaster { dev: String, master: String },
    /// `ip link set DEV nomaster`
    LinkSetNomaster { dev: String },
    /// `ip addr add ADDR dev DEV [nodad]`
    AddrAdd {
        dev: String,
        #[schemars(with = "String")]
        addr: IpNet,
        /// Added without duplicate address detection (`nodad`, IFA_F_NODAD): usable at
        /// once instead of "tentative" for a second or two. Every IPv6 address of a
        /// plan is: conlink assigns them all and refuses duplicates when compiling.
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        nodad: bool,
    },
    /// `ip addr del ADDR dev DEV`
    AddrDel {
        dev: String,
        #[schemars(with = "String")]
        addr: IpNet,
    },
    /// `ip link property add dev DEV altname NAME`: an extra name for an interface.
    /// The plan uses it for the ready marker (`super::ready`), added to a container's
    /// first interface once all of its unit's links are in place.
    AltnameAdd { dev: String, altname: String },
    /// `ip link property del dev DEV altname NAME`
    AltnameDel { dev: String, altname: String },
    /// `ip route add ROUTE dev DEV`
    RouteAdd { dev: String, route: Route },
    /// `ip route del ROUTE dev DEV`
    RouteDel { dev: String, route: Route },
    /// `ip route add EXTERNAL/32 dev DEV`: a host route to conlink's external address
    /// (only known at run time), for replies to forwarded ports.
    ExternalRouteAdd { dev: String },
    /// Delete the route added by `external_route_add`.
    ExternalRouteDel { dev: String },
    /// `tc qdisc add dev DEV root|ingress …`
    QdiscAdd { dev: String, qdisc: Qdisc },
    /// `tc qdisc del dev DEV root|ingress`
    QdiscDel { dev: String, parent: QdiscParent },
    /// `tc filter add dev DEV parent ffff: protocol all u32 match u32 0 0 action mirred
    /// egress redirect dev TO`: every frame entering DEV leaves through TO, unchanged.
    RedirectAdd { dev: String, to: String },
    /// Delete the redirect filter on DEV's ingress.
    RedirectDel { dev: String },
    /// `ethtool -K DEV FEATURE on|off …`
    Ethtool { dev: String, settings: Ethtool },
    /// Put back the feature values an `ethtool` step found (recorded by the runtime).
    EthtoolRestore { dev: String, features: Vec<String> },
    /// `ovs-vsctl add-br BRIDGE` (through OVSDB), marked with the plan's ownership mark
    /// in the bridge's `external_ids`.
    OvsBridgeAdd { bridge: String },
    /// `ovs-vsctl del-br BRIDGE`
    OvsBridgeDel { bridge: String },
    /// `ovs-vsctl add-port BRIDGE PORT [-- set interface PORT type=… options:…]`, marked
    /// with the plan's ownership mark in the port's `external_ids`.
    OvsPortAdd {
        bridge: String,
        port: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        tunnel: Option<OvsTunnel>,
    },
    /// `ovs-vsctl del-port BRIDGE PORT`
    OvsPortDel { bridge: String, port: String },
    /// `nft -f`: one conlink-owned table with its chains and rules, added atomically.
    NftTableAdd {
        family: NftFamily,
        table: String,
        chains: Vec<NftChain>,
    },
    /// `nft delete table FAMILY TABLE`
    NftTableDel { family: NftFamily, table: String },
    /// Run a command inside the namespace (for nodes: a child process of conlink; for
    /// containers: through the engine's exec).
    Exec { command: CommandLine },
    /// Stop the command an `exec` step started, if it still runs.
    ExecStop { command: CommandLine },
}

impl Op {
    /// `ip addr add ADDR dev DEV`, with `nodad` for an IPv6 address: how a plan adds
    /// every address (docs/decisions.md, "Readiness inside containers").
    pub fn addr_add(dev: String, addr: IpNet) -> Op {
        Op::AddrAdd {
            dev,
            addr,
            nodad: addr.addr().is_ipv6(),
        }
    }

    /// The action that undoes this one, written beside it so each pair is reviewed
    /// together. Undoing something already gone counts as success at run time.
    pub fn inverse(&self) -> Op {
        // Clones only what the inverse needs: plans have many steps, and a `LinkAdd`
        // carries far more than its `LinkDel` does.
        let dev = |d: &String| d.clone();
        match self {
            Op::NetnsAdd => Op::NetnsDel,
            Op::NetnsDel => Op::NetnsAdd,
            Op::Sysctl { key, .. } => Op::SysctlRestore { key: key.clone() },
            Op::SysctlRestore { key } => Op::Sysctl {
                key: key.clone(),
                value: String::new(),
            },
            Op::LinkAdd { name, netns, .. } | Op::LinkDel { name, netns } => Op::LinkDel {
                name: name.clone(),
                netns: netns.clone(),
            },
            Op::LinkUp { dev: d } => Op::LinkDown { dev: dev(d) },
            Op::LinkDown { dev: d } => Op::LinkUp { dev: dev(d) },
            Op::LinkSetMaster { dev: d, .. } | Op::LinkSetNomaster { dev: d } => {
                Op::LinkSetNomaster { dev: dev(d) }
            }
            Op::AddrAdd { dev: d, addr, .. } => Op::AddrDel {
                dev: dev(d),
                addr: *addr,
            },
            Op::AddrDel { dev: d, addr } => Op::addr_add(dev(d), *addr),
            Op::AltnameAdd { dev: d, altname } | Op::AltnameDel { dev: d, altname } => {
                Op::AltnameDel {
                    dev: dev(d),
                    altname: altname.clone(),
                }
            }
            Op::RouteAdd { dev: d, route } => Op::RouteDel {
                dev: dev(d),
                route: route.clone(),
            },
            Op::RouteDel { dev: d, route } => Op::RouteAdd {
                dev: dev(d),
                route: route.clone(),
            },
            Op::ExternalRouteAdd { dev: d } => Op::ExternalRouteDel { dev: dev(d) },
            Op::ExternalRouteDel { dev: d } => Op::ExternalRouteAdd { dev: dev(d) },
            Op::QdiscAdd { dev: d, qdisc } => {
                let parent = match qdisc {
                    Qdisc::Netem { .. } => QdiscParent::Root,
                    Qdisc::Ingress => QdiscParent::Ingress,
                };
                Op::QdiscDel {
                    dev: dev(d),
                    parent,
                }
            }
            Op::QdiscDel { dev: d, parent } => Op::QdiscDel {
                dev: dev(d),
                parent: *parent,
            },
            Op::RedirectAdd { dev: d, .. } | Op::RedirectDel { dev: d } => {
                Op::RedirectDel { dev: dev(d) }
            }
            Op::Ethtool { dev: d, settings } => Op::EthtoolRestore {
                dev: dev(d),
                features: settings
                    .features
                    .iter()
                    .map(|f| f.feature.clone())
                    .collect(),
            },
            Op::EthtoolRestore { dev: d, features } => Op::EthtoolRestore {
                dev: dev(d),
                features: features.clone(),
            },
            Op::OvsBridgeAdd { bridge } | Op::OvsBridgeDel { bridge } => Op::OvsBridgeDel {
                bridge: bridge.clone(),
            },
            Op::OvsPortAdd { bridge, port, .. } | Op::OvsPortDel { bridge, port } => {
                Op::OvsPortDel {
                    bridge: bridge.clone(),
                    port: port.clone(),
                }
            }
            Op::NftTableAdd { family, table, .. } | Op::NftTableDel { family, table } => {
                Op::NftTableDel {
                    family: *family,
                    table: table.clone(),
                }
            }
            Op::Exec { command } | Op::ExecStop { command } => Op::ExecStop {
                command: command.clone(),
            },
        }
    }
}
