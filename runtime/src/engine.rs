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
//! Requests name interfaces by ifindex, and only the engine turns an interface into an
//! ifindex ([`Engine::ifindex`], from an [`Iface`]). Today it chooses the ifindex of
//! every interface it creates (docs/decisions.md, "Chosen ifindexes"), so a whole batch
//! can name interfaces that do not exist yet; giving that up (to survive another
//! program creating interfaces at the same time) changes only this module.

use crate::error::StepError;
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
    /// A further request to another namespace (a mark on an interface created from
    /// elsewhere): it joins that namespace's batch without sending the one being
    /// filled, so it goes after it.
    Aside,
}

/// An interface as a request names it, before the engine gives its ifindex.
#[derive(Clone, Copy, Debug)]
pub enum Iface<'a> {
    /// The interface named `name` in `ns`: one that was there, or one an earlier
    /// request of this run creates.
    Named { ns: &'a Ns, name: &'a str },
    /// The interface the request being built creates, named `name` in `ns`.
    Created { ns: &'a Ns, name: &'a str },
}

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

/// A queued request: its sequence number on its socket, what it is for, and whether
/// it is its step's main request.
struct Queued {
    seq: u32,
    origin: Origin,
    main: bool,
}

pub struct Engine {
    /// The ownership mark (see [`Engine::mark_later`]).
    mark: String,
    /// The namespace whose batch is being filled.
    current: Option<Ns>,
    queued: BTreeMap<Ns, Vec<Queued>>,
    /// The journal, in the order steps were carried out, and where each ordinal is.
    journal: Vec<Done>,
    by_ordinal: BTreeMap<usize, usize>,
    /// The first refusal, by origin.
    refused: Option<StepFailure>,
    /// Ownership marks not sent yet, by namespace and ifindex.
    marks: BTreeMap<(Ns, u32), Origin>,
}

impl Engine {
    pub fn new(mark: &str) -> Engine {
        Engine {
            mark: mark.into(),
            current: None,
            queued: BTreeMap::new(),
            journal: Vec::new(),
            by_ordinal: BTreeMap::new(),
            refused: None,
            marks: BTreeMap::new(),
        }
    }

    /// The ifindex a request uses for `iface`: an interface that is there (or that an
    /// earlier request of this run creates) by its name, or the one conlink chooses for
    /// the interface being created.
    pub fn ifindex(&mut self, places: &mut Places, iface: Iface) -> Result<u32, StepError> {
        match iface {
            Iface::Named { ns, name } => {
                places
                    .get(ns)?
                    .index_of(name)?
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
        let place = places.get(ns)?;
        let index = place.index_of(name)?;
        if index.is_some() {
            place.forget(name);
        }
        Ok(index)
    }

    /// Queues one request for `ns`; sends the batch being filled first when it belongs
    /// to another namespace (unless the request is [`Part::Aside`]).
    pub fn queue(
        &mut self,
        places: &mut Places,
        origin: Origin,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        part: Part,
    ) -> Result<(), StepError> {
        let aside = part == Part::Aside;
        if !aside && self.current.as_ref() != Some(ns) {
            if let Some(cur) = self.current.take() {
                self.flush(places, &cur)?;
            }
            self.current = Some(ns.clone());
        }
        let msg = self.with_mark(ns, msg);
        let sock = places.get(ns)?.route()?;
        let seq = sock.queue(msg, flags);
        let full = sock.is_full();
        self.queued.entry(ns.clone()).or_default().push(Queued {
            seq,
            origin,
            main: part == Part::Main,
        });
        if full && !aside {
            self.flush(places, ns)?;
        }
        Ok(())
    }

    /// Sends `ns`'s batch and matches its acks to steps.
    fn flush(&mut self, places: &mut Places, ns: &Ns) -> Result<(), StepError> {
        // Marks that found no request to ride on go now, on their own.
        let due: Vec<(u32, Origin)> = self
            .marks
            .range((ns.clone(), 0)..=(ns.clone(), u32::MAX))
            .map(|((_, index), origin)| (*index, *origin))
            .collect();
        for (index, origin) in due {
            self.marks.remove(&(ns.clone(), index));
            let seq = places
                .get(ns)?
                .route()?
                .queue(set_alias(index, &self.mark), 0);
            self.queued.entry(ns.clone()).or_default().push(Queued {
                seq,
                origin,
                main: false,
            });
        }
        let Some(queued) = self.queued.remove(ns) else {
            return Ok(());
        };
        let acks = places
            .get(ns)?
            .route()?
            .flush()
            .map_err(|e| StepError::io(format!("send requests to namespace {ns}"), e))?;
        for ((seq, result), q) in acks.into_iter().zip(queued) {
            debug_assert_eq!(seq, q.seq);
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
                error: StepError::Kernel(e),
            });
        }
        Ok(())
    }

    fn refuse(&mut self, f: StepFailure) {
        if self.refused.as_ref().is_none_or(|r| f.origin < r.origin) {
            self.refused = Some(f);
        }
    }

    /// Sends every batch: the one being filled first, then the [`Part::Aside`] ones.
    pub fn flush_all(&mut self, places: &mut Places) -> Result<(), StepError> {
        if let Some(cur) = self.current.take() {
            self.flush(places, &cur)?;
        }
        let rest: BTreeSet<Ns> = self
            .queued
            .keys()
            .cloned()
            .chain(self.marks.keys().map(|(ns, _)| ns.clone()))
            .collect();
        for ns in rest {
            self.flush(places, &ns)?;
        }
        Ok(())
    }

    /// Marks interface `index` in `ns` as conlink's (docs/plan.md, "Ownership"). The
    /// kernel ignores an alias in RTM_NEWLINK, so the mark needs a request after the
    /// creation; it rides on the next request that changes the same interface in the
    /// same batch (bringing it up, enslaving it), which saves a request per interface
    /// end, or goes on its own when the batch is sent. A failure of such a request is
    /// that later step's failure: setting an alias on an interface that exists does
    /// not fail.
    pub fn mark_later(&mut self, origin: Origin, ns: &Ns, index: u32) {
        self.marks.insert((ns.clone(), index), origin);
    }

    /// Adds a pending mark to a request that changes the marked interface.
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

/// `ip link set DEV alias MARK`, for a mark that rode on no other request.
fn set_alias(index: u32, alias: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.attributes.push(LinkAttribute::IfAlias(alias.to_string()));
    RouteNetlinkMessage::SetLink(m)
}
