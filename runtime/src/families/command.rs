//! Commands of nodes: `exec CMD` starts a long-running process inside the namespace,
//! with its output in a log file; it is in place while the process the state file
//! records still runs. Its undo stops it (SIGTERM to its process group, SIGKILL after a
//! grace period), wherever it runs. Starting and stopping are `crate::command`'s.

use crate::action::{Action, At, Check, Removal};
use crate::command::{self, Started};
use crate::context::Context;
use crate::error::StepError;
use crate::state::Extra;
use compiler::plan::{CommandLine, Ns};
use std::time::Duration;

/// `exec CMD` (`Op::Exec`).
pub struct Exec<'a> {
    pub command: &'a CommandLine,
}

/// Stop what an [`Exec`] started (`Op::ExecStop`).
pub struct Stop;

/// How long a command gets to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(2);

impl Action for Exec<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn check(&self, _: &mut Context, _: &At, recorded: Option<&Extra>) -> Result<Check, StepError> {
        let running = match recorded {
            Some(Extra::Command {
                pid, start_time, ..
            }) => command::is_running(&Started {
                pid: *pid,
                start_time: *start_time,
            }),
            _ => false,
        };
        Ok(if running {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let log = cx.logs_dir().join(log_name(at.step));
        let started = command::start(&cx.place(at.ns)?.file, self.command, &log, &[])
            .map_err(StepError::CommandStart)?;
        Ok(Extra::Command {
            pid: started.pid,
            start_time: started.start_time,
            log,
        })
    }
}

impl Action for Stop {
    /// Stopping a process needs no namespace (and its namespace may be gone).
    fn namespaces<'a>(&'a self, _: &'a Ns) -> Vec<&'a Ns> {
        Vec::new()
    }

    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, _: &mut Context, _: &At, recorded: &Extra) -> Result<Extra, StepError> {
        if let Extra::Command {
            pid, start_time, ..
        } = recorded
        {
            let started = Started {
                pid: *pid,
                start_time: *start_time,
            };
            command::stop(&started, GRACE).map_err(StepError::CommandStop)?;
        }
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        Removal::Process
    }
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
