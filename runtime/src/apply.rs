//! `conlink apply`: carry out a plan's steps in order, skipping what is already in
//! place and repairing what drifted, remove conlink's objects the plan no longer has,
//! and undo everything this run did if a step fails.
//!
//! [`Applying`] is one apply in progress; [`Applying::unit`] applies one unit on its
//! own (what `run` does when a container starts). Each step is reported to the run's
//! [`Progress`] as it is done.

use crate::action::{Check, Process, Removal};
use crate::command::ExitStatus;
use crate::context::{Context, Settings};
use crate::differences::{self, Difference};
use crate::engine::{Origin, StepFailure};
use crate::error::{Error, NsError, Problem, StateError, StepError};
use crate::families;
use crate::interrupt;
use crate::lock::ProjectLock;
use crate::planned::Planned;
use crate::progress::{self, Progress, StepEvent};
use crate::state::{self, Extra, NsRecord, State, StepRecord};
use crate::steps::{self, Pruned};
use compiler::plan::{Ns, Plan};
use std::collections::BTreeSet;
use std::time::Instant;

/// Test hooks; the command line never sets them.
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    /// Make the step with this ordinal (0-based, over the steps this run reaches) fail.
    pub fail_at: Option<usize>,
}

/// What an apply did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Steps carried out.
    pub executed: usize,
    /// Steps already in place.
    pub in_place: usize,
    /// Differences repaired: (step id, description).
    pub repaired: Vec<(String, String)>,
    /// conlink's objects the plan no longer has, removed: (namespace, what).
    pub removed: Vec<(String, String)>,
    /// Commands that ended with a failure (they are not started again): step id, the
    /// step as `conlink plan` prints it, how it ended.
    pub failed_commands: Vec<(String, String, ExitStatus)>,
    /// Units not applied, and why (waiting for their containers).
    pub waiting: Vec<(String, String)>,
    /// Steps reached (executed + in place).
    pub reached: usize,
}

/// A failed apply: the step, where, why, and the rollback.
#[derive(Debug)]
pub struct Failure {
    pub step_id: String,
    /// The step as `conlink plan` prints it.
    pub line: String,
    pub ns: Ns,
    pub error: StepError,
    pub undone: usize,
    pub rollback_errors: Vec<Problem>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} failed in namespace {}: {}\n  step: {}",
            self.step_id, self.ns, self.error, self.line
        )
    }
}

/// Why an apply failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A step failed; what this run did was rolled back.
    #[error("{0}")]
    Failed(Box<Failure>),
    /// The run could not start (the lock, the state file), or not record what it did.
    #[error("{0}")]
    Setup(#[from] Error),
}

/// Carries out `plan`, reporting each step to `progress`. On failure everything this
/// run did is undone.
pub fn apply(
    plan: &Plan,
    settings: &Settings,
    hooks: &Hooks,
    progress: &mut dyn Progress,
) -> Result<Report, ApplyError> {
    let lock = ProjectLock::take(&plan.project, settings.wait, |holder| {
        progress.waiting_for(holder)
    })
    .map_err(StateError::from)
    .map_err(Error::from)?;
    apply_locked(plan, settings, hooks, progress, &lock)
}

