//! Resolving `container:NAME` and `service:NAME#I` namespace symbols
//! (docs/plan.md, "Namespaces") through a container engine: which container a symbol
//! names, and its network namespace when it runs.
//!
//! The containers are looked at once per apply (and again for one container when an
//! event says it changed) and kept in a [`View`]; resolving reads the view, so a unit
//! costs no engine request. The rules (docs/decisions.md, "Which containers are
//! targets"):
//!
//! * `container:NAME` is the container whose name is exactly NAME (an engine would also
//!   accept an id prefix; a target is a name);
//! * `service:NAME#I` is the container whose compose labels say project P, service
//!   NAME, replica I, and that is not a one-off container (`docker compose run`): a
//!   one-off container carries the replica number of the service's first replicas
//!   and would otherwise take over a replica's addresses and MAC. P is the project
//!   conlink serves: its own container's project when it runs in one, else the plan's
//!   project (`--project`, `COMPOSE_PROJECT_NAME`, the compose `name:`).
//!
//! A container that does not exist or does not run makes its unit wait; nothing else
//! about it is an error here.

use super::commands::{Execs, Say};
use super::compose::{ComposeIdentity, PROJECT_LABEL};
use super::model::Container;
use super::namespace::open_netns;
use super::{ContainerEngine, EngineError, ListFilter};
use crate::error::NsError;
use crate::resolve::{Resolution, Resolver};
use compiler::plan::{Ns, Plan};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The containers conlink knows of, running or not: those of its compose project and
/// those its plan names.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// The compose project whose services are targets.
    pub project: String,
    /// By id.
    containers: BTreeMap<String, Container>,
}

impl View {
    pub fn new(project: &str) -> View {
        View {
            project: project.to_string(),
            containers: BTreeMap::new(),
        }
    }

