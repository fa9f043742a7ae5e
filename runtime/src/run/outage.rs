//! What `conlink run` logs while it cannot reach the container engine: the first
//! failure of an outage, with its error; nothing while the same request fails again
//! with the same error (the retries go on at their own pace, unlogged); a line when a
//! request's error changes; a reminder with the outage's length when nothing was said
//! for [`REMIND_EVERY`]; and, when the engine answers again, how long conlink was out
//! of touch (docs/decisions.md, "Containers", on `conlink run`). With `-v` every
//! failed attempt is logged, as it comes.
//!
//! This module decides only what is said: when to try again is the caller's
//! business, so quieting the log never slows a reconnection.

use super::wiring::Log;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// How long an outage goes without a line before a reminder is logged.
pub const REMIND_EVERY: Duration = Duration::from_secs(60);

/// The requests whose failures are told apart. Each keeps its own last error: the
/// engine answers each differently during one outage (the event stream breaks, the
/// list is refused), and comparing them with each other would call every failure a
/// change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Request {
    /// Opening or reading the event stream.
    Events,
    /// Listing the containers.
    List,
}

/// The engine's reachability as the run last saw it.
pub struct Outage {
    log: Log,
    /// `-v`: every failure is logged.
    verbose: bool,
    away: Option<Away>,
}

/// An outage going on.
struct Away {
    since: Instant,
    failures: u64,
    /// The last error of each request that failed, as its text.
    errors: BTreeMap<Request, String>,
    /// When a reminder is due if nothing else is said before.
    remind_at: Instant,
}

/// An outage that is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Over {
    pub lasted: Duration,
    pub failures: u64,
}

impl fmt::Display for Over {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "out of touch with the engine for {}, {}",
            length(self.lasted),
            attempts(self.failures)
        )
    }
}

impl Outage {
    pub fn new(log: Log, verbose: bool) -> Outage {
        Outage {
            log,
            verbose,
            away: None,
        }
    }

    /// `request` failed with `error` (its text, which tells one error from another);
    /// `line` says so, with what happens next. The first failure of an outage starts
    /// it.
    pub fn failed(&mut self, request: Request, error: &str, line: &str) {
        self.failed_at(Instant::now(), request, error, line);
    }

    fn failed_at(&mut self, now: Instant, request: Request, error: &str, line: &str) {
        let away = self.away.get_or_insert_with(|| Away {
            since: now,
            failures: 0,
            errors: BTreeMap::new(),
            remind_at: now,
        });
        away.failures += 1;
        let changed = away.errors.get(&request).map(String::as_str) != Some(error);
        if changed {
            away.errors.insert(request, error.to_string());
        }
        let said = if changed || self.verbose {
            line.to_string()
        } else if now >= away.remind_at {
            let so_far = Over {
                lasted: now - away.since,
                failures: away.failures,
            };
            format!("{so_far} so far; the last: {line}")
        } else {
            return;
        };
        away.remind_at = now + REMIND_EVERY;
        (self.log)(&said);
    }

    /// The engine answered (its container list could be read after the event stream
    /// was opened again): the outage, if one was going on, is over.
    pub fn answered(&mut self) -> Option<Over> {
        self.answered_at(Instant::now())
    }

    fn answered_at(&mut self, now: Instant) -> Option<Over> {
        self.away.take().map(|a| Over {
            lasted: now - a.since,
            failures: a.failures,
        })
    }
}

/// `4.2 s`, `3 min 12 s`, `2 h 5 min`: as precise as an outage's length is worth.
fn length(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{:.1} s", d.as_secs_f64()),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

fn attempts(n: u64) -> String {
    if n == 1 {
        "1 failed attempt".to_string()
    } else {
        format!("{n} failed attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn outage(verbose: bool) -> (Outage, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let said = lines.clone();
        let log: Log = Arc::new(move |l: &str| said.lock().unwrap().push(l.to_string()));
        (Outage::new(log, verbose), lines)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_same_error_is_said_once_then_reminded_once_a_minute() {
        let (mut o, lines) = outage(false);
        let t0 = Instant::now();
        // A retry every second for 150 s.
        for i in 0..=150 {
            o.failed_at(
                t0 + secs(i),
                Request::Events,
                "refused",
                &format!("cannot follow the engine's events (refused); try {i}"),
            );
        }
        let over = o.answered_at(t0 + secs(151)).expect("an outage");
        assert_eq!(
            over,
            Over {
                lasted: secs(151),
                failures: 151
            }
        );
        assert_eq!(
            *lines.lock().unwrap(),
            [
                "cannot follow the engine's events (refused); try 0",
                "out of touch with the engine for 1 min 0 s, 61 failed attempts so far; \
                 the last: cannot follow the engine's events (refused); try 60",
                "out of touch with the engine for 2 min 0 s, 121 failed attempts so far; \
                 the last: cannot follow the engine's events (refused); try 120",
            ]
        );
        assert_eq!(
            over.to_string(),
            "out of touch with the engine for 2 min 31 s, 151 failed attempts"
        );
        // Over: nothing more to say, and the next failure starts a new outage.
        assert_eq!(o.answered_at(t0 + secs(152)), None);
        o.failed_at(t0 + secs(153), Request::Events, "refused", "again");
        assert_eq!(lines.lock().unwrap().last().unwrap(), "again");
    }

    #[test]
    fn a_changed_error_is_said_and_each_request_keeps_its_own() {
        let (mut o, lines) = outage(false);
        let t0 = Instant::now();
        let mut at = 0;
        let mut fail = |o: &mut Outage, r: Request, e: &str| {
            at += 1;
            o.failed_at(
                t0 + Duration::from_millis(at * 100),
                r,
                e,
                &format!("{r:?}: {e}"),
            );
        };
        for _ in 0..3 {
            // Both requests fail in turn, each with its own error: one line each.
            fail(&mut o, Request::Events, "reset");
            fail(&mut o, Request::List, "503");
        }
        fail(&mut o, Request::Events, "refused");
        fail(&mut o, Request::Events, "refused");
        fail(&mut o, Request::List, "503");
        assert_eq!(
            *lines.lock().unwrap(),
            ["Events: reset", "List: 503", "Events: refused"]
        );
        assert_eq!(o.answered_at(t0 + secs(1)).map(|a| a.failures), Some(9));
    }

    #[test]
    fn verbose_says_every_failure_and_no_reminder() {
        let (mut o, lines) = outage(true);
        let t0 = Instant::now();
        for i in 0..70 {
            o.failed_at(t0 + secs(i), Request::List, "503", &format!("try {i}"));
        }
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 70);
        assert!(lines.iter().all(|l| l.starts_with("try ")), "{lines:?}");
    }

    #[test]
    fn lengths_read_as_people_say_them() {
        assert_eq!(length(Duration::from_millis(4240)), "4.2 s");
        assert_eq!(length(secs(192)), "3 min 12 s");
        assert_eq!(length(secs(7500)), "2 h 5 min");
        assert_eq!(attempts(1), "1 failed attempt");
    }
}
