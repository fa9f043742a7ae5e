//! `conlink apply`: carry out a plan's steps in order, skipping what is already in
//! place, and undo everything this run did if a step fails.

use crate::engine::{Engine, StepFailure};
use crate::error::KernelError;
use crate::host_ops::{self, HostCtx};
use crate::netns;
use crate::observe::{self, Check, Diff};
use crate::places::{Lookup, Places};
use crate::resolve::{ConlinkNs, NoEngine, NodeResolver};
use crate::state::{self, Extra, NsRecord, State, StepRecord};
use compiler::plan::{Ns, Op, Plan, Step, Unit};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Where and how the runtime works.
#[derive(Clone, Debug)]
pub struct Settings {
    pub state_dir: PathBuf,
    pub netns_dir: PathBuf,
    pub conlink_ns: ConlinkNs,
}

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
    /// Units not applied, and why (waiting for their containers).
    pub waiting: Vec<(String, String)>,
    /// Steps reached (executed + in place).
    pub reached: usize,
}

/// A failed apply: the step, where, what the kernel said, and the rollback.
#[derive(Clone, Debug)]
pub struct Failure {
    pub step_id: String,
    /// The step as `conlink plan` prints it.
    pub line: String,
    pub ns: Ns,
    pub message: String,
    pub undone: usize,
    pub rollback_errors: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} failed in namespace {}: {}\n  step: {}",
            self.step_id, self.ns, self.message, self.line
        )
    }
}

/// Errors that stop a run before any step.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Failed(Box<Failure>),
    #[error("{0}")]
    Setup(String),
}

/// An engine for `project`, with the resolvers of this runtime: nodes (and host,
/// conlink), and containers waiting. The calling thread's namespace is the host.
pub fn engine(
    project: &str,
    mark: &str,
    group: u32,
    settings: &Settings,
) -> Result<Engine, KernelError> {
    let places = Places::new(vec![
        Box::new(NodeResolver {
            project: project.into(),
            netns_dir: settings.netns_dir.clone(),
            conlink: settings.conlink_ns,
            host: netns::current()?,
        }),
        Box::new(NoEngine),
    ]);
    Ok(Engine::new(places, mark, group, settings.netns_dir.clone()))
}

/// Namespaces a step touches (its own, a link's target, a veth's peer).
pub fn step_namespaces(step: &Step) -> Vec<&Ns> {
    let mut out = vec![&step.ns];
    if let Op::LinkAdd { netns, spec, .. } = &step.op {
        out.extend(netns.iter());
        if let compiler::plan::LinkSpec::Veth { peer } = spec.as_ref() {
            out.push(&peer.netns);
        }
    }
    out
}

/// Why a unit is not applied now, if it is not: a unit it comes after was not
/// (`skipped`), or one of its namespaces belongs to a container that is not running.
pub fn unit_waits(
    places: &mut Places,
    unit: &Unit,
    skipped: &BTreeSet<&str>,
) -> Result<Option<String>, KernelError> {
    if let Some(dep) = unit.after.iter().find(|d| skipped.contains(d.as_str())) {
        return Ok(Some(format!("waiting for unit {dep}")));
    }
    for step in &unit.steps {
        for ns in step_namespaces(step) {
            if let Lookup::Waiting(why) = places.lookup(ns)? {
                return Ok(Some(why));
            }
        }
    }
    Ok(None)
}

/// Whether a namespace that is there is conlink's: the one conlink runs in (nothing
/// pinned), or one it pinned, with the ownership mark on its loopback.
pub fn namespace_is_ours(engine: &mut Engine, ns: &Ns) -> Result<bool, KernelError> {
    match engine.places.lookup(ns)? {
        Lookup::Ready(place) if place.pinned.is_none() => return Ok(true),
        Lookup::Ready(_) => {}
        Lookup::Absent(_) | Lookup::Waiting(_) => return Ok(false),
    }
    engine.ensure_place(ns)?;
    let mark = engine.mark.as_str();
    Ok(engine
        .snapshots
        .get(ns)
        .and_then(|s| s.link("lo"))
        .is_some_and(|l| l.alias.as_deref() == Some(mark)))
}

