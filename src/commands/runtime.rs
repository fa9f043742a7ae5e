//! The commands that change the system: `apply`, `destroy`, `exec`, `status`.

use crate::cli::{ApplyArgs, Common, ConlinkNsArg, Format, ProjectArgs, Sources};
use crate::commands::containers;
use crate::commands::mounts::join_machine_mounts;
use crate::commands::progress::{Collecting, Shown};
use crate::commands::{plan::compile, print_diagnostics};
use crate::privileges;
use crate::project::{self, Found};
use crate::Outcome;
use compiler::plan::Plan;
use runtime::apply::{ApplyError, Hooks};
use runtime::context::Settings;
use runtime::error::{KernelError, StateError};
use runtime::lock::Wait;
use runtime::resolve::ConlinkNs;
use runtime::status::CommandState;

/// Runtime settings from the common options.
pub fn settings(common: &Common) -> Settings {
    let conlink_ns = match common.conlink_netns {
        ConlinkNsArg::Own => ConlinkNs::Own,
        ConlinkNsArg::Current => ConlinkNs::Current,
        // `apply`, `status` and `run` ask the engine whether conlink runs in a
        // container (`commands::containers::conlink_ns`) and override this; `destroy`
        // goes by what the state file recorded.
        ConlinkNsArg::Auto => ConlinkNs::Own,
    };
    Settings {
        state_dir: common.state_dir.clone(),
        netns_dir: runtime::netns::netns_dir(),
        conlink_ns,
        wait: if common.no_wait { Wait::No } else { Wait::Yes },
        containers: None,
    }
}

/// Compiles the sources to a plan, reporting diagnostics.
fn plan_of(common: &Common, srcs: &Sources, scale: &[(String, u32)]) -> Result<Plan, Outcome> {
    let c = compile(common, srcs, scale)?;
    print_diagnostics(&c.diagnostics, &c.sources);
    c.plan.ok_or(Outcome::Failed)
}

/// The project `destroy` or `exec` works on (`crate::project`).
fn project_of(command: &str, common: &Common, args: &ProjectArgs) -> Result<Found, Outcome> {
    project::of_command(command, common, &args.sources, || {
        plan_of(common, &args.sources, &[]).map(|p| p.project)
    })
}

/// The plan and the settings of a command that may touch containers
/// (`commands::containers::prepare`).
fn prepared(
    command: &str,
    common: &Common,
    args: &ApplyArgs,
) -> Result<(Plan, Settings, Option<containers::Engine>), Outcome> {
    let p = containers::prepare(command, common, &args.sources, &args.scale, false)?;
    let mut settings = settings(common);
    settings.conlink_ns = p.conlink_ns;
    settings.containers = p.containers;
    Ok((p.plan, settings, p.engine))
}

pub fn apply(common: &Common, args: &ApplyArgs) -> Outcome {
    let (plan, mut settings, _engine) = match prepared("apply", common, args) {
        Ok(p) => p,
        Err(o) => return o,
    };
    settings.containers = settings.containers.map(|c| {
        c.with_say(std::sync::Arc::new(|l: &str| {
            eprintln!("conlink apply: {l}")
        }))
    });
    let started = std::time::Instant::now();
    let mut shown = Shown::new("apply", &plan.project, common.verbose);
    if args.format == Format::Json {
        // The JSON report on stdout; the run's messages still go to stderr.
        let mut collecting = Collecting {
            shown: &mut shown,
            ran: Vec::new(),
        };
        let outcome = runtime::apply::apply(&plan, &settings, &Hooks::default(), &mut collecting);
        let json = runtime::report::apply_json(&plan, &outcome, &collecting.ran);
        crate::commands::print_stdout(&runtime::report::to_text(&json));
        return report_apply(&plan, &settings, outcome, started);
    }
    let outcome = runtime::apply::apply(&plan, &settings, &Hooks::default(), &mut shown);
    report_apply(&plan, &settings, outcome, started)
}

