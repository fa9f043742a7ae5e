//! `conlink run`: apply, then follow the container engine's events until a signal
//! says stop, then remove everything (docs/cli.md, "run").
//!
//! The run holds the project's lock from start to end, marked as a run
//! ([`crate::lock::Role::Run`]), so `apply` and `destroy` elsewhere say who manages the
//! project instead of waiting. Its parts:
//!
//! * this module: the first apply, the event loop (a start wires the container's unit,
//!   a die unwires it), readiness (`All links connected`, once every unit of the plan
//!   is wired, no event is being handled, the events have paused for [`SETTLE`], and
//!   the engine has no replica that the plan lacks), the stop;
//! * [`follow`]: the event stream, reconnected with backoff when the engine goes away,
//!   and the reconciliation with the container list after each (re)connection and
//!   while something waits, so no start or die is missed;
//! * [`outage`]: which failures to reach the engine are logged while it is away (the
//!   first, a changed error, a reminder a minute) and the line when it answers again;
//! * [`workers`]: one worker thread per unit, so the events of one container are
//!   handled in order and those of different containers at the same time;
//! * [`wiring`]: what a worker does for one unit, with its own runtime context.
//!
//! Replica counts follow the containers: the plan is made again (by the caller's
//! [`Replan`]) when a service has more replicas than planned, or fewer after some
//! were removed (docs/decisions.md, "conlink run"); the counts are
//! [`replicas::follow`]'s, which `conlink status` plans with too.

mod follow;
mod outage;
pub mod wiring;
mod workers;

use crate::apply::{self, ApplyError, Hooks};
use crate::containers::replicas;
use crate::containers::resolver::{target_symbols, Containers, View};
use crate::containers::{ContainerEngine, EngineError};
use crate::context::Settings;
use crate::destroy::{self, Removed};
use crate::error::{Error, StateError};
use crate::interrupt;
use crate::lock::ProjectLock;
use crate::progress::Progress;
use crate::state::{self, State};
use compiler::plan::Plan;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use wiring::{target_of, Log, Shared, WiredInto};

/// Makes the plan again with these replica counts (service → count).
pub type Replan = Box<dyn Fn(&BTreeMap<String, u32>) -> Result<Plan, String> + Send + Sync>;

/// How soon the container list is read again when it could not be read after a
/// reconnection.
const RELIST: Duration = Duration::from_secs(1);

/// The line 2.x users' scripts wait for.
pub const READY_LINE: &str = "All links connected";

/// How long no event must have come before the readiness line is logged. The starts of
/// one change (the replicas of a scale-up, which compose starts side by side) come
/// close together, and the line is for the change as a whole, not for each replica.
pub const SETTLE: Duration = Duration::from_millis(200);

