//! The engine: turns plan steps into kernel requests, one namespace's socket at a
//! time, and keeps track of which steps the kernel carried out.
//!
//! Netlink requests are *queued* on the socket of the namespace they go to and sent
//! in batches: the batch of a namespace is sent when the next request goes to another
//! namespace, before any step that is not a netlink request, and at the end. Because
//! the kernel carries out a batch completely inside one `sendmsg(2)`, this keeps the
//! plan's order across namespaces while most requests cost no round trip of their
//! own. Acks are matched back to steps; the first failure in plan order is the one
//! reported, and every step whose request succeeded is undone by rollback.

use crate::error::KernelError;
use crate::netlink::{addr, link, route, tc};
use crate::nft::External;
use crate::observe::Snapshot;
use crate::places::{Lookup, Places};
use crate::state::Extra;
use compiler::plan::{LinkSpec, Ns, Op, Qdisc};
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// Why a step could not be carried out.
#[derive(Debug, Clone)]
pub struct StepFailure {
    /// Ordinal of the step in this run.
    pub ordinal: usize,
    /// Where the error happened (may differ from the step's namespace: a link's
    /// target, or a veth's peer).
    pub ns: Ns,
    pub message: String,
    /// The kernel's answer, when the failure is one.
    pub kernel: Option<KernelError>,
}

/// One step this run carried out (or tried to).
#[derive(Debug, Clone)]
pub struct Done {
    /// Index of the unit and of the step in it.
    pub unit: usize,
    pub step: usize,
    /// Whether the step created something that rollback must undo.
    pub effective: bool,
    pub extra: Extra,
}

pub struct Engine {
    pub places: Places,
    pub mark: String,
    pub group: u32,
    pub netns_dir: PathBuf,
    /// The namespace whose batch is being filled.
    current: Option<Ns>,
    /// Requests queued per namespace: sequence number, step ordinal, and whether it
    /// is the request that creates the step's object.
    queued: BTreeMap<Ns, Vec<(u32, usize, bool)>>,
    /// The journal, in the order steps were carried out.
    pub done: Vec<Done>,
    by_ordinal: BTreeMap<usize, usize>,
    /// The first failure, by ordinal.
    pub failure: Option<StepFailure>,
    /// Namespaces this run created.
    pub created_ns: BTreeSet<Ns>,
    /// Snapshots of namespaces that existed before this run.
    pub snapshots: BTreeMap<Ns, Snapshot>,
    /// conlink's external interface and address, once looked up.
    external: Option<Result<External, String>>,
    /// What the plan creates, to tell conlink's stale addresses and routes from
    /// wanted ones when a namespace that existed before is first read.
    pub planned: crate::status::Planned,
    /// Stale objects removed this run: (namespace, what).
    pub pruned: Vec<(String, String)>,
    /// Ownership marks not sent yet, by namespace and ifindex, with the ordinal of the
    /// step that created the interface (see [`Engine::mark_later`]).
    marks: BTreeMap<(Ns, u32), usize>,
}

impl Engine {
    pub fn new(places: Places, mark: &str, group: u32, netns_dir: PathBuf) -> Engine {
        Engine {
            places,
            mark: mark.into(),
            group,
            netns_dir,
            current: None,
            queued: BTreeMap::new(),
            done: Vec::new(),
            by_ordinal: BTreeMap::new(),
            failure: None,
            created_ns: BTreeSet::new(),
            snapshots: BTreeMap::new(),
            external: None,
            marks: BTreeMap::new(),
            planned: Default::default(),
            pruned: Vec::new(),
        }
    }

    /// Records a step in the journal.
    pub fn journal(
        &mut self,
        ordinal: usize,
        unit: usize,
        step: usize,
        effective: bool,
        extra: Extra,
    ) {
        self.by_ordinal.insert(ordinal, self.done.len());
        self.done.push(Done {
            unit,
            step,
            effective,
            extra,
        });
    }

