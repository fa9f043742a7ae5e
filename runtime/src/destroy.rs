//! `conlink destroy`: remove everything conlink created for a project — from the
//! state file when there is one, from the kernel's ownership marks when not (or when
//! the file is damaged) — and nothing else. Idempotent. [`remove_unit`] removes one
//! unit on its own (what `run` does when a container dies).
//!
//! Teardown works in bulk (docs/plan.md, "Properties": cheap to execute): deleting one
//! interface costs ~17 ms of kernel time, deleting a namespace ~3 ms whatever it holds.
//! So namespaces conlink owns (nodes, its own) are simply unpinned, which removes every
//! interface, address, route, qdisc and nft table in them; only what lives in
//! namespaces that stay (the host's, a container's, conlink's when it runs in a
//! container) is undone step by step, and conlink's interfaces there go in one request
//! per interface group. Every undo the state file records is checked against the
//! kernel first (`crate::owned`): a file can be edited.

use crate::action::Removal;
use crate::context::{Context, Settings};
use crate::error::{Error, Problem, StateError};
use crate::families::{self, command, link, namespace, nft};
use crate::lock::ProjectLock;
use crate::names;
use crate::netns;
use crate::observe;
use crate::progress::{self, Progress, StepEvent};
use crate::resolve::ConlinkNs;
use crate::state::{self, State, StepRecord};
use crate::steps;
use compiler::plan::{Ns, Plan};
use std::time::Instant;

/// What a destroy removed.
#[derive(Debug, Default)]
pub struct Removed {
    pub namespaces: Vec<String>,
    pub interfaces: usize,
    pub undone: usize,
    pub problems: Vec<Problem>,
    /// Whether a state file was found.
    pub had_state: bool,
    /// The state file was there but not one (damaged): it was ignored, and removed.
    pub damaged_state: Option<StateError>,
}

impl Removed {
    pub fn nothing(&self) -> bool {
        self.namespaces.is_empty() && self.interfaces == 0 && self.undone == 0
    }
}

pub fn destroy(
    project: &str,
    settings: &Settings,
    progress: &mut dyn Progress,
) -> Result<Removed, Error> {
    let lock = ProjectLock::take(project, settings.wait, |holder| {
        progress.waiting_for(holder)
    })
    .map_err(StateError::from)?;
    destroy_locked(project, settings, progress, &lock)
}