/// Carries out `plan`. On failure everything this run did is undone.
pub fn apply(plan: &Plan, settings: &Settings, hooks: &Hooks) -> Result<Report, ApplyError> {
    let setup = |e: &dyn std::fmt::Display| ApplyError::Setup(e.to_string());
    let _lock = state::lock(&settings.state_dir, &plan.project, |holder| {
        eprintln!(
            "conlink: waiting for {holder}, which is working on project {}",
            plan.project
        );
    })
    .map_err(|e| setup(&format!("cannot lock project {}: {e}", plan.project)))?;
    let previous = state::load(&settings.state_dir, &plan.project).map_err(|e| setup(&e))?;
    let mut st = previous
        .clone()
        .unwrap_or_else(|| State::new(&plan.project, &plan.mark, plan.group, settings.conlink_ns));

    let mut engine =
        engine(&plan.project, &plan.mark, plan.group, settings).map_err(|e| setup(&e))?;
    engine.planned = crate::status::Planned::of(plan);
    let mut host = HostCtx::new(&settings.state_dir, &plan.project);
    let mut report = Report::default();
    let mut skipped: BTreeSet<&str> = BTreeSet::new();
    let mut ordinal = 0usize;
    let mut steps_run: Vec<(usize, usize)> = Vec::new();

    // An interrupted run stops at the next step and rolls back like a failed one.
    let interrupted = crate::interrupt::Guard::install();
    'units: for (ui, unit) in plan.units.iter().enumerate() {
        match unit_waits(&mut engine.places, unit, &skipped) {
            Ok(Some(why)) => {
                report.waiting.push((unit.id.clone(), why));
                skipped.insert(&unit.id);
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                engine.fail(ordinal, &unit.steps[0].ns, e.to_string());
                steps_run.push((ui, 0));
                break;
            }
        }
        for (si, step) in unit.steps.iter().enumerate() {
            steps_run.push((ui, si));
            if hooks.fail_at == Some(ordinal) {
                let _ = engine.flush_all();
                engine.fail(ordinal, &step.ns, "injected failure (test hook)".into());
            }
            if let Some(signal) = interrupted.received() {
                let _ = engine.flush_all();
                engine.fail(ordinal, &step.ns, format!("interrupted by {signal}"));
            }
            if engine.failure.is_some() {
                break 'units;
            }
            match run_step(&mut engine, &mut host, &mut st, ordinal, ui, si, step) {
                Ok(Outcome::InPlace) => report.in_place += 1,
                Ok(Outcome::Executed) => report.executed += 1,
                Ok(Outcome::Repaired(what)) => {
                    report.executed += 1;
                    report.repaired.push((step.id.clone(), what));
                }
                Err(e) => engine.fail(ordinal, &step.ns, e),
            }
            ordinal += 1;
            if engine.failure.is_some() {
                break 'units;
            }
        }
    }
    if engine.failure.is_none() {
        if let Err(e) = engine.flush_all() {
            engine.fail(ordinal, &Ns::Conlink, e.to_string());
        }
    }
    if engine.failure.is_none() {
        // Stale addresses and routes went when their namespace was first read.
        report.executed += engine.pruned.len();
        report.repaired.append(&mut engine.pruned);
        // conlink's own objects the plan no longer has go (an interface, a node
        // removed from the configuration).
        if let Err(e) = remove_extras(&mut engine, plan, settings, &mut report) {
            engine.fail(ordinal, &Ns::Conlink, e);
        }
    }
    report.reached = report.executed + report.in_place;

    if let Some(failure) = engine.failure.clone() {
        let _ = engine.flush_all();
        let (undone, rollback_errors) = rollback(&mut engine, &mut host, plan);
        // What earlier runs recorded stays; this run's additions are gone.
        let restore = previous.unwrap_or_else(|| {
            State::new(&plan.project, &plan.mark, plan.group, settings.conlink_ns)
        });
        if restore.steps.is_empty() && restore.namespaces.is_empty() {
            let _ = state::remove(&settings.state_dir, &plan.project);
        } else {
            let _ = state::save(&settings.state_dir, &restore);
        }
        return Err(ApplyError::Failed(Box::new(describe(
            plan,
            &steps_run,
            failure,
            undone,
            rollback_errors,
        ))));
    }

    // Record what this run carried out.
    for d in &engine.done {
        if !d.effective {
            continue;
        }
        let step = &plan.units[d.unit].steps[d.step];
        st.record(StepRecord {
            id: step.id.clone(),
            ns: step.ns.clone(),
            undo: step.undo.clone(),
            extra: d.extra.clone(),
        });
    }
    state::save(&settings.state_dir, &st)
        .map_err(|e| setup(&format!("cannot write the state file: {e}")))?;
    Ok(report)
}

