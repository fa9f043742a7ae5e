//! The plan: the compiler's output and the runtime's input (plan.md).
//!
//! A plan is an ordered list of [`Unit`]s, each an ordered list of [`Step`]s. A step is
//! one kernel-level action ([`Op`], the equivalent of one `ip`/`tc`/`ovs-vsctl`/
//! `ethtool`/`sysctl`/nft command), the namespace it runs in ([`Ns`], symbolic, never a
//! pid), and the action that undoes it. Everything in a plan is decided at compile time
//! and is deterministic; values only known at run time (pids, ifindexes, container ids,
//! conlink's external address) appear as symbols the runtime resolves.

use crate::model::BridgeMode;
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

// What the runtime needs besides the step types lives here too, so the plan module is
// the one thing the runtime imports from the compiler: the structured values steps
// carry, and the one-line rendering of a step used in messages.
pub use crate::model::CommandLine;
pub use crate::render::text::{op_line, EXTERNAL_ADDR, EXTERNAL_IF};
pub use crate::strings::ethtool::{Ethtool, FeatureSetting};
pub use crate::strings::netem::{Chance, Distribution, Netem, Percent};
pub use crate::strings::route::{Route, RouteTable};

/// Version of the plan's JSON shape; bumped on any incompatible change.
pub const PLAN_FORMAT: u32 = 1;

/// A compiled plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Version of this JSON shape.
    pub format: u32,
    /// Project name; namespaces and ownership marks include it so projects never collide.
    pub project: String,
    /// Interface group every created interface joins (derived from the project name), so
    /// the runtime can delete a project's interfaces in bulk.
    pub group: u32,
    /// Ownership mark (interface alias) every created interface carries.
    pub mark: String,
    /// Every bridge, with the mode it was given and the mode it will be realised as.
    pub bridges: Vec<BridgeDecision>,
    /// Replica counts used for each compose service.
    pub services: Vec<ServiceScale>,
    /// Units in apply order.
    pub units: Vec<Unit>,
}

/// How a bridge's mode was decided (plan.md: decided at plan time, shown in the plan).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BridgeDecision {
    /// Bridge name.
    pub name: String,
    /// The mode asked for (in the configuration, or `--default-bridge-mode`).
    pub requested: BridgeMode,
    /// The mode used: never `auto`.
    pub mode: BridgeMode,
    /// Why, when `requested` was `auto`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// The replica count of one compose service and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceScale {
    /// Service name.
    pub service: String,
    /// Number of replicas planned.
    pub replicas: u32,
    /// `compose` (scale / deploy.replicas), `option` (--scale) or `default` (1).
    pub source: String,
}

/// A group of steps applied and removed together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unit {
    /// Stable identifier: `network`, `node:NAME`, `container:NAME`, `service:NAME#I`,
    /// `patch:BRIDGE`.
    pub id: String,
    /// What the unit wires.
    pub kind: UnitKind,
    /// Units that must be applied before this one (always `network` for target units).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub after: Vec<String>,
    /// Steps in apply order.
    pub steps: Vec<Step>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// The shared network: conlink's namespace, nodes, bridges, tunnels.
    Network,
    /// One node's links and commands.
    Node,
    /// One container's links and commands (applied when the container runs).
    Container,
    /// One replica of a compose service (applied when that container runs).
    Service,
    /// The redirects of a patch bridge (applied once both its links exist).
    Patch,
}

/// One kernel-level action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// Stable identifier `UNIT/INDEX`.
    pub id: String,
    /// Where the step runs.
    pub ns: Ns,
    /// What it does.
    pub op: Op,
    /// What undoes it (run in the same namespace).
    pub undo: Op,
}

// ---------------------------------------------------------------------------------
// Namespaces.

/// A network namespace, named symbolically; the runtime resolves it when applying.
/// Names are shared (`Arc<str>`): every step of a unit carries its namespace, and a
/// large plan has hundreds of thousands of steps.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ns {
    /// conlink's own namespace (bridges, outer veth ends, tunnels).
    Conlink,
    /// The namespace conlink was started in (parents of *vlan/*vtap links, tunnel underlay).
    Host,
    /// A node namespace conlink creates.
    Node(Arc<str>),
    /// A container's namespace, by container name.
    Container(Arc<str>),
    /// Replica `replica` (1-based) of a compose service.
    Service(Arc<str>, u32),
}

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ns::Conlink => f.write_str("conlink"),
            Ns::Host => f.write_str("host"),
            Ns::Node(n) => write!(f, "node:{n}"),
            Ns::Container(n) => write!(f, "container:{n}"),
            Ns::Service(s, i) => write!(f, "service:{s}#{i}"),
        }
    }
}

