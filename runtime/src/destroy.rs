//! `conlink destroy`: remove everything conlink created for a project — from the
//! state file when there is one, from the kernel's ownership marks when not — and
//! nothing else. Idempotent. [`remove_unit`] removes one unit on its own (what `run`
//! does when a container dies).
//!
//! Teardown works in bulk (docs/plan.md, "Properties": cheap to execute): deleting one
//! interface costs ~17 ms of kernel time, deleting a namespace ~3 ms whatever it holds.
//! So namespaces conlink owns (nodes, its own) are simply unpinned, which removes every
//! interface, address, route, qdisc and nft table in them; only what lives in
//! namespaces that stay (the host's, a container's, conlink's when it runs in a
//! container) is undone step by step, and marked interfaces there go in one request
//! per interface group.

use crate::action::Removal;
use crate::context::{Context, Settings};
use crate::error::{Error, Problem};
use crate::families::{self, link, namespace, nft};
use crate::names;
use crate::netns;
use crate::observe;
use crate::resolve::ConlinkNs;
use crate::state::{self, State};
use crate::steps;
use compiler::plan::Ns;

/// What a destroy removed.
#[derive(Debug, Default)]
pub struct Removed {
    pub namespaces: Vec<String>,
    pub interfaces: usize,
    pub undone: usize,
    pub problems: Vec<Problem>,
    /// Whether a state file was found.
    pub had_state: bool,
}

impl Removed {
    pub fn nothing(&self) -> bool {
        self.namespaces.is_empty() && self.interfaces == 0 && self.undone == 0
    }
}

pub fn destroy(project: &str, settings: &Settings) -> Result<Removed, Error> {
    let _lock = state::lock(&settings.state_dir, project, |holder| {
        eprintln!("conlink: waiting for {holder}, which is working on project {project}");
    })?;
    let mark = names::mark(project);
    let mut removed = Removed::default();
    let st = state::load(&settings.state_dir, project)?;
    removed.had_state = st.is_some();
    // Where conlink's namespace was is what the run that made it recorded.
    let mut settings = settings.clone();
    if let Some(recorded) = st.as_ref().and_then(|s| s.conlink_ns) {
        settings.conlink_ns = recorded;
    }
    let settings = &settings;

    // A context to run undo operations in namespaces that stay.
    let group = st.as_ref().map_or(0, |s| s.group);
    let mut cx = Context::new(project, &mark, group, settings)?;

    // 1. Commands first: a process inside a namespace keeps it alive.
    if let Some(st) = &st {
        for rec in st.steps.iter().rev() {
            if families::action(&rec.undo).removal() == Removal::Process {
                if let Err(e) = steps::undo(&mut cx, &rec.id, &rec.ns, &rec.undo, &rec.extra) {
                    removed.problems.push(Problem::new(&rec.id, e));
                }
            }
        }
    }

    // 2. Owned namespaces, found by name and confirmed by the mark on their loopback.
    let owned = observe::owned_namespaces(project, &settings.netns_dir, &mark);

    // 3. In namespaces that stay: marked interfaces go in bulk (also when the state
    //    is lost), then the recorded steps that are not about them are undone.
    for ns in [Ns::Host, Ns::Conlink] {
        if ns == Ns::Conlink && settings.conlink_ns == ConlinkNs::Own {
            continue; // its namespace goes below
        }
        match cx.place(&ns) {
            Ok(place) => {
                match place
                    .route()
                    .and_then(|sock| link::delete_marked(sock, &mark))
                {
                    Ok(n) => removed.interfaces += n,
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
        removed.undone += undo_surviving(&mut cx, st, &mut removed.problems);
    }

    // 4. Interfaces created from a namespace that stays into one that goes (tunnels,
    //    macvlans) hold on to the one that stays until the kernel really deletes
    //    them, some time after their namespace is gone: delete them first.
    removed.interfaces +=
        delete_created_from_elsewhere(&mut cx, st.as_ref(), &owned, &mut removed.problems);

    // 5. Unpin owned namespaces: everything in them goes with them.
    for name in owned {
        match namespace::remove_pinned(&settings.netns_dir, &name) {
            Ok(()) => removed.namespaces.push(name),
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
        match steps::undo(cx, &rec.id, &rec.ns, &rec.undo, &rec.extra) {
            Ok(()) => undone.push(rec.id.clone()),
            Err(e) => problems.push(Problem::new(&rec.id, e)),
        }
    }
    st.steps.retain(|r| !undone.contains(&r.id));
    problems
}

/// Deletes the interfaces created from a namespace that stays into one that goes: the
/// recorded ones, or without a state file, every interface of such a kind in the owned
/// namespaces.
fn delete_created_from_elsewhere(
    cx: &mut Context,
    st: Option<&State>,
    owned: &[String],
    problems: &mut Vec<Problem>,
) -> usize {
    let mut n = 0;
    if let Some(st) = st {
        for rec in st.steps.iter().rev() {
            if families::action(&rec.undo).removal() == Removal::CreatedFromElsewhere {
                match steps::undo(cx, &rec.id, &rec.ns, &rec.undo, &rec.extra) {
                    Ok(()) => n += 1,
                    Err(e) => problems.push(Problem::new(&rec.id, e)),
                }
            }
        }
        return n;
    }
    for name in owned {
        let Ok(file) = netns::open(&cx.netns_dir().join(name)) else {
            continue;
        };
        match link::delete_made_from_elsewhere(&file) {
            Ok(k) => n += k,
            Err(e) => problems.push(Problem::new(format!("interfaces in {name}"), e)),
        }
    }
    n
}

/// Undoes recorded steps whose objects live in namespaces that are not removed, and
/// did not go with conlink's interfaces there.
fn undo_surviving(cx: &mut Context, st: &State, problems: &mut Vec<Problem>) -> usize {
    let owned_ns = |ns: &Ns| match ns {
        Ns::Node(_) => true,
        Ns::Conlink => st.conlink_ns == Some(ConlinkNs::Own),
        Ns::Host | Ns::Container(_) | Ns::Service(..) => false,
    };
    let mut n = 0;
    for rec in st.steps.iter().rev() {
        let undo = families::action(&rec.undo);
        // Namespaces and commands went before; interfaces there went in bulk
        // (`delete_marked`), and with them their addresses, qdiscs and settings.
        if owned_ns(undo.home(&rec.ns)) || undo.removal() != Removal::OnItsOwn {
            continue;
        }
        match steps::undo(cx, &rec.id, &rec.ns, &rec.undo, &rec.extra) {
            Ok(()) => n += 1,
            Err(e) => problems.push(Problem::new(&rec.id, e)),
        }
    }
    n
}
