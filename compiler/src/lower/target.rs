//! Units for target instances (nodes, containers, service replicas) and patch bridges.

use super::names::{
    derived_mac, fit_interface_name, long_outer_name, offset_addr, offset_mac, OffsetError,
};
use super::{target_ns, Lowering, Owner, UnitBuilder, MAX_REPLICAS};
use crate::check::{CheckedCommand, CheckedLink};
use crate::diag::Diagnostic;
use crate::model::{BridgeMode, LinkKind, Target};
use crate::plan::{
    IpvlanMode, LinkSpec, MacvlanMode, NftChain, NftChainType, NftFamily, NftHook, NftRule, Ns, Op,
    PortMatch, Qdisc, Route, Unit, UnitKind, VethPeer,
};
use crate::source::Span;
use indexmap::IndexMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// One end of a patch bridge: the outer interface and the unit that creates it.
struct PatchEnd {
    outer: String,
    unit: String,
}

/// Every target in order of first appearance, each expanded into its instances.
pub(super) fn target_units(cx: &mut Lowering) -> Vec<Unit> {
    // Group links and commands by target once, so each instance only visits its own.
    let cfg = cx.cfg;
    let mut targets: IndexMap<&Target, Members> = IndexMap::new();
    for l in &cfg.links {
        let m = targets
            .entry(&l.target)
            .or_insert_with(|| Members::at(l.span));
        m.links.push(l);
    }
    for c in &cfg.commands {
        let m = targets
            .entry(&c.target)
            .or_insert_with(|| Members::at(c.span));
        m.commands.push(c);
    }
    let mut units = Vec::new();
    for (target, members) in targets {
        let span = members.span;
        let replicas: Vec<Option<u32>> = match &target {
            Target::Service(s) => {
                let n = cx.replicas(s);
                if n > MAX_REPLICAS {
                    cx.diags.push(
                        Diagnostic::error(
                            "conlink::lower::too_many_replicas",
                            format!("service `{s}` has {n} replicas; conlink plans at most {MAX_REPLICAS}"),
                        )
                        .at(span, "this service"),
                    );
                    continue;
                }
                (1..=n).map(Some).collect()
            }
            _ => vec![None],
        };
        for replica in replicas {
            units.push(instance_unit(cx, target, &members, replica));
        }
    }
    units
}

/// The links and commands of one target, in configuration order.
struct Members<'a> {
    span: Span,
    links: Vec<&'a CheckedLink>,
    commands: Vec<&'a CheckedCommand>,
}

impl Members<'_> {
    fn at(span: Span) -> Self {
        Members {
            span,
            links: Vec::new(),
            commands: Vec::new(),
        }
    }
}

fn instance_unit(
    cx: &mut Lowering,
    target: &Target,
    members: &Members,
    replica: Option<u32>,
) -> Unit {
    let ns = target_ns(target, replica);
    let kind = match target {
        Target::Service(_) => UnitKind::Service,
        Target::Container(_) => UnitKind::Container,
        Target::Node(_) => UnitKind::Node,
    };
    let mut u = UnitBuilder::new(ns.to_string(), kind, vec!["network".into()]);
    for l in &members.links {
        lower_link(cx, &mut u, l, &ns, replica);
    }
    for c in &members.commands {
        u.step(
            &ns,
            Op::Exec {
                command: c.command.clone(),
            },
        );
    }
    u.finish()
}

