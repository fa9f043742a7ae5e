//! Following the engine's events for `conlink run`: the stream, opened again with
//! backoff when it ends or breaks (the engine restarted), from the time of the last
//! event seen; and keeping the container view in step with each event.
//!
//! The engine keeps only recent events, so after each reconnection the caller
//! compares the container list with what is wired ([`Next::Reconnected`]). Failures
//! go to the run's [`Outage`], which decides which of them are logged.

use super::outage::{Outage, Request};
use crate::containers::resolver::Containers;
use crate::containers::{ContainerEngine, EngineError, Event, EventOptions, Events};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The longest wait between two attempts to reach the engine.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What [`Follower::next`] gives.
pub enum Next {
    /// An event, and when it arrived.
    Event(Event, Instant),
    /// The stream was opened again after it was lost: the caller reconciles.
    Reconnected,
    /// Nothing within the time given.
    Idle,
}

pub struct Follower {
    engine: Arc<dyn ContainerEngine>,
    stream: Option<Events>,
    /// Events from here on are asked for when (re)connecting.
    since: SystemTime,
    /// Whether the stream was lost or could not be opened since it was last open (so
    /// the next one opened is a reconnection: also after a failed first attempt, so
    /// that the caller's comparison ends the outage that failure began).
    reconnecting: bool,
    backoff: Duration,
    retry_at: Instant,
}

impl Follower {
    pub fn new(engine: Arc<dyn ContainerEngine>, since: SystemTime) -> Follower {
        Follower {
            engine,
            stream: None,
            since,
            reconnecting: false,
            backoff: FIRST_BACKOFF,
            retry_at: Instant::now(),
        }
    }

    /// The next event, waiting at most `wait`. `outage` hears when the stream is lost
    /// or cannot be opened; `log` gets a line for an event that cannot be read.
    pub fn next(
        &mut self,
        wait: Duration,
        stop: &dyn Fn() -> bool,
        outage: &mut Outage,
        log: &dyn Fn(&str),
    ) -> Next {
        if self.stream.is_none() {
            if Instant::now() < self.retry_at || stop() {
                std::thread::sleep(
                    wait.min(self.retry_at.saturating_duration_since(Instant::now())),
                );
                return Next::Idle;
            }
            match self.engine.events(&EventOptions {
                since: Some(self.since),
                until: None,
            }) {
                Ok(s) => {
                    self.stream = Some(s);
                    self.backoff = FIRST_BACKOFF;
                    if std::mem::take(&mut self.reconnecting) {
                        return Next::Reconnected;
                    }
                }
                Err(e) => {
                    outage.failed(
                        Request::Events,
                        &e.to_string(),
                        &format!(
                            "cannot follow the engine's events ({e}); trying again in {:.1} s",
                            self.backoff.as_secs_f64()
                        ),
                    );
                    self.lost();
                    return Next::Idle;
                }
            }
        }
        let stream = self.stream.as_ref().expect("opened above");
        match stream.recv_timeout(wait) {
            Ok(Ok(event)) => {
                // The engine's times have a second's resolution in some versions: a
                // reconnection asks from a little before, and handling an event twice
                // does nothing.
                self.since = event.time.max(self.since);
                Next::Event(event, Instant::now())
            }
            Ok(Err(EngineError::EventDecode(e))) => {
                log(&format!("an event of the engine could not be read: {e}"));
                Next::Idle
            }
            Ok(Err(e)) => {
                outage.failed(
                    Request::Events,
                    &e.to_string(),
                    &format!("lost the engine's events ({e}); reconnecting"),
                );
                self.lost();
                Next::Idle
            }
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => {
                outage.failed(
                    Request::Events,
                    "the stream ended",
                    "the engine closed its event stream; reconnecting",
                );
                self.lost();
                Next::Idle
            }
        }
    }

    fn lost(&mut self) {
        self.stream = None;
        self.reconnecting = true;
        self.retry_at = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.since = self
            .since
            .checked_sub(Duration::from_secs(1))
            .unwrap_or(self.since);
    }
}

/// Looks at container `id` again after an event and keeps the view in step. Returns
/// the service of a replica the engine no longer has (it was removed).
pub fn update_view(
    engine: &dyn ContainerEngine,
    containers: &Containers,
    id: &str,
) -> Option<String> {
    match engine.inspect(id) {
        Ok(c) => {
            containers.write().put(c);
            None
        }
        Err(EngineError::NotFound(_)) => {
            let mut view = containers.write();
            let service = view
                .get(id)
                .and_then(|c| c.compose())
                .filter(|c| c.project == view.project && !c.oneoff)
                .map(|c| c.service);
            view.remove(id);
            service
        }
        // The engine will say again (the reconciliation after a reconnection).
        Err(_) => None,
    }
}
