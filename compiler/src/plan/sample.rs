//! A small hand-built plan that uses every [`Op`] variant, shared by the tests of the
//! plan's text and of the renderers. Built from values directly, not by parsing
//! configuration strings, so the plan's tests need nothing outside the plan.

use super::bridge::{BridgeMode, OvsTunnel, TunnelKind};
use super::command::CommandLine;
use super::ethtool::{Ethtool, FeatureSetting};
use super::link::{IpvlanMode, LinkSpec, MacvlanMode, VethPeer};
use super::mac::Mac;
use super::netem::{Chance, Delay, Netem, Percent};
use super::nft::{NftChain, NftChainType, NftFamily, NftHook, NftRule, PortMatch, Protocol};
use super::ns::Ns;
use super::op::{Op, Qdisc, QdiscParent};
use super::route::Route;
use super::units::{
    BridgeDecision, Plan, ScaleSource, ServiceScale, Step, Unit, UnitKind, PLAN_FORMAT,
};

fn parse<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("a valid sample value")
}

fn percent(whole: u32) -> Percent {
    Percent::from_ppb(whole * Percent::PPB_PER_PERCENT).expect("at most 100%")
}

fn feature(name: &str, enabled: bool) -> FeatureSetting {
    FeatureSetting {
        feature: name.into(),
        enabled,
    }
}

fn mac(last: u8) -> Mac {
    Mac([2, 0, 0, 0, 0, last])
}

/// A unit whose steps are `ops`, each with its inverse as undo.
fn unit(id: &str, kind: UnitKind, after: &[&str], ops: Vec<(Ns, Op)>) -> Unit {
    let steps = ops
        .into_iter()
        .enumerate()
        .map(|(i, (ns, op))| Step {
            id: format!("{id}/{i}"),
            ns,
            undo: op.inverse(),
            op,
        })
        .collect();
    Unit {
        id: id.to_string(),
        kind,
        after: after.iter().map(|a| a.to_string()).collect(),
        steps,
    }
}

