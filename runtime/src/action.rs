//! What the runtime can do with one plan operation ([`compiler::plan::Op`]): the
//! [`Action`] each family implements for each of its operations (`crate::families`),
//! and the answers it gives.
//!
//! A step goes through the same questions whoever runs it (`crate::steps`): which
//! namespaces must be there; is it already in place ([`Check`]); if not, carry it out,
//! or repair what differs; and, for an undo operation, how its object goes away when
//! the namespace around it does ([`Removal`]).

use crate::command::ExitStatus;
use crate::context::Context;
use crate::engine::{Iface, Origin, Part};
use crate::error::{KernelError, NotOurs, StepError};
use crate::planned::Planned;
use crate::state::Extra;
use compiler::plan::Ns;
use rtnetlink::packet_route::RouteNetlinkMessage;

/// Where, and for which step, an action runs.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    /// The step's id (`UNIT/INDEX`; for an undo, the id of the step it undoes).
    pub step: &'a str,
    /// The step's namespace.
    pub ns: &'a Ns,
    /// What its requests are for: the step's ordinal, or clean-up.
    pub origin: Origin,
}

/// What checking a step against the system found.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Already in place.
    InPlace,
    /// The step's object is not there.
    Missing,
    /// It is there, with other values.
    Differs(Vec<Different>),
    /// Something with the step's name is there that conlink did not make.
    Foreign(NotOurs),
    /// The process the step started: it runs, or it ran and ended. Either way the step
    /// is in place: it is not run again until its target is created again.
    Process(Process),
}

/// A process a step started, as found.
#[derive(Clone, Debug, PartialEq)]
pub enum Process {
    /// It runs. `adopt` is what the state should record for it when the state did not
    /// (it was found by its tag: the run that started it was stopped before recording).
    Running { pid: i32, adopt: Option<Extra> },
    /// It ended, so.
    Ended(ExitStatus),
}

/// One value that differs from the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Different {
    /// What differs, e.g. "mtu of eth0".
    pub what: String,
    pub planned: String,
    pub found: String,
}

impl Different {
    pub fn new(what: String, planned: impl Into<String>, found: impl Into<String>) -> Different {
        Different {
            what,
            planned: planned.into(),
            found: found.into(),
        }
    }
}

/// How the object of an undo operation goes away, which decides how rollback and
/// `destroy` treat it (docs/decisions.md, "Rollback" and "Destroy").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// It is undone on its own: a route, a sysctl, an nft table.
    OnItsOwn,
    /// It goes when its interface is deleted: the interface itself, its addresses,
    /// qdiscs, filters, state and offload settings. Removing a namespace deletes its
    /// interfaces only when the kernel gets round to it, some time after the pin and
    /// the last socket in it are gone: a veth with its peer in a namespace that stays
    /// is deleted explicitly, so that the peer is gone when conlink returns.
    WithItsInterface,
    /// An interface created from another namespace than its own (a tunnel, a macvlan):
    /// it holds on to the namespace it was created from until the kernel really
    /// deletes it, some time after its own namespace goes, so it is deleted explicitly.
    CreatedFromElsewhere,
    /// A process: stopped explicitly, wherever it runs.
    Process,
    /// A namespace: removing it removes everything in it.
    Namespace,
}

/// What an undo operation acts on, so that an undo the state file records is carried
/// out only on what is conlink's (`crate::owned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The step's namespace itself.
    Namespace,
    /// The interface `dev` (or something on it: an address, a route, a qdisc, its
    /// offload settings), in the operation's home namespace.
    Interface(&'a str),
    /// Sysctl `key` of the namespace.
    Sysctl(&'a str),
    /// The nftables table of that name.
    NftTable(&'a str),
    /// A process (it is checked when stopped: `crate::families::command`).
    Process,
    /// An Open vSwitch object (refused by this runtime anyway).
    Ovs,
}

/// One plan operation, with its family's code.
pub trait Action {
    /// The namespaces the operation works in: the step's own and, for some, others (a
    /// link's target, a veth's peer). Each must be there before it runs, unless the
    /// operation makes it ([`Action::makes_namespace`]); an undo whose namespace is
    /// gone counts as done. Empty for undo operations that need none.
    fn namespaces<'a>(&'a self, ns: &'a Ns) -> Vec<&'a Ns> {
        vec![ns]
    }

    /// Whether the operation creates its own namespace.
    fn makes_namespace(&self) -> bool {
        false
    }

    /// Whether its requests are queued on the engine (rtnetlink), rather than carried
    /// out at once (which first sends everything queued).
    fn batched(&self) -> bool;

    /// Whether the step's effect is already there. Only asked for steps whose
    /// namespace existed before this run; `recorded` is what the state file holds for
    /// the step, if anything. Every operation a plan's steps use answers; the default,
    /// `Missing` (the step is carried out), is for undo operations, which are never
    /// checked.
    fn check(
        &self,
        _cx: &mut Context,
        _at: &At,
        _recorded: Option<&Extra>,
    ) -> Result<Check, StepError> {
        Ok(Check::Missing)
    }

    /// Carries the operation out: queues its requests, or does it. `recorded` is what
    /// the state holds for the step an undo undoes ([`Extra::None`] for a step of the
    /// plan). Returns what the operation's own undo will need.
    fn carry_out(&self, cx: &mut Context, at: &At, recorded: &Extra) -> Result<Extra, StepError>;

    /// Puts back the values [`Action::check`] found different, when the family can;
    /// `None` when it cannot, and the step is carried out again instead.
    fn repair(&self, _cx: &mut Context, _at: &At) -> Option<Result<(), StepError>> {
        None
    }

    /// Whether the kernel's refusal of an undo request means the object is already
    /// gone, which counts as undone.
    fn gone(&self, err: &KernelError) -> bool {
        err.is_gone()
    }

    /// The kernel feature the operation needs, when `err` is the kernel refusing it for
    /// lack of that feature (e.g. "netem qdisc (sch_netem)").
    fn missing_feature(&self, _err: &KernelError) -> Option<&'static str> {
        None
    }

    /// How the object of this (undo) operation goes away.
    fn removal(&self) -> Removal {
        Removal::OnItsOwn
    }

    /// The namespace its object lives in: the step's own, or a link's target.
    fn home<'a>(&'a self, ns: &'a Ns) -> &'a Ns {
        ns
    }

    /// Every namespace its objects live in: its home, and a veth's peer's. An object
    /// goes with its namespace only when all of them go (see [`Removal`]).
    fn homes<'a>(&'a self, ns: &'a Ns) -> Vec<&'a Ns> {
        vec![self.home(ns)]
    }

    /// Adds what the operation creates in namespace `ns` to `planned`.
    fn plan(&self, _ns: &Ns, _project: &str, _planned: &mut Planned) {}

    /// For an undo operation, what it acts on; `None` for an operation that is no undo
    /// (which a state file must never make conlink carry out).
    fn subject(&self) -> Option<Subject<'_>> {
        None
    }
}

/// Queues the main request of a step that names one interface, `dev`, of the step's
/// namespace: `build` makes the request from the ifindex the engine gives `dev`. Such
/// a step needs nothing recorded for its undo.
pub fn queue_for_dev(
    cx: &mut Context,
    at: &At,
    dev: &str,
    flags: u16,
    build: impl FnOnce(u32) -> RouteNetlinkMessage,
) -> Result<Extra, StepError> {
    let index = cx.ifindex(Iface::Named {
        ns: at.ns,
        name: dev,
    })?;
    cx.queue(at.origin, at.ns, build(index), flags, Part::Main)?;
    Ok(Extra::None)
}
