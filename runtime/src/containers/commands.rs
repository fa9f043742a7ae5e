//! Commands of containers (`exec` steps of `container:` and `service:` units) run
//! through the engine's exec API, so they run with the container's own programs and
//! files, as `docker exec` would (docs/configuration.md, "Commands").
//!
//! An exec runs on a thread of its own, so a long command never holds up wiring; its
//! output is appended to the step's log and, when it ends, its exit status is written
//! as an exit record beside the log, with the identity of the container's namespace,
//! as the supervisor of a node's command writes one: the command family then sees a
//! command that ran for this start of the container as in place, and `status` reports
//! a failure. A command runs once per start of its container.

use super::{exec_logged, ContainerEngine};
use crate::command::{exit_path, write_exit, Exit, ExitStatus, Started};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where a line about a command that ended goes (`conlink run`'s log).
pub type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// One command to run.
pub struct Request {
    /// The step's id, for messages and to run it once per namespace.
    pub step: String,
    pub container: String,
    pub argv: Vec<String>,
    pub log: PathBuf,
    /// Identity of the container's network namespace (this start of it).
    pub ns: (u64, u64),
}

/// The execs started by this process.
#[derive(Default)]
pub struct Execs {
    started: Mutex<BTreeSet<(String, (u64, u64))>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Execs {
    /// Whether the command of `step` was started here for the namespace `ns`.
    pub fn started(&self, step: &str, ns: (u64, u64)) -> bool {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&(step.to_string(), ns))
    }

    /// Forgets that the command of `step` ran: its container stopped, and a new start
    /// may get a namespace with the same identity (the kernel reuses them).
    pub fn forget(&self, step: &str) {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(s, _)| s != step);
    }

    /// Starts `req` on a thread of its own.
    pub fn start(&self, engine: Arc<dyn ContainerEngine>, req: Request, say: Option<Say>) {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((req.step.clone(), req.ns));
        let handle = std::thread::spawn(move || {
            let mut why = String::new();
            let status = match exec_logged(&*engine, &req.container, &req.argv, &req.log) {
                Ok(code) => ExitStatus::Code(i32::try_from(code).unwrap_or(i32::MAX)),
                Err(e) => {
                    why = format!(": {e}");
                    // Said in its log, and as a failure (code 126: could not run,
                    // as a shell says).
                    if let Ok(mut f) = std::fs::OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open(&req.log)
                    {
                        let _ = writeln!(f, "conlink: {e}");
                    }
                    ExitStatus::Code(126)
                }
            };
            let exit = Exit {
                started: Started {
                    pid: 0,
                    start_time: 0,
                },
                ns: req.ns,
                status,
            };
            let _ = write_exit(&exit_path(&req.log), &exit);
            if let Some(say) = say {
                let how = if status.success() { "" } else { " (failed)" };
                let how = format!("{how}{why}");
                say(&format!(
                    "command {} in {} ended: {status}{how}; its output is in {}",
                    req.step,
                    short(&req.container),
                    req.log.display()
                ));
            }
        });
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }

    /// Waits at most `timeout` for the execs started so far; how many still run.
    pub fn wait(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
            threads.retain(|t| !t.is_finished());
            if threads.is_empty() || Instant::now() >= deadline {
                return threads.len();
            }
            drop(threads);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