fn lower_link(
    cx: &mut Lowering,
    u: &mut UnitBuilder,
    l: &CheckedLink,
    ns: &Ns,
    replica: Option<u32>,
) {
    let offset = replica.map_or(0, |i| i - 1);
    let dev = l.dev.value.clone();

    let mut ips = Vec::new();
    for ip in &l.ips {
        match offset_addr(ip.value, offset) {
            Ok(a) => ips.push(a),
            // One error per address, at the first replica that fails, not one per replica.
            Err(e) if cx.reported.insert(ip.span) => {
                let (what, addr) = match e {
                    OffsetError::LeavesSubnet(a) => ("leaves the subnet", a),
                    OffsetError::Broadcast(a) => ("is the broadcast address of", a),
                };
                let total = match &l.target {
                    Target::Service(s) => cx.replicas(s),
                    _ => 1,
                };
                let which = if total > offset + 1 {
                    format!("replicas {}-{total}", offset + 1)
                } else {
                    format!("replica {}", offset + 1)
                };
                cx.diags.push(
                    Diagnostic::error(
                        "conlink::lower::scaled_address",
                        format!("{which} of {} cannot be addressed: replica {} gets {addr}, which {what} {}", l.target, offset + 1, ip.value.trunc()),
                    )
                    .at(ip.span, "address of replica 1; replica i gets it + (i-1)")
                    .help("use a larger subnet, a lower starting address, or fewer replicas"),
                );
            }
            Err(_) => {}
        }
    }

    let mac = match (&l.mac, l.kind) {
        (_, LinkKind::Ipvlan | LinkKind::Ipvtap) => None,
        (Some(m), _) => match offset_mac(m.value, offset) {
            Some(m) => Some(m),
            None => {
                if cx.reported.insert(m.span) {
                    cx.diags.push(
                        Diagnostic::error(
                            "conlink::lower::scaled_mac",
                            format!(
                                "replica {} of {} has no valid MAC: {m} + {offset} is past ff:ff:ff:ff:ff:ff or a multicast address",
                                offset + 1,
                                l.target,
                                m = m.value
                            ),
                        )
                        .at(m.span, "MAC of replica 1; replica i gets it + (i-1)")
                        .help("start from a lower address, e.g. `02:00:00:00:00:01`"),
                    );
                }
                None
            }
        },
        (None, _) => Some(derived_mac(&cx.opts.project, &l.target, replica, &dev)),
    };
    let mtu = l.mtu.or(match l.kind {
        LinkKind::Veth | LinkKind::Dummy => Some(cx.opts.default_mtu.unwrap_or(65535)),
        _ => None,
    });

    match l.kind {
        LinkKind::Veth => {
            let (outer, altname) = match &l.outer_dev {
                Some(o) if replica.is_some_and(|_| cx.replicas(l.target.name()) > 1) => {
                    if cx.reported.insert(o.span) {
                        cx.diags.push(
                            Diagnostic::error(
                                "conlink::lower::scaled_outer_dev",
                                format!("`outer-dev` `{}` would name the outer end of every replica of {}", o.value, l.target),
                            )
                            .at(o.span, "one name for several interfaces")
                            .help("remove `outer-dev`: conlink then names each replica's outer end `<service>_<i>-<dev>`"),
                        );
                    }
                    return;
                }
                Some(o) => (o.value.clone(), None),
                None => fit_interface_name(&long_outer_name(&l.target, replica, &dev)),
            };
            let at = l.outer_dev.as_ref().map_or(l.span, |o| o.span);
            cx.claim_conlink_name(&outer, at, Owner::OuterEnd(ns.clone(), dev.clone()));
            let bridge = l
                .bridge
                .as_ref()
                .map(|b| b.value.clone())
                .unwrap_or_default();
            let mode = cx.mode(&bridge);
            // The outer end is created enslaved to its Linux bridge and up, in the same
            // request as the pair (iproute2 accepts `master` and `up` in `ip link add`):
            // two requests fewer per link.
            let master =
                matches!(mode, BridgeMode::Linux | BridgeMode::Auto).then(|| bridge.clone());
            u.step(
                &Ns::Conlink,
                Op::LinkAdd {
                    name: outer.clone(),
                    netns: None,
                    mtu,
                    mac: None,
                    altname,
                    master,
                    up: true,
                    spec: Box::new(LinkSpec::Veth {
                        peer: VethPeer {
                            name: dev.clone(),
                            netns: ns.clone(),
                            mtu,
                            mac,
                            // One queue each way, which is what the kernel cuts a
                            // veth down to anyway; asked for at creation, it spares
                            // an RCU synchronisation (~0.3 ms) per pair.
                            queues: Some(1),
                        },
                    }),
                },
            );
            match mode {
                BridgeMode::Ovs => u.step(
                    &Ns::Conlink,
                    Op::OvsPortAdd {
                        bridge: bridge.clone(),
                        port: outer.clone(),
                        tunnel: None,
                    },
                ),
                BridgeMode::Patch => {
                    cx.patch_ends.entry(bridge.clone()).or_default().push((
                        outer.clone(),
                        ns.to_string(),
                        at,
                    ));
                }
                _ => {}
            }
            if !cx.opts.keep_veth_offload {
                // conlink 2.x turns TX checksum offload off on veths: checksums left to
                // the hardware never get filled in when frames cross namespaces.
                u.step(
                    ns,
                    Op::Ethtool {
                        dev: dev.clone(),
                        settings: cx.veth_offload.clone(),
                    },
                );
            }
        }
        LinkKind::Dummy => u.step(
            ns,
            Op::LinkAdd {
                name: dev.clone(),
                netns: None,
                mtu,
                mac,
                altname: None,
                master: None,
                up: false,
                spec: Box::new(LinkSpec::Dummy),
            },
        ),
        kind => {
            let parent = l
                .outer_dev
                .as_ref()
                .map(|o| o.value.clone())
                .unwrap_or_default();
            let macvlan_mode = l.mode.as_deref().and_then(MacvlanMode::from_name);
            let ipvlan_mode = l.mode.as_deref().and_then(IpvlanMode::from_name);
            let spec = match kind {
                LinkKind::Vlan => LinkSpec::Vlan {
                    parent,
                    id: l.vlanid.unwrap_or(1),
                },
                LinkKind::Macvlan => LinkSpec::Macvlan {
                    parent,
                    mode: macvlan_mode,
                },
                LinkKind::Macvtap => LinkSpec::Macvtap {
                    parent,
                    mode: macvlan_mode,
                },
                LinkKind::Ipvlan => LinkSpec::Ipvlan {
                    parent,
                    mode: ipvlan_mode,
                },
                _ => LinkSpec::Ipvtap {
                    parent,
                    mode: ipvlan_mode,
                },
            };
            // Created on the parent in the host namespace, straight into the target.
            u.step(
                &Ns::Host,
                Op::LinkAdd {
                    name: dev.clone(),
                    netns: Some(ns.clone()),
                    mtu,
                    mac,
                    altname: None,
                    master: None,
                    up: false,
                    spec: Box::new(spec),
                },
            );
        }
    }

    for settings in &l.ethtool {
        u.step(
            ns,
            Op::Ethtool {
                dev: dev.clone(),
                settings: settings.clone(),
            },
        );
    }
    for addr in &ips {
        u.step(
            ns,
            Op::AddrAdd {
                dev: dev.clone(),
                addr: *addr,
            },
        );
    }
    u.step(ns, Op::LinkUp { dev: dev.clone() });
    for r in &l.routes {
        u.step(
            ns,
            Op::RouteAdd {
                dev: dev.clone(),
                route: r.value.clone(),
            },
        );
    }
    if let Some(n) = &l.netem {
        u.step(
            ns,
            Op::QdiscAdd {
                dev: dev.clone(),
                qdisc: Qdisc::Netem {
                    netem: Box::new(n.clone()),
                },
            },
        );
    }
    let first_v4 = ips.iter().map(IpNet::addr).find(IpAddr::is_ipv4);
    if let (Some(nat), Some(own)) = (l.nat, first_v4) {
        u.step(ns, nat_table(&cx.opts.project, &dev, nat.into(), own));
    }
    if let (false, Some(target_ip)) = (l.forwards.is_empty(), first_v4) {
        lower_forwards(cx, u, l, ns, &dev, target_ip, offset);
    }
}