    /// Asks `engine` for the containers of `project` and those named `named` (a
    /// plan's [`named_containers`]).
    pub fn load(
        engine: &dyn ContainerEngine,
        project: &str,
        named: &BTreeSet<String>,
    ) -> Result<View, EngineError> {
        let mut view = View::new(project);
        let of_project = engine.list(&ListFilter {
            labels: vec![format!("{PROJECT_LABEL}={project}")],
            running_only: false,
        })?;
        for c in of_project {
            view.put(c);
        }
        for name in named {
            match engine.inspect(name) {
                // An id prefix would match too: only the exact name is the target.
                Ok(c) if c.name == *name => view.put(c),
                Ok(_) | Err(EngineError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(view)
    }

    /// Adds or replaces a container (by id).
    pub fn put(&mut self, c: Container) {
        self.containers.insert(c.id.clone(), c);
    }

    /// Forgets a container that the engine no longer has.
    pub fn remove(&mut self, id: &str) {
        self.containers.remove(id);
    }

    pub fn get(&self, id: &str) -> Option<&Container> {
        self.containers.get(id)
    }

    pub fn containers(&self) -> impl Iterator<Item = &Container> {
        self.containers.values()
    }

    /// The container a symbol names (running or not), if there is one. When several
    /// match (a replica re-created while its predecessor is still listed), the running
    /// one, else the newest.
    pub fn target(&self, ns: &Ns) -> Option<&Container> {
        self.containers
            .values()
            .filter(|c| self.is_target(c, ns))
            .max_by_key(|c| (c.is_running(), c.created))
    }

    /// Whether `c` is the container symbol `ns` names.
    pub fn is_target(&self, c: &Container, ns: &Ns) -> bool {
        self.names(&c.name, &c.labels, ns)
    }

    /// Whether a container with this name and these labels is what `ns` names.
    fn names(&self, name: &str, labels: &BTreeMap<String, String>, ns: &Ns) -> bool {
        match ns {
            Ns::Container(n) => name == &**n,
            Ns::Service(service, replica) => {
                ComposeIdentity::from_labels(labels).is_some_and(|id| {
                    id.project == self.project
                        && id.service == **service
                        && id.replica == Some(*replica)
                        && !id.oneoff
                })
            }
            _ => false,
        }
    }

    /// The symbol (`container:NAME` or `service:NAME#I`) among `candidates` that the
    /// container with this name and these labels is (an event carries both, also for
    /// a container the engine no longer has).
    pub fn symbol_of<'a>(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        candidates: &'a [Ns],
    ) -> Option<&'a Ns> {
        candidates.iter().find(|ns| self.names(name, labels, ns))
    }

    /// The highest replica number of each service of the project among the containers
    /// that exist (one-off containers are not replicas).
    pub fn replica_counts(&self) -> BTreeMap<String, u32> {
        let mut counts = BTreeMap::new();
        for id in self.containers.values().filter_map(Container::compose) {
            if id.project != self.project || id.oneoff {
                continue;
            }
            if let Some(r) = id.replica {
                let n = counts.entry(id.service).or_insert(0);
                *n = (*n).max(r);
            }
        }
        counts
    }
}

/// The container names `plan`'s `container:` symbols name.
pub fn named_containers(plan: &Plan) -> BTreeSet<String> {
    plan.units
        .iter()
        .flat_map(|u| &u.steps)
        .filter_map(|s| match &s.ns {
            Ns::Container(name) => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

/// The `container:` and `service:` symbols of `plan`'s units, in plan order.
pub fn target_symbols(plan: &Plan) -> Vec<Ns> {
    let mut seen = BTreeSet::new();
    plan.units
        .iter()
        .flat_map(|u| &u.steps)
        .filter(|s| matches!(s.ns, Ns::Container(_) | Ns::Service(..)))
        .filter(|s| seen.insert(s.ns.clone()))
        .map(|s| s.ns.clone())
        .collect()
}

/// A [`View`] shared between the threads of one `conlink run` (or held by one apply),
/// with where the engine's process ids are seen (`/proc`).
#[derive(Clone)]
pub struct Containers {
    view: Arc<RwLock<View>>,
    proc: PathBuf,
    /// The engine, to run the commands of containers through (without one, they run
    /// as nodes' commands do: conlink's programs in the container's namespace).
    engine: Option<Arc<dyn ContainerEngine>>,
    /// The commands started through the engine.
    pub execs: Arc<Execs>,
    /// Where a line about a command that ended goes.
    pub say: Option<Say>,
}

impl fmt::Debug for Containers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let view = self.read();
        f.debug_struct("Containers")
            .field("project", &view.project)
            .field("known", &view.containers.len())
            .finish()
    }
}

impl Containers {
    pub fn new(view: View) -> Containers {
        Containers {
            view: Arc::new(RwLock::new(view)),
            proc: PathBuf::from("/proc"),
            engine: None,
            execs: Arc::new(Execs::default()),
            say: None,
        }
    }

    /// Runs the commands of containers through `engine`.
    pub fn with_engine(mut self, engine: Arc<dyn ContainerEngine>) -> Containers {
        self.engine = Some(engine);
        self
    }

    /// Says when a command of a container ends.
    pub fn with_say(mut self, say: Say) -> Containers {
        self.say = Some(say);
        self
    }

    pub fn engine(&self) -> Option<&Arc<dyn ContainerEngine>> {
        self.engine.as_ref()
    }

    /// Where the engine's process ids are seen.
    pub fn proc(&self) -> &std::path::Path {
        &self.proc
    }

    /// Reads `/PROC/PID/ns/net` instead of `/proc` (tests).
    pub fn with_proc(mut self, proc: PathBuf) -> Containers {
        self.proc = proc;
        self
    }

    /// A copy whose view lacks the containers `ids` (their units wait), sharing
    /// everything else with this one: the engine, the commands started, where their
    /// ends are said. The copy's view is its own; this one's does not change.
    pub fn without(&self, ids: &BTreeSet<String>) -> Containers {
        let mut view = self.read().clone();
        for id in ids {
            view.remove(id);
        }
        Containers {
            view: Arc::new(RwLock::new(view)),
            ..self.clone()
        }
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, View> {
        self.view.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn resolver(&self) -> EngineResolver {
        EngineResolver {
            containers: self.clone(),
        }
    }
}

/// Resolves container and service symbols from a [`Containers`] view.
pub struct EngineResolver {
    containers: Containers,
}

impl Resolver for EngineResolver {
    fn resolve(&self, ns: &Ns) -> Result<Resolution, NsError> {
        if !matches!(ns, Ns::Container(_) | Ns::Service(..)) {
            return Ok(Resolution::NotMine);
        }
        let target = self.containers.read().target(ns).cloned();
        let Some(c) = target else {
            return Ok(Resolution::Waiting(waiting_for(ns, None)));
        };
        if !c.is_running() {
            return Ok(Resolution::Waiting(waiting_for(ns, Some(&c))));
        }
        match open_netns(&c, &self.containers.proc) {
            Ok(file) => Ok(Resolution::Ready { file, pinned: None }),
            // It ended between the look at it and now: its start comes again.
            Err(EngineError::NotRunning { .. }) => {
                Ok(Resolution::Waiting(waiting_for(ns, Some(&c))))
            }
            Err(e) => Err(NsError::Io {
                ns: ns.clone(),
                doing: "open",
                source: io::Error::other(e.to_string()),
            }),
        }
    }
}

/// Why a unit of `ns` waits: its container does not exist, or does not run.
fn waiting_for(ns: &Ns, found: Option<&Container>) -> String {
    let what = match ns {
        Ns::Container(name) => format!("container {name}"),
        Ns::Service(s, i) => format!("replica {i} of service {s}"),
        other => other.to_string(),
    };
    match found {
        None => format!("waiting for {what} (no such container)"),
        Some(c) => format!("waiting for {what} ({} is {})", c.name, c.state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::compose::{ONEOFF_LABEL, SERVICE_LABEL};
    use crate::containers::fake::{compose_container, container, FakeEngine};
    use crate::containers::model::ContainerState;

    fn running(mut c: Container, pid: u32) -> Container {
        c.state = ContainerState::Running;
        c.pid = Some(pid);
        c
    }

    #[test]
    fn service_targets_are_replicas_of_conlinks_project_only() {
        let mut view = View::new("lab");
        view.put(compose_container("lab", "web", 1));
        view.put(compose_container("other", "web", 2));
        let mut oneoff = compose_container("lab", "web", 2);
        oneoff.name = "lab_web_run_1".into();
        oneoff.id = "f".repeat(64);
        oneoff.labels.insert(ONEOFF_LABEL.into(), "True".into());
        view.put(oneoff);

        let web1 = Ns::Service("web".into(), 1);
        let web2 = Ns::Service("web".into(), 2);
        assert_eq!(view.target(&web1).unwrap().name, "lab-web-1");
        // Replica 2 exists only in another project, and as a one-off container.
        assert!(view.target(&web2).is_none());
        assert_eq!(view.replica_counts(), BTreeMap::from([("web".into(), 1)]));
    }

    #[test]
    fn container_targets_match_the_exact_name_not_labels() {
        let mut view = View::new("lab");
        view.put(container("db"));
        let mut labelled = container("db-copy");
        labelled.labels.insert(SERVICE_LABEL.into(), "db".into());
        view.put(labelled);
        assert_eq!(view.target(&Ns::Container("db".into())).unwrap().name, "db");
        assert!(view.target(&Ns::Container("d".into())).is_none());
    }

    #[test]
    fn the_running_one_of_two_same_replicas_is_the_target() {
        let mut view = View::new("lab");
        let old = compose_container("lab", "web", 1);
        let mut new = running(compose_container("lab", "web", 1), std::process::id());
        new.id = "e".repeat(64);
        view.put(old);
        view.put(new.clone());
        assert_eq!(
            view.target(&Ns::Service("web".into(), 1)).unwrap().id,
            new.id
        );
    }

    #[test]
    fn resolving_waits_for_absent_and_stopped_containers_and_opens_running_ones() {
        let mut view = View::new("lab");
        view.put(compose_container("lab", "web", 1));
        view.put(running(
            compose_container("lab", "web", 2),
            std::process::id(),
        ));
        let containers = Containers::new(view);
        let r = containers.resolver();
        let waits = |ns: Ns| match r.resolve(&ns).unwrap() {
            Resolution::Waiting(why) => why,
            _ => panic!("{ns} does not wait"),
        };
        assert_eq!(
            waits(Ns::Service("web".into(), 1)),
            "waiting for replica 1 of service web (lab-web-1 is created)"
        );
        assert_eq!(
            waits(Ns::Container("db".into())),
            "waiting for container db (no such container)"
        );
        // Replica 2 "runs" as this test's own process: its namespace is ours.
        assert!(matches!(
            r.resolve(&Ns::Service("web".into(), 2)).unwrap(),
            Resolution::Ready { pinned: None, .. }
        ));
        assert!(matches!(
            r.resolve(&Ns::Conlink).unwrap(),
            Resolution::NotMine
        ));
    }

    #[test]
    fn load_lists_the_project_and_inspects_named_containers() {
        let engine = FakeEngine::new();
        engine.add(compose_container("lab", "web", 1));
        engine.add(compose_container("other", "web", 1));
        engine.add(container("db"));
        engine.add(container("dbx"));
        let named = BTreeSet::from(["db".to_string()]);
        let view = View::load(&engine, "lab", &named).unwrap();
        let mut names: Vec<_> = view.containers().map(|c| c.name.clone()).collect();
        names.sort();
        assert_eq!(names, vec!["db", "lab-web-1"]);
    }
}
