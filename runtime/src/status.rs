//! `conlink status`: compare the live system with the plan and list each difference:
//! what is missing, what is different, and what is extra (conlink's own objects that
//! the plan no longer has). Changes nothing.

use crate::apply::{self, Settings};
use crate::destroy::owned_namespaces;
use crate::engine::Engine;
use crate::host_ops::{self, HostCtx};
use crate::names;
use crate::netlink::route::RouteRead;
use crate::observe::{self, Check, Diff, Snapshot};
use crate::state::{self, State};
use compiler::plan::{LinkSpec, Ns, Op, Plan};
use std::collections::BTreeSet;
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
        }
    }
}

/// An extra object, as `apply` removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtraItem {
    /// A marked interface in a namespace.
    Link { ns: Ns, name: String },
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

/// What the plan creates: interfaces and addresses, by namespace. Anything else of
/// conlink's is extra.
#[derive(Default)]
pub struct Planned {
    links: BTreeSet<(Ns, String)>,
    addrs: BTreeSet<(Ns, String, ipnet::IpNet)>,
    /// Routes: namespace, device, destination, table, gateway.
    routes: BTreeSet<(Ns, String, ipnet::IpNet, u32, Option<std::net::IpAddr>)>,
    /// Devices that get the host route to conlink's external address.
    external_routes: BTreeSet<(Ns, String)>,
    nodes: BTreeSet<String>,
}

impl Planned {
    pub fn of(plan: &Plan) -> Planned {
        let mut p = Planned::default();
        for step in plan.units.iter().flat_map(|u| u.steps.iter()) {
            match (&step.op, &step.ns) {
                (Op::NetnsAdd, Ns::Node(n)) => {
                    p.nodes.insert(names::node_ns(&plan.project, n));
                }
                (
                    Op::LinkAdd {
                        name, netns, spec, ..
                    },
                    _,
                ) => {
                    p.links.insert((
                        netns.clone().unwrap_or_else(|| step.ns.clone()),
                        name.clone(),
                    ));
                    if let LinkSpec::Veth { peer } = spec.as_ref() {
                        p.links.insert((peer.netns.clone(), peer.name.clone()));
                    }
                }
                (Op::AddrAdd { dev, addr }, _) => {
                    p.addrs.insert((step.ns.clone(), dev.clone(), *addr));
                }
                (Op::RouteAdd { dev, route }, _) => {
                    let table = route.table.map_or(254, |t| t.0);
                    p.routes
                        .insert((step.ns.clone(), dev.clone(), route.dst, table, route.via));
                }
                (Op::ExternalRouteAdd { dev }, _) => {
                    p.external_routes.insert((step.ns.clone(), dev.clone()));
                }
                _ => {}
            }
        }
        p
    }
}

/// What `status` found.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub differences: Vec<Difference>,
    pub in_place: usize,
    pub waiting: Vec<(String, String)>,
}

pub fn status(plan: &Plan, settings: &Settings) -> Result<Status, String> {
    let mut engine = apply::engine(&plan.project, &plan.mark, plan.group, settings)
        .map_err(|e| e.to_string())?;
    let mut host = HostCtx::new(&settings.state_dir, &plan.project);
    let st = state::load(&settings.state_dir, &plan.project)
        .map_err(|e| e.to_string())?
        .unwrap_or_else(|| State::new(&plan.project, &plan.mark, plan.group, settings.conlink_ns));
    let mut out = Status::default();
    let mut skipped: BTreeSet<&str> = BTreeSet::new();

    for unit in &plan.units {
        if let Some(why) =
            apply::unit_waits(&mut engine.places, unit, &skipped).map_err(|e| e.to_string())?
        {
            out.waiting.push((unit.id.clone(), why));
            skipped.insert(&unit.id);
            continue;
        }
        for step in &unit.steps {
            let missing = || Difference::Missing {
                step: step.id.clone(),
                line: compiler::plan::op_line(&step.op, &step.ns, plan),
            };
            // A step whose namespace is not there is missing with it.
            let mut ready = true;
            for ns in apply::step_namespaces(step) {
                if !engine.ensure_place(ns).map_err(|e| e.to_string())? {
                    ready = false;
                }
            }
            if let Op::NetnsAdd = step.op {
                if !ready {
                    out.differences.push(missing());
                } else if apply::namespace_is_ours(&mut engine, &step.ns)
                    .map_err(|e| e.to_string())?
                {
                    out.in_place += 1;
                } else {
                    out.differences.push(Difference::Foreign {
                        step: step.id.clone(),
                        what: format!("namespace {} is pinned but not conlink's", step.ns),
                    });
                }
                continue;
            }
            if !ready {
                out.differences.push(missing());
                continue;
            }
            let snaps = &engine.snapshots;
            let check = observe::check(&step.op, &snaps[&step.ns], &plan.mark, |ns| snaps.get(ns));
            let check = match check {
                Check::Elsewhere => {
                    if host_ops::in_place(&mut engine, &mut host, &st, step)
                        .map_err(|e| e.to_string())?
                    {
                        Check::InPlace
                    } else {
                        Check::Differs(vec![Diff::Missing])
                    }
                }
                c => c,
            };
            match check {
                Check::InPlace => out.in_place += 1,
                Check::Foreign(what) => out.differences.push(Difference::Foreign {
                    step: step.id.clone(),
                    what,
                }),
                Check::Differs(diffs) => {
                    for d in diffs {
                        out.differences.push(match d {
                            Diff::Missing => missing(),
                            Diff::Different(what, planned, found) => Difference::Different {
                                step: step.id.clone(),
                                what,
                                planned,
                                found,
                            },
                        });
                    }
                }
                Check::Elsewhere => unreachable!("resolved above"),
            }
        }
    }
    out.differences
        .extend(extras(plan, settings, &engine, &Planned::of(plan)));
    Ok(out)
}