/// Stateless-looking 1:1 NAT on `dev` (config.md §4 `nat`): traffic arriving on `dev`
/// goes to `nat`, traffic leaving `dev` comes from the link's own address.
fn nat_table(project: &str, dev: &str, nat: IpAddr, own: IpAddr) -> Op {
    let dnat = NftRule::Dnat {
        iifname: Some(dev.into()),
        iif_external: false,
        port: None,
        to: nat,
        to_port: None,
    };
    let snat = NftRule::Snat {
        oifname: dev.into(),
        daddr: None,
        port: None,
        to: Some(own),
    };
    nat_table_op(
        format!("conlink.{project}.nat_{dev}"),
        vec![dnat],
        vec![snat],
    )
}

/// A conlink-owned `ip` table with a destination-NAT chain at prerouting and a
/// source-NAT chain at postrouting, at the priorities nft's own `nat` chains use.
fn nat_table_op(table: String, dnat: Vec<NftRule>, snat: Vec<NftRule>) -> Op {
    let chain = |hook: NftHook, priority, rules| NftChain {
        name: hook.as_str().into(),
        hook,
        kind: NftChainType::Nat,
        priority,
        rules,
    };
    Op::NftTableAdd {
        family: NftFamily::Ip,
        table,
        chains: vec![
            chain(NftHook::Prerouting, -100, dnat),
            chain(NftHook::Postrouting, 100, snat),
        ],
    }
}

