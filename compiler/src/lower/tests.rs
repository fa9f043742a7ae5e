//! Properties of lowered plans (docs/plan.md, "Properties"), checked on small
//! configurations compiled end to end (the examples' snapshots show whole plans; these
//! pin the rules).

use crate::load::interpolate::Env;
use crate::model::BridgeMode;
use crate::plan::{LinkSpec, Ns, Op, Plan, UnitKind};
use crate::source::{SourceFile, SourceKind};
use crate::{compile, Options};

fn plan(yaml: &str, opts: Options) -> Plan {
    let files = vec![SourceFile::new("t.yaml", yaml, SourceKind::Network)];
    let c = compile(files, &Env::new(), &opts);
    assert!(!c.diagnostics.has_errors(), "{:?}", c.diagnostics);
    c.plan.expect("a plan")
}

fn opts() -> Options {
    Options {
        project: Some("t".into()),
        ..Options::default()
    }
}

const TWO_NODES: &str = "
nodes: [{name: a}, {name: b}]
links:
  - {node: a, bridge: s1, ip: 10.0.0.1/24, mtu: 9000}
  - {node: b, bridge: s1, ip: 10.0.0.2/24}
";

#[test]
fn a_veth_is_one_request_with_both_ends_in_place() {
    let p = plan(TWO_NODES, opts());
    let unit = p.units.iter().find(|u| u.id == "node:a").unwrap();
    let adds: Vec<_> = unit
        .steps
        .iter()
        .filter(|s| matches!(s.op, Op::LinkAdd { .. }))
        .collect();
    assert_eq!(adds.len(), 1);
    let Op::LinkAdd {
        name,
        netns,
        mtu,
        spec,
        ..
    } = &adds[0].op
    else {
        unreachable!()
    };
    assert_eq!(adds[0].ns, Ns::Conlink);
    assert_eq!((name.as_str(), netns, *mtu), ("a-eth0", &None, Some(9000)));
    let LinkSpec::Veth { peer } = spec.as_ref() else {
        panic!("not a veth: {spec:?}")
    };
    assert_eq!(peer.name, "eth0");
    assert_eq!(peer.netns, Ns::Node("a".into()));
    assert_eq!(peer.mtu, Some(9000));
    assert!(
        peer.mac.is_some(),
        "the inner end's MAC is derived and set at creation"
    );
    // Nothing is ever moved between namespaces after creation.
    assert!(p.units.iter().flat_map(|u| &u.steps).all(|s| !matches!(&s.op, Op::LinkAdd { netns: Some(n), spec, .. } if matches!(spec.as_ref(), LinkSpec::Veth { .. }) && *n != s.ns)));
}

#[test]
fn every_step_carries_its_inverse_and_a_unique_id() {
    let p = plan(TWO_NODES, opts());
    let mut ids = std::collections::BTreeSet::new();
    for u in &p.units {
        for (i, s) in u.steps.iter().enumerate() {
            assert_eq!(s.undo, s.op.inverse());
            assert_eq!(s.id, format!("{}/{i}", u.id));
            assert!(ids.insert(s.id.clone()), "duplicate step id {}", s.id);
        }
    }
    assert_eq!(p.units[0].id, "network");
    assert_eq!(p.units[0].kind, UnitKind::Network);
    assert!(p.units[1..].iter().all(|u| u.after == ["network"]));
}

