//! The runtime's errors, typed: what went wrong, where, and (where conlink knows) what
//! to do about it. The binary prints them (`src/commands/runtime.rs`); tests match on
//! the variants.
//!
//! * [`StepError`]: why one step (or one undo) could not be carried out. Together with
//!   the step it answered it is a `crate::engine::StepFailure`.
//! * [`NsError`]: a namespace symbol that gave no open namespace.
//! * [`StateError`]: the project lock and the state file (damaged, another project's,
//!   another format's).
//! * [`Error`]: what stops a command before or after its steps.
//! * [`Problem`]: one thing a clean-up (rollback, destroy) could not do; clean-ups go
//!   on and report every problem.
//!
//! What the kernel answered is a [`KernelError`] (errno and extended ack), defined with
//! the socket that reads it ([`crate::netlink`]); errors of the other kernel interfaces
//! are their modules' own ([`NftError`], [`EthtoolError`]).

use crate::ethtool::EthtoolError;
use crate::lock::LockError;
use crate::netlink;
use crate::nft::NftError;
use compiler::plan::{Distribution, Ns};
use std::io;
use std::path::PathBuf;

pub use crate::netlink::KernelError;

/// Why a step, or an undo, could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The kernel refused a request of the step.
    #[error("{0}")]
    Kernel(KernelError),
    /// The kernel refused the request because it lacks what the step needs (no module
    /// to load either): the feature is named, with the kernel's own words after it.
    #[error("this kernel has no {feature} (the kernel said: {said})")]
    MissingFeature {
        feature: &'static str,
        said: KernelError,
    },
    /// A talk with the kernel failed other than by a refusal (the socket, an answer
    /// that does not parse).
    #[error("{0}")]
    Netlink(netlink::Error),
    /// An interface the step names is not there.
    #[error("no interface {dev} in namespace {ns} (No such device)")]
    NoInterface { ns: Ns, dev: String },
    /// Something with a planned name is there, and conlink did not make it.
    #[error(transparent)]
    NotOurs(#[from] NotOurs),
    /// A namespace the step works in could not be found or opened.
    #[error(transparent)]
    Namespace(#[from] NsError),
    /// conlink's external interface or address is unknown.
    #[error(transparent)]
    External(#[from] ExternalError),
    /// An interface request cannot be built from the step.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A netem qdisc request cannot be built (its distribution table).
    #[error(transparent)]
    Netem(#[from] NetemError),
    #[error(transparent)]
    Nft(#[from] NftError),
    #[error(transparent)]
    Ethtool(#[from] EthtoolError),
    /// Reading or writing a sysctl failed (the text names the key).
    #[error("{0}")]
    Sysctl(io::Error),
    #[error("cannot start the command: {0}")]
    CommandStart(io::Error),
    #[error("{0}")]
    CommandStop(io::Error),
    /// A target container already has an interface with the name of one its unit
    /// creates there (Docker's `eth0` when the container has a network of Docker's).
    #[error("{target} already has an interface {dev} that conlink did not create; conlink never touches it: give the container no network of the engine's (`network_mode: none`, `docker run --network none`), or give the link another `dev`")]
    Occupied { target: String, dev: String },
    /// Any other system call, with what it was for.
    #[error("cannot {doing}: {source}")]
    Io { doing: String, source: io::Error },
    /// An undo the state file records acts on something that is not conlink's: it is
    /// not carried out.
    #[error("not undone: {0}")]
    NotConlinks(String),
    /// Removing conlink's objects the plan no longer has failed.
    #[error("removing extra objects: {0}")]
    RemovingExtras(Box<StepError>),
    /// A step of a kind this runtime does not carry out yet.
    #[error("Open vSwitch bridges are not supported by this runtime yet; give the bridge `mode: linux` (or run with --ovs no so `auto` bridges are Linux bridges)")]
    NoOvs,
    /// The failure the test hook asked for.
    #[error("injected failure (test hook)")]
    Injected,
    /// A signal asked the run to stop.
    #[error("interrupted by {0}")]
    Interrupted(nix::sys::signal::Signal),
}

impl StepError {
    /// Whether the error says that what an undo removes is not there (anymore), which
    /// counts as undone (docs/plan.md, "Steps and inverses").
    pub fn is_gone(&self) -> bool {
        match self {
            StepError::Kernel(k) => k.is_gone(),
            StepError::Netlink(e) => e.is_gone(),
            StepError::NoInterface { .. } => true,
            StepError::Namespace(e) => matches!(e, NsError::Absent { .. }),
            // There is no external address, so no route to it either.
            StepError::External(_) => true,
            StepError::MissingFeature { .. }
            | StepError::NotOurs(_)
            | StepError::Link(_)
            | StepError::Netem(_)
            | StepError::Nft(_)
            | StepError::Ethtool(_)
            | StepError::Sysctl(_)
            | StepError::CommandStart(_)
            | StepError::CommandStop(_)
            | StepError::Io { .. }
            | StepError::Occupied { .. }
            | StepError::RemovingExtras(_)
            | StepError::NotConlinks(_)
            | StepError::NoOvs
            | StepError::Injected
            | StepError::Interrupted(_) => false,
        }
    }

    /// What the kernel said, when the error is the kernel refusing a request.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            StepError::Kernel(k) | StepError::MissingFeature { said: k, .. } => Some(k),
            StepError::Netlink(e) => e.kernel(),
            _ => None,
        }
    }

    pub fn io(doing: impl Into<String>, source: io::Error) -> StepError {
        StepError::Io {
            doing: doing.into(),
            source,
        }
    }
}

impl From<netlink::Error> for StepError {
    fn from(e: netlink::Error) -> StepError {
        match e {
            netlink::Error::Kernel(k) => StepError::Kernel(k),
            other => StepError::Netlink(other),
        }
    }
}

impl From<KernelError> for StepError {
    fn from(e: KernelError) -> StepError {
        StepError::Kernel(e)
    }
}

/// Why a namespace symbol gave no open namespace.
#[derive(Debug, thiserror::Error)]
pub enum NsError {
    /// Not there: a node's namespace before its `ip netns add` step, or after removal.
    #[error("namespace {ns} ({pinned}) does not exist")]
    Absent { ns: Ns, pinned: String },
    /// It belongs to a container that does not run (yet): its unit waits.
    #[error("{why}")]
    Waiting { ns: Ns, why: String },
    /// No resolver handles this kind of symbol.
    #[error("no resolver for namespace {0}")]
    Unknown(Ns),
    /// Opening, entering or using it failed.
    #[error("cannot {doing} namespace {ns}: {source}")]
    Io {
        ns: Ns,
        doing: &'static str,
        source: io::Error,
    },
}

/// Something with a name the plan uses that conlink did not make (it has no ownership
/// mark, docs/plan.md "Ownership"). conlink never adopts or removes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOurs {
    #[error("interface {name} exists and is not conlink's (its alias is {})", alias_text(.alias))]
    Interface { name: String, alias: Option<String> },
    #[error("namespace {ns} is already pinned and is not conlink's (no ownership mark on its loopback); remove it or choose another project name")]
    Namespace { ns: Ns },
}

fn alias_text(alias: &Option<String>) -> String {
    alias
        .as_deref()
        .map_or("unset".to_string(), |a| format!("{a:?}"))
}

/// Why conlink's external interface or address is unknown (`forward` needs them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalError {
    #[error("conlink's namespace has no default IPv4 route, so it has no external interface for `forward` (on a host, conlink's own namespace never has one: run conlink in the namespace that receives the traffic, with --conlink-netns current)")]
    NoDefaultRoute,
    #[error("conlink's external interface {ifname} has no IPv4 address")]
    NoAddress { ifname: String },
}

/// Why a link step cannot be turned into a request.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{kind} needs its parent interface")]
    NoParent { kind: &'static str },
}

/// Why a netem request could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NetemError {
    /// No table for the distribution in any of tc's library directories.
    #[error(
        "netem `distribution {distribution}` needs tc's table {distribution}.dist, found in none of: {}; \
         install iproute2 (it ships the tables), point TC_LIB_DIR at a directory holding it, \
         or use `distribution uniform`",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    TableNotFound {
        distribution: Distribution,
        searched: Vec<PathBuf>,
    },
    /// A table file exists but cannot be used.
    #[error("netem distribution table {}: {problem}", path.display())]
    TableInvalid {
        path: PathBuf,
        problem: TableProblem,
    },
    /// The builder was given no table (or another distribution's) for a non-uniform
    /// distribution.
    #[error("netem `distribution {distribution}` needs its table, and none was given")]
    TableMissing { distribution: Distribution },
}