/// Says on stderr how an apply went; the outcome to exit with.
fn report_apply(
    plan: &Plan,
    settings: &Settings,
    outcome: Result<runtime::apply::Report, ApplyError>,
    started: std::time::Instant,
) -> Outcome {
    match outcome {
        Ok(report) => {
            for (id, what) in &report.repaired {
                eprintln!("conlink: repaired {id}: {what}");
            }
            for (ns, what) in &report.removed {
                eprintln!("conlink: removed {ns}: {what}");
            }
            for (id, line, how) in &report.failed_commands {
                eprintln!(
                    "conlink apply: command {id} failed ({how}): {line}; it runs again when its target is created again"
                );
            }
            for (unit, why) in &report.waiting {
                eprintln!("conlink: unit {unit} not applied: {why}");
            }
            // Commands started in containers through the engine end with this process's
            // connection to them: wait a while for them.
            if let Some(c) = &settings.containers {
                let running = c.execs.wait(std::time::Duration::from_secs(10));
                if running > 0 {
                    eprintln!(
                        "conlink apply: {running} command(s) in containers still run after 10 s; their output stops being logged now (`conlink run` follows them)"
                    );
                }
            }
            if report.executed == 0 {
                eprintln!(
                    "conlink apply: project {}: nothing to do, all {} steps already in place",
                    plan.project, report.in_place
                );
            } else {
                eprintln!(
                    "conlink apply: project {}: {} steps carried out, {} already in place, in {:.3} s",
                    plan.project,
                    report.executed,
                    report.in_place,
                    started.elapsed().as_secs_f64()
                );
            }
            if report.waiting.is_empty() {
                Outcome::Success
            } else {
                // Applied, but not everything: exit code 3 (docs/cli.md, "Exit codes").
                eprintln!(
                    "conlink apply: project {}: {} unit(s) waiting for their containers; `conlink run` wires them when they start",
                    plan.project,
                    report.waiting.len()
                );
                Outcome::Waiting
            }
        }
        Err(ApplyError::Failed(f)) => {
            eprintln!("conlink apply: {f}");
            explain_denied("apply", &f.error, f.error.kernel());
            eprintln!("conlink apply: rolled back: {} step(s) undone", f.undone);
            for e in &f.rollback_errors {
                eprintln!("conlink apply: rollback problem: {e}");
            }
            Outcome::Failed
        }
        Err(ApplyError::Setup(e)) => {
            eprintln!("conlink apply: {e}");
            explain_denied("apply", &e, kernel_errno(&e));
            Outcome::Failed
        }
    }
}

pub fn destroy(common: &Common, args: &ProjectArgs) -> Outcome {
    let project = match project_of("destroy", common, args) {
        Ok(Found::One(p)) => p,
        Ok(Found::None) => {
            eprintln!("conlink destroy: no conlink project on this machine: nothing to remove");
            return Outcome::Success;
        }
        Err(o) => return o,
    };
    if let Err(o) = privileges::check("destroy") {
        return o;
    }
    join_machine_mounts();
    let started = std::time::Instant::now();
    let mut shown = Shown::new("destroy", &project, common.verbose);
    match runtime::destroy::destroy(&project, &settings(common), &mut shown) {
        Ok(r) => {
            if let Some(StateError::Damaged { path, why }) = &r.damaged_state {
                eprintln!(
                    "conlink destroy: {} is not a conlink state file ({why}): went by the ownership marks instead, and removed it",
                    path.display()
                );
            }
            for p in &r.problems {
                eprintln!("conlink destroy: {p}");
            }
            let denied = |p: &&runtime::error::Problem| {
                privileges::denied(&p.error, p.error.kernel().map(|k| k.errno))
            };
            if r.problems.iter().any(|p| denied(&p)) {
                eprintln!("conlink destroy: {}", privileges::SENTENCE);
            }
            if r.nothing() {
                eprintln!("conlink destroy: project {project}: nothing to remove");
            } else {
                eprintln!(
                    "conlink destroy: project {project}: removed {} namespace(s), {} interface(s), undid {} step(s) in {:.3} s{}",
                    r.namespaces.len(),
                    r.interfaces,
                    r.undone,
                    started.elapsed().as_secs_f64(),
                    if r.had_state { "" } else { " (no state file: found by ownership marks)" }
                );
            }
            if r.problems.is_empty() {
                Outcome::Success
            } else {
                Outcome::Failed
            }
        }
        Err(e) => {
            eprintln!("conlink destroy: {e}");
            explain_denied("destroy", &e, kernel_errno(&e));
            Outcome::Failed
        }
    }
}