/// [`destroy`] under a lock the caller holds (`conlink run` when it stops).
pub fn destroy_locked(
    project: &str,
    settings: &Settings,
    progress: &mut dyn Progress,
    _lock: &ProjectLock,
) -> Result<Removed, Error> {
    let mark = names::mark(project);
    let mut removed = Removed::default();
    let st = match state::load(&settings.state_dir, project) {
        Ok(st) => st,
        // Not a state file at all: go by the marks, as without one.
        Err(e) if e.is_damaged() => {
            removed.damaged_state = Some(e);
            None
        }
        Err(e) => return Err(e.into()),
    };
    removed.had_state = st.is_some();
    // Where conlink's namespace was is what the run that made it recorded.
    let mut settings = settings.clone();
    if let Some(recorded) = st.as_ref().and_then(|s| s.conlink_ns) {
        settings.conlink_ns = recorded;
    }
    let settings = &settings;

    // A context to run undo operations in namespaces that stay.
    let group = st
        .as_ref()
        .map_or_else(|| names::group(project), |s| s.group);
    let mut cx = Context::new(project, &mark, group, settings)?;
    let mut run = Destroying {
        plan: undo_lines(project, &mark, group),
        progress,
        started: Instant::now(),
    };

    // 1. Commands first: a process inside a namespace keeps it alive. Those the state
    //    records, then any other of the project's, found by their tag.
    if let Some(st) = &st {
        for rec in st.steps.iter().rev() {
            if families::action(&rec.undo).removal() == Removal::Process {
                run.undo(&mut cx, rec, &mut removed);
            }
        }
    }
    let logs = cx.logs_dir();
    for (step, e) in command::stop_all(&mut cx, &logs) {
        removed.problems.push(Problem::new(step, e));
    }

    // 2. Owned namespaces, found by name and confirmed by the mark on their loopback.
    let owned = observe::owned_namespaces(project, &settings.netns_dir, &mark);

    // 3. In namespaces that stay: conlink's interfaces go in bulk (also when the state
    //    is lost), then the recorded steps that are not about them are undone.
    for ns in [Ns::Host, Ns::Conlink] {
        if ns == Ns::Conlink && settings.conlink_ns == ConlinkNs::Own {
            continue; // its namespace goes below
        }
        match cx.place(&ns) {
            Ok(place) => {
                match place
                    .route()
                    .and_then(|sock| link::delete_marked(sock, &mark, group))
                {
                    Ok(names) => {
                        removed.interfaces += names.len();
                        for name in names {
                            run.progress
                                .removed(&ns.to_string(), &format!("interface {name}"));
                        }
                    }
                    Err(e) => removed
                        .problems
                        .push(Problem::new(format!("interfaces in {ns}"), e)),
                }
                match nft::delete_project_tables(place, project) {
                    Ok(n) => removed.undone += n,
                    Err(e) => removed
                        .problems
                        .push(Problem::new(format!("nft tables in {ns}"), e)),
                }
                // The interfaces it knew are gone.
                place.reload();
            }
            Err(e) => removed.problems.push(Problem::new(ns.to_string(), e)),
        }
        if settings.conlink_ns == ConlinkNs::Current {
            break; // host and conlink are the same namespace
        }
    }
    if let Some(st) = &st {
        run.undo_surviving(&mut cx, st, &mut removed);
    }

    // 4. Interfaces created from a namespace that stays into one that goes (tunnels,
    //    macvlans) hold on to the one that stays until the kernel really deletes
    //    them, some time after their namespace is gone: delete them first.
    run.delete_created_from_elsewhere(&mut cx, st.as_ref(), &owned, &mut removed);
    //    Likewise a veth from conlink's own namespace into a container: its peer would
    //    stay in the container until the kernel removes conlink's namespace, after this
    //    process has exited (its sockets there close then). Deleting conlink's
    //    interfaces there in bulk takes the peers with them now.
    run.delete_container_ends(&mut cx, st.as_ref(), &owned, &mut removed);

    // 5. Unpin owned namespaces: everything in them goes with them.
    for name in owned {
        match namespace::remove_pinned(&settings.netns_dir, &name) {
            Ok(()) => {
                run.progress.removed(&name, &format!("namespace {name}"));
                removed.namespaces.push(name);
            }
            Err(e) => removed
                .problems
                .push(Problem::new(format!("namespace {name}"), e)),
        }
    }
    state::remove(&settings.state_dir, project)?;
    Ok(removed)
}

/// Removes one applied unit: undoes the steps the state records for unit `unit` (step
/// ids `UNIT/INDEX`), in reverse order, now, and drops their records from `st`. A
/// record whose undo fails stays, with the problem reported. Saving `st` is the
/// caller's.
pub fn remove_unit(cx: &mut Context, st: &mut State, unit: &str) -> Vec<Problem> {
    let of_unit = |id: &str| id.rsplit_once('/').is_some_and(|(u, _)| u == unit);
    let mut problems = Vec::new();
    let mut undone = Vec::new();
    for rec in st.steps.iter().rev().filter(|r| of_unit(&r.id)) {
        match steps::undo_recorded(cx, rec) {
            Ok(()) => undone.push(rec.id.clone()),
            Err(e) => problems.push(Problem::new(&rec.id, e)),
        }
    }
    st.steps.retain(|r| !undone.contains(&r.id));
    problems
}

/// One destroy in progress: where it reports.
struct Destroying<'p> {
    /// A plan with nothing but the project's names, to write undo lines with.
    plan: Plan,
    progress: &'p mut dyn Progress,
    started: Instant,
}