enum Outcome {
    InPlace,
    Executed,
    Repaired(String),
}

/// Carries out one step unless it is already in place.
fn run_step(
    engine: &mut Engine,
    host: &mut HostCtx,
    st: &mut State,
    ordinal: usize,
    ui: usize,
    si: usize,
    step: &Step,
) -> Result<Outcome, String> {
    let err = |e: KernelError| e.to_string();
    if let Op::NetnsAdd = step.op {
        return netns_add(engine, st, ordinal, ui, si, &step.ns);
    }
    // Everything else needs its namespaces.
    for ns in step_namespaces(step) {
        if !engine.ensure_place(ns).map_err(err)? {
            return Err(format!("namespace {ns} does not exist"));
        }
    }
    // Already in place? (Only namespaces that existed before this run can hold it.)
    let mut repairs = Vec::new();
    if engine.snapshots.contains_key(&step.ns) {
        let snaps = &engine.snapshots;
        let check = observe::check(&step.op, &snaps[&step.ns], &engine.mark, |ns| snaps.get(ns));
        match check {
            Check::InPlace => return Ok(Outcome::InPlace),
            Check::Foreign(why) => return Err(why),
            Check::Differs(diffs) => {
                if let Op::LinkAdd { .. } = step.op {
                    repairs = diffs
                        .into_iter()
                        .filter_map(|d| match d {
                            Diff::Different(what, want, have) => Some((what, want, have)),
                            Diff::Missing => None,
                        })
                        .collect();
                }
            }
            Check::Elsewhere => {
                engine.flush_all().map_err(err)?;
                if host_ops::in_place(engine, host, st, step).map_err(err)? {
                    return Ok(Outcome::InPlace);
                }
            }
        }
    }
    if !repairs.is_empty() {
        let text = repairs
            .iter()
            .map(|(what, want, have)| format!("{what}: {have} -> {want}"))
            .collect::<Vec<_>>()
            .join(", ");
        repair_link(engine, ordinal, step).map_err(err)?;
        engine.journal(ordinal, ui, si, false, Extra::None);
        return Ok(Outcome::Repaired(text));
    }
    match engine
        .netlink_step(ordinal, &step.ns, &step.op)
        .map_err(err)?
    {
        Some(extra) => {
            engine.journal(ordinal, ui, si, true, extra);
        }
        None => {
            // Not a netlink request: everything before it must have happened.
            engine.flush_all().map_err(err)?;
            if engine.failure.is_some() {
                return Ok(Outcome::Executed);
            }
            let extra = host_ops::run(engine, host, step)?;
            engine.journal(ordinal, ui, si, true, extra);
        }
    }
    Ok(Outcome::Executed)
}