impl std::str::FromStr for Ns {
    type Err = String;
    fn from_str(s: &str) -> Result<Ns, String> {
        let bad = || format!("not a namespace symbol: {s:?}");
        Ok(match s {
            "conlink" => Ns::Conlink,
            "host" => Ns::Host,
            _ => match s.split_once(':').ok_or_else(bad)? {
                ("node", n) => Ns::Node(n.into()),
                ("container", n) => Ns::Container(n.into()),
                ("service", rest) => {
                    let (svc, i) = rest.rsplit_once('#').ok_or_else(bad)?;
                    Ns::Service(svc.into(), i.parse().map_err(|_| bad())?)
                }
                _ => return Err(bad()),
            },
        })
    }
}

impl Serialize for Ns {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ns {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ns, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Ns {
    fn schema_name() -> Cow<'static, str> {
        "Ns".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A namespace symbol: `conlink`, `host`, `node:NAME`, `container:NAME` or `service:NAME#REPLICA`.",
            "type": "string",
            "pattern": "^(conlink|host|node:.+|container:.+|service:.+#[0-9]+)$"
        })
    }
}

// ---------------------------------------------------------------------------------
// Operations.

/// A MAC address, written `xx:xx:xx:xx:xx:xx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub fn parse(s: &str) -> Option<Mac> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in out.iter_mut() {
            let p = parts.next()?;
            if p.len() != 2 {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        parts.next().is_none().then_some(Mac(out))
    }

    pub fn to_u64(self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }

    pub fn from_u64(v: u64) -> Mac {
        let b = v.to_be_bytes();
        Mac([b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Mac, D::Error> {
        let s = String::deserialize(d)?;
        Mac::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a MAC address: {s:?}")))
    }
}

impl JsonSchema for Mac {
    fn schema_name() -> Cow<'static, str> {
        "Mac".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A MAC address `xx:xx:xx:xx:xx:xx` (lowercase hex).",
            "type": "string",
            "pattern": "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
        })
    }
}

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
        mode: Option<String>,
    },
    /// A macvtap on a parent interface in the step's namespace.
    Macvtap {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<String>,
    },
    /// An ipvlan on a parent interface in the step's namespace.
    Ipvlan {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<String>,
    },
    /// An ipvtap on a parent interface in the step's namespace.
    Ipvtap {
        parent: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<String>,
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

/// An OVS tunnel interface behind a port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OvsTunnel {
    /// `vxlan` or `geneve`.
    pub kind: String,
    pub remote: IpAddr,
    pub vni: u32,
    pub dstport: u16,
}

/// An nftables family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NftFamily {
    Ip,
    Ip6,
    Inet,
}

/// A base chain of a conlink-owned table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NftChain {
    pub name: String,
    /// Hook: `prerouting` or `postrouting`.
    pub hook: String,
    /// Chain type (`nat`).
    #[serde(rename = "type")]
    pub kind: String,
    pub priority: i32,
    pub rules: Vec<NftRule>,
}

/// A protocol and port match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PortMatch {
    /// `tcp` or `udp`.
    pub proto: String,
    pub dport: u16,
}

/// One rule of a conlink-owned chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum NftRule {
    /// Rewrite the destination of matching packets.
    Dnat {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        iifname: Option<String>,
        /// Match only packets entering through conlink's external interface (resolved at run time).
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        iif_external: bool,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        port: Option<PortMatch>,
        to: IpAddr,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        to_port: Option<u16>,
    },
    /// Rewrite the source of packets leaving through `oifname`.
    Snat {
        oifname: String,
        /// Only packets to this address (with `port`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        daddr: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        port: Option<PortMatch>,
        /// New source; `None` means conlink's external address (resolved at run time).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        to: Option<IpAddr>,
    },
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
    /// `ip addr add ADDR dev DEV`
    AddrAdd {
        dev: String,
        #[schemars(with = "String")]
        addr: IpNet,
    },
    /// `ip addr del ADDR dev DEV`
    AddrDel {
        dev: String,
        #[schemars(with = "String")]
        addr: IpNet,
    },
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
            Op::AddrAdd { dev: d, addr } => Op::AddrDel {
                dev: dev(d),
                addr: *addr,
            },
            Op::AddrDel { dev: d, addr } => Op::AddrAdd {
                dev: dev(d),
                addr: *addr,
            },
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

/// The JSON Schema of a plan's JSON form (committed at `schema/plan.schema.json`).
pub fn plan_schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(Plan);
    schema.insert("$id".into(), PLAN_SCHEMA_ID.into());
    schema
}

/// Stable identifier of the plan schema.
pub const PLAN_SCHEMA_ID: &str = "urn:conlink:schema:plan:v1";
