//! Commands of nodes: `exec CMD` starts a long-running process inside the namespace,
//! with its output in a log file and how it ended in an exit record beside it. It is
//! in place while the process runs (the one the state file records, or one found by
//! its tag), and also once it has ended in the same namespace: a command runs once per
//! creation of its target, not on every apply (docs/decisions.md, "Commands"). Its
//! undo stops it (SIGTERM to its process group, SIGKILL after a grace period),
//! wherever it runs, but only a process that carries the project's tag. Starting,
//! stopping and finding processes are `crate::command`'s.

use crate::action::{Action, At, Check, Process, Removal, Subject};
use crate::command::{self, Started};
use crate::containers::commands::Request;
use crate::containers::resolver::Containers;
use crate::containers::ContainerEngine;
use crate::context::Context;
use crate::error::StepError;
use crate::names;
use crate::netns;
use crate::state::{self, Extra};
use compiler::plan::{CommandLine, Ns};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `exec CMD` (`Op::Exec`).
pub struct Exec<'a> {
    pub command: &'a CommandLine,
}

/// Stop what an [`Exec`] started (`Op::ExecStop`).
pub struct Stop;

/// How long a command gets to exit after SIGTERM before it is killed.
pub const GRACE: Duration = Duration::from_secs(2);

impl Action for Exec<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn check(
        &self,
        cx: &mut Context,
        at: &At,
        recorded: Option<&Extra>,
    ) -> Result<Check, StepError> {
        if let Some(Extra::Command {
            pid, start_time, ..
        }) = recorded
        {
            let started = Started {
                pid: *pid,
                start_time: *start_time,
            };
            if command::is_running(&started) {
                return Ok(Check::Process(Process::Running {
                    pid: *pid,
                    adopt: None,
                }));
            }
        }
        let file = &cx.place(at.ns)?.file;
        let ns = netns::identity(file)
            .map_err(|e| StepError::io(format!("read the identity of namespace {}", at.ns), e))?;
        let log = log_path(cx, at.step);
        // Started through the engine by this process, for this start of the container.
        if engine_of(cx, at.ns).is_some_and(|(c, _)| c.execs.started(at.step, ns))
            && command::read_exit(&command::exit_path(&log)).is_none_or(|e| e.ns != ns)
        {
            return Ok(Check::Process(Process::Running {
                pid: 0,
                adopt: None,
            }));
        }
        // Started by a run that was stopped before it could record it.
        if let Some(found) = cx
            .running_commands()
            .iter()
            .find(|f| f.step == at.step && f.ns == ns)
        {
            let Started { pid, start_time } = found.started;
            return Ok(Check::Process(Process::Running {
                pid,
                adopt: Some(Extra::Command {
                    pid,
                    start_time,
                    log,
                }),
            }));
        }
        Ok(match command::read_exit(&command::exit_path(&log)) {
            Some(exit) if exit.ns == ns => Check::Process(Process::Ended(exit.status)),
            _ => Check::Missing,
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let log = log_path(cx, at.step);
        state::private_dirs(&cx.settings().state_dir, cx.project())
            .map_err(StepError::CommandStart)?;
        if let Some((containers, engine)) = engine_of(cx, at.ns) {
            return self.through_engine(cx, at, containers, engine, log);
        }
        let tag = names::command_tag(cx.project(), at.step);
        let env = [(names::COMMAND_TAG, tag.as_str())];
        let file = &cx.place(at.ns)?.file;
        let started = command::start(file, self.command, &log, &command::exit_path(&log), &env)
            .map_err(StepError::CommandStart)?;
        Ok(Extra::Command {
            pid: started.pid,
            start_time: started.start_time,
            log,
        })
    }
}

impl Exec<'_> {
    /// Starts the command in its container through the engine's exec API
    /// (`crate::containers::commands`). Nothing is recorded to stop: the command
    /// ends with its container.
    fn through_engine(
        &self,
        cx: &mut Context,
        at: &At,
        containers: Containers,
        engine: Arc<dyn ContainerEngine>,
        log: PathBuf,
    ) -> Result<Extra, StepError> {
        let id = containers
            .read()
            .target(at.ns)
            .filter(|c| c.is_running())
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                StepError::CommandStart(std::io::Error::other(format!(
                    "the container of {} does not run",
                    at.ns
                )))
            })?;
        let file = &cx.place(at.ns)?.file;
        let ns = netns::identity(file)
            .map_err(|e| StepError::io(format!("read the identity of namespace {}", at.ns), e))?;
        let argv = match self.command {
            CommandLine::Shell(text) => vec!["sh".to_string(), "-c".to_string(), text.clone()],
            CommandLine::Argv(words) => words.clone(),
        };
        if let Some(dir) = log.parent() {
            crate::files::private_dir(dir, true).map_err(StepError::CommandStart)?;
        }
        let _ = std::fs::remove_file(command::exit_path(&log));
        let say = containers.say.clone();
        containers.execs.start(
            engine,
            Request {
                step: at.step.to_string(),
                container: id,
                argv,
                log,
                ns,
            },
            say,
        );
        Ok(Extra::None)
    }
}

/// Forgets that the command of step `step` ran in its container (which stopped): its
/// exit record goes, so the next start of the container runs it again even if the
/// kernel gives the new namespace the old one's identity.
pub fn forget_container_run(cx: &Context, step: &str) {
    let _ = std::fs::remove_file(command::exit_path(&log_path(cx, step)));
    if let Some(c) = &cx.settings().containers {
        c.execs.forget(step);
    }
}

/// The containers and engine a command of `ns` runs through, when `ns` is a
/// container's and the run has an engine.
fn engine_of(cx: &Context, ns: &Ns) -> Option<(Containers, Arc<dyn ContainerEngine>)> {
    if !matches!(ns, Ns::Container(_) | Ns::Service(..)) {
        return None;
    }
    let containers = cx.settings().containers.clone()?;
    let engine = containers.engine()?.clone();
    Some((containers, engine))
}

impl Action for Stop {
    /// Stopping a process needs no namespace (and its namespace may be gone).
    fn namespaces<'a>(&'a self, _: &'a Ns) -> Vec<&'a Ns> {
        Vec::new()
    }

    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, cx: &mut Context, _: &At, recorded: &Extra) -> Result<Extra, StepError> {
        if let Extra::Command {
            pid, start_time, ..
        } = recorded
        {
            // A pid the state names is stopped only if that process is one of the
            // project's commands (a state file can be edited).
            if command::is_projects(*pid, cx.project()) {
                let started = Started {
                    pid: *pid,
                    start_time: *start_time,
                };
                command::stop(&started, GRACE).map_err(StepError::CommandStop)?;
            }
        }
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        Removal::Process
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Process)
    }
}

/// The log of the command of step `step`.
fn log_path(cx: &Context, step: &str) -> PathBuf {
    cx.logs_dir().join(log_name(step))
}

/// A log file name for a command step: its step id with `/`, `:` and `#` made safe.
fn log_name(step_id: &str) -> String {
    let safe: String = step_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.log")
}

/// Stops every running command of the project found by its tag (`destroy`, whether or
/// not the state records them), and removes the exit records in `logs`: their
/// namespaces go. Returns what could not be stopped.
pub fn stop_all(cx: &mut Context, logs: &Path) -> Vec<(String, StepError)> {
    let mut problems = Vec::new();
    for found in cx.running_commands().to_vec() {
        if let Err(e) = command::stop(&found.started, GRACE) {
            problems.push((found.step.clone(), StepError::CommandStop(e)));
        }
    }
    if let Ok(entries) = std::fs::read_dir(logs) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "exit") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    problems
}