/// [`apply`] under a lock the caller holds (`conlink run` holds it for as long as it
/// runs).
pub fn apply_locked(
    plan: &Plan,
    settings: &Settings,
    hooks: &Hooks,
    progress: &mut dyn Progress,
    _lock: &ProjectLock,
) -> Result<Report, ApplyError> {
    let previous = state::load(&settings.state_dir, &plan.project).map_err(Error::from)?;
    let fresh = || State::new(&plan.project, &plan.mark, plan.group, settings.conlink_ns);
    let mut st = previous.clone().unwrap_or_else(fresh);
    let mut run = Applying::new(plan, settings, hooks.clone(), progress).map_err(Error::from)?;

    // An interrupted run stops at the next step and rolls back like a failed one.
    let _interrupt = interrupt::Guard::install();
    let mut skipped: BTreeSet<&str> = BTreeSet::new();
    for (ui, unit) in plan.units.iter().enumerate() {
        match run.waits(ui, &skipped) {
            Ok(Some(why)) => {
                run.report.waiting.push((unit.id.clone(), why));
                skipped.insert(&unit.id);
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                run.unit_failed(ui, e.into());
                break;
            }
        }
        if !run.unit(ui, &mut st) {
            break;
        }
    }
    run.finish();

    if run.failure.is_some() {
        let failure = run.roll_back();
        // What earlier runs recorded stays; this run's additions are gone.
        let restore = previous.unwrap_or_else(fresh);
        if restore.steps.is_empty() && restore.namespaces.is_empty() {
            let _ = state::remove(&settings.state_dir, &plan.project);
        } else {
            let _ = state::save(&settings.state_dir, &restore);
        }
        return Err(ApplyError::Failed(Box::new(failure)));
    }
    run.record(&mut st);
    state::save(&settings.state_dir, &st).map_err(Error::from)?;
    Ok(run.report)
}

/// One apply in progress: its context, the failure that stops it, what it reports.
pub struct Applying<'p> {
    plan: &'p Plan,
    cx: Context,
    hooks: Hooks,
    /// What the plan creates (to tell conlink's stale and extra objects).
    planned: Planned,
    /// Stale addresses and routes removed when their namespace was first read.
    pruned: Pruned,
    report: Report,
    /// Steps reached, by ordinal: (unit index, step index).
    reached: Vec<(usize, usize)>,
    /// The first failure, in plan order.
    failure: Option<StepFailure>,
    /// Processes of steps in place that the state did not record (found by their
    /// tag), to record: (unit index, step index, what to record).
    adopted: Vec<(usize, usize, Extra)>,
    progress: &'p mut dyn Progress,
    started: Instant,
}

enum Outcome {
    InPlace,
    Executed,
    Repaired(String),
}

impl Outcome {
    fn progress(&self) -> progress::Outcome {
        match self {
            Outcome::InPlace => progress::Outcome::InPlace,
            Outcome::Executed => progress::Outcome::Ran,
            Outcome::Repaired(_) => progress::Outcome::Repaired,
        }
    }
}

impl<'p> Applying<'p> {
    pub fn new(
        plan: &'p Plan,
        settings: &Settings,
        hooks: Hooks,
        progress: &'p mut dyn Progress,
    ) -> Result<Self, StepError> {
        Ok(Applying {
            plan,
            cx: Context::new(&plan.project, &plan.mark, plan.group, settings)?,
            hooks,
            planned: families::planned(plan),
            pruned: Vec::new(),
            report: Report::default(),
            reached: Vec::new(),
            failure: None,
            adopted: Vec::new(),
            progress,
            started: Instant::now(),
        })
    }

    /// Why unit `ui` is not applied now, if it is not: a unit it comes after is in
    /// `skipped`, or its container does not run.
    pub fn waits(
        &mut self,
        ui: usize,
        skipped: &BTreeSet<&str>,
    ) -> Result<Option<String>, NsError> {
        steps::unit_waits(&mut self.cx, &self.plan.units[ui], skipped)
    }

    /// Applies unit `ui` of the plan (the units it comes after are applied): each step
    /// in order, skipping what is in place. `st` is what earlier runs recorded (a
    /// command in place is the process it holds). Returns whether the unit's steps
    /// went without failure so far; if not, call [`Applying::roll_back`].
    pub fn unit(&mut self, ui: usize, st: &mut State) -> bool {
        let plan = self.plan;
        if let Err(e) = self.occupied(ui) {
            self.unit_failed(ui, e);
            return false;
        }
        for (si, step) in plan.units[ui].steps.iter().enumerate() {
            let ordinal = self.reached.len();
            self.reached.push((ui, si));
            if self.hooks.fail_at == Some(ordinal) {
                let _ = self.cx.flush();
                self.fail(ordinal, &step.ns, StepError::Injected);
            }
            if let Some(signal) = interrupt::received() {
                let _ = self.cx.flush();
                self.fail(ordinal, &step.ns, StepError::Interrupted(signal));
            }
            if self.failed() {
                return false;
            }
            let began = Instant::now();
            let outcome = self.step(ordinal, ui, si, st);
            if let Ok(o) = &outcome {
                self.tell(step, &step.op, o.progress(), began);
            }
            match outcome {
                Ok(Outcome::InPlace) => self.report.in_place += 1,
                Ok(Outcome::Executed) => self.report.executed += 1,
                Ok(Outcome::Repaired(what)) => {
                    self.report.executed += 1;
                    self.report.repaired.push((step.id.clone(), what));
                }
                Err(e) => self.fail(ordinal, &step.ns, e),
            }
            if self.failed() {
                return false;
            }
        }
        true
    }

