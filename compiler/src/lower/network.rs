//! The shared `network` unit: conlink's namespace, nodes, bridges and tunnels.

use super::context::{Lowering, Owner};
use super::unit::UnitBuilder;
use crate::diag::Diagnostic;
use crate::model::{BridgeMode, TunnelKind};
use crate::plan::{LinkSpec, Ns, Op, OvsTunnel, Qdisc, UnitKind};

pub(super) fn network_unit(cx: &mut Lowering) -> crate::plan::Unit {
    let mut u = UnitBuilder::new("network".into(), UnitKind::Network, Vec::new());
    let conlink = Ns::Conlink;
    u.step(&conlink, Op::NetnsAdd);
    // conlink's namespace is a switch: its bridges, outer veth ends and tunnel devices
    // carry frames, not IPv6 addresses of their own. Without IPv6 on them the kernel
    // skips link-local addresses, duplicate address detection and multicast listener
    // reports for each (hundreds of interfaces in a large topology), which makes
    // building the network markedly faster; frames of every kind still cross them.
    u.step(
        &conlink,
        Op::Sysctl {
            key: "net.ipv6.conf.default.disable_ipv6".into(),
            value: "1".into(),
        },
    );
    // Forwarded ports are routed through conlink's namespace.
    if cx.cfg.links.iter().any(|l| !l.forwards.is_empty()) {
        u.step(
            &conlink,
            Op::Sysctl {
                key: "net.ipv4.ip_forward".into(),
                value: "1".into(),
            },
        );
    }

    for n in &cx.cfg.nodes {
        let ns = Ns::Node(n.name.value.as_str().into());
        u.step(&ns, Op::NetnsAdd);
        // A new namespace has its loopback down (test-machine notes).
        u.step(&ns, Op::LinkUp { dev: "lo".into() });
        for (key, value) in &n.sysctls {
            u.step(
                &ns,
                Op::Sysctl {
                    key: key.clone(),
                    value: value.clone(),
                },
            );
        }
    }

    for b in &cx.cfg.bridges {
        let name = b.name.value.clone();
        match cx.mode(&name) {
            BridgeMode::Linux | BridgeMode::Auto => {
                cx.claim_conlink_name(&name, b.name.span, Owner::Bridge(name.clone()));
                u.step(
                    &conlink,
                    Op::LinkAdd {
                        name: name.clone(),
                        netns: None,
                        mtu: b.mtu,
                        mac: None,
                        altname: None,
                        master: None,
                        up: true,
                        spec: Box::new(LinkSpec::Bridge),
                    },
                );
            }
            BridgeMode::Ovs => {
                cx.claim_conlink_name(&name, b.name.span, Owner::Bridge(name.clone()));
                u.step(
                    &conlink,
                    Op::OvsBridgeAdd {
                        bridge: name.clone(),
                    },
                );
                u.step(&conlink, Op::LinkUp { dev: name });
            }
            // A patch has no device: its links are joined by the `patch:` unit.
            BridgeMode::Patch => {}
        }
    }

    for t in &cx.cfg.tunnels {
        let name = t.name();
        let bridge = t.bridge.value.clone();
        cx.claim_conlink_name(&name, t.span, Owner::Tunnel(t.kind.as_str(), t.vni));
        match cx.mode(&bridge) {
            BridgeMode::Ovs => {
                if let Some(at) = t.options_at {
                    cx.diags.push(
                        Diagnostic::error(
                            "conlink::lower::ovs_tunnel_options",
                            format!("tunnel {name} joins Open vSwitch bridge `{bridge}`, where it is an OVS port with no kernel device: `netem`, `ip`, `mtu` and `mac` cannot be set"),
                        )
                        .at(at, "cannot be set on an OVS tunnel port")
                        .also(t.bridge.span, "this bridge is an Open vSwitch bridge")
                        .help("put the tunnel on a linux bridge (`mode: linux`) to shape or address it"),
                    );
                }
                u.step(
                    &conlink,
                    Op::OvsPortAdd {
                        bridge,
                        port: name,
                        tunnel: Some(OvsTunnel {
                            kind: t.kind,
                            remote: t.remote,
                            vni: t.vni,
                            dstport: t.dstport,
                        }),
                    },
                );
            }
            BridgeMode::Linux | BridgeMode::Auto | BridgeMode::Patch => {
                let spec = match t.kind {
                    TunnelKind::Vxlan => LinkSpec::Vxlan {
                        vni: t.vni,
                        remote: t.remote,
                        dstport: t.dstport,
                    },
                    TunnelKind::Geneve => LinkSpec::Geneve {
                        vni: t.vni,
                        remote: t.remote,
                        dstport: t.dstport,
                    },
                };
                // Created from the underlay (the host namespace), straight into
                // conlink's: the UDP socket stays in the underlay (docs/plan.md,
                // "Namespaces").
                // Enslaved and up from the start: one request instead of three.
                u.step(
                    &Ns::Host,
                    Op::LinkAdd {
                        name: name.clone(),
                        netns: Some(Ns::Conlink),
                        mtu: t.mtu,
                        mac: t.mac,
                        altname: None,
                        master: Some(bridge),
                        up: true,
                        spec: Box::new(spec),
                    },
                );
                let ips: Vec<_> = t.ips.iter().map(|ip| ip.value).collect();
                if let Some(step) = super::link::ipv6_on(&conlink, &name, &ips) {
                    u.step(&conlink, step);
                }
                for ip in ips {
                    u.step(&conlink, Op::addr_add(name.clone(), ip));
                }
                if let Some(n) = &t.netem {
                    u.step(
                        &conlink,
                        Op::QdiscAdd {
                            dev: name,
                            qdisc: Qdisc::Netem {
                                netem: Box::new(n.clone()),
                            },
                        },
                    );
                }
            }
        }
    }
    u.finish()
}
