//! The engine: sends the rtnetlink requests steps make, one namespace's socket at a
//! time, matches the kernel's acknowledgements back to the steps, and keeps the
//! journal of what the kernel carried out. It knows nothing of what a request means:
//! the families build them (`crate::families`).
//!
//! Requests are *queued* on the socket of the namespace they go to and sent in
//! batches: the batch of a namespace is sent when the next request goes to another
//! namespace, before any step that is not a netlink request, before the kernel is read
//! directly, and at the end. Because the kernel carries out a batch completely inside
//! one `sendmsg(2)`, this keeps the plan's order across namespaces while most requests
//! cost no round trip of their own. Acks are matched back to steps; the first refusal
//! in plan order is kept ([`Engine::refused`]), and a step whose main request was
//! refused is not journaled as effective, so rollback does not undo it.
//!
//! **Identity from the kernel** (docs/decisions.md). Requests name interfaces by
//! ifindex, and only the engine turns an interface into one ([`Engine::ifindex`]). It
//! proposes the ifindex of each interface it creates (the next free one it knows of),
//! so nothing waits for a lookup; but another program may take that index first, and
//! then the kernel refuses the create. So an interface counts as conlink's only once
//! the kernel has acknowledged its create:
//! * a request that names an interface whose create is still queued does not join that
//!   batch: the batch is sent first, and the request is built only if the create
//!   succeeded (otherwise the create's refusal is the one reported);
//! * the ownership mark and the other requests that follow a create (an altname) are
//!   queued once its ack is read, and go with the next batch to that namespace;
//! * a create refused with `EEXIST` (or `EBUSY`, for a veth's peer) while its names are
//!   free was refused for an index: it is sent again with the kernel choosing (ifindex
//!   0), and the indexes read back by the names conlink just created. A name that is
//!   taken is the real error.

use crate::error::{NotOurs, StepError};
use crate::observe;
use crate::places::Places;
use crate::state::Extra;
use compiler::plan::Ns;
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::collections::{BTreeMap, BTreeSet};

/// What a request is for: a step of the run (by ordinal, in plan order), or clean-up
/// that belongs to no step (an undo, removing stale or extra objects), ordered after
/// every step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Step(usize),
    Cleanup,
}

/// A step that failed: which (its ordinal in the run, or a clean-up request of no step),
/// where (the namespace the failing request went to: a link's target, a veth's peer,
/// may differ from the step's own), and why.
#[derive(Debug)]
pub struct StepFailure {
    pub origin: Origin,
    pub ns: Ns,
    pub error: StepError,
}

/// The role of a request in its step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The request that carries the step out: if the kernel refuses it, the step did
    /// nothing, so there is nothing to undo.
    Main,
    /// A further request of the step, in the same batch.
    More,
}

/// An interface as a request names it, before the engine gives its ifindex.
#[derive(Clone, Copy, Debug)]
pub enum Iface<'a> {
    /// The interface named `name` in `ns`: one that was there, or one an earlier
    /// request of this run created (the kernel acknowledged it).
    Named { ns: &'a Ns, name: &'a str },
    /// The interface the request being built creates, named `name` in `ns`.
    Created { ns: &'a Ns, name: &'a str },
}

/// What a create request makes: each interface (namespace, name, proposed ifindex),
/// and how to send it again with the kernel choosing the ifindexes.
pub struct Creates {
    pub made: Vec<(Ns, String, u32)>,
    /// Sets every ifindex the request proposes to 0.
    pub kernel_chooses: fn(&mut RouteNetlinkMessage),
}

/// A request built once the interface it follows is created, from its ifindex.
pub type FollowUp = Box<dyn FnOnce(u32) -> RouteNetlinkMessage>;

/// One step this run carried out (or tried to), in the journal.
#[derive(Debug, Clone)]
pub struct Done {
    /// Index of the unit and of the step in it.
    pub unit: usize,
    pub step: usize,
    /// Whether the step created something that rollback must undo.
    pub effective: bool,
    pub extra: Extra,
}

/// A create request waiting for its ack: what is needed to send it again.
struct Create {
    msg: RouteNetlinkMessage,
    flags: u16,
    creates: Creates,
}

/// A queued request: its sequence number on its socket, what it is for, whether it is
/// its step's main request, and, for a create, how to try it again.
struct Queued {
    seq: u32,
    origin: Origin,
    main: bool,
    create: Option<Box<Create>>,
}