    pub fn fail(&mut self, ordinal: usize, ns: &Ns, message: String) {
        self.fail_with(ordinal, ns, message, None);
    }

    /// Records a failure the kernel reported.
    pub fn fail_kernel(&mut self, ordinal: usize, ns: &Ns, e: KernelError) {
        self.fail_with(ordinal, ns, e.to_string(), Some(e));
    }

    fn fail_with(&mut self, ordinal: usize, ns: &Ns, message: String, kernel: Option<KernelError>) {
        if self.failure.as_ref().is_none_or(|f| ordinal < f.ordinal) {
            self.failure = Some(StepFailure {
                ordinal,
                ns: ns.clone(),
                message,
                kernel,
            });
        }
    }

    /// Looks up (and, for namespaces that existed before, snapshots) a namespace.
    /// `Ok(false)` when it is not there.
    pub fn ensure_place(&mut self, ns: &Ns) -> Result<bool, KernelError> {
        let known = self.snapshots.contains_key(ns) || self.created_ns.contains(ns);
        match self.places.lookup(ns)? {
            Lookup::Ready(place) => {
                if !known {
                    let mut snap = Snapshot::take(place.route()?)?;
                    if self.prune(ns, &snap)? {
                        // Removing an address takes routes with it: read again.
                        self.flush_all()?;
                        snap = Snapshot::take(self.places.get(ns)?.route()?)?;
                    }
                    self.places.get(ns)?.know_links(&snap.links);
                    self.snapshots.insert(ns.clone(), snap);
                }
                Ok(true)
            }
            Lookup::Absent(_) | Lookup::Waiting(_) => Ok(false),
        }
    }

    /// Removes the addresses and routes conlink's interfaces in `ns` carry but the plan
    /// does not have, before anything is added there (see [`crate::status::stale`]).
    fn prune(&mut self, ns: &Ns, snap: &Snapshot) -> Result<bool, KernelError> {
        use crate::status::{stale, Difference, ExtraItem};
        let before = self.pruned.len();
        for d in stale(ns, snap, &self.planned) {
            let Difference::Extra { what, item, .. } = d else {
                continue;
            };
            let msg = match &item {
                ExtraItem::Addr { dev, addr: a, .. } => {
                    addr::del(snap.index_of(dev).unwrap_or_default(), *a)
                }
                ExtraItem::Route { route: r, .. } => {
                    route::del(r.oif.unwrap_or_default(), &route::from_read(r))
                }
                _ => continue,
            };
            self.queue(usize::MAX, ns, msg, 0, false, false)?;
            self.pruned
                .push((ns.to_string(), format!("removed stale {what}")));
        }
        Ok(self.pruned.len() > before)
    }

    /// Queues one request for `ns`; sends the batch being filled first when it
    /// belongs to another namespace. `side` requests (a mark on an interface created
    /// from another namespace) join `ns`'s batch without changing which batch is being
    /// filled, so they are sent after it.
    pub fn queue(
        &mut self,
        ordinal: usize,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        primary: bool,
        side: bool,
    ) -> Result<(), KernelError> {
        if !side && self.current.as_ref() != Some(ns) {
            if let Some(cur) = self.current.take() {
                self.flush(&cur)?;
            }
            self.current = Some(ns.clone());
        }
        let msg = self.with_mark(ns, msg);
        let sock = self.places.get(ns)?.route()?;
        let seq = sock.queue(msg, flags);
        let full = sock.is_full();
        self.queued
            .entry(ns.clone())
            .or_default()
            .push((seq, ordinal, primary));
        if full && !side {
            self.flush(ns)?;
        }
        Ok(())
    }

