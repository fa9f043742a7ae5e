//! `conlink status`: compare the live system with the plan and list each difference:
//! what is missing, what is different, what is extra (conlink's own objects that the
//! plan no longer has, and interfaces in conlink's namespaces that are not conlink's),
//! and commands that failed; and how each command is (running, or how it ended).
//! Changes nothing. Each step is reported to the run's [`Progress`] as it is checked.

use crate::action::{Check, Process};
use crate::command::ExitStatus;
use crate::context::{Context, Settings};
use crate::differences::{self, Difference};
use crate::error::Error;
use crate::families;
use crate::progress::{self, Progress, StepEvent};
use crate::state;
use crate::steps;
use compiler::plan::{Plan, Step};
use std::collections::BTreeSet;
use std::time::Instant;

/// What `status` found.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub differences: Vec<Difference>,
    pub in_place: usize,
    pub waiting: Vec<(String, String)>,
    /// The commands in place: running, or ended without failing (a failed one is a
    /// difference).
    pub commands: Vec<Command>,
}

/// A command in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub step: String,
    /// The step as `conlink plan` prints it.
    pub line: String,
    pub state: CommandState,
}

/// How a command in place is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandState {
    Running { pid: i32 },
    Ended(ExitStatus),
}

pub fn status(
    plan: &Plan,
    settings: &Settings,
    progress: &mut dyn Progress,
) -> Result<Status, Error> {
    let mut cx = Context::new(&plan.project, &plan.mark, plan.group, settings)?;
    let st = state::load(&settings.state_dir, &plan.project)?;
    let mut out = Status::default();
    let mut skipped: BTreeSet<&str> = BTreeSet::new();
    let started = Instant::now();

    for unit in &plan.units {
        if let Some(why) = steps::unit_waits(&mut cx, unit, &skipped)? {
            out.waiting.push((unit.id.clone(), why));
            skipped.insert(&unit.id);
            continue;
        }
        for (si, step) in unit.steps.iter().enumerate() {
            let began = Instant::now();
            let recorded = st.as_ref().and_then(|s| s.step(&step.id)).map(|r| &r.extra);
            let action = families::action(&step.op);
            // A step whose namespace is not there is missing with it. (Checks send no
            // requests: the ordinal in `at` names nothing.)
            let check = match steps::prepare(&mut cx, &*action, &step.ns, None)? {
                Some(_) => Check::Missing,
                None => steps::check(&mut cx, &*action, &steps::at(step, si), recorded)?,
            };
            let outcome = match check {
                Check::InPlace => {
                    out.in_place += 1;
                    progress::Outcome::InPlace
                }
                Check::Process(p) => {
                    let state = match p {
                        Process::Running { pid, .. } => CommandState::Running { pid },
                        Process::Ended(status) => CommandState::Ended(status),
                    };
                    let line = compiler::plan::op_line(&step.op, &step.ns, plan);
                    match state {
                        CommandState::Ended(status) if !status.success() => {
                            out.differences.push(Difference::Failed {
                                step: step.id.clone(),
                                line,
                                status,
                            });
                            progress::Outcome::Different
                        }
                        _ => {
                            out.in_place += 1;
                            out.commands.push(Command {
                                step: step.id.clone(),
                                line,
                                state,
                            });
                            progress::Outcome::InPlace
                        }
                    }
                }
                Check::Missing => {
                    out.differences.push(missing(plan, step));
                    progress::Outcome::Missing
                }
                Check::Foreign(not_ours) => {
                    out.differences.push(Difference::Foreign {
                        step: step.id.clone(),
                        what: not_ours.to_string(),
                    });
                    progress::Outcome::Foreign
                }
                Check::Differs(differs) => {
                    for d in differs {
                        out.differences.push(Difference::Different {
                            step: step.id.clone(),
                            what: d.what,
                            planned: d.planned,
                            found: d.found,
                        });
                    }
                    progress::Outcome::Different
                }
            };
            if progress.wants_steps() {
                let line = compiler::plan::op_line(&step.op, &step.ns, plan);
                let now = Instant::now();
                progress.step(&StepEvent {
                    id: &step.id,
                    ns: &step.ns,
                    line: &line,
                    outcome,
                    took: now - began,
                    at: now - started,
                });
            }
        }
    }
    out.differences
        .extend(differences::extras(&cx, &families::planned(plan)));
    Ok(out)
}

fn missing(plan: &Plan, step: &Step) -> Difference {
    Difference::Missing {
        step: step.id.clone(),
        line: compiler::plan::op_line(&step.op, &step.ns, plan),
    }
}