/// What is wrong with a netem distribution table file.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TableProblem {
    #[error("line {line}: `{word}` is not a number from -32768 to 32767")]
    NotANumber { line: usize, word: String },
    #[error("the table is empty")]
    Empty,
    #[error("{count} values, more than the kernel's {max}")]
    TooLong { count: usize, max: usize },
    /// It cannot be read: the system's words.
    #[error("{0}")]
    Unreadable(String),
}

/// The project lock and the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot read the state file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// What is there is not a state file: the way out is `destroy`, which then works
    /// from the ownership marks, or moving the file away.
    #[error("{}: not a conlink state file ({why}); `conlink destroy` removes the project by its ownership marks (and this file), or move the file away", path.display())]
    Damaged { path: PathBuf, why: Damage },
    /// A state file of another format version (a newer conlink wrote it) than the one
    /// this conlink `reads`.
    #[error("{} is in state format {found}, and this conlink reads format {reads}; use the conlink that wrote it", path.display())]
    Format {
        path: PathBuf,
        found: u64,
        reads: u32,
    },
    /// A state file that says it is another project's.
    #[error("{} belongs to project {found}, not to this one; move it away", path.display())]
    OtherProject { path: PathBuf, found: String },
    #[error("cannot write the state file {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot remove the state file {}: {source}", path.display())]
    Remove { path: PathBuf, source: io::Error },
}

impl StateError {
    /// Whether the state file is not a conlink state file at all (rather than one
    /// conlink must not use), so that `destroy` may go by the ownership marks instead.
    pub fn is_damaged(&self) -> bool {
        matches!(self, StateError::Damaged { .. })
    }
}

/// Why a state file is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    #[error("as JSON: {0}")]
    Json(String),
    #[error("it is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Shape(String),
    #[error("it is a symbolic link, which conlink does not follow")]
    Link,
}

/// What stops a command before its first step or after its last.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Step(#[from] StepError),
}

impl From<NsError> for Error {
    fn from(e: NsError) -> Error {
        Error::Step(e.into())
    }
}

/// One thing a clean-up could not do: about what (a step and its undo line, a
/// namespace), and why.
#[derive(Debug, thiserror::Error)]
#[error("{subject}: {error}")]
pub struct Problem {
    pub subject: String,
    pub error: StepError,
}

impl Problem {
    pub fn new(subject: impl Into<String>, error: impl Into<StepError>) -> Problem {
        Problem {
            subject: subject.into(),
            error: error.into(),
        }
    }
}