    /// Sends `ns`'s batch and matches its acks to steps.
    pub fn flush(&mut self, ns: &Ns) -> Result<(), KernelError> {
        // Marks that found no request to ride on go now, on their own.
        let due: Vec<(u32, usize)> = self
            .marks
            .range((ns.clone(), 0)..=(ns.clone(), u32::MAX))
            .map(|((_, index), ordinal)| (*index, *ordinal))
            .collect();
        for (index, ordinal) in due {
            self.marks.remove(&(ns.clone(), index));
            let msg = link::set_alias(index, &self.mark);
            let seq = self.places.get(ns)?.route()?.queue(msg, 0);
            self.queued
                .entry(ns.clone())
                .or_default()
                .push((seq, ordinal, false));
        }
        let Some(queued) = self.queued.remove(ns) else {
            return Ok(());
        };
        let acks = self.places.get(ns)?.route()?.flush()?;
        for ((seq, result), (qseq, ordinal, primary)) in acks.into_iter().zip(queued) {
            debug_assert_eq!(seq, qseq);
            if let Err(e) = result {
                // Clean-up requests (ordinal MAX) may find their object already gone:
                // deleting an address takes the routes through it along.
                if ordinal == usize::MAX && e.is_gone() {
                    continue;
                }
                if primary {
                    if let Some(&i) = self.by_ordinal.get(&ordinal) {
                        self.done[i].effective = false;
                    }
                }
                self.fail_kernel(ordinal, ns, e);
            }
        }
        Ok(())
    }

    /// Marks interface `index` in `ns` as conlink's. The kernel ignores an alias in
    /// RTM_NEWLINK, so the mark needs a request after the creation; it rides on the
    /// next request that changes the same interface in the same batch (bringing it up,
    /// enslaving it), which saves a request per interface end, or goes on its own when
    /// the batch is sent. A failure of such a request is that later step's failure:
    /// setting an alias on an interface that exists does not fail.
    pub fn mark_later(&mut self, ordinal: usize, ns: &Ns, index: u32) {
        self.marks.insert((ns.clone(), index), ordinal);
    }

    /// Adds a pending mark to a request that changes the marked interface.
    fn with_mark(&mut self, ns: &Ns, msg: RouteNetlinkMessage) -> RouteNetlinkMessage {
        match msg {
            RouteNetlinkMessage::SetLink(mut m)
                if self.marks.remove(&(ns.clone(), m.header.index)).is_some() =>
            {
                m.attributes.push(link::alias_attribute(&self.mark));
                RouteNetlinkMessage::SetLink(m)
            }
            other => other,
        }
    }

    /// Sends every batch: the one being filled first, then the side requests.
    pub fn flush_all(&mut self) -> Result<(), KernelError> {
        if let Some(cur) = self.current.take() {
            self.flush(&cur)?;
        }
        let rest: BTreeSet<Ns> = self
            .queued
            .keys()
            .cloned()
            .chain(self.marks.keys().map(|(ns, _)| ns.clone()))
            .collect();
        for ns in rest {
            self.flush(&ns)?;
        }
        Ok(())
    }

    /// The ifindex of `dev` in `ns`, or an error naming both.
    pub fn index(&mut self, ns: &Ns, dev: &str) -> Result<u32, KernelError> {
        self.places
            .get(ns)?
            .index_of(dev)?
            .ok_or_else(|| KernelError {
                errno: libc::ENODEV,
                ext_ack: Some(format!("no interface {dev} in namespace {ns}")),
            })
    }