/// Removes what `status` calls extra. Only namespaces that existed before the run can
/// hold any.
fn remove_extras(
    engine: &mut Engine,
    plan: &Plan,
    settings: &Settings,
    report: &mut Report,
) -> Result<(), String> {
    use crate::netlink::link;
    use crate::status::{extras, Difference, ExtraItem};
    let found = extras(plan, settings, engine, &engine.planned);
    for d in found {
        let Difference::Extra { ns, what, item } = d else {
            continue;
        };
        match item {
            ExtraItem::Link { ns: n, name } => {
                let i = engine.index(&n, &name).map_err(|e| e.to_string())?;
                engine
                    .queue(usize::MAX, &n, link::del(i), 0, false, false)
                    .map_err(|e| e.to_string())?;
            }
            // Removed when their namespace was first read (Engine::prune).
            ExtraItem::Addr { .. } | ExtraItem::Route { .. } => continue,
            ExtraItem::Node { pinned } => {
                host_ops::kill_namespace_processes(&settings.netns_dir.join(&pinned));
                netns::remove_pinned(&settings.netns_dir, &pinned).map_err(|e| e.to_string())?;
            }
        }
        report.repaired.push((ns, format!("removed extra {what}")));
        report.executed += 1;
    }
    engine.flush_all().map_err(|e| e.to_string())?;
    match engine.failure.take() {
        Some(f) => Err(format!("removing extra objects: {}", f.message)),
        None => Ok(()),
    }
}

/// Puts an existing interface's MTU and MAC (and its veth peer's) back to the plan's.
fn repair_link(engine: &mut Engine, ordinal: usize, step: &Step) -> Result<(), KernelError> {
    use crate::netlink::link;
    let Op::LinkAdd {
        name,
        netns,
        mtu,
        mac,
        master,
        up,
        spec,
        ..
    } = &step.op
    else {
        return Ok(());
    };
    let target = netns.clone().unwrap_or_else(|| step.ns.clone());
    // Bridge and state of the interface itself (a veth's peer has neither).
    let i = engine.index(&target, name)?;
    if let Some(m) = master {
        let b = engine.index(&target, m)?;
        engine.queue(ordinal, &target, link::set_master(i, b), 0, false, false)?;
    }
    if *up {
        engine.queue(ordinal, &target, link::set_up(i, true), 0, false, false)?;
    }
    let mut ends = vec![(target, name.clone(), *mtu, *mac)];
    if let compiler::plan::LinkSpec::Veth { peer } = spec.as_ref() {
        ends.push((peer.netns.clone(), peer.name.clone(), peer.mtu, peer.mac));
    }
    for (ns, dev, mtu, mac) in ends {
        let i = engine.index(&ns, &dev)?;
        if let Some(m) = mtu {
            engine.queue(ordinal, &ns, link::set_mtu(i, m), 0, false, false)?;
        }
        if let Some(m) = mac {
            engine.queue(ordinal, &ns, link::set_mac(i, m), 0, false, false)?;
        }
    }
    Ok(())
}

/// `ip netns add`: creates and pins a node's (or conlink's own) namespace, marks its
/// loopback as conlink's, or finds it already there.
fn netns_add(
    engine: &mut Engine,
    st: &mut State,
    ordinal: usize,
    ui: usize,
    si: usize,
    ns: &Ns,
) -> Result<Outcome, String> {
    let err = |e: KernelError| e.to_string();
    match engine.places.lookup(ns).map_err(|e| e.to_string())? {
        Lookup::Waiting(why) => Err(why),
        // Already there: conlink's namespace is the one it runs in, or one it pinned.
        Lookup::Ready(_) => {
            if namespace_is_ours(engine, ns).map_err(err)? {
                Ok(Outcome::InPlace)
            } else {
                Err(format!(
                    "namespace {ns} is already pinned and is not conlink's (no ownership mark on its loopback); remove it or choose another project name"
                ))
            }
        }
        Lookup::Absent(pinned) => {
            engine.flush_all().map_err(err)?;
            let file = netns::create_pinned(&engine.netns_dir, &pinned).map_err(|e| {
                format!(
                    "cannot create namespace {pinned} in {}: {e}",
                    engine.netns_dir.display()
                )
            })?;
            let (dev, ino) = netns::identity(&file).map_err(|e| e.to_string())?;
            engine.places.insert_fresh(ns, file, pinned.clone());
            engine.created_ns.insert(ns.clone());
            engine.journal(ordinal, ui, si, true, Extra::None);
            st.namespaces
                .insert(ns.to_string(), NsRecord { pinned, dev, ino });
            // Its loopback carries the mark (with `ip link set lo up`, usually).
            engine.mark_later(ordinal, ns, 1);
            Ok(Outcome::Executed)
        }
    }
}

