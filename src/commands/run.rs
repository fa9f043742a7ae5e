//! `conlink run`: apply, then follow the container engine's events until SIGTERM or
//! SIGINT, then remove everything (`runtime::run`). Each thing the run does is one line
//! on stderr, prefixed `conlink run:` (the `network` service's log).

use crate::cli::{Common, RunArgs};
use crate::commands::containers::{self, Engine};
use crate::commands::progress::Shown;
use crate::commands::runtime::settings;
use crate::Outcome;
use runtime::run::{Options, RunError};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

pub fn run(common: &Common, args: &RunArgs) -> Outcome {
    if args.show_config {
        return crate::commands::show_config::run(common, &args.sources);
    }
    if let Some(schema) = &args.config_schema {
        eprintln!(
            "conlink run: warning: --config-schema {} is ignored: conlink checks configuration against its built-in schema (`conlink schema` prints it)",
            schema.display()
        );
    }
    let p = match containers::prepare("run", common, &args.sources, &args.scale, true) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let Some(engine) = p.engine else {
        return Outcome::Failed; // `required`: already reported
    };
    let Engine { api, .. } = &engine;
    let own_id = engine.own_id();
    let mut settings = settings(common);
    settings.conlink_ns = p.conlink_ns;
    let log: runtime::run::wiring::Log = Arc::new(|line: &str| eprintln!("conlink run: {line}"));
    settings.containers = p.containers.map(|c| c.with_say(log.clone()));

    // A replica count the containers show is planned with the same sources and
    // options, as `--scale` would be.
    let replan = {
        let common = common.clone();
        let sources = crate::cli::Sources {
            network_files: args.sources.network_files.clone(),
            compose_files: args.sources.compose_files.clone(),
        };
        let project = p.plan.project.clone();
        move |counts: &BTreeMap<String, u32>| {
            containers::compile_with_counts(&common, &sources, counts, &project)
                .map_err(|_| "the configuration does not compile with these counts".to_string())
        }
    };
    eprintln!(
        "conlink run: project {}, engine {} at {}, conlink's namespace: {}",
        p.plan.project,
        api.engine_version(),
        api.socket().path.display(),
        match settings.conlink_ns {
            runtime::resolve::ConlinkNs::Own => "its own (on a host)",
            runtime::resolve::ConlinkNs::Current => "the one it runs in",
        }
    );
    let opts = Options {
        settings,
        engine: api.clone(),
        replan: Some(Box::new(replan)),
        log,
        own_container: own_id,
        stop: Arc::new(AtomicBool::new(false)),
        reconcile_every: Duration::from_secs(2),
        verbose: common.verbose > 0,
    };
    let mut shown = Shown::new("run", &p.plan.project, common.verbose);
    match runtime::run::run(p.plan, opts, &mut shown) {
        Ok(ended) => {
            if ended.removed.problems.is_empty() {
                Outcome::Success
            } else {
                Outcome::Failed
            }
        }
        Err(RunError::Apply(runtime::apply::ApplyError::Failed(f))) => {
            eprintln!("conlink run: {f}");
            eprintln!("conlink run: rolled back: {} step(s) undone", f.undone);
            Outcome::Failed
        }
        Err(e) => {
            eprintln!("conlink run: {e}");
            Outcome::Failed
        }
    }
}