impl Destroying<'_> {
    /// Carries out the undo `rec` records (if it is conlink's), counting and
    /// reporting it.
    fn undo(&mut self, cx: &mut Context, rec: &StepRecord, removed: &mut Removed) -> bool {
        let began = Instant::now();
        match steps::undo_recorded(cx, rec) {
            Ok(()) => {
                self.tell(rec, began);
                true
            }
            Err(e) => {
                removed.problems.push(Problem::new(&rec.id, e));
                false
            }
        }
    }

    fn tell(&mut self, rec: &StepRecord, began: Instant) {
        if !self.progress.wants_steps() {
            return;
        }
        let line = compiler::plan::op_line(&rec.undo, &rec.ns, &self.plan);
        let now = Instant::now();
        self.progress.step(&StepEvent {
            id: &rec.id,
            ns: &rec.ns,
            line: &line,
            outcome: progress::Outcome::Undone,
            took: now - began,
            at: now - self.started,
        });
    }

    /// Deletes the interfaces created from a namespace that stays into one that goes:
    /// the recorded ones, or without a state file, every interface of such a kind in
    /// the owned namespaces.
    fn delete_created_from_elsewhere(
        &mut self,
        cx: &mut Context,
        st: Option<&State>,
        owned: &[String],
        removed: &mut Removed,
    ) {
        if let Some(st) = st {
            for rec in st.steps.iter().rev() {
                if families::action(&rec.undo).removal() == Removal::CreatedFromElsewhere
                    && self.undo(cx, rec, removed)
                {
                    removed.interfaces += 1;
                }
            }
            return;
        }
        for name in owned {
            // A half-made pin holds no namespace.
            let Ok(file) = netns::open(&cx.netns_dir().join(name)) else {
                continue;
            };
            if !netns::is_namespace(&file) {
                continue;
            }
            match link::delete_made_from_elsewhere(&file) {
                Ok(k) => removed.interfaces += k,
                Err(e) => removed
                    .problems
                    .push(Problem::new(format!("interfaces in {name}"), e)),
            }
        }
    }

    /// Deletes conlink's interfaces in its own namespace, in one request
    /// (`link::delete_marked`), when they may reach into containers: the state names a
    /// container's or a service's namespace, or there is no state to say.
    fn delete_container_ends(
        &mut self,
        cx: &mut Context,
        st: Option<&State>,
        owned: &[String],
        removed: &mut Removed,
    ) {
        let in_containers = |s: &State| {
            s.steps
                .iter()
                .any(|r| matches!(r.ns, Ns::Container(_) | Ns::Service(..)))
        };
        let own = names::conlink_ns(cx.project());
        if !st.is_none_or(in_containers) || !owned.contains(&own) {
            return;
        }
        // A half-made pin holds no namespace.
        let Ok(file) = netns::open(&cx.netns_dir().join(&own)) else {
            return;
        };
        if !netns::is_namespace(&file) {
            return;
        }
        match link::delete_marked_in(&file, cx.mark(), cx.group()) {
            Ok(names) => {
                removed.interfaces += names.len();
                for name in names {
                    self.progress.removed(&own, &format!("interface {name}"));
                }
            }
            Err(e) => removed
                .problems
                .push(Problem::new(format!("interfaces in {own}"), e)),
        }
    }

    /// Undoes recorded steps whose objects live in namespaces that are not removed, and
    /// did not go with conlink's interfaces there.
    fn undo_surviving(&mut self, cx: &mut Context, st: &State, removed: &mut Removed) {
        let owned_ns = |ns: &Ns| match ns {
            Ns::Node(_) => true,
            Ns::Conlink => st.conlink_ns == Some(ConlinkNs::Own),
            Ns::Host | Ns::Container(_) | Ns::Service(..) => false,
        };
        for rec in st.steps.iter().rev() {
            let undo = families::action(&rec.undo);
            // Namespaces and commands went before; interfaces there went in bulk
            // (`delete_marked`), and with them their addresses, qdiscs and settings.
            if owned_ns(undo.home(&rec.ns)) || undo.removal() != Removal::OnItsOwn {
                continue;
            }
            if self.undo(cx, rec, removed) {
                removed.undone += 1;
            }
        }
    }
}

/// A plan holding only the project's names: what an undo's line needs
/// (`compiler::plan::op_line`), when `destroy` has no plan.
fn undo_lines(project: &str, mark: &str, group: u32) -> Plan {
    Plan {
        format: compiler::plan::PLAN_FORMAT,
        project: project.into(),
        group,
        mark: mark.into(),
        bridges: Vec::new(),
        services: Vec::new(),
        units: Vec::new(),
    }
}
