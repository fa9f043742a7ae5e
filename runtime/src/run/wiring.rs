//! Wiring and unwiring one container's unit while `conlink run` runs: what a worker
//! does for a start or a die, with the state the run shares.
//!
//! Each call works with a context of its own (its own namespaces and sockets), so
//! workers of different containers run at the same time; what they share — the plan,
//! the state file, which units are wired — is behind the locks of [`Shared`]. The state
//! file is written under its lock after each change.

use crate::apply::{Applying, Hooks};
use crate::containers::resolver::Containers;
use crate::context::{Context, Settings};
use crate::families;
use crate::progress::Quiet;
use crate::state::{self, State};
use crate::steps;
use compiler::plan::{Ns, Plan, Unit};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

/// Which container a wired unit was wired into: its id and process, so a restart (same
/// id, another process, another namespace) is told from the same run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WiredInto {
    pub id: String,
    pub pid: Option<u32>,
}

/// Where a run's lines go (stderr for the command line; tests collect them).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// What the run's threads share.
pub struct Shared {
    pub plan: RwLock<Arc<Plan>>,
    pub settings: Settings,
    pub containers: Containers,
    pub state: Mutex<State>,
    /// Wired units: for a unit of a container, the container it was wired into.
    pub wired: Mutex<BTreeMap<String, Option<WiredInto>>>,
    /// Units whose last wiring failed, with the run of the container it failed in: not
    /// tried again until their container runs again (a start event, or another run
    /// that the comparison with the container list finds).
    pub failed: Mutex<BTreeMap<String, WiredInto>>,
    /// Jobs given to workers and not done yet.
    pub pending: AtomicUsize,
    /// Whether wiring changed since the last readiness line.
    pub changed: AtomicBool,
    /// The run is stopping: queued jobs are dropped.
    pub stopping: AtomicBool,
    pub log: Log,
}