    /// Refuses a container unit whose container already has an interface with a name
    /// the unit creates there that is not conlink's (docs/decisions.md, "Which
    /// containers are targets"): the veth's create would fail on it with a bare
    /// "exists", and conlink never takes over what it did not make.
    fn occupied(&mut self, ui: usize) -> Result<(), StepError> {
        let unit = &self.plan.units[ui];
        let mut targets: Vec<Ns> = Vec::new();
        for step in &unit.steps {
            let action = families::action(&step.op);
            for ns in action.namespaces(&step.ns) {
                if matches!(ns, Ns::Container(_) | Ns::Service(..)) && !targets.contains(ns) {
                    targets.push(ns.clone());
                }
            }
        }
        let (mark, group) = (self.cx.mark().to_string(), self.cx.group());
        for ns in &targets {
            self.cx.observe(ns)?;
            let Some(snap) = self.cx.snapshot(ns) else {
                continue;
            };
            if let Some(l) = snap
                .links
                .iter()
                .find(|l| self.planned.has_link(ns, &l.name) && !l.is_conlinks(&mark, group))
            {
                let target = match ns {
                    Ns::Service(s, i) => format!("replica {i} of service {s}"),
                    Ns::Container(c) => format!("container {c}"),
                    other => other.to_string(),
                };
                return Err(StepError::Occupied {
                    target,
                    dev: l.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Carries out one step unless it is already in place.
    fn step(
        &mut self,
        ordinal: usize,
        ui: usize,
        si: usize,
        st: &mut State,
    ) -> Result<Outcome, StepError> {
        let plan = self.plan;
        let step = &plan.units[ui].steps[si];
        let action = families::action(&step.op);
        let at = steps::at(step, ordinal);
        let prune = Some((&self.planned, &mut self.pruned));
        if let Some(absent) = steps::prepare(&mut self.cx, &*action, &step.ns, prune)? {
            return Err(absent.into());
        }
        let recorded = st.step(&step.id).map(|r| &r.extra);
        let differs = match steps::check(&mut self.cx, &*action, &at, recorded)? {
            Check::InPlace => return Ok(Outcome::InPlace),
            Check::Process(Process::Running { adopt, .. }) => {
                if let Some(extra) = adopt {
                    self.adopted.push((ui, si, extra));
                }
                return Ok(Outcome::InPlace);
            }
            Check::Process(Process::Ended(status)) => {
                if !status.success() {
                    let line = compiler::plan::op_line(&step.op, &step.ns, plan);
                    self.report
                        .failed_commands
                        .push((step.id.clone(), line, status));
                }
                return Ok(Outcome::InPlace);
            }
            Check::Foreign(not_ours) => return Err(not_ours.into()),
            Check::Differs(differs) => differs,
            Check::Missing => Vec::new(),
        };
        if !differs.is_empty() {
            if let Some(repaired) = action.repair(&mut self.cx, &at) {
                repaired?;
                self.cx
                    .engine_mut()
                    .record(ordinal, ui, si, false, Default::default());
                let text = differs
                    .iter()
                    .map(|d| format!("{}: {} -> {}", d.what, d.found, d.planned))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Ok(Outcome::Repaired(text));
            }
        }
        if let Some(extra) = steps::carry_out(&mut self.cx, &*action, &at)? {
            self.cx.engine_mut().record(ordinal, ui, si, true, extra);
            if action.makes_namespace() {
                self.record_namespace(st, &step.ns)?;
            }
        }
        Ok(Outcome::Executed)
    }

    /// Records a namespace this run pinned in the state, with its identity.
    fn record_namespace(&mut self, st: &mut State, ns: &Ns) -> Result<(), StepError> {
        let place = self.cx.place(ns)?;
        let Some(pinned) = place.pinned.clone() else {
            return Ok(());
        };
        let (dev, ino) = crate::netns::identity(&place.file)
            .map_err(|e| StepError::io(format!("read the identity of namespace {ns}"), e))?;
        st.namespaces
            .insert(ns.to_string(), NsRecord { pinned, dev, ino });
        Ok(())
    }

    /// Records a failure before unit `ui`'s first step.
    fn unit_failed(&mut self, ui: usize, e: StepError) {
        let ordinal = self.reached.len();
        self.reached.push((ui, 0));
        let ns = self.plan.units[ui].steps[0].ns.clone();
        self.fail(ordinal, &ns, e);
    }

    fn fail(&mut self, ordinal: usize, ns: &Ns, error: StepError) {
        self.keep_first(StepFailure {
            origin: Origin::Step(ordinal),
            ns: ns.clone(),
            error,
        });
    }

    fn keep_first(&mut self, f: StepFailure) {
        if self.failure.as_ref().is_none_or(|g| f.origin < g.origin) {
            self.failure = Some(f);
        }
    }

    /// Whether a step failed, or the kernel refused a request sent so far.
    fn failed(&mut self) -> bool {
        if let Some(f) = self.cx.engine_mut().take_refused() {
            self.keep_first(f);
        }
        self.failure.is_some()
    }

    /// After the last unit: sends what is queued and, if nothing failed, removes
    /// conlink's objects the plan no longer has.
    pub fn finish(&mut self) {
        let ordinal = self.reached.len();
        if !self.failed() {
            if let Err(e) = self.cx.flush() {
                self.fail(ordinal, &Ns::Conlink, e);
            }
        }
        if self.failed() {
            return;
        }
        // Stale addresses and routes went when their namespace was first read.
        self.report.executed += self.pruned.len();
        for (ns, what) in std::mem::take(&mut self.pruned) {
            self.progress.removed(&ns, &what);
            self.report.removed.push((ns, what));
        }
        if let Err(e) = self.remove_extras() {
            self.fail(
                ordinal,
                &Ns::Conlink,
                StepError::RemovingExtras(Box::new(e)),
            );
        }
        self.report.reached = self.report.executed + self.report.in_place;
    }

    /// Removes conlink's objects that `status` calls extra (an interface, a node
    /// removed from the configuration). Only namespaces that existed before the run can
    /// hold any.
    fn remove_extras(&mut self) -> Result<(), StepError> {
        for d in differences::extras(&self.cx, &self.planned) {
            let Difference::Extra { ns, what, item } = d else {
                continue;
            };
            // Stale addresses and routes went when their namespace was first read; what
            // is not conlink's stays.
            if matches!(
                item,
                differences::ExtraItem::Addr { .. }
                    | differences::ExtraItem::Route { .. }
                    | differences::ExtraItem::NotOurs { .. }
            ) {
                continue;
            }
            families::remove_extra(&mut self.cx, &item)?;
            self.progress.removed(&ns, &what);
            self.report.removed.push((ns, what));
            self.report.executed += 1;
        }
        self.cx.flush()?;
        match self.cx.engine_mut().take_refused() {
            Some(f) => Err(f.error),
            None => Ok(()),
        }
    }

    /// Undoes this run's steps in reverse order and describes the failure. Steps whose
    /// objects live in a namespace this run created are not undone one by one:
    /// removing the namespace removes them. A veth with its peer in a namespace that
    /// stays is deleted, though: the kernel removes a namespace's interfaces some time
    /// after it is unpinned (after this process has exited, as the namespace's sockets
    /// close then), and until then the peer would stay in a container that is said to
    /// be rolled back (a run at once would find its name taken).
    pub fn roll_back(&mut self) -> Failure {
        let _ = self.cx.flush();
        if let Some(f) = self.cx.engine_mut().take_refused() {
            self.keep_first(f);
        }
        let failure = self.failure.take().expect("rolled back after a failure");
        let plan = self.plan;
        let mut undone = 0;
        let mut problems = Vec::new();
        let done: Vec<_> = self.cx.engine().journal().iter().rev().cloned().collect();
        for d in done {
            if !d.effective {
                continue;
            }
            let step = &plan.units[d.unit].steps[d.step];
            let undo = families::action(&step.undo);
            let op = families::action(&step.op);
            let removed_with_its_namespace = !matches!(
                undo.removal(),
                Removal::Namespace | Removal::Process | Removal::CreatedFromElsewhere
            ) && std::iter::once(undo.home(&step.ns))
                .chain(op.homes(&step.ns))
                .all(|ns| self.cx.created_this_run(ns));
            if removed_with_its_namespace {
                undone += 1;
                continue;
            }
            let began = Instant::now();
            match steps::undo(&mut self.cx, &step.id, &step.ns, &step.undo, &d.extra) {
                Ok(()) => {
                    undone += 1;
                    self.tell(step, &step.undo, progress::Outcome::Undone, began);
                }
                Err(e) => problems.push(Problem::new(
                    format!(
                        "{} ({})",
                        step.id,
                        compiler::plan::op_line(&step.undo, &step.ns, plan)
                    ),
                    e,
                )),
            }
        }
        self.describe(failure, undone, problems)
    }

    fn describe(&self, failure: StepFailure, undone: usize, problems: Vec<Problem>) -> Failure {
        let plan = self.plan;
        let ordinal = match failure.origin {
            Origin::Step(n) => Some(n),
            Origin::Cleanup => None,
        };
        let (ui, si) = ordinal
            .and_then(|n| self.reached.get(n).copied())
            .or_else(|| self.reached.last().copied())
            .unwrap_or((0, 0));
        let step = &plan.units[ui].steps[si];
        // Name the missing kernel feature rather than a bare errno, keeping the
        // kernel's own words after it.
        let error = match failure.error {
            StepError::Kernel(said) => match families::action(&step.op).missing_feature(&said) {
                Some(feature) => StepError::MissingFeature { feature, said },
                None => StepError::Kernel(said),
            },
            other => other,
        };
        Failure {
            step_id: step.id.clone(),
            line: compiler::plan::op_line(&step.op, &step.ns, plan),
            ns: failure.ns,
            error,
            undone,
            rollback_errors: problems,
        }
    }

    /// Tells the progress sink what became of `step` (`op` is the step's operation, or
    /// its undo's), which began at `began`.
    fn tell(
        &mut self,
        step: &compiler::plan::Step,
        op: &compiler::plan::Op,
        outcome: progress::Outcome,
        began: Instant,
    ) {
        if !self.progress.wants_steps() {
            return;
        }
        let line = compiler::plan::op_line(op, &step.ns, self.plan);
        let now = Instant::now();
        self.progress.step(&StepEvent {
            id: &step.id,
            ns: &step.ns,
            line: &line,
            outcome,
            took: now - began,
            at: now - self.started,
        });
    }

    /// Records in `st` what this run carried out, and the processes it found running
    /// that the state did not hold.
    pub fn record(&self, st: &mut State) {
        for (ui, si, extra) in &self.adopted {
            let step = &self.plan.units[*ui].steps[*si];
            st.record(StepRecord {
                id: step.id.clone(),
                ns: step.ns.clone(),
                undo: step.undo.clone(),
                extra: extra.clone(),
            });
        }
        for d in self.cx.engine().journal() {
            if !d.effective {
                continue;
            }
            let step = &self.plan.units[d.unit].steps[d.step];
            st.record(StepRecord {
                id: step.id.clone(),
                ns: step.ns.clone(),
                undo: step.undo.clone(),
                extra: d.extra.clone(),
            });
        }
    }

    /// Whether a unit failed (then [`Applying::roll_back`] is due).
    pub fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// The report so far.
    pub fn report(&self) -> &Report {
        &self.report
    }
}