/// Undoes this run's steps in reverse order. Steps whose objects live in a namespace
/// this run created are not undone one by one: removing the namespace removes them.
fn rollback(engine: &mut Engine, host: &mut HostCtx, plan: &Plan) -> (usize, Vec<String>) {
    let mut undone = 0;
    let mut errors = Vec::new();
    engine.failure = None;
    let done: Vec<_> = engine.done.iter().rev().cloned().collect();
    for d in done {
        if !d.effective {
            continue;
        }
        let step = &plan.units[d.unit].steps[d.step];
        let home = match &step.op {
            Op::LinkAdd { netns: Some(t), .. } => t.clone(),
            _ => step.ns.clone(),
        };
        let is_netns = matches!(step.op, Op::NetnsAdd);
        let is_command = matches!(step.op, Op::Exec { .. });
        // An interface created from another namespace (a tunnel's socket, a macvlan's
        // parent) holds on to that namespace until it is really deleted, which the
        // kernel does only some time after its own namespace goes: delete it now.
        let from_elsewhere = matches!(step.op, Op::LinkAdd { netns: Some(_), .. });
        if !is_netns && !is_command && !from_elsewhere && engine.created_ns.contains(&home) {
            undone += 1;
            continue;
        }
        match undo(engine, host, &step.ns, &step.undo, &d.extra) {
            Ok(()) => undone += 1,
            Err(e) => errors.push(format!(
                "{} ({}): {e}",
                step.id,
                compiler::plan::op_line(&step.undo, &step.ns, plan)
            )),
        }
    }
    (undone, errors)
}

/// Runs one undo operation now; something already gone counts as undone.
pub fn undo(
    engine: &mut Engine,
    host: &mut HostCtx,
    ns: &Ns,
    op: &Op,
    extra: &Extra,
) -> Result<(), String> {
    if let Op::NetnsDel = op {
        let Some(place) = engine.places.remove(ns) else {
            return Ok(());
        };
        if let Some(pinned) = place.pinned {
            drop(place.file);
            host_ops::kill_namespace_processes(&engine.netns_dir.join(&pinned));
            netns::remove_pinned(&engine.netns_dir, &pinned).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    match engine.places.lookup(ns) {
        Ok(Lookup::Ready(_)) => {}
        Ok(_) => return Ok(()), // its namespace is gone, and it with it
        Err(e) => return Err(e.to_string()),
    }
    let before = engine.failure.take();
    let queued = engine.netlink_step(usize::MAX, ns, op);
    let result = match queued {
        Ok(Some(_)) => {
            let flushed = engine.flush_all();
            match (flushed, engine.failure.take()) {
                (Err(e), _) if !e.is_gone() => Err(e.to_string()),
                (_, Some(f)) if !f.kernel.as_ref().is_some_and(crate::netlink::tc::is_gone) => {
                    Err(f.message)
                }
                _ => Ok(()),
            }
        }
        Ok(None) => host_ops::undo(engine, host, ns, op, extra),
        Err(e) if e.is_gone() => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    engine.failure = before;
    result
}

fn describe(
    plan: &Plan,
    steps_run: &[(usize, usize)],
    failure: StepFailure,
    undone: usize,
    rollback_errors: Vec<String>,
) -> Failure {
    let (ui, si) = steps_run
        .get(failure.ordinal)
        .copied()
        .or_else(|| steps_run.last().copied())
        .unwrap_or((0, 0));
    let step = &plan.units[ui].steps[si];
    // Name the missing kernel feature rather than a bare errno, keeping the kernel's
    // own words after it.
    let message = match failure
        .kernel
        .as_ref()
        .and_then(|k| crate::features::missing_kernel_feature(&step.op, k))
    {
        Some(feature) => format!("{feature} (the kernel said: {})", failure.message),
        None => failure.message,
    };
    Failure {
        step_id: step.id.clone(),
        line: compiler::plan::op_line(&step.op, &step.ns, plan),
        ns: failure.ns,
        message,
        undone,
        rollback_errors,
    }
}
