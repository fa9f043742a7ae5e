//! Requests for features a kernel may lack, against this kernel. Where the kernel
//! refuses, `missing_kernel_feature` must name the feature, and the test records a
//! visible skip (it could not check the feature itself here); where the kernel has
//! the feature, what was created is read back.
//!
//! Interfaces the tests need as parents are made with `ip`; what is tested goes
//! through conlink's own requests.

use compiler::plan::{IpvlanMode, LinkSpec, MacvlanMode, Op, Qdisc, QdiscParent};
use compiler::strings::netem::parse_netem;
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::packet_route::tc::{TcActionAttribute, TcAttribute, TcFilterU32Option, TcOption};
use rtnetlink::packet_route::RouteNetlinkMessage;
use runtime::families::link::request::{self as link, NewLink};
use runtime::families::tc::{self, NetemParams, ROOT};
use runtime::features::missing_kernel_feature;
use runtime::netlink::{self, KernelError, Socket};
use runtime::observe;
use runtime::testing::{can_touch_kernel, skip, TempNetns};
use std::process::Command;

/// A namespace with a veth pair `p0`/`p1` (up), and a socket in it.
fn setup(test: &str) -> Option<(TempNetns, Socket, u32)> {
    if !can_touch_kernel(test) {
        return None;
    }
    let ns = TempNetns::new("cl-feat-").unwrap();
    for args in [
        &["link", "add", "p0", "type", "veth", "peer", "name", "p1"][..],
        &["link", "set", "p0", "up"],
        &["link", "set", "p1", "up"],
    ] {
        let out = Command::new("ip")
            .args(["-n", &ns.name])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
    }
    let sock = ns.run(Socket::route).unwrap();
    let p0 = ns.run(|| nix::net::if_::if_nametoindex("p0")).unwrap();
    Some((ns, sock, p0))
}

fn link_op(name: &str, spec: &LinkSpec) -> Op {
    Op::LinkAdd {
        name: name.into(),
        netns: None,
        mtu: None,
        mac: None,
        altname: None,
        master: None,
        up: false,
        spec: Box::new(spec.clone()),
    }
}

/// Creates an interface of `spec`'s kind with conlink's request; checks the refusal's
/// text or the readback.
fn try_link(test: &str, spec: LinkSpec, kind: &str, feature: &str, what: &str) {
    let Some((_ns, mut sock, p0)) = setup(test) else {
        return;
    };
    let name = "probe0";
    let index = 4000;
    let msg = link::add_message(&NewLink {
        name,
        index,
        netns_fd: None,
        mtu: None,
        mac: None,
        group: 4242,
        spec: &spec,
        parent: Some(p0),
        peer: None,
        master: None,
        up: false,
    })
    .unwrap();
    match sock.request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL) {
        Err(e) => {
            let e = refusal(Err(e));
            let text = missing_kernel_feature(&link_op(name, &spec), &e);
            assert_eq!(text.as_deref(), Some(feature), "{e:?}");
            skip(test, &format!("kernel has no {what}: {e}"));
        }
        Ok(()) => {
            let links = sock.dump(observe::dump_links()).unwrap();
            let read = links
                .iter()
                .filter_map(|m| match m {
                    RouteNetlinkMessage::NewLink(l) => Some(observe::read_link(l)),
                    _ => None,
                })
                .find(|l| l.index == index)
                .unwrap_or_else(|| panic!("no interface {index} after creating it"));
            assert_eq!(read.name, name);
            assert_eq!(read.kind.as_deref(), Some(kind));
            assert_eq!(read.group, Some(4242));
        }
    }
}

fn parent() -> String {
    "p0".into()
}

#[test]
fn vlan() {
    let spec = LinkSpec::Vlan {
        parent: parent(),
        id: 5,
    };
    let feature = "this kernel has no vlan interfaces (8021q)";
    try_link(
        "kernel_features::vlan",
        spec,
        "vlan",
        feature,
        "vlan (8021q)",
    );
}

#[test]
fn ipvlan() {
    let spec = LinkSpec::Ipvlan {
        parent: parent(),
        mode: Some(IpvlanMode::L2),
    };
    let feature = "this kernel has no ipvlan interfaces (ipvlan)";
    try_link(
        "kernel_features::ipvlan",
        spec,
        "ipvlan",
        feature,
        "ipvlan (ipvlan)",
    );
}

#[test]
fn ipvtap() {
    let spec = LinkSpec::Ipvtap {
        parent: parent(),
        mode: Some(IpvlanMode::L3),
    };
    let feature = "this kernel has no ipvtap interfaces (ipvtap)";
    try_link(
        "kernel_features::ipvtap",
        spec,
        "ipvtap",
        feature,
        "ipvtap (ipvtap)",
    );
}

#[test]
fn dummy() {
    let feature = "this kernel has no dummy interfaces (dummy)";
    try_link(
        "kernel_features::dummy",
        LinkSpec::Dummy,
        "dummy",
        feature,
        "dummy (dummy)",
    );
}