impl Shared {
    pub fn plan(&self) -> Arc<Plan> {
        self.plan.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn wired(&self) -> MutexGuard<'_, BTreeMap<String, Option<WiredInto>>> {
        self.wired.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn failed(&self) -> MutexGuard<'_, BTreeMap<String, WiredInto>> {
        self.failed.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn say(&self, line: &str) {
        (self.log)(line)
    }

    /// The container a unit's target symbol names now, if it runs.
    fn running_target(&self, ns: &Ns) -> Option<WiredInto> {
        let view = self.containers.read();
        view.target(ns)
            .filter(|c| c.is_running())
            .map(|c| WiredInto {
                id: c.id.clone(),
                pid: c.pid,
            })
    }
}

/// The container or service symbol whose unit is `unit` (`container:NAME`,
/// `service:NAME#I`), if it is one.
pub fn target_of(unit: &Unit) -> Option<&Ns> {
    unit.steps
        .iter()
        .map(|s| &s.ns)
        .find(|ns| matches!(ns, Ns::Container(_) | Ns::Service(..)) && ns.to_string() == unit.id)
}

/// The units of `plan` that come after `unit`, directly or not, in plan order.
fn dependents(plan: &Plan, unit: &str) -> Vec<usize> {
    let mut names: BTreeSet<&str> = BTreeSet::from([unit]);
    let mut out = Vec::new();
    for (ui, u) in plan.units.iter().enumerate() {
        if u.after.iter().any(|a| names.contains(a.as_str())) {
            names.insert(&u.id);
            out.push(ui);
        }
    }
    out
}

/// Wires the unit `unit` into the container that runs for it now (after unwiring it
/// from an earlier one), then the units after it that can now be applied (a patch
/// whose two ends run). `received` is when the event that asked for it arrived.
pub fn wire(shared: &Shared, unit: &str, received: Instant) {
    let plan = shared.plan();
    let Some(ui) = plan.units.iter().position(|u| u.id == unit) else {
        return;
    };
    let Some(target) = target_of(&plan.units[ui]).cloned() else {
        return;
    };
    let Some(now) = shared.running_target(&target) else {
        return; // it stopped again: its die follows
    };
    let before = shared.wired().get(unit).cloned();
    match &before {
        Some(Some(w)) if *w == now => {} // wired into this very run of it: check only
        Some(_) => unwire(shared, unit, "its container was replaced"),
        None => {}
    }
    let mut todo = vec![ui];
    todo.extend(dependents(&plan, unit));
    let began = Instant::now();
    match apply_units(shared, &plan, &todo) {
        Ok((done, steps)) => {
            let again = before.as_ref().is_some_and(|b| b.as_ref() == Some(&now));
            if done.is_empty() || (again && steps == 0) {
                return;
            }
            {
                let mut wired = shared.wired();
                for id in &done {
                    let into = target_of(&plan.units[plan_index(&plan, id)])
                        .and_then(|ns| shared.running_target(ns));
                    wired.insert(id.clone(), into);
                }
            }
            {
                let mut failed = shared.failed();
                for id in &done {
                    failed.remove(id);
                }
            }
            shared.changed.store(true, Ordering::SeqCst);
            let name = shared
                .containers
                .read()
                .get(&now.id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            shared.say(&format!(
                "wired {} ({name}): {steps} step(s) carried out in {:.1} ms, {:.1} ms after its start event",
                done.join(", "),
                began.elapsed().as_secs_f64() * 1e3,
                received.elapsed().as_secs_f64() * 1e3,
            ));
        }
        Err(why) => {
            shared.failed().insert(unit.to_string(), now);
            shared.changed.store(true, Ordering::SeqCst);
            shared.say(&format!("cannot wire {unit}: {why}; rolled back, it is tried again when its container starts again"));
        }
    }
}

fn plan_index(plan: &Plan, id: &str) -> usize {
    plan.units.iter().position(|u| u.id == id).unwrap_or(0)
}

/// Applies the units `todo` (indexes in `plan`) that can be applied now, in order, as
/// one apply with one rollback. Returns the units applied and the steps carried out.
fn apply_units(
    shared: &Shared,
    plan: &Plan,
    todo: &[usize],
) -> Result<(Vec<String>, usize), String> {
    // Read-only copy for the commands' records; what this apply does is recorded
    // into the shared state below, under its lock.
    let mut st = shared.state().clone();
    let wired: BTreeSet<String> = shared.wired().keys().cloned().collect();
    let mut quiet = Quiet;
    let mut run = Applying::new(plan, &shared.settings, Hooks::default(), &mut quiet)
        .map_err(|e| e.to_string())?;
    let mut skipped: BTreeSet<&str> = plan
        .units
        .iter()
        .map(|u| u.id.as_str())
        .filter(|id| !wired.contains(*id))
        .collect();
    let mut done = Vec::new();
    for (k, &ui) in todo.iter().enumerate() {
        let id = plan.units[ui].id.as_str();
        if k > 0 && wired.contains(id) {
            continue; // a dependent wired before stays as it is
        }
        skipped.remove(id);
        match run.waits(ui, &skipped) {
            Ok(Some(_)) => {
                skipped.insert(id);
                continue;
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if !run.unit(ui, &mut st) {
            break;
        }
        done.push(id.to_string());
    }
    run.finish();
    if run.has_failed() {
        let failure = run.roll_back();
        return Err(failure.to_string());
    }
    let executed = run.report().executed;
    let mut state = shared.state();
    run.record(&mut state);
    if let Err(e) = state::save(&shared.settings.state_dir, &state) {
        shared.say(&format!("cannot save the state: {e}"));
    }
    Ok((done, executed))
}

/// Removes what wiring `unit` (and the units after it) made outside the container:
/// the outer veth ends (deleted explicitly, so that a container restarted at once
/// gets them again without waiting for the kernel to tear down its old namespace),
/// bridge ports, nftables rules and routes in conlink's namespace. What was inside the
/// container went with its namespace: its records are dropped.
pub fn unwire(shared: &Shared, unit: &str, why: &str) {
    let plan = shared.plan();
    let mut units: Vec<String> = dependents(&plan, unit)
        .into_iter()
        .map(|ui| plan.units[ui].id.clone())
        .filter(|id| shared.wired().contains_key(id))
        .collect();
    units.reverse();
    units.push(unit.to_string());
    let units: Vec<String> = units
        .into_iter()
        .filter(|id| shared.wired().contains_key(id))
        .collect();
    if units.is_empty() {
        return;
    }
    let began = Instant::now();
    let mut cx = match Context::new(&plan.project, &plan.mark, plan.group, &shared.settings) {
        Ok(cx) => cx,
        Err(e) => {
            shared.say(&format!("cannot unwire {unit}: {e}"));
            return;
        }
    };
    let mut problems = Vec::new();
    for id in &units {
        let of_unit = |rid: &str| rid.rsplit_once('/').is_some_and(|(u, _)| u == id);
        let records: Vec<_> = {
            let mut state = shared.state();
            let (mine, rest): (Vec<_>, Vec<_>) =
                state.steps.drain(..).partition(|r| of_unit(&r.id));
            state.steps = rest;
            mine
        };
        let mut kept = Vec::new();
        for rec in records.iter().rev() {
            let undo = families::action(&rec.undo);
            if matches!(rec.undo, compiler::plan::Op::ExecStop { .. }) {
                families::command::forget_container_run(&cx, &rec.id);
            }
            if matches!(undo.home(&rec.ns), Ns::Container(_) | Ns::Service(..)) {
                continue; // gone with the container's namespace
            }
            if let Err(e) = steps::undo_recorded(&mut cx, rec) {
                problems.push(format!("{}: {e}", rec.id));
                kept.push(rec.clone());
            }
        }
        let mut state = shared.state();
        state.steps.extend(kept);
        shared.wired().remove(id);
    }
    if let Err(e) = cx.flush() {
        problems.push(e.to_string());
    }
    {
        let state = shared.state();
        if let Err(e) = state::save(&shared.settings.state_dir, &state) {
            problems.push(format!("saving the state: {e}"));
        }
    }
    shared.changed.store(true, Ordering::SeqCst);
    shared.say(&format!(
        "unwired {} ({why}) in {:.1} ms{}",
        units.join(", "),
        began.elapsed().as_secs_f64() * 1e3,
        if problems.is_empty() {
            String::new()
        } else {
            format!("; problems: {}", problems.join("; "))
        }
    ));
}
