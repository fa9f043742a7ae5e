//! The JSON forms of `conlink status` and `conlink apply` (`--format json`, docs/cli.md,
//! "conlink status" and "conlink apply"), for CI and for tools: built from what the
//! runtime reports ([`Status`], [`Report`], [`ApplyError`]) and the plan (which gives
//! each step its unit and namespace). The shapes are versioned by their `format`
//! field, like the plan's, and described by JSON Schemas committed under `schema/`
//! ([`status_schema_text`], [`apply_schema_text`]).

use crate::apply::{ApplyError, Report};
use crate::command::ExitStatus;
use crate::differences::Difference;
use crate::status::{CommandState, Status};
use compiler::plan::{Ns, Plan};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

/// Version of both JSON shapes; raised on any incompatible change.
pub const REPORT_FORMAT: u32 = 1;

/// `conlink status --format json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StatusJson {
    /// Version of this JSON shape.
    pub format: u32,
    /// The project's name.
    pub project: String,
    /// No differences (what `status` exits 0 for).
    pub in_sync: bool,
    /// Steps found in place.
    pub in_place: usize,
    /// Each difference between the plan and the system.
    pub differences: Vec<DifferenceJson>,
    /// Commands in place: running, or ended without failing.
    pub commands: Vec<CommandJson>,
    /// Units whose namespace cannot be reached yet.
    pub waiting: Vec<WaitingJson>,
}

/// What kind of difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DifferenceKind {
    /// The step's object is not there (`apply` creates it).
    Missing,
    /// It is there, differently (`apply` repairs it).
    Different,
    /// Something conlink made that the plan no longer has, or an interface in a
    /// namespace conlink created that is not conlink's.
    Extra,
    /// Something with a planned name that conlink did not make.
    Foreign,
    /// A command that ended with a failure.
    Failed,
}

/// One difference.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DifferenceJson {
    pub kind: DifferenceKind,
    /// The unit of the step (absent for `extra`, which is no step of the plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The step's id, `UNIT/INDEX` (absent for `extra`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The namespace: the step's (a symbol such as `node:r0`), or for `extra` where
    /// the object is.
    pub ns: String,
    /// For `missing` and `failed`, the step as `conlink plan` prints it; otherwise
    /// what differs or is extra or foreign.
    pub what: String,
    /// For `different`: the planned value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned: Option<String>,
    /// For `different`: the value found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// For `failed`: how the command ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<EndedJson>,
    /// The line the text form prints for it.
    pub text: String,
}

/// How a command ended: an exit code or a signal.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
pub struct EndedJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

impl From<ExitStatus> for EndedJson {
    fn from(s: ExitStatus) -> EndedJson {
        match s {
            ExitStatus::Code(c) => EndedJson {
                exit_code: Some(c),
                signal: None,
            },
            ExitStatus::Signal(s) => EndedJson {
                exit_code: None,
                signal: Some(s),
            },
        }
    }
}

/// A command in place.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CommandJson {
    pub unit: String,
    pub step: String,
    pub ns: String,
    /// The step as `conlink plan` prints it.
    pub line: String,
    /// `running` or `exited`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<EndedJson>,
}

/// A unit not reached, and why.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct WaitingJson {
    pub unit: String,
    pub why: String,
}

