//! What `apply`, `status` and `run` need from the container engine: the connection
//! (`--engine-socket`, `DOCKER_HOST`, the usual path), conlink's own container (which
//! decides `--conlink-netns auto` and the compose project whose services are targets),
//! and the view of the containers the runtime resolves `container:` and `service:`
//! symbols with (`runtime::containers::resolver`).

use crate::cli::{Common, ConlinkNsArg, Sources};
use crate::commands::print_diagnostics;
use crate::Outcome;
use compiler::plan::{Ns, Plan};
use runtime::containers::docker::DockerEngine;
use runtime::containers::own::{own_container, OwnContainer};
use runtime::containers::replicas;
use runtime::containers::resolver::{named_containers, Containers, View};
use runtime::containers::socket::EngineSettings;
use runtime::resolve::ConlinkNs;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The engine and what conlink found out about itself through it.
pub struct Engine {
    pub api: Arc<DockerEngine>,
    pub own: OwnContainer,
}

impl Engine {
    /// Connects to the engine. `required`: a failure is an error (`run`); else it is
    /// a warning and `None` (the units of containers then wait).
    pub fn connect(
        command: &str,
        common: &Common,
        required: bool,
    ) -> Result<Option<Engine>, Outcome> {
        let settings =
            EngineSettings::from_env(common.engine_socket.clone(), common.podman_socket.clone());
        let connected = settings
            .choose(|p| p.exists())
            .map_err(|e| e.to_string())
            .and_then(|socket| {
                let api = DockerEngine::connect(&socket).map_err(|e| e.to_string())?;
                Ok((socket, api))
            });
        let api = match connected {
            Ok((socket, api)) => {
                // `run`, a service whose log people read, says which engine it
                // picked when it picked one itself (both may be installed); the
                // one-shot commands say it only with -v, as they also connect when
                // the plan has only nodes (for `--conlink-netns auto`).
                if (required && !socket.is_explicit()) || common.verbose > 0 {
                    eprintln!(
                        "conlink {command}: found {} at {} ({})",
                        socket.engine,
                        socket.path.display(),
                        socket.origin
                    );
                }
                Arc::new(api)
            }
            Err(e) if required => {
                eprintln!("conlink {command}: {e}");
                return Err(Outcome::Failed);
            }
            Err(e) => {
                eprintln!(
                    "conlink {command}: warning: no container engine ({e}); units of containers and services wait"
                );
                return Ok(None);
            }
        };
        let own = match own_container(&*api, Path::new("/proc")) {
            Ok(own) => own,
            Err(e) => {
                eprintln!(
                    "conlink {command}: cannot ask the engine about conlink's own container: {e}"
                );
                return Err(Outcome::Failed);
            }
        };
        Ok(Some(Engine { api, own }))
    }

    /// The id of conlink's own container, when the engine knows it.
    pub fn own_id(&self) -> Option<String> {
        match &self.own {
            OwnContainer::Found(c) => Some(c.id.clone()),
            _ => None,
        }
    }

    /// The view of the containers `plan` names, for the project `project` (whose
    /// services are targets).
    pub fn view(&self, project: &str, plan: &Plan) -> Result<Containers, Outcome> {
        match View::load(&*self.api, project, &named_containers(plan)) {
            Ok(v) => Ok(Containers::new(v).with_engine(self.api.clone())),
            Err(e) => {
                eprintln!("conlink: cannot list the containers: {e}");
                Err(Outcome::Failed)
            }
        }
    }
}

/// Where conlink's namespace is: `auto` is `current` when conlink runs in a container
/// the engine knows (its own, found through `/proc/self/mountinfo` or the cgroup), else
/// `own`. Markers such as `/.dockerenv` are not enough: CI machines and sandboxes are
/// often containers themselves, of another engine.
pub fn conlink_ns(common: &Common, engine: Option<&Engine>) -> ConlinkNs {
    match common.conlink_netns {
        ConlinkNsArg::Own => ConlinkNs::Own,
        ConlinkNsArg::Current => ConlinkNs::Current,
        ConlinkNsArg::Auto => match engine.map(|e| &e.own) {
            Some(OwnContainer::Found(_)) => ConlinkNs::Current,
            _ => ConlinkNs::Own,
        },
    }
}

/// The compose project whose services are targets, when conlink runs in a container
/// of one (its project label). Otherwise the plan's project is.
pub fn own_project(engine: Option<&Engine>) -> Option<String> {
    engine.and_then(|e| e.own.compose_project())
}

