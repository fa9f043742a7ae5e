//! One plan step, the same way for every command: the namespaces it needs, whether it
//! is in place, carrying it out, and undoing it. `apply`, `status` and `destroy` (and
//! rollback) are sequences of these; the family of each operation does the work
//! (`crate::families`).

use crate::action::{Action, At, Check};
use crate::context::{Context, Observed};
use crate::differences::{self, Difference};
use crate::engine::Origin;
use crate::error::{NsError, StepError};
use crate::families;
use crate::owned::{self, Verdict};
use crate::places::Lookup;
use crate::planned::Planned;
use crate::state::{Extra, StepRecord};
use compiler::plan::{Ns, Op, Step, Unit};
use std::collections::BTreeSet;

/// Stale objects `prepare` removed: (namespace, what).
pub type Pruned = Vec<(String, String)>;

/// Makes sure the namespaces a step works in are there and read. The first time a
/// namespace that existed before is read, and `prune` gives what the plan creates,
/// conlink's stale addresses and routes in it go (`crate::differences::stale`), before
/// anything is added there. Returns why a namespace is not there, if one is not (a
/// step that makes its namespace does not need it).
pub fn prepare(
    cx: &mut Context,
    action: &dyn Action,
    ns: &Ns,
    prune: Option<(&Planned, &mut Pruned)>,
) -> Result<Option<NsError>, StepError> {
    let mut prune = prune;
    let mut absent = None;
    // Every namespace is read, even after one that is not there: `status` lists the
    // extras of every namespace it read.
    for n in action.namespaces(ns) {
        match cx.observe(n)? {
            Observed::Absent(_) if action.makes_namespace() => {}
            Observed::Absent(why) => {
                absent.get_or_insert(why);
            }
            Observed::First => {
                if let Some((planned, pruned)) = prune.as_mut() {
                    prune_stale(cx, n, planned, pruned)?;
                }
            }
            Observed::Known => {}
        }
    }
    Ok(absent)
}

/// Removes conlink's stale addresses and routes in `ns`, just read.
fn prune_stale(
    cx: &mut Context,
    ns: &Ns,
    planned: &Planned,
    pruned: &mut Pruned,
) -> Result<(), StepError> {
    let Some(snap) = cx.snapshot(ns) else {
        return Ok(());
    };
    let stale = differences::stale(ns, snap, planned);
    if stale.is_empty() {
        return Ok(());
    }
    for d in stale {
        let Difference::Extra { what, item, .. } = d else {
            continue;
        };
        families::remove_extra(cx, &item)?;
        pruned.push((ns.to_string(), format!("stale {what}")));
    }
    // Removing an address takes routes with it: read again.
    cx.reobserve(ns)
}

/// Whether a step is in place. A namespace this run created holds nothing that was
/// there before: its steps are missing without asking.
pub fn check(
    cx: &mut Context,
    action: &dyn Action,
    at: &At,
    recorded: Option<&Extra>,
) -> Result<Check, StepError> {
    if cx.created_this_run(at.ns) {
        return Ok(Check::Missing);
    }
    action.check(cx, at, recorded)
}

/// Carries a step out: queues its requests, or (for a step that is not a netlink
/// request) sends everything queued first and then does it. `None` when a request
/// sent before was refused, so the step was not run.
pub fn carry_out(
    cx: &mut Context,
    action: &dyn Action,
    at: &At,
) -> Result<Option<Extra>, StepError> {
    if !action.batched() {
        // Everything before it must have happened.
        cx.flush()?;
        if cx.engine().refused().is_some() {
            return Ok(None);
        }
    }
    action.carry_out(cx, at, &Extra::None).map(Some)
}

/// Runs undo operation `op` of step `step` (in namespace `ns`) now; something already
/// gone, or whose namespace is gone, counts as undone. `extra` is what the step
/// recorded for it.
pub fn undo(
    cx: &mut Context,
    step: &str,
    ns: &Ns,
    op: &Op,
    extra: &Extra,
) -> Result<(), StepError> {
    let action = families::action(op);
    for n in action.namespaces(ns) {
        match cx.lookup(n)? {
            Lookup::Ready(_) => {}
            // Its namespace is gone, and it with it.
            Lookup::Absent(_) | Lookup::Waiting(_) => return Ok(()),
        }
    }
    let at = At {
        step,
        ns,
        origin: Origin::Cleanup,
    };
    match action.carry_out(cx, &at, extra) {
        Err(e) if e.is_gone() => return Ok(()),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    if !action.batched() {
        return Ok(());
    }
    cx.flush()?;
    match cx.engine_mut().take_refused() {
        Some(f) if !f.error.kernel().is_some_and(|k| action.gone(k)) => Err(f.error),
        _ => Ok(()),
    }
}

/// Runs the undo a state file records (`rec`), if what it acts on is conlink's
/// (`crate::owned`); what is gone counts as undone.
pub fn undo_recorded(cx: &mut Context, rec: &StepRecord) -> Result<(), StepError> {
    let action = families::action(&rec.undo);
    match owned::judge(cx, &*action, &rec.ns, &rec.extra)? {
        Verdict::Ours => undo(cx, &rec.id, &rec.ns, &rec.undo, &rec.extra),
        Verdict::Gone => Ok(()),
        Verdict::NotOurs(why) => Err(StepError::NotConlinks(why)),
    }
}

/// Why a unit is not applied now, if it is not: a unit it comes after was not
/// (`skipped`), or one of its namespaces belongs to a container that does not run.
pub fn unit_waits(
    cx: &mut Context,
    unit: &Unit,
    skipped: &BTreeSet<&str>,
) -> Result<Option<String>, NsError> {
    if let Some(dep) = unit.after.iter().find(|d| skipped.contains(d.as_str())) {
        return Ok(Some(format!("waiting for unit {dep}")));
    }
    for step in &unit.steps {
        let action = families::action(&step.op);
        for ns in action.namespaces(&step.ns) {
            if let Lookup::Waiting(why) = cx.lookup(ns)? {
                return Ok(Some(why));
            }
        }
    }
    Ok(None)
}

/// Where a step of the plan runs, for its ordinal.
pub fn at(step: &Step, ordinal: usize) -> At<'_> {
    At {
        step: &step.id,
        ns: &step.ns,
        origin: Origin::Step(ordinal),
    }
}