#[test]
fn geneve() {
    let spec = LinkSpec::Geneve {
        vni: 42,
        remote: "192.0.2.2".parse().unwrap(),
        dstport: 6081,
    };
    let feature = "this kernel has no geneve tunnels (geneve)";
    try_link(
        "kernel_features::geneve",
        spec,
        "geneve",
        feature,
        "geneve (geneve)",
    );
}

/// Kinds this test machine has: the same path, ending in the readback.
#[test]
fn macvlan_and_vxlan() {
    let spec = LinkSpec::Macvlan {
        parent: parent(),
        mode: Some(MacvlanMode::Bridge),
    };
    let feature = "this kernel has no macvlan interfaces (macvlan)";
    try_link(
        "kernel_features::macvlan",
        spec,
        "macvlan",
        feature,
        "macvlan (macvlan)",
    );
    let spec = LinkSpec::Vxlan {
        vni: 42,
        remote: "192.0.2.2".parse().unwrap(),
        dstport: 4789,
    };
    let feature = "this kernel has no vxlan tunnels (vxlan)";
    try_link(
        "kernel_features::vxlan",
        spec,
        "vxlan",
        feature,
        "vxlan (vxlan)",
    );
}

#[test]
fn netem_qdisc() {
    let test = "kernel_features::netem_qdisc";
    let Some((_ns, mut sock, p0)) = setup(test) else {
        return;
    };
    let netem = parse_netem(
        "delay 40ms 10ms 25% loss 1% duplicate 0.5% corrupt 0.1% 5% reorder 25% 50% gap 3 \
         rate 10mbit limit 500",
    )
    .unwrap();
    let op = Op::QdiscAdd {
        dev: "p0".into(),
        qdisc: Qdisc::Netem {
            netem: Box::new(netem.clone()),
        },
    };
    let request = tc::netem_qdisc_add(p0, &netem).unwrap();
    match sock.request(request, tc::ADD) {
        Err(e) => {
            let e = refusal(Err(e));
            let text = missing_kernel_feature(&op, &e);
            assert_eq!(
                text.as_deref(),
                Some("this kernel has no netem qdisc (sch_netem)"),
                "{e:?}"
            );
            skip(test, &format!("kernel has no netem (sch_netem): {e}"));
        }
        Ok(()) => {
            let qdiscs = tc::qdiscs(&mut sock, p0).unwrap();
            let root = qdiscs
                .iter()
                .find(|q| q.parent == ROOT)
                .unwrap_or_else(|| panic!("{qdiscs:?}"));
            assert_eq!(root.kind, "netem");
            assert_eq!(root.netem, Some(NetemParams::requested(&netem)));
            sock.request(tc::qdisc_del(p0, QdiscParent::Root), tc::DEL)
                .unwrap();
            let gone = refusal(sock.request(tc::qdisc_del(p0, QdiscParent::Root), tc::DEL));
            assert!(tc::is_gone(&gone), "{gone:?}");
        }
    }
}

/// The kernel's words for a missing classifier and a missing action, on requests shaped
/// like the redirect filter but naming `matchall` (classifier) or `gact` (action),
/// which this test machine lacks. Checks that the texts `missing_kernel_feature`
/// looks for are the ones the kernel sends.
#[test]
fn classifier_and_action_refusals() {
    let test = "kernel_features::classifier_and_action_refusals";
    let Some((_ns, mut sock, p0)) = setup(test) else {
        return;
    };
    sock.request(tc::ingress_qdisc_add(p0), tc::ADD).unwrap();
    let redirect = Op::RedirectAdd {
        dev: "p0".into(),
        to: "p1".into(),
    };
    let renamed = |classifier: &str, action: &str| {
        let RouteNetlinkMessage::NewTrafficFilter(mut m) = tc::redirect_filter_add(p0, p0) else {
            unreachable!()
        };
        for a in &mut m.attributes {
            match a {
                TcAttribute::Kind(k) => *k = classifier.into(),
                TcAttribute::Options(options) => {
                    for o in options {
                        if let TcOption::U32(TcFilterU32Option::Action(actions)) = o {
                            for attr in &mut actions[0].attributes {
                                if let TcActionAttribute::Kind(k) = attr {
                                    *k = action.into();
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        RouteNetlinkMessage::NewTrafficFilter(m)
    };
    for (classifier, action, feature) in [
        (
            "matchall",
            "mirred",
            "this kernel has no u32 classifier (cls_u32)",
        ),
        (
            "u32",
            "gact",
            "this kernel has no mirred action (act_mirred)",
        ),
    ] {
        match sock.request(renamed(classifier, action), tc::ADD) {
            Err(e) => {
                let e = refusal(Err(e));
                assert_eq!(
                    missing_kernel_feature(&redirect, &e).as_deref(),
                    Some(feature),
                    "{classifier}/{action}: {e:?}"
                )
            }
            Ok(()) => {
                skip(
                    test,
                    &format!("kernel has {classifier} and {action}: no refusal to check"),
                );
                return;
            }
        }
    }
}

/// The kernel's refusal of a request; any other failure fails the test.
fn refusal(r: Result<(), netlink::Error>) -> KernelError {
    match r {
        Err(netlink::Error::Kernel(k)) => k,
        other => panic!("expected the kernel to refuse the request, got {other:?}"),
    }
}
