//! Reading back what a namespace holds, and comparing it with a plan step.
//!
//! A [`Snapshot`] is taken once per run of every namespace that existed before the
//! run (namespaces the run creates start empty, so nothing in them can already be in
//! place). [`check`] says whether one step's effect is already there — the basis of
//! convergence (`apply` changes only what differs) and of `status`.

use crate::error::KernelError;
use crate::netlink::{addr, link, route, Socket};
use compiler::plan::{LinkSpec, Mac, Op};
use ipnet::IpNet;
use rtnetlink::packet_route::RouteNetlinkMessage;

/// Links, addresses and routes of one namespace.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub links: Vec<link::LinkInfoRead>,
    pub addrs: Vec<(u32, IpNet)>,
    pub routes: Vec<route::RouteRead>,
}

impl Snapshot {
    pub fn take(sock: &mut Socket) -> Result<Snapshot, KernelError> {
        let mut s = Snapshot::default();
        sock.dump_each(link::dump(), |m| {
            if let RouteNetlinkMessage::NewLink(m) = m {
                s.links.push(link::read(&m));
            }
        })?;
        sock.dump_each(addr::dump(), |m| {
            if let RouteNetlinkMessage::NewAddress(m) = m {
                s.addrs.extend(addr::read(&m));
            }
        })?;
        for v6 in [false, true] {
            sock.dump_each(route::dump(v6), |m| {
                if let RouteNetlinkMessage::NewRoute(m) = m {
                    s.routes.extend(route::read(&m));
                }
            })?;
        }
        Ok(s)
    }

    pub fn link(&self, name: &str) -> Option<&link::LinkInfoRead> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.link(name).map(|l| l.index)
    }

    /// Whether `route` goes through `dev`: same destination, table and gateway, and
    /// the same metric when the route names one.
    pub fn has_route(&self, dev: &str, route: &compiler::plan::Route) -> bool {
        let Some(i) = self.index_of(dev) else {
            return false;
        };
        let table = route.table.map_or(254, |t| t.0);
        self.routes.iter().any(|r| {
            r.oif == Some(i)
                && r.dst == route.dst
                && r.table == table
                && r.via == route.via
                && (route.metric.is_none() || r.metric == route.metric)
        })
    }
}

/// One way the system differs from a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Diff {
    /// The step's object is not there.
    Missing,
    /// It is there with another value: (what, planned, found).
    Different(String, String, String),
}

/// What checking a step against a snapshot found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Already in place.
    InPlace,
    /// Not in place; each difference.
    Differs(Vec<Diff>),
    /// Something with the step's name is there that conlink did not create.
    Foreign(String),
    /// This kind of step is checked elsewhere (sysctl, ethtool, tc, nft, commands).
    Elsewhere,
}

fn mac_text(m: Option<Mac>) -> String {
    m.map_or_else(|| "-".into(), |m| m.to_string())
}

/// Checks a netlink-level step run in namespace `here` (whose snapshot is `s`);
/// `other` gives the snapshot of another namespace (a link's target or veth peer).
pub fn check<'a>(
    op: &Op,
    s: &Snapshot,
    mark: &str,
    other: impl Fn(&compiler::plan::Ns) -> Option<&'a Snapshot>,
) -> Check {
    match op {
        Op::LinkAdd {
            name,
            netns,
            mtu,
            mac,
            master,
            up,
            spec,
            ..
        } => {
            let target = match netns {
                Some(ns) => match other(ns) {
                    Some(t) => t,
                    None => return Check::Differs(vec![Diff::Missing]),
                },
                None => s,
            };
            let Some(l) = target.link(name) else {
                return Check::Differs(vec![Diff::Missing]);
            };
            if l.alias.as_deref() != Some(mark) {
                return Check::Foreign(format!(
                    "interface {name} exists and is not conlink's (its alias is {})",
                    l.alias
                        .as_deref()
                        .map_or("unset".to_string(), |a| format!("{a:?}"))
                ));
            }
            let mut diffs = Vec::new();
            if mtu.is_some() && l.mtu != *mtu {
                diffs.push(Diff::Different(
                    format!("mtu of {name}"),
                    mtu.map_or("-".into(), |m| m.to_string()),
                    l.mtu.map_or("-".into(), |m| m.to_string()),
                ));
            }
            if mac.is_some() && l.mac != *mac {
                diffs.push(Diff::Different(
                    format!("mac of {name}"),
                    mac_text(*mac),
                    mac_text(l.mac),
                ));
            }
            if *up && !l.up {
                diffs.push(Diff::Different(
                    format!("state of {name}"),
                    "up".into(),
                    "down".into(),
                ));
            }
            if let Some(m) = master {
                let current = l
                    .master
                    .and_then(|i| target.links.iter().find(|x| x.index == i));
                if current.map(|x| x.name.as_str()) != Some(m.as_str()) {
                    diffs.push(Diff::Different(
                        format!("master of {name}"),
                        m.clone(),
                        current.map_or("none".into(), |x| x.name.clone()),
                    ));
                }
            }
            if let LinkSpec::Veth { peer } = spec.as_ref() {
                match other(&peer.netns).and_then(|p| p.link(&peer.name)) {
                    None => diffs.push(Diff::Different(
                        format!("veth peer {} in {}", peer.name, peer.netns),
                        "present".into(),
                        "missing".into(),
                    )),
                    Some(p) => {
                        if peer.mtu.is_some() && p.mtu != peer.mtu {
                            diffs.push(Diff::Different(
                                format!("mtu of {} in {}", peer.name, peer.netns),
                                peer.mtu.map_or("-".into(), |m| m.to_string()),
                                p.mtu.map_or("-".into(), |m| m.to_string()),
                            ));
                        }
                        if peer.mac.is_some() && p.mac != peer.mac {
                            diffs.push(Diff::Different(
                                format!("mac of {} in {}", peer.name, peer.netns),
                                mac_text(peer.mac),
                                mac_text(p.mac),
                            ));
                        }
                    }
                }
            }
            if diffs.is_empty() {
                Check::InPlace
            } else {
                Check::Differs(diffs)
            }
        }
        Op::LinkUp { dev } => match s.link(dev) {
            None => Check::Differs(vec![Diff::Missing]),
            Some(l) if l.up => Check::InPlace,
            Some(_) => Check::Differs(vec![Diff::Different(
                format!("state of {dev}"),
                "up".into(),
                "down".into(),
            )]),
        },
        Op::LinkSetMaster { dev, master } => match (s.link(dev), s.index_of(master)) {
            (Some(l), Some(m)) if l.master == Some(m) => Check::InPlace,
            (Some(l), _) => Check::Differs(vec![Diff::Different(
                format!("master of {dev}"),
                master.clone(),
                l.master
                    .and_then(|i| s.links.iter().find(|x| x.index == i))
                    .map_or("none".into(), |x| x.name.clone()),
            )]),
            (None, _) => Check::Differs(vec![Diff::Missing]),
        },
        Op::AddrAdd { dev, addr } => match s.index_of(dev) {
            Some(i) if s.addrs.contains(&(i, *addr)) => Check::InPlace,
            _ => Check::Differs(vec![Diff::Missing]),
        },
        Op::RouteAdd { dev, route } => {
            if s.has_route(dev, route) {
                Check::InPlace
            } else {
                Check::Differs(vec![Diff::Missing])
            }
        }
        _ => Check::Elsewhere,
    }
}