/// Port forwards (config.md §7): DNAT from conlink's external interface to the target,
/// source rewritten to conlink's external address on the way out of the bridge, a host
/// route to the target over the bridge, and in the target a host route back.
fn lower_forwards(
    cx: &mut Lowering,
    u: &mut UnitBuilder,
    l: &CheckedLink,
    ns: &Ns,
    dev: &str,
    target_ip: IpAddr,
    offset: u32,
) {
    let bridge = l
        .bridge
        .as_ref()
        .map(|b| b.value.clone())
        .unwrap_or_default();
    let mut dnat = Vec::new();
    let mut snat = Vec::new();
    for f in &l.forwards {
        let Some(shifted) = u16::try_from(offset).ok().and_then(|o| f.value.offset(o)) else {
            cx.diags.push(
                Diagnostic::error(
                    "conlink::lower::scaled_port",
                    format!(
                        "replica {} of {} would forward from a port past 65535",
                        offset + 1,
                        l.target
                    ),
                )
                .at(f.span, format!("+{offset} for replica {}", offset + 1))
                .help("replica i forwards from the external port + (i-1); start from a lower external port"),
            );
            continue;
        };
        let proto = shifted.protocol;
        let key = (proto, shifted.external_port);
        if let Some(first) = cx.forward_ports.get(&key) {
            cx.diags.push(
                Diagnostic::error(
                    "conlink::lower::forward_port_taken",
                    format!("external {proto} port {} is forwarded twice ({ns} {dev} and an earlier link)", shifted.external_port),
                )
                .at(f.span, format!("{ns} forwards {proto} port {}", shifted.external_port))
                .also(*first, "already forwarded here")
                .help("each external port can go to one target; pick another external port"),
            );
            continue;
        }
        cx.forward_ports.insert(key, f.span);
        dnat.push(NftRule::Dnat {
            iifname: None,
            iif_external: true,
            port: Some(PortMatch {
                proto,
                dport: shifted.external_port,
            }),
            to: target_ip,
            to_port: Some(shifted.target_port),
        });
        snat.push(NftRule::Snat {
            oifname: bridge.clone(),
            daddr: Some(target_ip),
            port: Some(PortMatch {
                proto,
                dport: shifted.target_port,
            }),
            to: None,
        });
    }
    let host = Route::host(target_ip);
    u.step(
        &Ns::Conlink,
        Op::RouteAdd {
            dev: bridge,
            route: host,
        },
    );
    // The project is in the name (project names have no `.`): that is how `destroy`
    // finds conlink's tables in a namespace that stays (conlink's own when it is the
    // current one, a container's) when the state file is gone.
    let table = format!(
        "conlink.{}.fwd_{}_{dev}",
        cx.opts.project,
        ns.to_string().replace([':', '#'], "_")
    );
    u.step(&Ns::Conlink, nat_table_op(table, dnat, snat));
    u.step(ns, Op::ExternalRouteAdd { dev: dev.into() });
}

/// One unit per patch bridge: an ingress qdisc and a redirect on each end, so every
/// frame entering one end leaves through the other (config.md §5 `patch`).
pub(super) fn patch_units(cx: &mut Lowering) -> Vec<Unit> {
    let mut units = Vec::new();
    let ends = std::mem::take(&mut cx.patch_ends);
    for (bridge, ends) in ends {
        let links_on_bridge = cx
            .cfg
            .links
            .iter()
            .filter(|l| l.bridge.as_ref().is_some_and(|b| b.value == bridge))
            .count();
        if ends.len() != 2 {
            // A config-level count other than two was reported by the checks already;
            // here the links were two but replicas made more ends.
            if links_on_bridge == 2 {
                cx.diags.push(
                    Diagnostic::error(
                        "conlink::lower::patch_replicas",
                        format!("patch bridge `{bridge}` would join {} interfaces: a service on it has several replicas", ends.len()),
                    )
                    .at(ends[0].2, "one end of the patch")
                    .help("a patch joins exactly two interfaces; use a linux or ovs bridge for scaled services"),
                );
            }
            continue;
        }
        let ends: Vec<PatchEnd> = ends
            .into_iter()
            .map(|(outer, unit, _)| PatchEnd { outer, unit })
            .collect();
        let after = vec![ends[0].unit.clone(), ends[1].unit.clone()];
        let mut u = UnitBuilder::new(format!("patch:{bridge}"), UnitKind::Patch, after);
        for (from, to) in [(&ends[0], &ends[1]), (&ends[1], &ends[0])] {
            u.step(
                &Ns::Conlink,
                Op::QdiscAdd {
                    dev: from.outer.clone(),
                    qdisc: Qdisc::Ingress,
                },
            );
            u.step(
                &Ns::Conlink,
                Op::RedirectAdd {
                    dev: from.outer.clone(),
                    to: to.outer.clone(),
                },
            );
        }
        units.push(u.finish());
    }
    units
}