/// `conlink apply --format json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ApplyJson {
    /// Version of this JSON shape.
    pub format: u32,
    /// The project's name.
    pub project: String,
    /// Whether the apply succeeded (what exit code 0 says).
    pub ok: bool,
    /// Steps carried out.
    pub executed: usize,
    /// Steps already in place.
    pub in_place: usize,
    /// The steps carried out, in order.
    pub created: Vec<StepJson>,
    /// Differences repaired.
    pub repaired: Vec<RepairedJson>,
    /// conlink's objects the plan no longer has, removed.
    pub removed: Vec<RemovedJson>,
    /// Commands that ended with a failure (not started again).
    pub failed_commands: Vec<FailedCommandJson>,
    /// Units not applied, waiting for their containers.
    pub waiting: Vec<WaitingJson>,
    /// When a step failed: which, why, and the rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureJson>,
    /// When the run could not start or record what it did: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A step of the plan.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StepJson {
    pub unit: String,
    pub step: String,
    pub ns: String,
    /// The step as `conlink plan` prints it.
    pub line: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RepairedJson {
    pub unit: String,
    pub step: String,
    pub ns: String,
    /// What was put back.
    pub what: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RemovedJson {
    /// Where it was.
    pub ns: String,
    pub what: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct FailedCommandJson {
    pub unit: String,
    pub step: String,
    pub ns: String,
    pub line: String,
    pub ended: EndedJson,
}

/// A failed step; everything the run did was undone.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct FailureJson {
    pub unit: String,
    pub step: String,
    pub ns: String,
    pub line: String,
    /// Why it failed.
    pub error: String,
    /// Steps undone by the rollback.
    pub undone: usize,
    /// Problems met while rolling back.
    pub rollback_errors: Vec<String>,
}

/// The unit of a step id (`UNIT/INDEX`).
fn unit_of(step: &str) -> String {
    step.rsplit_once('/').map_or(step, |(u, _)| u).to_string()
}

/// Each step's namespace, by step id.
fn namespaces(plan: &Plan) -> HashMap<&str, &Ns> {
    plan.units
        .iter()
        .flat_map(|u| &u.steps)
        .map(|s| (s.id.as_str(), &s.ns))
        .collect()
}

/// The namespace of a step, as its symbol (empty when the plan has no such step).
fn ns_of(ns: &HashMap<&str, &Ns>, step: &str) -> String {
    ns.get(step).map(|n| n.to_string()).unwrap_or_default()
}

/// The JSON form of what `status` found.
pub fn status_json(plan: &Plan, status: &Status) -> StatusJson {
    let ns = namespaces(plan);
    let step_entry = |kind, step: &str, what: &str| DifferenceJson {
        kind,
        unit: Some(unit_of(step)),
        step: Some(step.to_string()),
        ns: ns_of(&ns, step),
        what: what.to_string(),
        planned: None,
        found: None,
        ended: None,
        text: String::new(),
    };
    let differences = status
        .differences
        .iter()
        .map(|d| {
            let mut entry = match d {
                Difference::Missing { step, line } => {
                    step_entry(DifferenceKind::Missing, step, line)
                }
                Difference::Different {
                    step,
                    what,
                    planned,
                    found,
                } => DifferenceJson {
                    planned: Some(planned.clone()),
                    found: Some(found.clone()),
                    ..step_entry(DifferenceKind::Different, step, what)
                },
                Difference::Foreign { step, what } => {
                    step_entry(DifferenceKind::Foreign, step, what)
                }
                Difference::Failed { step, line, status } => DifferenceJson {
                    ended: Some((*status).into()),
                    ..step_entry(DifferenceKind::Failed, step, line)
                },
                Difference::Extra { ns, what, .. } => DifferenceJson {
                    kind: DifferenceKind::Extra,
                    unit: None,
                    step: None,
                    ns: ns.clone(),
                    what: what.clone(),
                    planned: None,
                    found: None,
                    ended: None,
                    text: String::new(),
                },
            };
            entry.text = d.to_string();
            entry
        })
        .collect();
    let commands = status
        .commands
        .iter()
        .map(|c| {
            let (state, pid, ended) = match c.state {
                CommandState::Running { pid } => ("running", Some(pid), None),
                CommandState::Ended(how) => ("exited", None, Some(how.into())),
            };
            CommandJson {
                unit: unit_of(&c.step),
                step: c.step.clone(),
                ns: ns_of(&ns, &c.step),
                line: c.line.clone(),
                state: state.into(),
                pid,
                ended,
            }
        })
        .collect();
    StatusJson {
        format: REPORT_FORMAT,
        project: plan.project.clone(),
        in_sync: status.differences.is_empty(),
        in_place: status.in_place,
        differences,
        commands,
        waiting: waiting(&status.waiting),
    }
}

fn waiting(w: &[(String, String)]) -> Vec<WaitingJson> {
    w.iter()
        .map(|(unit, why)| WaitingJson {
            unit: unit.clone(),
            why: why.clone(),
        })
        .collect()
}

/// The JSON form of an apply: its report when it succeeded, or how it failed.
/// `created` are the steps carried out (ids), as the run's progress reported them.
pub fn apply_json(
    plan: &Plan,
    outcome: &Result<Report, ApplyError>,
    created: &[String],
) -> ApplyJson {
    let ns = namespaces(plan);
    let lines: HashMap<&str, String> = plan
        .units
        .iter()
        .flat_map(|u| &u.steps)
        .filter(|s| created.iter().any(|c| c == &s.id))
        .map(|s| (s.id.as_str(), compiler::plan::op_line(&s.op, &s.ns, plan)))
        .collect();
    let created = created
        .iter()
        .map(|id| StepJson {
            unit: unit_of(id),
            step: id.clone(),
            ns: ns_of(&ns, id),
            line: lines.get(id.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    let mut out = ApplyJson {
        format: REPORT_FORMAT,
        project: plan.project.clone(),
        ok: outcome.is_ok(),
        executed: 0,
        in_place: 0,
        created,
        repaired: Vec::new(),
        removed: Vec::new(),
        failed_commands: Vec::new(),
        waiting: Vec::new(),
        failure: None,
        error: None,
    };
    match outcome {
        Ok(r) => {
            out.executed = r.executed;
            out.in_place = r.in_place;
            out.repaired = r
                .repaired
                .iter()
                .map(|(step, what)| RepairedJson {
                    unit: unit_of(step),
                    step: step.clone(),
                    ns: ns_of(&ns, step),
                    what: what.clone(),
                })
                .collect();
            out.removed = r
                .removed
                .iter()
                .map(|(ns, what)| RemovedJson {
                    ns: ns.clone(),
                    what: what.clone(),
                })
                .collect();
            out.failed_commands = r
                .failed_commands
                .iter()
                .map(|(step, line, how)| FailedCommandJson {
                    unit: unit_of(step),
                    step: step.clone(),
                    ns: ns_of(&ns, step),
                    line: line.clone(),
                    ended: (*how).into(),
                })
                .collect();
            out.waiting = waiting(&r.waiting);
        }
        Err(ApplyError::Failed(f)) => {
            // Everything this run did was rolled back: nothing stays created.
            out.created.clear();
            out.failure = Some(FailureJson {
                unit: unit_of(&f.step_id),
                step: f.step_id.clone(),
                ns: f.ns.to_string(),
                line: f.line.clone(),
                error: f.error.to_string(),
                undone: f.undone,
                rollback_errors: f.rollback_errors.iter().map(|e| e.to_string()).collect(),
            });
        }
        Err(ApplyError::Setup(e)) => out.error = Some(e.to_string()),
    }
    out
}

/// Stable identifiers of the two schemas.
pub const STATUS_SCHEMA_ID: &str = "urn:conlink:schema:status:v1";
pub const APPLY_SCHEMA_ID: &str = "urn:conlink:schema:apply:v1";

fn schema_text(mut schema: schemars::Schema, id: &str) -> String {
    schema.insert("$id".into(), id.into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

/// The JSON Schema of `status --format json` (`schema/status.schema.json`).
pub fn status_schema_text() -> String {
    schema_text(schemars::schema_for!(StatusJson), STATUS_SCHEMA_ID)
}

/// The JSON Schema of `apply --format json` (`schema/apply.schema.json`).
pub fn apply_schema_text() -> String {
    schema_text(schemars::schema_for!(ApplyJson), APPLY_SCHEMA_ID)
}

/// `value` as pretty-printed JSON with a trailing newline.
pub fn to_text<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a report serialises");
    text.push('\n');
    text
}
