//! The differences between the plan and the system: a step's object missing or
//! different, something with a planned name that is not conlink's, a command that
//! failed, conlink's own objects the plan no longer has ("extra"), and interfaces in
//! namespaces conlink created that are not conlink's. `status` lists them; `apply`
//! repairs the first kind and removes conlink's extras
//! (`crate::families::remove_extra`), and leaves what is not conlink's alone.

use crate::command::ExitStatus;
use crate::context::Context;
use crate::observe::{self, RouteRead, Snapshot};
use crate::planned::Planned;
use compiler::plan::Ns;
use std::fmt;

/// One difference between the plan and the system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// A step's object is not there: (step id, the step as `plan` prints it).
    Missing { step: String, line: String },
    /// It is there, differently: (step id, what, planned, found).
    Different {
        step: String,
        what: String,
        planned: String,
        found: String,
    },
    /// Something conlink made for the project that the plan does not have.
    Extra {
        ns: String,
        what: String,
        item: ExtraItem,
    },
    /// Something with a planned name that conlink did not make.
    Foreign { step: String, what: String },
    /// A command that ended with a failure: (step id, the step as `plan` prints it,
    /// how it ended).
    Failed {
        step: String,
        line: String,
        status: ExitStatus,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Missing { step, line } => write!(f, "missing    {step}: {line}"),
            Difference::Different {
                step,
                what,
                planned,
                found,
            } => write!(
                f,
                "different  {step}: {what}: planned {planned}, found {found}"
            ),
            Difference::Extra { ns, what, .. } => write!(f, "extra      {ns}: {what}"),
            Difference::Foreign { step, what } => write!(f, "foreign    {step}: {what}"),
            Difference::Failed { step, line, status } => {
                write!(f, "failed     {step}: {line} ({status})")
            }
        }
    }
}

/// An extra object, as `apply` removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtraItem {
    /// A marked interface in a namespace.
    Link { ns: Ns, name: String },
    /// An interface in a namespace conlink created that is not conlink's (someone
    /// added it by hand): shown, never removed.
    NotOurs { ns: Ns, name: String },
    /// An address on an interface the plan creates.
    Addr {
        ns: Ns,
        dev: String,
        addr: ipnet::IpNet,
    },
    /// A route through an interface the plan creates.
    Route {
        ns: Ns,
        dev: String,
        route: RouteRead,
    },
    /// A pinned node namespace of the project.
    Node { pinned: String },
}

/// Interfaces the kernel itself puts in every new namespace while the module of their
/// kind is loaded (fallback tunnel devices, unless `net.core.fb_tunnels_only_for_init_net`
/// says otherwise): never extra.
const KERNEL_DEVICES: [&str; 9] = [
    "tunl0", "gre0", "gretap0", "erspan0", "ip_vti0", "ip6_vti0", "sit0", "ip6tnl0", "ip6gre0",
];

const RTPROT_KERNEL: u8 = 2;
const RTPROT_RA: u8 = 9;
const RT_TABLE_LOCAL: u32 = 255;

/// Addresses and routes on interfaces the plan creates in `ns` that the plan does not
/// have (added by hand, or left from an earlier configuration). `apply` removes them
/// before adding the planned ones: a new address in the same subnet would otherwise
/// be a secondary that goes with the old primary, and a new default route would clash
/// with the old one.
pub fn stale(ns: &Ns, snap: &Snapshot, planned: &Planned) -> Vec<Difference> {
    let mut out = Vec::new();
    for l in &snap.links {
        if !planned.has_link(ns, &l.name) {
            continue;
        }
        for (i, a) in &snap.addrs {
            let link_local = match a.addr() {
                std::net::IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
                std::net::IpAddr::V4(_) => false,
            };
            if *i == l.index && !link_local && !planned.has_addr(ns, &l.name, *a) {
                out.push(Difference::Extra {
                    ns: ns.to_string(),
                    what: format!("address {a} on {}", l.name),
                    item: ExtraItem::Addr {
                        ns: ns.clone(),
                        dev: l.name.clone(),
                        addr: *a,
                    },
                });
            }
        }
        let external = planned.has_external_route(ns, &l.name);
        for r in &snap.routes {
            // Routes the kernel made (prefix routes, local and multicast tables, IPv6
            // link-local) or learned are not conlink's business.
            let kernels =
                r.protocol == RTPROT_KERNEL || r.protocol == RTPROT_RA || r.table == RT_TABLE_LOCAL;
            if r.oif != Some(l.index) || kernels {
                continue;
            }
            let wanted = planned.has_route(ns, &l.name, r.dst, r.table, r.via);
            let external_route =
                external && r.via.is_none() && r.dst.prefix_len() == r.dst.max_prefix_len();
            if !wanted && !external_route {
                out.push(Difference::Extra {
                    ns: ns.to_string(),
                    what: format!(
                        "route {}{} dev {}{}",
                        r.dst,
                        r.via.map_or(String::new(), |v| format!(" via {v}")),
                        l.name,
                        if r.table == 254 {
                            String::new()
                        } else {
                            format!(" table {}", r.table)
                        }
                    ),
                    item: ExtraItem::Route {
                        ns: ns.clone(),
                        dev: l.name.clone(),
                        route: r.clone(),
                    },
                });
            }
        }
    }
    out
}

/// conlink's objects the plan does not have: marked interfaces, addresses and routes
/// on planned interfaces (in every namespace `cx` read), and node namespaces of the
/// project; and the interfaces of namespaces conlink created that are not conlink's.
pub fn extras(cx: &Context, planned: &Planned) -> Vec<Difference> {
    let (mark, group) = (cx.mark(), cx.group());
    let mut out = Vec::new();
    for (ns, snap) in cx.observed() {
        let created_by_conlink = snap.loopback_marked(mark);
        for l in &snap.links {
            if l.name == "lo" || planned.has_link(ns, &l.name) {
                continue;
            }
            let by_the_kernel = KERNEL_DEVICES.contains(&l.name.as_str()) && l.alias.is_none();
            if l.is_conlinks(mark, group) {
                out.push(Difference::Extra {
                    ns: ns.to_string(),
                    what: format!("interface {} (marked {mark}, not in the plan)", l.name),
                    item: ExtraItem::Link {
                        ns: ns.clone(),
                        name: l.name.clone(),
                    },
                });
            } else if created_by_conlink && !by_the_kernel {
                out.push(Difference::Extra {
                    ns: ns.to_string(),
                    what: format!(
                        "interface {} (not conlink's: apply leaves it, destroy removes it with the namespace)",
                        l.name
                    ),
                    item: ExtraItem::NotOurs {
                        ns: ns.clone(),
                        name: l.name.clone(),
                    },
                });
            }
        }
        out.extend(stale(ns, snap, planned));
    }
    let project = cx.project();
    for pinned in observe::owned_namespaces(project, cx.netns_dir(), mark) {
        if pinned != crate::names::conlink_ns(project) && !planned.has_node(&pinned) {
            out.push(Difference::Extra {
                ns: pinned.clone(),
                what: "node namespace not in the plan".into(),
                item: ExtraItem::Node { pinned },
            });
        }
    }
    out
}