/// Addresses and routes on interfaces the plan creates in `ns` that the plan does not
/// have (added by hand, or left from an earlier configuration). `apply` removes them
/// before adding the planned ones: a new address in the same subnet would otherwise
/// be a secondary that goes with the old primary, and a new default route would clash
/// with the old one.
pub fn stale(ns: &Ns, snap: &Snapshot, planned: &Planned) -> Vec<Difference> {
    let mut out = Vec::new();
    for l in &snap.links {
        if !planned.links.contains(&(ns.clone(), l.name.clone())) {
            continue;
        }
        for (i, a) in &snap.addrs {
            let link_local = match a.addr() {
                std::net::IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
                std::net::IpAddr::V4(_) => false,
            };
            if *i == l.index
                && !link_local
                && !planned.addrs.contains(&(ns.clone(), l.name.clone(), *a))
            {
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
        let external = planned
            .external_routes
            .contains(&(ns.clone(), l.name.clone()));
        for r in &snap.routes {
            // Routes the kernel made (prefix routes, local and multicast tables, IPv6
            // link-local) or learned are not conlink's business.
            let kernels =
                r.protocol == RTPROT_KERNEL || r.protocol == RTPROT_RA || r.table == RT_TABLE_LOCAL;
            if r.oif != Some(l.index) || kernels {
                continue;
            }
            let wanted =
                planned
                    .routes
                    .contains(&(ns.clone(), l.name.clone(), r.dst, r.table, r.via));
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

const RTPROT_KERNEL: u8 = 2;
const RTPROT_RA: u8 = 9;
const RT_TABLE_LOCAL: u32 = 255;

/// conlink's objects the plan does not have: marked interfaces, addresses and routes
/// on planned interfaces, and node namespaces of the project.
pub fn extras(
    plan: &Plan,
    settings: &Settings,
    engine: &Engine,
    planned: &Planned,
) -> Vec<Difference> {
    let mut out = Vec::new();
    for (ns, snap) in &engine.snapshots {
        for l in &snap.links {
            let marked = l.alias.as_deref() == Some(plan.mark.as_str());
            let is_planned = planned.links.contains(&(ns.clone(), l.name.clone()));
            if marked && !is_planned && l.name != "lo" {
                out.push(Difference::Extra {
                    ns: ns.to_string(),
                    what: format!(
                        "interface {} (marked {}, not in the plan)",
                        l.name, plan.mark
                    ),
                    item: ExtraItem::Link {
                        ns: ns.clone(),
                        name: l.name.clone(),
                    },
                });
            }
        }
        out.extend(stale(ns, snap, planned));
    }
    for pinned in owned_namespaces(&plan.project, &settings.netns_dir, &plan.mark) {
        if pinned != names::conlink_ns(&plan.project) && !planned.nodes.contains(&pinned) {
            out.push(Difference::Extra {
                ns: pinned.clone(),
                what: "node namespace not in the plan".into(),
                item: ExtraItem::Node { pinned },
            });
        }
    }
    out
}