/// Whether `plan` has units of containers or services (then the engine is asked).
pub fn has_containers(plan: &Plan) -> bool {
    plan.units
        .iter()
        .flat_map(|u| &u.steps)
        .any(|s| matches!(s.ns, Ns::Container(_) | Ns::Service(..)))
}

/// Compiles the sources with the project conlink's own container gives, when
/// `--project` does not name one (and with `scale` for the replica counts).
pub fn compile(
    common: &Common,
    srcs: &Sources,
    scale: &[(String, u32)],
    own_project: Option<&str>,
    quiet: bool,
) -> Result<Plan, Outcome> {
    let c = super::plan::compile_with(common, srcs, scale, |files, env, opts| {
        let mut opts = opts.clone();
        if opts.project.is_none() {
            opts.project = own_project.map(str::to_string);
        }
        compiler::compile(files, env, &opts)
    })?;
    if !quiet || c.plan.is_none() {
        print_diagnostics(&c.diagnostics, &c.sources);
    }
    c.plan.ok_or(Outcome::Failed)
}

/// Compiles the sources for project `project` with these replica counts (service →
/// count), quietly: how `run` and `status` plan with the counts the containers show.
pub fn compile_with_counts(
    common: &Common,
    srcs: &Sources,
    counts: &BTreeMap<String, u32>,
    project: &str,
) -> Result<Plan, Outcome> {
    let scale: Vec<(String, u32)> = counts.iter().map(|(s, n)| (s.clone(), *n)).collect();
    compile(common, srcs, &scale, Some(project), true)
}

/// `plan`, or `plan` made again with the replica counts `containers` show, decided as
/// `conlink run` decides them (`runtime::containers::replicas::follow`, the
/// configuration's counts as the floor): so after `docker compose up --scale`,
/// `status` compares with what the run wired instead of calling the new replicas
/// extra.
pub fn follow_replicas(
    common: &Common,
    srcs: &Sources,
    plan: Plan,
    containers: &Containers,
) -> Result<Plan, Outcome> {
    let observed = containers.read().replica_counts();
    let floor = replicas::counts_of(&plan.services);
    match replicas::follow(&plan.services, &floor, &observed) {
        Some(counts) => compile_with_counts(common, srcs, &counts, &plan.project),
        None => Ok(plan),
    }
}

/// What a command that touches containers works with.
pub struct Prepared {
    pub plan: Plan,
    pub engine: Option<Engine>,
    pub conlink_ns: ConlinkNs,
    /// The view of the containers, when there is an engine.
    pub containers: Option<Containers>,
}

/// Compiles the sources, joins the machine's mount namespace
/// (`runtime::netns::join_init_mount_ns`), connects to the engine when the plan has
/// containers (or `required`), and looks at the containers: the plan's project is conlink's own
/// container's compose project unless `--project` names one.
pub fn prepare(
    command: &str,
    common: &Common,
    srcs: &Sources,
    scale: &[(String, u32)],
    required: bool,
) -> Result<Prepared, Outcome> {
    let mut plan = compile(common, srcs, scale, None, false)?;
    crate::privileges::check(command)?;
    // While the process has one thread: the engine's client starts one.
    crate::commands::mounts::join_machine_mounts();
    let wanted = required || has_containers(&plan);
    let engine = if wanted {
        Engine::connect(command, common, required)?
    } else if common.conlink_netns == ConlinkNsArg::Auto {
        // Only to know whether conlink runs in a container: silently.
        quiet_engine(common)
    } else {
        None
    };
    let own = own_project(engine.as_ref());
    if let Some(own) = &own {
        if common.project.is_none() && *own != plan.project {
            plan = compile(common, srcs, scale, Some(own), true)?;
        }
    }
    let containers = match &engine {
        Some(e) if wanted => {
            let project = own.clone().unwrap_or_else(|| plan.project.clone());
            Some(e.view(&project, &plan)?)
        }
        _ => None,
    };
    Ok(Prepared {
        conlink_ns: conlink_ns(common, engine.as_ref()),
        plan,
        engine,
        containers,
    })
}

/// The engine, if one answers, without a word when none does.
fn quiet_engine(common: &Common) -> Option<Engine> {
    let settings =
        EngineSettings::from_env(common.engine_socket.clone(), common.podman_socket.clone());
    let api = Arc::new(DockerEngine::connect(&settings.choose(|p| p.exists()).ok()?).ok()?);
    let own = own_container(&*api, Path::new("/proc")).ok()?;
    Some(Engine { api, own })
}