pub(crate) fn sample_plan() -> Plan {
    let h1 = || Ns::Node("h1".into());
    let web1 = || Ns::Service("web".into(), 1);
    let dev = |name: &str| name.to_string();

    let network = unit(
        "network",
        UnitKind::Network,
        &[],
        vec![
            (Ns::Conlink, Op::NetnsAdd),
            (Ns::Conlink, Op::NetnsDel),
            (
                h1(),
                Op::Sysctl {
                    key: "net.ipv4.ip_forward".into(),
                    value: "1".into(),
                },
            ),
            (
                h1(),
                Op::Sysctl {
                    key: "kernel.msg note".into(),
                    value: "a b".into(),
                },
            ),
            (
                h1(),
                Op::SysctlRestore {
                    key: "net.ipv4.ip_forward".into(),
                },
            ),
            (
                Ns::Conlink,
                Op::LinkAdd {
                    name: dev("s1"),
                    netns: None,
                    mtu: Some(9000),
                    mac: None,
                    altname: None,
                    master: None,
                    up: false,
                    spec: Box::new(LinkSpec::Bridge),
                },
            ),
            (
                Ns::Conlink,
                Op::LinkAdd {
                    name: dev("d0"),
                    netns: None,
                    mtu: None,
                    mac: None,
                    altname: Some("d0-with-a-long-name".into()),
                    master: None,
                    up: false,
                    spec: Box::new(LinkSpec::Dummy),
                },
            ),
            (
                Ns::Host,
                Op::LinkAdd {
                    name: dev("vx1"),
                    netns: Some(Ns::Conlink),
                    mtu: None,
                    mac: None,
                    altname: None,
                    master: None,
                    up: false,
                    spec: Box::new(LinkSpec::Vxlan {
                        vni: 42,
                        remote: parse("192.168.1.2"),
                        dstport: 4789,
                    }),
                },
            ),
            (
                Ns::Host,
                Op::LinkAdd {
                    name: dev("gn1"),
                    netns: Some(Ns::Conlink),
                    mtu: None,
                    mac: None,
                    altname: None,
                    master: None,
                    up: false,
                    spec: Box::new(LinkSpec::Geneve {
                        vni: 7,
                        remote: parse("fd00::2"),
                        dstport: 6081,
                    }),
                },
            ),
            (
                Ns::Conlink,
                Op::LinkDel {
                    name: dev("vx1"),
                    netns: Some(h1()),
                },
            ),
            (
                Ns::Conlink,
                Op::LinkDel {
                    name: dev("d0"),
                    netns: None,
                },
            ),
            (Ns::Conlink, Op::LinkUp { dev: dev("s1") }),
            (Ns::Conlink, Op::LinkDown { dev: dev("s1") }),
            (
                Ns::Conlink,
                Op::LinkSetMaster {
                    dev: dev("vx1"),
                    master: dev("s1"),
                },
            ),
            (Ns::Conlink, Op::LinkSetNomaster { dev: dev("vx1") }),
            (Ns::Conlink, Op::OvsBridgeAdd { bridge: dev("s2") }),
            (Ns::Conlink, Op::OvsBridgeDel { bridge: dev("s2") }),
            (
                Ns::Conlink,
                Op::OvsPortAdd {
                    bridge: dev("s2"),
                    port: dev("web_1-eth0"),
                    tunnel: None,
                },
            ),
            (
                Ns::Conlink,
                Op::OvsPortAdd {
                    bridge: dev("s2"),
                    port: dev("vx2"),
                    tunnel: Some(OvsTunnel {
                        kind: TunnelKind::Vxlan,
                        remote: parse("192.168.1.3"),
                        vni: 100,
                        dstport: 4790,
                    }),
                },
            ),
            (
                Ns::Conlink,
                Op::OvsPortDel {
                    bridge: dev("s2"),
                    port: dev("vx2"),
                },
            ),
            (
                Ns::Conlink,
                Op::NftTableAdd {
                    family: NftFamily::Ip,
                    table: "conlink-demo".into(),
                    chains: vec![
                        NftChain {
                            name: "pre".into(),
                            hook: NftHook::Prerouting,
                            kind: NftChainType::Nat,
                            priority: -100,
                            rules: vec![
                                NftRule::Dnat {
                                    iifname: Some(dev("eth0")),
                                    iif_external: false,
                                    port: None,
                                    to: parse("10.0.0.1"),
                                    to_port: None,
                                },
                                NftRule::Dnat {
                                    iifname: None,
                                    iif_external: true,
                                    port: Some(PortMatch {
                                        proto: Protocol::Tcp,
                                        dport: 8080,
                                    }),
                                    to: parse("10.0.0.2"),
                                    to_port: Some(80),
                                },
                            ],
                        },
                        NftChain {
                            name: "post".into(),
                            hook: NftHook::Postrouting,
                            kind: NftChainType::Nat,
                            priority: 100,
                            rules: vec![
                                NftRule::Snat {
                                    oifname: dev("eth0"),
                                    daddr: None,
                                    port: None,
                                    to: Some(parse("10.0.0.9")),
                                },
                                NftRule::Snat {
                                    oifname: dev("s1"),
                                    daddr: Some(parse("10.0.0.2")),
                                    port: Some(PortMatch {
                                        proto: Protocol::Tcp,
                                        dport: 80,
                                    }),
                                    to: None,
                                },
                            ],
                        },
                    ],
                },
            ),
            (
                Ns::Conlink,
                Op::NftTableAdd {
                    family: NftFamily::Inet,
                    table: "conlink-demo6".into(),
                    chains: vec![NftChain {
                        name: "pre".into(),
                        hook: NftHook::Prerouting,
                        kind: NftChainType::Nat,
                        priority: -100,
                        rules: vec![NftRule::Dnat {
                            iifname: Some(dev("eth1")),
                            iif_external: false,
                            port: Some(PortMatch {
                                proto: Protocol::Udp,
                                dport: 53,
                            }),
                            to: parse("fd00::5"),
                            to_port: Some(5353),
                        }],
                    }],
                },
            ),
            (
                Ns::Conlink,
                Op::NftTableDel {
                    family: NftFamily::Ip,
                    table: "conlink-demo".into(),
                },
            ),
        ],
    );

    // `10.1.0.0/24 via 10.0.0.254 metric 5`
    let route = || Route {
        dst: parse("10.1.0.0/24"),
        via: Some(parse("10.0.0.254")),
        metric: Some(5),
        src: None,
        table: None,
        proto: None,
        scope: None,
        onlink: false,
    };
    let addr = || parse("10.0.0.1/24");
    let service = unit(
        "service:web#1",
        UnitKind::Service,
        &["network"],
        vec![
            (
                Ns::Conlink,
                Op::LinkAdd {
                    name: dev("web_1-eth0"),
                    netns: None,
                    mtu: Some(65535),
                    mac: None,
                    altname: None,
                    master: None,
                    up: false,
                    spec: Box::new(LinkSpec::Veth {
                        peer: VethPeer {
                            name: dev("eth0"),
                            netns: web1(),
                            mtu: Some(65535),
                            mac: Some(mac(1)),
                            queues: Some(1),
                        },
                    }),
                },
            ),
            (
                web1(),
                Op::AddrAdd {
                    dev: dev("eth0"),
                    addr: addr(),
                    nodad: false,
                },
            ),
            (
                web1(),
                Op::AddrDel {
                    dev: dev("eth0"),
                    addr: addr(),
                },
            ),
            (
                web1(),
                Op::AddrAdd {
                    dev: dev("eth0"),
                    addr: parse("fd00::1/64"),
                    nodad: true,
                },
            ),
            (
                web1(),
                Op::AltnameAdd {
                    dev: dev("eth0"),
                    altname: "conlink-ready.demo".into(),
                },
            ),
            (
                web1(),
                Op::AltnameDel {
                    dev: dev("eth0"),
                    altname: "conlink-ready.demo".into(),
                },
            ),
            (
                web1(),
                Op::RouteAdd {
                    dev: dev("eth0"),
                    route: route(),
                },
            ),
            (
                web1(),
                Op::RouteDel {
                    dev: dev("eth0"),
                    route: route(),
                },
            ),
            (web1(), Op::ExternalRouteAdd { dev: dev("eth0") }),
            (web1(), Op::ExternalRouteDel { dev: dev("eth0") }),
            (
                web1(),
                Op::QdiscAdd {
                    dev: dev("eth0"),
                    qdisc: Qdisc::Netem {
                        // `delay 40ms loss 1%`
                        netem: Box::new(Netem {
                            delay: Some(Delay {
                                time_ns: 40_000_000,
                                jitter_ns: None,
                                correlation: None,
                                distribution: None,
                            }),
                            loss: Some(Chance {
                                probability: percent(1),
                                correlation: None,
                            }),
                            ..Netem::default()
                        }),
                    },
                },
            ),
            (
                web1(),
                Op::QdiscDel {
                    dev: dev("eth0"),
                    parent: QdiscParent::Root,
                },
            ),
            (
                web1(),
                Op::Ethtool {
                    dev: dev("eth0"),
                    // `-K tx off rx on`
                    settings: Ethtool {
                        features: vec![feature("tx", false), feature("rx", true)],
                    },
                },
            ),
            (
                web1(),
                Op::EthtoolRestore {
                    dev: dev("eth0"),
                    features: vec!["tx".into(), "rx".into()],
                },
            ),
            (
                web1(),
                Op::Exec {
                    command: CommandLine::Shell("sleep 1 && echo ready".into()),
                },
            ),
            (
                web1(),
                Op::ExecStop {
                    command: CommandLine::Argv(
                        ["ip", "addr", "show", "dev", "eth0", "label with space"]
                            .map(String::from)
                            .to_vec(),
                    ),
                },
            ),
        ],
    );

    let on_eth1 = |name: &str, netns: Option<Ns>, mac: Option<Mac>, spec: LinkSpec| {
        (
            Ns::Host,
            Op::LinkAdd {
                name: dev(name),
                netns,
                mtu: None,
                mac,
                altname: None,
                master: None,
                up: false,
                spec: Box::new(spec),
            },
        )
    };
    let parent = || dev("eth1");
    let patch = unit(
        "patch:p1",
        UnitKind::Patch,
        &["network", "service:web#1"],
        vec![
            on_eth1(
                "mv0",
                Some(h1()),
                Some(mac(2)),
                LinkSpec::Macvlan {
                    parent: parent(),
                    mode: Some(MacvlanMode::Bridge),
                },
            ),
            on_eth1(
                "vt0",
                Some(h1()),
                None,
                LinkSpec::Macvtap {
                    parent: parent(),
                    mode: None,
                },
            ),
            on_eth1(
                "iv0",
                Some(h1()),
                None,
                LinkSpec::Ipvlan {
                    parent: parent(),
                    mode: Some(IpvlanMode::L2),
                },
            ),
            on_eth1(
                "it0",
                None,
                None,
                LinkSpec::Ipvtap {
                    parent: parent(),
                    mode: Some(IpvlanMode::L3),
                },
            ),
            on_eth1(
                "eth1.5",
                Some(h1()),
                None,
                LinkSpec::Vlan {
                    parent: parent(),
                    id: 5,
                },
            ),
            (
                Ns::Conlink,
                Op::QdiscAdd {
                    dev: dev("p1-a"),
                    qdisc: Qdisc::Ingress,
                },
            ),
            (
                Ns::Conlink,
                Op::QdiscDel {
                    dev: dev("p1-a"),
                    parent: QdiscParent::Ingress,
                },
            ),
            (
                Ns::Conlink,
                Op::RedirectAdd {
                    dev: dev("p1-a"),
                    to: dev("p1-b"),
                },
            ),
            (Ns::Conlink, Op::RedirectDel { dev: dev("p1-a") }),
        ],
    );

    Plan {
        format: PLAN_FORMAT,
        project: "demo".into(),
        group: 1234,
        mark: "conlink:demo".into(),
        bridges: vec![
            BridgeDecision {
                name: "s1".into(),
                requested: BridgeMode::Auto,
                mode: BridgeMode::Linux,
                reason: Some("Open vSwitch not available".into()),
            },
            BridgeDecision {
                name: "s2".into(),
                requested: BridgeMode::Ovs,
                mode: BridgeMode::Ovs,
                reason: None,
            },
            BridgeDecision {
                name: "p1".into(),
                requested: BridgeMode::Patch,
                mode: BridgeMode::Patch,
                reason: None,
            },
        ],
        services: vec![
            ServiceScale {
                service: "web".into(),
                replicas: 2,
                source: ScaleSource::Compose,
            },
            ServiceScale {
                service: "db".into(),
                replicas: 1,
                source: ScaleSource::Default,
            },
        ],
        units: vec![network, service, patch],
    }
}
