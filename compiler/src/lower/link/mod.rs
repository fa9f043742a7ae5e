//! One link of one target instance (docs/configuration.md, "Links"): the values every
//! kind derives the same way (the replica's addresses, the MAC, the MTU), the kind's
//! own creation ([`create`], one file per kind), then the steps every kind shares
//! (ethtool settings, IPv6 switched on in a container, addresses, up, routes, netem,
//! `nat` and `forward`).
//!
//! [`create`] matches every kind by name, so a new kind fails to compile until it has
//! a file here; what a kind takes besides is read from
//! [`LinkKind::properties`](crate::model::LinkKind::properties).

mod dummy;
mod instance;
mod ipvlan;
mod macvlan;
mod nat;
mod veth;
mod vlan;

use super::context::Lowering;
use super::names::{derived_mac, offset_mac};
use super::unit::UnitBuilder;
use crate::check::CheckedLink;
use crate::check::{offset_addr, OffsetError};
use crate::diag::Diagnostic;
use crate::model::{LinkKind, Target};
use crate::plan::{Mac, Ns, Op, Qdisc};
use instance::Instance;
use ipnet::IpNet;
use std::net::IpAddr;

/// The steps that create the interface, by kind. False when it cannot be created (an
/// error was reported), and the link's other steps are left out.
fn create(cx: &mut Lowering, u: &mut UnitBuilder, it: &Instance) -> bool {
    match it.link.kind {
        LinkKind::Veth => veth::create(cx, u, it),
        LinkKind::Dummy => dummy::create(u, it),
        LinkKind::Vlan => vlan::create(u, it),
        LinkKind::Macvlan => macvlan::create(u, it),
        LinkKind::Macvtap => macvlan::create_tap(u, it),
        LinkKind::Ipvlan => ipvlan::create(u, it),
        LinkKind::Ipvtap => ipvlan::create_tap(u, it),
    }
}

/// Lowers one link into the unit of one target instance.
pub(super) fn lower_link(
    cx: &mut Lowering,
    u: &mut UnitBuilder,
    l: &CheckedLink,
    ns: &Ns,
    replica: Option<u32>,
) {
    let offset = replica.map_or(0, |i| i - 1);
    let dev = l.dev.value.as_str();
    let ips = replica_addresses(cx, l, offset);
    let props = l.kind.properties();
    let mac = if props.mac {
        replica_mac(cx, l, replica, offset)
    } else {
        None
    };
    let mtu = l.mtu.or_else(|| {
        props
            .default_mtu
            .then(|| cx.opts.default_mtu.unwrap_or(65535))
    });
    let it = Instance {
        link: l,
        ns,
        replica,
        dev,
        mtu,
        mac,
    };
    if !create(cx, u, &it) {
        return;
    }

    for settings in &l.ethtool {
        u.step(
            ns,
            Op::Ethtool {
                dev: dev.to_string(),
                settings: settings.clone(),
            },
        );
    }
    if let Some(step) = ipv6_on(ns, dev, &ips) {
        u.step(ns, step);
    }
    for addr in &ips {
        u.step(ns, Op::addr_add(dev.to_string(), *addr));
    }
    u.step(
        ns,
        Op::LinkUp {
            dev: dev.to_string(),
        },
    );
    for r in &l.routes {
        u.step(
            ns,
            Op::RouteAdd {
                dev: dev.to_string(),
                route: r.value.clone(),
            },
        );
    }
    if let Some(n) = &l.netem {
        u.step(
            ns,
            Op::QdiscAdd {
                dev: dev.to_string(),
                qdisc: Qdisc::Netem {
                    netem: Box::new(n.clone()),
                },
            },
        );
    }
    let first_v4 = ips.iter().map(IpNet::addr).find(IpAddr::is_ipv4);
    if let (Some(to), Some(own)) = (l.nat, first_v4) {
        u.step(ns, nat::nat_table(&cx.opts.project, dev, to.into(), own));
    }
    if let (false, Some(target_ip)) = (l.forwards.is_empty(), first_v4) {
        nat::forwards(cx, u, l, ns, target_ip, offset);
    }
}

/// The step that turns IPv6 on for `dev` before its IPv6 addresses are added, in a
/// container's namespace: Docker sets `net.ipv6.conf.{all,default}.disable_ipv6=1` in
/// containers it gives no IPv6 network (`network_mode: none` among them), so an
/// interface conlink creates there starts with IPv6 off and the kernel refuses its
/// addresses. Only the interface conlink created is switched, never the container's
/// `all` or `default` (docs/decisions.md, "IPv6 in containers"). conlink's own
/// namespace is the same case: the network unit turns IPv6 off by default there, so a
/// tunnel device given an IPv6 address needs it back on. Node namespaces are
/// conlink's own, made with IPv6 on, and need no step. A `.` in the interface's name
/// (`eth0.10`) is written `/` in the key, as sysctl(8) takes it.
pub(in crate::lower) fn ipv6_on(ns: &Ns, dev: &str, ips: &[IpNet]) -> Option<Op> {
    let off_by_default = matches!(ns, Ns::Container(_) | Ns::Service(..) | Ns::Conlink);
    (off_by_default && ips.iter().any(|ip| ip.addr().is_ipv6())).then(|| Op::Sysctl {
        key: format!("net.ipv6.conf.{}.disable_ipv6", dev.replace('.', "/")),
        value: "0".into(),
    })
}

/// The link's addresses for replica `offset + 1`: each written address + offset
/// (docs/configuration.md, "Replicas, names and derived values").
fn replica_addresses(cx: &mut Lowering, l: &CheckedLink, offset: u32) -> Vec<IpNet> {
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
                    Target::Container(_) | Target::Node(_) => 1,
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
    ips
}

/// The link's MAC for this replica: the written one + offset, or one derived from the
/// link's identity.
fn replica_mac(
    cx: &mut Lowering,
    l: &CheckedLink,
    replica: Option<u32>,
    offset: u32,
) -> Option<Mac> {
    let Some(m) = &l.mac else {
        return Some(derived_mac(
            &cx.opts.project,
            &l.target,
            replica,
            &l.dev.value,
        ));
    };
    let mac = offset_mac(m.value, offset);
    if mac.is_none() && cx.reported.insert(m.span) {
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
    mac
}