#[test]
fn patch_bridges_get_their_own_unit_after_both_ends() {
    let yaml = "
nodes: [{name: a}, {name: b}]
bridges: [{bridge: w, mode: patch}]
links: [{node: a, bridge: w}, {node: b, bridge: w}]
";
    let p = plan(yaml, opts());
    let ids: Vec<&str> = p.units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["network", "node:a", "node:b", "patch:w"]);
    let patch = &p.units[3];
    assert_eq!(patch.after, ["node:a", "node:b"]);
    let redirects: Vec<(&str, &str)> = patch
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::RedirectAdd { dev, to } => Some((dev.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(redirects, [("a-eth0", "b-eth0"), ("b-eth0", "a-eth0")]);
    // No bridge device and no enslaving for a patch.
    assert!(p
        .units
        .iter()
        .flat_map(|u| &u.steps)
        .all(|s| !matches!(s.op, Op::LinkSetMaster { .. })));
}

#[test]
fn tunnels_are_created_from_the_underlay_into_conlinks_namespace() {
    let yaml = "tunnels: [{type: vxlan, bridge: s1, remote: 192.0.2.2, vni: 7}]";
    let p = plan(yaml, opts());
    let step = p.units[0]
        .steps
        .iter()
        .find(|s| matches!(s.op, Op::LinkAdd { ref name, .. } if name == "vxlan-7"))
        .unwrap();
    assert_eq!(step.ns, Ns::Host);
    let Op::LinkAdd { netns, spec, .. } = &step.op else {
        unreachable!()
    };
    assert_eq!(netns, &Some(Ns::Conlink));
    assert!(matches!(
        spec.as_ref(),
        LinkSpec::Vxlan {
            vni: 7,
            dstport: 4789,
            ..
        }
    ));
}

#[test]
fn auto_bridges_follow_the_ovs_input_and_say_why() {
    let linux = plan(TWO_NODES, opts());
    let ovs = plan(
        TWO_NODES,
        Options {
            ovs_available: true,
            ..opts()
        },
    );
    assert_eq!(linux.bridges[0].mode, BridgeMode::Linux);
    assert_eq!(ovs.bridges[0].mode, BridgeMode::Ovs);
    assert_eq!(ovs.bridges[0].requested, BridgeMode::Auto);
    assert!(ovs.bridges[0].reason.is_some());
    let forced = plan(
        TWO_NODES,
        Options {
            ovs_available: true,
            default_bridge_mode: BridgeMode::Linux,
            ..opts()
        },
    );
    assert_eq!(forced.bridges[0].mode, BridgeMode::Linux);
    assert!(forced.bridges[0].reason.is_none());
}

#[test]
fn long_outer_names_are_shortened_and_keep_the_full_name() {
    let yaml = "
nodes: [{name: database-primary}]
links: [{node: database-primary, bridge: s1}]
";
    let p = plan(yaml, opts());
    let add = p.units[1].steps.iter().find_map(|s| match &s.op {
        Op::LinkAdd { name, altname, .. } => Some((name.clone(), altname.clone())),
        _ => None,
    });
    let (name, altname) = add.unwrap();
    assert!(name.len() <= 15, "{name}");
    assert_eq!(altname.as_deref(), Some("database-primary-eth0"));
}

#[test]
fn options_change_defaults_as_documented() {
    let p = plan(
        TWO_NODES,
        Options {
            default_mtu: Some(1500),
            keep_veth_offload: true,
            ..opts()
        },
    );
    let b = p.units.iter().find(|u| u.id == "node:b").unwrap();
    assert!(b.steps.iter().any(|s| matches!(
        s.op,
        Op::LinkAdd {
            mtu: Some(1500),
            ..
        }
    )));
    assert!(
        b.steps.iter().all(|s| !matches!(s.op, Op::Ethtool { .. })),
        "--keep-veth-offload keeps offloads"
    );
    let p = plan(TWO_NODES, opts());
    let b = p.units.iter().find(|u| u.id == "node:b").unwrap();
    assert!(b.steps.iter().any(|s| matches!(
        s.op,
        Op::LinkAdd {
            mtu: Some(65535),
            ..
        }
    )));
}

#[test]
fn compiling_twice_gives_the_same_plan() {
    assert_eq!(plan(TWO_NODES, opts()), plan(TWO_NODES, opts()));
}

/// The ready marker: the last step of a container's or replica's links, on its first
/// link's interface, before its commands; never on a node.
#[test]
fn container_and_replica_units_end_their_links_with_the_ready_marker() {
    let yaml = "
nodes: [{name: n}]
links:
  - {container: db, bridge: s1, dev: eth1, ip: 10.0.0.1/24}
  - {container: db, bridge: s1, dev: eth2, route: default via 10.0.0.9}
  - {service: web, bridge: s1}
  - {node: n, bridge: s1}
commands:
  - {container: db, command: echo up}
";
    let p = plan(yaml, opts());
    let marker = |dev: &str| Op::AltnameAdd {
        dev: dev.into(),
        altname: "conlink-ready.t".into(),
    };
    let db = p.units.iter().find(|u| u.id == "container:db").unwrap();
    let ops: Vec<&Op> = db.steps.iter().map(|s| &s.op).collect();
    let at = ops.iter().position(|op| **op == marker("eth1"));
    let at = at.expect("the marker on the first link's interface");
    assert_eq!(db.steps[at].ns, Ns::Container("db".into()));
    assert!(matches!(ops[at + 1], Op::Exec { .. }), "{ops:?}");
    assert!(
        ops[..at]
            .iter()
            .any(|op| matches!(op, Op::RouteAdd { dev, .. } if dev == "eth2")),
        "after every step of the second link: {ops:?}"
    );
    assert_eq!(
        db.steps[at].undo,
        Op::AltnameDel {
            dev: "eth1".into(),
            altname: "conlink-ready.t".into(),
        }
    );
    let web = p.units.iter().find(|u| u.id == "service:web#1").unwrap();
    assert_eq!(web.steps.last().map(|s| &s.op), Some(&marker("eth0")));
    let n = p.units.iter().find(|u| u.id == "node:n").unwrap();
    assert!(n
        .steps
        .iter()
        .all(|s| !matches!(s.op, Op::AltnameAdd { .. })));
}

/// IPv6 addresses are added without duplicate address detection; IPv4 ones have none
/// to skip.
#[test]
fn ipv6_addresses_are_added_without_dad() {
    let yaml = r#"
nodes: [{name: a}]
links:
  - {node: a, bridge: s1, ip: [10.0.0.1/24, "fd00::1/64"]}
"#;
    let p = plan(yaml, opts());
    let adds: Vec<(String, bool)> = p
        .units
        .iter()
        .flat_map(|u| &u.steps)
        .filter_map(|s| match &s.op {
            Op::AddrAdd { addr, nodad, .. } => Some((addr.to_string(), *nodad)),
            _ => None,
        })
        .collect();
    assert_eq!(
        adds,
        [
            ("10.0.0.1/24".to_string(), false),
            ("fd00::1/64".to_string(), true)
        ]
    );
}

/// The `sysctl` steps of unit `unit`, as (namespace, key, value).
fn sysctls(p: &Plan, unit: &str) -> Vec<(Ns, String, String)> {
    let u = p.units.iter().find(|u| u.id == unit).expect(unit);
    u.steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::Sysctl { key, value } => Some((s.ns.clone(), key.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn ipv6_is_switched_on_for_each_created_container_interface_with_an_ipv6_address() {
    let p = plan(
        "
nodes: [{name: n}]
links:
  - {container: c, bridge: s1, ip: fd00::1/64}
  - {container: c, dev: eth1, bridge: s1, ip: 10.0.0.1/24}
  - {container: c, dev: eth0.10, type: vlan, outer-dev: eth9, vlanid: 10, ip: [10.1.0.1/24, fd01::1/64]}
  - {node: n, bridge: s1, ip: fd00::2/64}
",
        opts(),
    );
    let c = Ns::Container("c".into());
    // One step per interface with an IPv6 address, in the container, never `all` or
    // `default`; a `.` in the name is a `/` in the key; an IPv4-only one has none.
    assert_eq!(
        sysctls(&p, "container:c"),
        vec![
            (
                c.clone(),
                "net.ipv6.conf.eth0.disable_ipv6".into(),
                "0".into()
            ),
            (c, "net.ipv6.conf.eth0/10.disable_ipv6".into(), "0".into()),
        ]
    );
    // A node's namespace is conlink's own, with IPv6 on from the start.
    assert_eq!(sysctls(&p, "node:n"), vec![]);
    // Before the interface's first address, after it is created.
    let unit = p.units.iter().find(|u| u.id == "container:c").unwrap();
    let at = |f: &dyn Fn(&Op) -> bool| unit.steps.iter().position(|s| f(&s.op)).unwrap();
    let on = at(&|o| matches!(o, Op::Sysctl { key, .. } if key.contains("eth0.")));
    let created = at(
        &|o| matches!(o, Op::LinkAdd { spec, .. } if matches!(spec.as_ref(), LinkSpec::Veth { .. })),
    );
    let first_addr = at(&|o| matches!(o, Op::AddrAdd { dev, .. } if dev == "eth0"));
    assert!(created < on && on < first_addr, "{:#?}", unit.steps);
}

#[test]
fn a_tunnel_with_an_ipv6_address_gets_ipv6_back_in_conlinks_namespace() {
    // The network unit turns IPv6 off by default in conlink's namespace; a tunnel
    // given an IPv6 address needs it on for its device, before the address.
    let p = plan(
        "tunnels:
  - {type: vxlan, bridge: s1, remote: 192.0.2.2, vni: 7, ip: fd07::1/64}
  - {type: vxlan, bridge: s1, remote: 192.0.2.3, vni: 8, ip: 10.7.0.1/24}
",
        opts(),
    );
    let steps = &p.units[0].steps;
    let keys: Vec<&str> = steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::Sysctl { key, value } if value == "0" => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, vec!["net.ipv6.conf.vxlan-7.disable_ipv6"]);
    let at = |f: &dyn Fn(&Op) -> bool| steps.iter().position(|s| f(&s.op)).unwrap();
    let on = at(&|o| matches!(o, Op::Sysctl { key, .. } if key.contains("vxlan-7")));
    let created = at(&|o| matches!(o, Op::LinkAdd { name, .. } if name == "vxlan-7"));
    let addr = at(&|o| matches!(o, Op::AddrAdd { dev, .. } if dev == "vxlan-7"));
    assert!(created < on && on < addr, "{steps:#?}");
    assert_eq!(steps[on].ns, Ns::Conlink);
}
