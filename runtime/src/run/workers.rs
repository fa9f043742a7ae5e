//! One worker thread per unit: the jobs of one container are done in the order their
//! events came, those of different containers at the same time (each with its own
//! runtime context and sockets; see [`super::wiring`]).
//!
//! A thread per unit rather than a pool: a unit's jobs are short and a project has at
//! most a few hundred units, while a pool would need its own per-unit queues to keep
//! the order. The threads end when the run stops.

use super::wiring::{self, Shared};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// What a worker is asked to do with its unit.
#[derive(Clone, Debug)]
pub enum Job {
    /// Its container started (or runs and is not wired): wire it. `received` is when
    /// the event arrived.
    Wire { received: Instant },
    /// Its container died (or is gone): unwire it.
    Unwire,
}

pub struct Workers {
    shared: Arc<Shared>,
    senders: BTreeMap<String, Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    pub fn new(shared: Arc<Shared>) -> Workers {
        Workers {
            shared,
            senders: BTreeMap::new(),
            threads: Vec::new(),
        }
    }

    /// Gives `job` to `unit`'s worker, starting it if needed.
    pub fn send(&mut self, unit: &str, job: Job) {
        self.shared.pending.fetch_add(1, Ordering::SeqCst);
        if let Some(tx) = self.senders.get(unit) {
            if tx.send(job.clone()).is_ok() {
                return;
            }
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let shared = self.shared.clone();
        let name = unit.to_string();
        let spawned = std::thread::Builder::new()
            .name(format!("conlink {unit}"))
            .spawn(move || {
                for job in rx {
                    if !shared.stopping.load(Ordering::SeqCst) {
                        match job {
                            Job::Wire { received } => wiring::wire(&shared, &name, received),
                            Job::Unwire => wiring::unwire(&shared, &name, "its container stopped"),
                        }
                    }
                    shared.pending.fetch_sub(1, Ordering::SeqCst);
                }
            });
        match spawned {
            Ok(handle) => {
                let _ = tx.send(job);
                self.senders.insert(unit.to_string(), tx);
                self.threads.push(handle);
            }
            Err(e) => {
                self.shared.pending.fetch_sub(1, Ordering::SeqCst);
                self.shared
                    .say(&format!("cannot start a worker for {unit}: {e}"));
            }
        }
    }

    /// Ends the workers once each is done with its current job (the run sets
    /// `stopping` first, so queued jobs are dropped).
    pub fn join(&mut self) {
        self.senders.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