pub struct Engine {
    /// The ownership mark (see [`Engine::queue_create`]).
    mark: String,
    /// The namespace whose batch is being filled: the only one with queued requests.
    current: Option<Ns>,
    queued: Vec<Queued>,
    /// Interfaces whose create request is queued and not acknowledged yet.
    creating: BTreeSet<(Ns, String)>,
    /// Requests waiting for an interface's create to be acknowledged.
    follow_ups: BTreeMap<(Ns, String), Vec<(Origin, FollowUp)>>,
    /// Ownership marks of created interfaces, not sent yet, by namespace and ifindex.
    marks: BTreeMap<(Ns, u32), Origin>,
    /// Follow-ups of created interfaces, not sent yet, by namespace.
    due: BTreeMap<Ns, Vec<(Origin, RouteNetlinkMessage)>>,
    /// The journal, in the order steps were carried out, and where each ordinal is.
    journal: Vec<Done>,
    by_ordinal: BTreeMap<usize, usize>,
    /// The first refusal, by origin.
    refused: Option<StepFailure>,
}

impl Engine {
    pub fn new(mark: &str) -> Engine {
        Engine {
            mark: mark.into(),
            current: None,
            queued: Vec::new(),
            creating: BTreeSet::new(),
            follow_ups: BTreeMap::new(),
            marks: BTreeMap::new(),
            due: BTreeMap::new(),
            journal: Vec::new(),
            by_ordinal: BTreeMap::new(),
            refused: None,
        }
    }

    /// The ifindex a request uses for `iface`: an interface that is there by its name
    /// (one whose create is still queued is sent and acknowledged first), or the one
    /// conlink proposes for the interface being created.
    pub fn ifindex(&mut self, places: &mut Places, iface: Iface) -> Result<u32, StepError> {
        match iface {
            Iface::Named { ns, name } => {
                self.find(places, ns, name)?
                    .ok_or_else(|| StepError::NoInterface {
                        ns: ns.clone(),
                        dev: name.to_string(),
                    })
            }
            Iface::Created { ns, name } => places.get(ns)?.allocate(name),
        }
    }

    /// The ifindex of `name` in `ns`, if there is such an interface.
    pub fn find(
        &mut self,
        places: &mut Places,
        ns: &Ns,
        name: &str,
    ) -> Result<Option<u32>, StepError> {
        self.settle(places, ns, name)?;
        places.get(ns)?.index_of(name)
    }

    /// The ifindex of `name` in `ns` for a request that deletes it (forgotten from now
    /// on), or `None` when it is not there.
    pub fn deleting(
        &mut self,
        places: &mut Places,
        ns: &Ns,
        name: &str,
    ) -> Result<Option<u32>, StepError> {
        self.settle(places, ns, name)?;
        let place = places.get(ns)?;
        let index = place.index_of(name)?;
        if index.is_some() {
            place.forget(name);
        }
        Ok(index)
    }

    /// When `name` in `ns` is being created by a queued request, sends the batch, so
    /// that it is known whether the kernel created it (and with which index).
    fn settle(&mut self, places: &mut Places, ns: &Ns, name: &str) -> Result<(), StepError> {
        if self.creating.contains(&(ns.clone(), name.to_string())) {
            self.flush_current(places, false)?;
        }
        Ok(())
    }

    /// Queues one request for `ns`; sends the batch being filled first when it belongs
    /// to another namespace.
    pub fn queue(
        &mut self,
        places: &mut Places,
        origin: Origin,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        part: Part,
    ) -> Result<(), StepError> {
        self.push(places, origin, ns, msg, flags, part == Part::Main, None)
    }

    /// Queues the main request of a step that creates interfaces (`creates`). Once the
    /// kernel acknowledges it, each interface gets the ownership mark; if the kernel
    /// refuses it because a proposed ifindex was taken, it is sent again with the kernel
    /// choosing.
    pub fn queue_create(
        &mut self,
        places: &mut Places,
        origin: Origin,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        creates: Creates,
    ) -> Result<(), StepError> {
        for (n, name, _) in &creates.made {
            self.creating.insert((n.clone(), name.clone()));
        }
        let create = Box::new(Create {
            msg: msg.clone(),
            flags,
            creates,
        });
        self.push(places, origin, ns, msg, flags, true, Some(create))
    }