pub fn exec(common: &Common, args: &ProjectArgs, node: &str, command: &[String]) -> Outcome {
    let project = match project_of("exec", common, args) {
        Ok(Found::One(p)) => p,
        Ok(Found::None) => {
            eprintln!("conlink exec: no conlink project on this machine: apply one first (or name it with --project)");
            return Outcome::Failed;
        }
        Err(o) => return o,
    };
    if let Err(o) = privileges::check("exec") {
        return o;
    }
    join_machine_mounts();
    let err = runtime::exec::exec(&project, node, command);
    eprintln!("conlink exec: {err}");
    // Not when the program itself could not be run: that is about the program.
    if !matches!(err, runtime::exec::ExecError::Run { .. }) {
        explain_denied("exec", &err, None);
    }
    Outcome::Failed
}

pub fn status(common: &Common, args: &ApplyArgs) -> Outcome {
    let (plan, settings, _engine) = match prepared("status", common, args) {
        Ok(p) => p,
        Err(o) => return o,
    };
    // The replica counts the containers show, as `conlink run` follows them.
    let plan = match &settings.containers {
        Some(c) => match containers::follow_replicas(common, &args.sources, plan, c) {
            Ok(p) => p,
            Err(o) => return o,
        },
        None => plan,
    };
    let mut shown = Shown::new("status", &plan.project, common.verbose);
    match runtime::status::status(&plan, &settings, &mut shown) {
        Ok(s) => {
            let mut text = String::new();
            for d in &s.differences {
                text.push_str(&format!("{d}\n"));
            }
            for c in &s.commands {
                let line = match c.state {
                    CommandState::Running { pid } => {
                        format!("running    {}: {} (pid {pid})", c.step, c.line)
                    }
                    CommandState::Ended(how) => {
                        format!("exited     {}: {} ({how})", c.step, c.line)
                    }
                };
                text.push_str(&line);
                text.push('\n');
            }
            for (unit, why) in &s.waiting {
                text.push_str(&format!("waiting    {unit}: {why}\n"));
            }
            if args.format == Format::Json {
                let json = runtime::report::status_json(&plan, &s);
                crate::commands::print_stdout(&runtime::report::to_text(&json));
            } else {
                text.push_str(&containers_summary(&plan, &s));
                crate::commands::print_stdout(&text);
            }
            if s.differences.is_empty() {
                eprintln!(
                    "conlink status: project {}: in sync ({} steps in place)",
                    plan.project, s.in_place
                );
                Outcome::Success
            } else {
                eprintln!(
                    "conlink status: project {}: {} difference(s), {} steps in place; `conlink apply` repairs missing and different ones",
                    plan.project,
                    s.differences.len(),
                    s.in_place
                );
                Outcome::Failed
            }
        }
        Err(e) => {
            eprintln!("conlink status: {e}");
            explain_denied("status", &e, kernel_errno(&e));
            Outcome::Failed
        }
    }
}

/// One line per container or replica unit: `wired`, `waiting` (its container does not
/// run) or `drifted` (a difference in one of its steps), so `status` answers "is
/// every running container wired?" at a glance.
fn containers_summary(plan: &Plan, s: &runtime::status::Status) -> String {
    use runtime::differences::Difference;
    let step_of = |d: &Difference| match d {
        Difference::Missing { step, .. }
        | Difference::Different { step, .. }
        | Difference::Foreign { step, .. }
        | Difference::Failed { step, .. } => Some(step.clone()),
        Difference::Extra { .. } => None,
    };
    let drifted: std::collections::BTreeSet<String> = s
        .differences
        .iter()
        .filter_map(step_of)
        .filter_map(|step| step.rsplit_once('/').map(|(u, _)| u.to_string()))
        .collect();
    let mut text = String::new();
    for unit in &plan.units {
        if !(unit.id.starts_with("container:") || unit.id.starts_with("service:")) {
            continue;
        }
        let state = if s.waiting.iter().any(|(u, _)| *u == unit.id) {
            "waiting"
        } else if drifted.contains(&unit.id) {
            "drifted"
        } else {
            "wired"
        };
        text.push_str(&format!("container  {}: {state}\n", unit.id));
    }
    text
}

/// Adds the sentence of `privileges` after an error that is a refusal for lack of
/// privileges (`errno`: the kernel's answer the error carries, if any).
fn explain_denied(
    command: &str,
    error: &(dyn std::error::Error + 'static),
    errno: Option<&KernelError>,
) {
    if privileges::denied(error, errno.map(|k| k.errno)) {
        eprintln!("conlink {command}: {}", privileges::SENTENCE);
    }
}

/// The kernel's answer a runtime error carries, if any.
fn kernel_errno(e: &runtime::error::Error) -> Option<&KernelError> {
    match e {
        runtime::error::Error::Step(s) => s.kernel(),
        _ => None,
    }
}