/// What a run needs besides the plan.
pub struct Options {
    /// `settings.containers` is the view the run keeps up to date.
    pub settings: Settings,
    pub engine: Arc<dyn ContainerEngine>,
    pub replan: Option<Replan>,
    /// Where the run's lines go.
    pub log: Log,
    /// The container conlink runs in, if any (recorded with the lock).
    pub own_container: Option<String>,
    /// Set to stop the run as a signal would (tests; the command line uses signals).
    pub stop: Arc<AtomicBool>,
    /// How often the container list is compared with what is wired while some unit
    /// waits (it also catches removed containers, which send no die).
    pub reconcile_every: Duration,
    /// `-v`: every failed attempt to reach the engine is logged, not only the first of
    /// an outage and each change of its error (`run/outage.rs`).
    pub verbose: bool,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Setup(#[from] Error),
    #[error("{0}")]
    Apply(#[from] ApplyError),
    #[error("{0}")]
    Engine(#[from] EngineError),
}

/// How a run ended.
#[derive(Debug)]
pub struct Ended {
    /// What the final cleanup removed.
    pub removed: Removed,
    /// How long the cleanup took.
    pub cleanup: Duration,
}

/// Runs until stopped: see the module's description.
pub fn run(plan: Plan, opts: Options, progress: &mut dyn Progress) -> Result<Ended, RunError> {
    let containers = opts
        .settings
        .containers
        .clone()
        .expect("conlink run has a container view");
    let lock = ProjectLock::take_for_run(
        &plan.project,
        opts.settings.wait,
        opts.own_container.clone(),
        |holder| progress.waiting_for(holder),
    )
    .map_err(StateError::from)
    .map_err(Error::from)?;
    let guard = interrupt::Guard::install();
    let log = opts.log.clone();

    // Events are asked for from before the first look at the containers, so a start
    // during the first apply is not missed (it is handled again: nothing to do).
    let since = std::time::SystemTime::now();
    refresh(&*opts.engine, &containers, &plan)?;
    let mut planner = Planner::new(&plan, opts.replan);
    let plan = planner.adjust(plan, &containers.read(), &log);

    let (report, failed) = first_apply(&plan, &opts.settings, progress, &lock, &log)?;
    // `apply` put the signal handlers back as they were before it: ours.
    drop(guard);
    let _guard = interrupt::Guard::install();
    let waiting: BTreeSet<&str> = report.waiting.iter().map(|(u, _)| u.as_str()).collect();
    let mut wired = BTreeMap::new();
    for unit in &plan.units {
        if waiting.contains(unit.id.as_str()) {
            continue;
        }
        let into = target_of(unit).and_then(|ns| {
            let view = containers.read();
            view.target(ns).map(|c| WiredInto {
                id: c.id.clone(),
                pid: c.pid,
            })
        });
        wired.insert(unit.id.clone(), into);
    }
    log(&format!(
        "applied: {} step(s) carried out, {} in place; {} unit(s) wired, {} waiting",
        report.executed,
        report.in_place,
        wired.len(),
        report.waiting.len()
    ));
    for (unit, why) in &report.waiting {
        if !failed.contains_key(unit) {
            log(&format!("{unit}: {why}"));
        }
    }
    let st = state::load(&opts.settings.state_dir, &plan.project)
        .map_err(Error::from)?
        .unwrap_or_else(|| {
            State::new(
                &plan.project,
                &plan.mark,
                plan.group,
                opts.settings.conlink_ns,
            )
        });
    let shared = Arc::new(Shared {
        plan: RwLock::new(Arc::new(plan)),
        settings: opts.settings.clone(),
        containers: containers.clone(),
        state: Mutex::new(st),
        wired: Mutex::new(wired),
        failed: Mutex::new(failed),
        pending: AtomicUsize::new(0),
        changed: AtomicBool::new(true),
        stopping: AtomicBool::new(false),
        log: log.clone(),
    });

    let mut workers = workers::Workers::new(shared.clone());
    let mut follower = follow::Follower::new(opts.engine.clone(), since);
    let mut outage = outage::Outage::new(log.clone(), opts.verbose);
    let mut next_reconcile = Instant::now() + opts.reconcile_every;
    let mut last_event = Instant::now();
    let mut gone_without_die = GoneWithoutDie::default();
    // Whether the container list must be compared with what is wired (after a
    // reconnection) even when nothing waits.
    let mut compare_due = false;
    let stop = || opts.stop.load(Ordering::SeqCst) || interrupt::received().is_some();
    while !stop() {
        match follower.next(Duration::from_millis(100), &stop, &mut outage, &*log) {
            follow::Next::Event(event, received) => {
                last_event = received;
                let gone = follow::update_view(&*opts.engine, &containers, &event.id);
                if let Some(service) = gone {
                    planner.removed(&service);
                }
                let plan = shared.plan();
                let adjusted = planner.adjust((*plan).clone(), &containers.read(), &log);
                if adjusted.services != plan.services {
                    set_plan(&shared, adjusted);
                    reconcile(&shared, &mut workers);
                    continue;
                }
                let symbols = target_symbols(&plan);
                let view = containers.read();
                let Some(ns) = view
                    .symbol_of(&event.name, &event.labels, &symbols)
                    .cloned()
                else {
                    continue;
                };
                drop(view);
                let unit = ns.to_string();
                match event.kind {
                    crate::containers::EventKind::Start => {
                        workers.send(&unit, workers::Job::Wire { received })
                    }
                    crate::containers::EventKind::Die { .. } => {
                        // A die replayed after a reconnection, of a container that has
                        // run again since and is wired into that run: nothing to do.
                        let now = containers
                            .read()
                            .get(&event.id)
                            .filter(|c| c.is_running())
                            .map(|c| WiredInto {
                                id: c.id.clone(),
                                pid: c.pid,
                            });
                        if now.is_some() && shared.wired().get(&unit).cloned().flatten() == now {
                            continue;
                        }
                        workers.send(&unit, workers::Job::Unwire);
                        // A removed container sends no event of its own: look again.
                        next_reconcile =
                            next_reconcile.min(Instant::now() + Duration::from_secs(1));
                    }
                }
            }
            follow::Next::Reconnected => {
                // Compared below, at once, and again until the list can be read: the
                // stream reports its failure to connect only later, so the engine may
                // still be away.
                compare_due = true;
                next_reconcile = Instant::now();
            }
            follow::Next::Idle => {}
        }
        if Instant::now() >= next_reconcile {
            next_reconcile = Instant::now() + opts.reconcile_every;
            let something_waits = {
                let plan = shared.plan();
                let wired = shared.wired();
                plan.units.iter().any(|u| !wired.contains_key(&u.id))
            };
            let gone = gone_without_die.look(&shared);
            for (unit, pid) in &gone {
                log(&format!(
                    "{unit}: the process of its container ({pid}) is gone but no die event came; comparing with the engine's containers"
                ));
            }
            if compare_due || something_waits || !gone.is_empty() {
                match look_again(&*opts.engine, &shared, &mut planner, &mut workers) {
                    Err(e) if compare_due => {
                        let retry = RELIST.min(opts.reconcile_every);
                        outage.failed(
                            outage::Request::List,
                            &e.to_string(),
                            &format!(
                                "cannot list the containers ({e}); trying again in {:.1} s",
                                retry.as_secs_f64()
                            ),
                        );
                        next_reconcile = Instant::now() + retry;
                    }
                    Ok(()) if compare_due => {
                        // The one proof that the engine is back: a stream opens before
                        // the engine answers (see `Reconnected` above).
                        let over = outage.answered().map(|o| format!(" ({o})"));
                        log(&format!(
                            "following the engine's events again; comparing with its containers{}",
                            over.unwrap_or_default()
                        ));
                        compare_due = false;
                    }
                    _ => {}
                }
            }
        }
        if last_event.elapsed() >= SETTLE && may_be_ready(&shared) {
            // Replicas that the engine has created but not started yet (the rest of
            // a scale-up) are in no event so far: ask for the containers once more,
            // so that the plan takes them in and the line waits for them.
            if let Err(e) = look_again(&*opts.engine, &shared, &mut planner, &mut workers) {
                log(&format!("cannot list the containers: {e}"));
            }
            readiness(&shared);
        }
    }

    // Stop: drop what is queued, let each worker finish its unit, remove everything.
    let signal = interrupt::received();
    let began = Instant::now();
    shared.stopping.store(true, Ordering::SeqCst);
    workers.join();
    log(&format!(
        "stopping ({}): removing everything of project {}",
        signal.map_or("asked to".to_string(), |s| format!("{s}")),
        shared.plan().project
    ));
    let project = shared.plan().project.clone();
    let mut quiet = crate::progress::Quiet;
    let removed = destroy::destroy_locked(&project, &opts.settings, &mut quiet, &lock)?;
    let cleanup = began.elapsed();
    log(&format!(
        "removed {} namespace(s), {} interface(s), {} other step(s) in {:.3} s",
        removed.namespaces.len(),
        removed.interfaces,
        removed.undone,
        cleanup.as_secs_f64()
    ));
    for p in &removed.problems {
        log(&format!("cleanup problem: {p}"));
    }
    Ok(Ended { removed, cleanup })
}

/// The first apply of a run. A step that fails in a running container's unit rolls the
/// apply back, as always; then the container is left out (its unit waits, as if it
/// did not run) and the plan is applied again, so that one container that cannot be
/// wired (an interface of the engine's in the way, IPv6 turned off) does not stop
/// the network of all the others. Its unit is tried again when it runs again, as
/// after a failure while the run follows the events. Returns the report and the
/// units left out, each with the run of its container.
fn first_apply(
    plan: &Plan,
    settings: &Settings,
    progress: &mut dyn Progress,
    lock: &ProjectLock,
    log: &Log,
) -> Result<(apply::Report, BTreeMap<String, WiredInto>), RunError> {
    let containers = settings
        .containers
        .as_ref()
        .expect("conlink run has a container view");
    let mut left_out: BTreeMap<String, WiredInto> = BTreeMap::new();
    loop {
        let mut settings = settings.clone();
        if !left_out.is_empty() {
            let ids = left_out.values().map(|w| w.id.clone()).collect();
            settings.containers = Some(containers.without(&ids));
        }
        let failure = match apply::apply_locked(plan, &settings, &Hooks::default(), progress, lock)
        {
            Ok(report) => return Ok((report, left_out)),
            Err(ApplyError::Failed(f)) => f,
            Err(e) => return Err(e.into()),
        };
        let unit = failure.step_id.rsplit_once('/').map(|(u, _)| u.to_string());
        let running = unit
            .as_deref()
            .and_then(|u| plan.units.iter().find(|x| x.id == u))
            .and_then(target_of)
            .and_then(|ns| {
                let view = containers.read();
                view.target(ns)
                    .filter(|c| c.is_running())
                    .map(|c| WiredInto {
                        id: c.id.clone(),
                        pid: c.pid,
                    })
            });
        match (unit, running) {
            (Some(unit), Some(into)) if !left_out.contains_key(&unit) => {
                log(&format!(
                    "cannot wire {unit}: {failure}; rolled back, it is tried again when its container starts again; applying the rest without it"
                ));
                left_out.insert(unit, into);
            }
            _ => return Err(ApplyError::Failed(failure).into()),
        }
    }
}

/// Processes of wired containers that are gone while no die event came.
#[derive(Default)]
struct GoneWithoutDie {
    /// Found gone at the last look: (unit, pid).
    suspected: BTreeSet<(String, u32)>,
    /// Said already.
    reported: BTreeSet<(String, u32)>,
}

impl GoneWithoutDie {
    /// Units wired into a container whose process no longer exists at this look and
    /// did not at the last one either (a die event takes milliseconds, so a process
    /// gone for a whole period means the event did not come: an engine's stream can
    /// drop one), not reported before. The periodic comparison is then needed
    /// although no unit waits. Looked at only while no job is pending, since a die
    /// being handled leaves its unit wired for a moment. A stat of `/proc/PID` per
    /// wired container; no request to the engine.
    fn look(&mut self, shared: &Shared) -> Vec<(String, u32)> {
        if shared.pending.load(Ordering::SeqCst) > 0 {
            return Vec::new();
        }
        let proc = shared.containers.proc();
        let gone: BTreeSet<(String, u32)> = shared
            .wired()
            .iter()
            .filter_map(|(unit, into)| Some((unit.clone(), into.as_ref()?.pid?)))
            .filter(|(_, pid)| !proc.join(pid.to_string()).exists())
            .collect();
        let confirmed: Vec<(String, u32)> = gone
            .intersection(&self.suspected)
            .filter(|k| !self.reported.contains(*k))
            .cloned()
            .collect();
        self.reported.extend(confirmed.iter().cloned());
        self.suspected = gone;
        confirmed
    }
}

/// The replicas of the project's services in the view: id → service.
fn replicas_by_id(view: &View) -> BTreeMap<String, String> {
    view.containers()
        .filter_map(|c| {
            let id = c.compose()?;
            (id.project == view.project && !id.oneoff).then(|| (c.id.clone(), id.service))
        })
        .collect()
}

/// Reads the containers again into the view.
fn refresh(
    engine: &dyn ContainerEngine,
    containers: &Containers,
    plan: &Plan,
) -> Result<(), EngineError> {
    let project = containers.read().project.clone();
    let named = crate::containers::resolver::named_containers(plan);
    let fresh = View::load(engine, &project, &named)?;
    *containers.write() = fresh;
    Ok(())
}

/// Reads the containers again, plans again if their replica counts changed (removed
/// replicas lower the floor), and gives the workers what differs ([`reconcile`]).
fn look_again(
    engine: &dyn ContainerEngine,
    shared: &Shared,
    planner: &mut Planner,
    workers: &mut workers::Workers,
) -> Result<(), EngineError> {
    let containers = &shared.containers;
    let before = replicas_by_id(&containers.read());
    refresh(engine, containers, &shared.plan())?;
    let view = containers.read();
    let removed: Vec<String> = before
        .iter()
        .filter(|(id, _)| view.get(id).is_none())
        .map(|(_, service)| service.clone())
        .collect();
    drop(view);
    for service in removed {
        planner.removed(&service);
    }
    let plan = shared.plan();
    let adjusted = planner.adjust((*plan).clone(), &containers.read(), &shared.log);
    if adjusted.services != plan.services {
        set_plan(shared, adjusted);
    }
    reconcile(shared, workers);
    Ok(())
}

fn set_plan(shared: &Shared, plan: Plan) {
    *shared.plan.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(plan);
    shared.changed.store(true, Ordering::SeqCst);
}

/// Compares what is wired with the containers the view shows, and gives the workers
/// what differs: a running target not wired (or wired into an earlier run of it) is
/// wired, unless wiring failed in this very run of it; a wired unit whose container
/// does not run (or that the plan no longer has) is unwired.
fn reconcile(shared: &Shared, workers: &mut workers::Workers) {
    let plan = shared.plan();
    let now = Instant::now();
    let view = shared.containers.read();
    let wired = shared.wired().clone();
    let failed = shared.failed().clone();
    let planned: BTreeSet<&str> = plan.units.iter().map(|u| u.id.as_str()).collect();
    for (unit, into) in &wired {
        if into.is_some() && !planned.contains(unit.as_str()) {
            workers.send(unit, workers::Job::Unwire);
        }
    }
    for unit in &plan.units {
        let Some(ns) = target_of(unit) else {
            continue;
        };
        let running = view
            .target(ns)
            .filter(|c| c.is_running())
            .map(|c| WiredInto {
                id: c.id.clone(),
                pid: c.pid,
            });
        match (wired.get(&unit.id), running) {
            (Some(Some(w)), Some(r)) if *w == r => {}
            (_, Some(r)) if failed.get(&unit.id) == Some(&r) => {}
            (_, Some(_)) => workers.send(&unit.id, workers::Job::Wire { received: now }),
            (Some(_), None) => workers.send(&unit.id, workers::Job::Unwire),
            (None, None) => {}
        }
    }
}

/// Whether wiring changed since the readiness line was last logged, no job is pending,
/// and every unit of the plan is wired.
fn may_be_ready(shared: &Shared) -> bool {
    if shared.pending.load(Ordering::SeqCst) > 0 || !shared.changed.load(Ordering::SeqCst) {
        return false;
    }
    let plan = shared.plan();
    let wired = shared.wired();
    plan.units.iter().all(|u| wired.contains_key(&u.id))
}

/// Logs the readiness line when [`may_be_ready`] holds (the caller has just compared
/// the plan and the wiring with the engine's containers).
fn readiness(shared: &Shared) {
    if !may_be_ready(shared) {
        return;
    }
    let plan = shared.plan();
    let wired = shared.wired();
    let containers = wired.values().filter(|w| w.is_some()).count();
    drop(wired);
    shared.changed.store(false, Ordering::SeqCst);
    shared.say(&format!(
        "{READY_LINE}: {} unit(s), {containers} container(s) wired",
        plan.units.len()
    ));
}

/// Keeps the plan's replica counts in line with the containers.
struct Planner {
    replan: Option<Replan>,
    /// The counts the configuration asks for; a service's drops to 0 once one of its
    /// replicas is removed (scaled down), so the containers decide from then on.
    floor: BTreeMap<String, u32>,
}

impl Planner {
    fn new(plan: &Plan, replan: Option<Replan>) -> Planner {
        Planner {
            replan,
            floor: replicas::counts_of(&plan.services),
        }
    }

    fn removed(&mut self, service: &str) {
        if let Some(f) = self.floor.get_mut(service) {
            *f = 0;
        }
    }

    /// `plan`, or a new plan when the containers ask for other replica counts.
    fn adjust(&self, plan: Plan, view: &View, log: &Log) -> Plan {
        let Some(replan) = &self.replan else {
            return plan;
        };
        let Some(want) = replicas::follow(&plan.services, &self.floor, &view.replica_counts())
        else {
            return plan;
        };
        match replan(&want) {
            Ok(p) => {
                let counts: Vec<String> = want.iter().map(|(s, n)| format!("{s}={n}")).collect();
                log(&format!(
                    "replica counts changed: planned again with {}",
                    counts.join(", ")
                ));
                p
            }
            Err(e) => {
                log(&format!(
                    "cannot plan with the replica counts the containers show: {e}"
                ));
                plan
            }
        }
    }
}