    /// Sends `build(ifindex)` to `ns` once interface `name` there is created (with the
    /// next batch to `ns` after its ack); nothing, if its create fails.
    pub fn after_created(
        &mut self,
        places: &mut Places,
        origin: Origin,
        ns: &Ns,
        name: &str,
        build: FollowUp,
    ) -> Result<(), StepError> {
        let key = (ns.clone(), name.to_string());
        if self.creating.contains(&key) {
            self.follow_ups
                .entry(key)
                .or_default()
                .push((origin, build));
            return Ok(());
        }
        // Created already: it goes now.
        let index = self.ifindex(places, Iface::Named { ns, name })?;
        self.queue(places, origin, ns, build(index), 0, Part::More)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        places: &mut Places,
        origin: Origin,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        main: bool,
        create: Option<Box<Create>>,
    ) -> Result<(), StepError> {
        if self.current.as_ref() != Some(ns) {
            self.flush_current(places, false)?;
            self.current = Some(ns.clone());
        }
        let msg = self.with_mark(ns, msg);
        let sock = places.get(ns)?.route()?;
        let seq = sock.queue(msg, flags);
        let full = sock.is_full();
        self.queued.push(Queued {
            seq,
            origin,
            main,
            create,
        });
        if full {
            self.flush_current(places, false)?;
        }
        Ok(())
    }

    /// Sends the batch being filled (with the marks and follow-ups due in its
    /// namespace) and matches its acks to steps. With `force`, what is due goes even
    /// when nothing else is queued.
    fn flush_current(&mut self, places: &mut Places, force: bool) -> Result<(), StepError> {
        let Some(ns) = self.current.clone() else {
            return Ok(());
        };
        if self.queued.is_empty() && !force {
            return Ok(());
        }
        self.queue_due(places, &ns)?;
        if self.queued.is_empty() {
            return Ok(());
        }
        let queued = std::mem::take(&mut self.queued);
        let acks = places
            .get(&ns)?
            .route()?
            .flush()
            .map_err(|e| StepError::io(format!("send requests to namespace {ns}"), e))?;
        for ((seq, result), q) in acks.into_iter().zip(queued) {
            debug_assert_eq!(seq, q.seq);
            let result = match (q.create, result) {
                (Some(create), Ok(())) => {
                    self.created(places, q.origin, &create.creates.made);
                    Ok(())
                }
                // The kernel looks the proposed index up first and answers EEXIST when
                // it is taken; a taken index of a veth's peer is EBUSY.
                (Some(create), Err(e)) if e.is_exists() || e.errno == libc::EBUSY => {
                    match self.create_again(places, &ns, &create) {
                        Ok(made) => {
                            self.created(places, q.origin, &made);
                            Ok(())
                        }
                        Err(e) => {
                            self.not_created(places, &create.creates.made);
                            Err(e)
                        }
                    }
                }
                (Some(create), Err(e)) => {
                    self.not_created(places, &create.creates.made);
                    Err(StepError::Kernel(e))
                }
                (None, r) => r.map_err(StepError::Kernel),
            };
            let Err(e) = result else { continue };
            // Clean-up requests may find their object already gone: deleting an
            // address takes the routes through it along.
            if q.origin == Origin::Cleanup && e.is_gone() {
                continue;
            }
            if let (true, Origin::Step(ordinal)) = (q.main, q.origin) {
                if let Some(&i) = self.by_ordinal.get(&ordinal) {
                    self.journal[i].effective = false;
                }
            }
            self.refuse(StepFailure {
                origin: q.origin,
                ns: ns.clone(),
                error: e,
            });
        }
        Ok(())
    }

    /// Adds the marks and follow-ups due in `ns` to its batch. Their interfaces were
    /// created by batches already acknowledged.
    fn queue_due(&mut self, places: &mut Places, ns: &Ns) -> Result<(), StepError> {
        let marked: Vec<(u32, Origin)> = self
            .marks
            .range((ns.clone(), 0)..=(ns.clone(), u32::MAX))
            .map(|((_, index), origin)| (*index, *origin))
            .collect();
        let mut due = self.due.remove(ns).unwrap_or_default();
        for (index, origin) in marked {
            self.marks.remove(&(ns.clone(), index));
            due.push((origin, mark_request(index, &self.mark)));
        }
        if due.is_empty() {
            return Ok(());
        }
        let sock = places.get(ns)?.route()?;
        for (origin, msg) in due {
            let seq = sock.queue(msg, 0);
            self.queued.push(Queued {
                seq,
                origin,
                main: false,
                create: None,
            });
        }
        Ok(())
    }

    /// The kernel created `made`: they are conlink's, so their marks and follow-ups
    /// become due.
    fn created(&mut self, places: &mut Places, origin: Origin, made: &[(Ns, String, u32)]) {
        for (ns, name, index) in made {
            let key = (ns.clone(), name.clone());
            self.creating.remove(&key);
            self.marks.insert((ns.clone(), *index), origin);
            for (origin, build) in self.follow_ups.remove(&key).unwrap_or_default() {
                self.due
                    .entry(ns.clone())
                    .or_default()
                    .push((origin, build(*index)));
            }
            if let Ok(place) = places.get(ns) {
                place.record(name, *index);
            }
        }
    }

