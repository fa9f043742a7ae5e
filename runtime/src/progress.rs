//! Progress of a run as it happens: what `apply`, `status` and `destroy` do, step by
//! step, reported to a [`Progress`] the caller gives (the command line prints it for
//! `-v`; `conlink run` and a JSON output can take it too). The runtime says what
//! happened; the sink decides what to show and how, and what it does not want costs
//! nothing: a step's one-line form is only written when [`Progress::wants_steps`].

use crate::lock::Holder;
use compiler::plan::Ns;
use std::time::Duration;

/// What became of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `apply` carried it out.
    Ran,
    /// It was already in place (`apply`, `status`).
    InPlace,
    /// `apply` put back the values that differed.
    Repaired,
    /// `status`: its object is not there.
    Missing,
    /// `status`: its object is there, with other values.
    Different,
    /// `status`: something with its name is there that conlink did not make.
    Foreign,
    /// Rollback or `destroy` undid it (the line is the undo's).
    Undone,
}

impl Outcome {
    /// The word for it in messages.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ran => "run",
            Outcome::InPlace => "in place",
            Outcome::Repaired => "repaired",
            Outcome::Missing => "missing",
            Outcome::Different => "different",
            Outcome::Foreign => "foreign",
            Outcome::Undone => "undone",
        }
    }
}

/// One step, as it was checked or carried out.
#[derive(Clone, Copy, Debug)]
pub struct StepEvent<'a> {
    /// The step's id (`UNIT/INDEX`).
    pub id: &'a str,
    pub ns: &'a Ns,
    /// The step (for [`Outcome::Undone`], its undo) as `conlink plan` prints it.
    pub line: &'a str,
    pub outcome: Outcome,
    /// How long the step took. Requests to the kernel are sent in batches: a request's
    /// own time is building and queueing it, and the kernel's time for a whole batch
    /// falls to the step that sends it.
    pub took: Duration,
    /// When it ended, since the run started.
    pub at: Duration,
}

/// Where a run reports its progress. Every method does nothing unless implemented.
pub trait Progress {
    /// Whether [`Progress::step`] is wanted: when not, no step line is written.
    fn wants_steps(&self) -> bool {
        false
    }

    /// A step was checked and, unless in place, carried out (or undone).
    fn step(&mut self, _event: &StepEvent<'_>) {}

    /// Something that is no step of the plan was removed: an object conlink made that
    /// the plan no longer has (`apply`), or one of the project's (`destroy`). `ns` is
    /// where it was.
    fn removed(&mut self, _ns: &str, _what: &str) {}

    /// Another run holds the project's lock: this one waits for it.
    fn waiting_for(&mut self, _holder: &Holder) {}
}

/// A sink that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {}