    /// Queues the requests of a netlink step. Returns `Ok(None)` when the step is
    /// not a netlink step.
    pub fn netlink_step(
        &mut self,
        ordinal: usize,
        ns: &Ns,
        op: &Op,
    ) -> Result<Option<Extra>, KernelError> {
        let create = NLM_F_CREATE | NLM_F_EXCL;
        match op {
            Op::LinkAdd {
                name,
                netns,
                mtu,
                mac,
                altname,
                master,
                up,
                spec,
            } => {
                let target = netns.clone().unwrap_or_else(|| ns.clone());
                let target_fd = self.fd_if_other(ns, &target)?;
                let parent = match spec.as_ref() {
                    LinkSpec::Vlan { parent, .. }
                    | LinkSpec::Macvlan { parent, .. }
                    | LinkSpec::Macvtap { parent, .. }
                    | LinkSpec::Ipvlan { parent, .. }
                    | LinkSpec::Ipvtap { parent, .. } => Some(self.index(ns, parent)?),
                    _ => None,
                };
                let peer = match spec.as_ref() {
                    LinkSpec::Veth { peer } => {
                        let fd = self.fd_if_other(ns, &peer.netns)?;
                        let index = self.places.get(&peer.netns)?.allocate(&peer.name)?;
                        Some((peer, fd, index))
                    }
                    _ => None,
                };
                // The bridge is looked up where the interface is created.
                let master = match master {
                    Some(m) => Some(self.index(&target, m)?),
                    None => None,
                };
                let index = self.places.get(&target)?.allocate(name)?;
                let msg = link::add_message(&link::NewLink {
                    name,
                    index,
                    netns_fd: target_fd,
                    mtu: *mtu,
                    mac: *mac,
                    group: self.group,
                    spec,
                    parent,
                    master,
                    up: *up,
                    peer: peer.as_ref().map(|(p, fd, index)| link::NewPeer {
                        name: &p.name,
                        index: *index,
                        netns_fd: *fd,
                        mtu: p.mtu,
                        mac: p.mac,
                        queues: p.queues,
                    }),
                })
                .map_err(|e| KernelError {
                    errno: libc::EINVAL,
                    ext_ack: Some(e.to_string()),
                })?;
                self.queue(
                    ordinal,
                    ns,
                    RouteNetlinkMessage::NewLink(msg),
                    create,
                    true,
                    false,
                )?;
                // The mark of each end follows the creation (see `mark_later`).
                let side = &target != ns;
                self.mark_later(ordinal, &target, index);
                if let Some(alt) = altname {
                    self.queue(
                        ordinal,
                        &target,
                        link::add_altname(index, alt),
                        0,
                        false,
                        side,
                    )?;
                }
                if let Some((p, _, pindex)) = &peer {
                    self.mark_later(ordinal, &p.netns, *pindex);
                }
                Ok(Some(Extra::Link { index }))
            }
            Op::LinkDel { name, netns } => {
                let target = netns.clone().unwrap_or_else(|| ns.clone());
                let place = self.places.get(&target)?;
                // No index: already gone.
                if let Some(i) = place.index_of(name)? {
                    place.forget(name);
                    self.queue(ordinal, &target, link::del(i), 0, true, false)?;
                }
                Ok(Some(Extra::None))
            }
            Op::LinkUp { dev } | Op::LinkDown { dev } => {
                let i = self.index(ns, dev)?;
                let up = matches!(op, Op::LinkUp { .. });
                self.queue(ordinal, ns, link::set_up(i, up), 0, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::LinkSetMaster { dev, master } => {
                let i = self.index(ns, dev)?;
                let m = self.index(ns, master)?;
                self.queue(ordinal, ns, link::set_master(i, m), 0, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::LinkSetNomaster { dev } => {
                let i = self.index(ns, dev)?;
                self.queue(ordinal, ns, link::set_master(i, 0), 0, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::AddrAdd { dev, addr: a } => {
                let i = self.index(ns, dev)?;
                self.queue(ordinal, ns, addr::add(i, *a), create, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::AddrDel { dev, addr: a } => {
                let i = self.index(ns, dev)?;
                self.queue(ordinal, ns, addr::del(i, *a), 0, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::RouteAdd { dev, route: r } => {
                let i = self.index(ns, dev)?;
                self.queue(ordinal, ns, route::add(i, r), create, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::RouteDel { dev, route: r } => {
                let i = self.index(ns, dev)?;
                self.queue(ordinal, ns, route::del(i, r), 0, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::QdiscAdd { dev, qdisc } => {
                let i = self.index(ns, dev)?;
                let msg = match qdisc {
                    Qdisc::Ingress => tc::ingress_qdisc_add(i),
                    Qdisc::Netem { netem } => {
                        tc::netem_qdisc_add(i, netem).map_err(|e| KernelError {
                            errno: libc::EINVAL,
                            ext_ack: Some(e.to_string()),
                        })?
                    }
                };
                self.queue(ordinal, ns, msg, tc::ADD, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::QdiscDel { dev, parent } => {
                let i = self.index(ns, dev)?;
                self.queue(ordinal, ns, tc::qdisc_del(i, *parent), tc::DEL, true, false)?;
                Ok(Some(Extra::None))
            }
            Op::RedirectAdd { dev, to } => {
                let i = self.index(ns, dev)?;
                let t = self.index(ns, to)?;
                self.queue(
                    ordinal,
                    ns,
                    tc::redirect_filter_add(i, t),
                    tc::ADD,
                    true,
                    false,
                )?;
                Ok(Some(Extra::None))
            }
            Op::RedirectDel { dev } => {
                let i = self.index(ns, dev)?;
                self.queue(
                    ordinal,
                    ns,
                    tc::redirect_filter_del(i),
                    tc::DEL,
                    true,
                    false,
                )?;
                Ok(Some(Extra::None))
            }
            Op::ExternalRouteAdd { dev } | Op::ExternalRouteDel { dev } => {
                let ext = self.external().map_err(|e| KernelError {
                    errno: libc::ENOENT,
                    ext_ack: Some(e),
                })?;
                let i = self.index(ns, dev)?;
                let r = route::host_route(std::net::IpAddr::V4(ext.addr));
                let msg = if matches!(op, Op::ExternalRouteAdd { .. }) {
                    route::add(i, &r)
                } else {
                    route::del(i, &r)
                };
                let flags = if matches!(op, Op::ExternalRouteAdd { .. }) {
                    create
                } else {
                    0
                };
                self.queue(ordinal, ns, msg, flags, true, false)?;
                Ok(Some(Extra::None))
            }
            _ => Ok(None),
        }
    }

    /// conlink's external interface and its IPv4 address (config.md §7): the interface
    /// of the default IPv4 route in conlink's namespace. Looked up once per run.
    pub fn external(&mut self) -> Result<External, String> {
        if self.external.is_none() {
            let found = self.find_external();
            self.external = Some(found);
        }
        self.external.clone().expect("set above")
    }

    fn find_external(&mut self) -> Result<External, String> {
        let none = "conlink's namespace has no default IPv4 route, so it has no external interface for `forward` (on a host, conlink's own namespace never has one: run conlink in the namespace that receives the traffic, with --conlink-netns current)";
        self.flush_all().map_err(|e| e.to_string())?;
        let sock = self
            .places
            .get(&Ns::Conlink)
            .map_err(|e| e.to_string())?
            .route()
            .map_err(|e| e.to_string())?;
        let snap = Snapshot::take(sock).map_err(|e| e.to_string())?;
        let oif = snap
            .routes
            .iter()
            .find(|r| r.table == 254 && r.dst.prefix_len() == 0 && r.dst.addr().is_ipv4())
            .and_then(|r| r.oif)
            .ok_or_else(|| none.to_string())?;
        let ifname = snap
            .links
            .iter()
            .find(|l| l.index == oif)
            .map(|l| l.name.clone())
            .ok_or_else(|| none.to_string())?;
        let addr = snap
            .addrs
            .iter()
            .find_map(|(i, a)| match a.addr() {
                std::net::IpAddr::V4(v4) if *i == oif => Some(v4),
                _ => None,
            })
            .ok_or_else(|| format!("conlink's external interface {ifname} has no IPv4 address"))?;
        Ok(External { ifname, addr })
    }

    /// The namespace file descriptor of `other`, when it is not `here`.
    fn fd_if_other(&mut self, here: &Ns, other: &Ns) -> Result<Option<i32>, KernelError> {
        if here == other {
            return Ok(None);
        }
        Ok(Some(self.places.get(other)?.file.as_raw_fd()))
    }
}