    /// The kernel did not create `made`: no request will name them.
    fn not_created(&mut self, places: &mut Places, made: &[(Ns, String, u32)]) {
        for (ns, name, _) in made {
            let key = (ns.clone(), name.clone());
            self.creating.remove(&key);
            self.follow_ups.remove(&key);
            if let Ok(place) = places.get(ns) {
                place.forget(name);
            }
        }
    }

    /// A create the kernel refused with `EEXIST` or `EBUSY`: when its names are free, a proposed
    /// ifindex was taken, so it is sent again with the kernel choosing, and the
    /// ifindexes read back by name. Returns what it made, with their real ifindexes.
    fn create_again(
        &mut self,
        places: &mut Places,
        ns: &Ns,
        create: &Create,
    ) -> Result<Vec<(Ns, String, u32)>, StepError> {
        for (n, name, _) in &create.creates.made {
            if let Some(l) = by_name(places, n, name)? {
                return Err(NotOurs::Interface {
                    name: name.clone(),
                    alias: l.alias,
                }
                .into());
            }
        }
        let mut msg = create.msg.clone();
        (create.creates.kernel_chooses)(&mut msg);
        places.get(ns)?.route()?.request(msg, create.flags)?;
        let mut made = Vec::new();
        for (n, name, _) in &create.creates.made {
            let l = by_name(places, n, name)?.ok_or_else(|| StepError::NoInterface {
                ns: n.clone(),
                dev: name.clone(),
            })?;
            made.push((n.clone(), name.clone(), l.index));
        }
        Ok(made)
    }

    fn refuse(&mut self, f: StepFailure) {
        if self.refused.as_ref().is_none_or(|r| f.origin < r.origin) {
            self.refused = Some(f);
        }
    }

    /// Sends everything queued, then what is due in other namespaces (marks and
    /// follow-ups of interfaces created there).
    pub fn flush_all(&mut self, places: &mut Places) -> Result<(), StepError> {
        self.flush_current(places, true)?;
        let rest: BTreeSet<Ns> = self
            .due
            .keys()
            .cloned()
            .chain(self.marks.keys().map(|(ns, _)| ns.clone()))
            .collect();
        for ns in rest {
            self.current = Some(ns);
            self.flush_current(places, true)?;
        }
        Ok(())
    }

    /// Adds a due mark to a request that changes the marked interface (bringing it up,
    /// enslaving it), which saves a request per interface end.
    fn with_mark(&mut self, ns: &Ns, msg: RouteNetlinkMessage) -> RouteNetlinkMessage {
        match msg {
            RouteNetlinkMessage::SetLink(mut m)
                if self.marks.remove(&(ns.clone(), m.header.index)).is_some() =>
            {
                m.attributes.push(LinkAttribute::IfAlias(self.mark.clone()));
                RouteNetlinkMessage::SetLink(m)
            }
            other => other,
        }
    }

    /// Records a step in the journal.
    pub fn record(
        &mut self,
        ordinal: usize,
        unit: usize,
        step: usize,
        effective: bool,
        extra: Extra,
    ) {
        self.by_ordinal.insert(ordinal, self.journal.len());
        self.journal.push(Done {
            unit,
            step,
            effective,
            extra,
        });
    }

    /// The journal: the steps this run carried out, in order.
    pub fn journal(&self) -> &[Done] {
        &self.journal
    }

    /// The first request the kernel refused (in plan order), if one was.
    pub fn refused(&self) -> Option<&StepFailure> {
        self.refused.as_ref()
    }

    /// Takes the first refusal, so what is sent next is judged on its own.
    pub fn take_refused(&mut self) -> Option<StepFailure> {
        self.refused.take()
    }
}

/// The interface named `name` in `ns`, asked of the kernel (nothing is queued on that
/// namespace's socket: only the batch being filled has requests, and it was just sent).
fn by_name(
    places: &mut Places,
    ns: &Ns,
    name: &str,
) -> Result<Option<observe::LinkRead>, StepError> {
    let sock = places.get(ns)?.route()?;
    match sock.get(observe::get_link_by_name(name)) {
        Ok(answer) => Ok(answer.into_iter().find_map(|m| match m {
            RouteNetlinkMessage::NewLink(m) => Some(observe::read_link(&m)),
            _ => None,
        })),
        Err(e) if e.kernel().is_some_and(|k| k.errno == libc::ENODEV) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `ip link set DEV alias MARK`: the ownership mark, for an interface `index` whose
/// mark rode on no other request (and a new namespace's loopback).
pub fn mark_request(index: u32, alias: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.attributes.push(LinkAttribute::IfAlias(alias.to_string()));
    RouteNetlinkMessage::SetLink(m)
}
