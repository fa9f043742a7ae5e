//! An engine in memory, for unit tests of code that uses [`ContainerEngine`]: its
//! containers are plain values the test adds, starts and stops, and each start or
//! stop is an event delivered to open event streams, as a real engine does.
//!
//! The fake keeps every event, so `since` replays them like the engine's own buffer;
//! [`FakeEngine::disconnect`] ends the open streams, as an engine restart does, to
//! test a caller's reconnection; [`FakeEngine::fail_lists`] makes the next container
//! lists fail, as they do while the engine is still away; [`FakeEngine::go_away`]
//! breaks the streams and refuses every request until [`FakeEngine::come_back`], as
//! an engine that is stopped for a while, counting what it refused.

use super::compose::{NUMBER_LABEL, ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL};
use super::error::EngineError;
use super::model::{Container, ContainerState, EngineVersion, Event, EventKind, EventOptions};
use super::{ContainerEngine, Events, ListFilter};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// What an exec does in the fake: gets the container and the command, may write
/// output, returns the exit code.
pub type ExecHandler = dyn Fn(&Container, &[String], &mut dyn Write) -> i64 + Send + Sync;

/// One exec the fake was asked to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecCall {
    pub container: String,
    pub command: Vec<String>,
}

pub struct FakeEngine {
    state: Mutex<State>,
}

struct State {
    containers: Vec<Container>,
    history: Vec<Event>,
    streams: Vec<mpsc::Sender<Result<Event, EngineError>>>,
    exec: Arc<ExecHandler>,
    execs: Vec<ExecCall>,
    /// How many of the next lists fail.
    failing_lists: usize,
    /// While the engine is away: what its refusals say.
    away: Option<String>,
    /// Requests refused while away, since the start.
    refused: usize,
}

impl Default for FakeEngine {
    fn default() -> Self {
        FakeEngine::new()
    }
}

impl FakeEngine {
    /// An engine with no containers, whose execs succeed silently.
    pub fn new() -> FakeEngine {
        FakeEngine {
            state: Mutex::new(State {
                containers: Vec::new(),
                history: Vec::new(),
                streams: Vec::new(),
                exec: Arc::new(|_, _, _| 0),
                execs: Vec::new(),
                failing_lists: 0,
                away: None,
                refused: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock already failed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a container as it is (usually created, not running; no event).
    pub fn add(&self, container: Container) {
        self.lock().containers.push(container);
    }

    /// Starts a container as process `pid` and sends its start event.
    pub fn start(&self, id_or_name: &str, pid: u32) -> Event {
        let now = SystemTime::now();
        self.change(id_or_name, EventKind::Start, |c| {
            c.state = ContainerState::Running;
            c.pid = Some(pid);
            c.started = Some(now);
        })
    }

    /// Stops a container with `exit_code` and sends its die event.
    pub fn die(&self, id_or_name: &str, exit_code: i64) -> Event {
        self.change(
            id_or_name,
            EventKind::Die {
                exit_code: Some(exit_code),
            },
            |c| {
                c.state = ContainerState::Exited;
                c.pid = None;
            },
        )
    }

    /// Removes a container (no event: conlink does not follow removals).
    pub fn remove(&self, id_or_name: &str) {
        self.lock().containers.retain(|c| !matches(c, id_or_name));
    }

    fn change(&self, id_or_name: &str, kind: EventKind, f: impl FnOnce(&mut Container)) -> Event {
        let event = {
            let mut state = self.lock();
            let c = state
                .containers
                .iter_mut()
                .find(|c| matches(c, id_or_name))
                .unwrap_or_else(|| panic!("the fake engine has no container {id_or_name}"));
            f(c);
            Event {
                kind,
                id: c.id.clone(),
                name: c.name.clone(),
                labels: c.labels.clone(),
                time: SystemTime::now(),
            }
        };
        self.emit(event.clone());
        event
    }

    /// Sends an event as it is to every open stream (and keeps it for `since`).
    pub fn emit(&self, event: Event) {
        let mut state = self.lock();
        state.history.push(event.clone());
        state
            .streams
            .retain(|tx| tx.send(Ok(event.clone())).is_ok());
    }

    /// Sends an error to every open stream, as a broken connection would.
    pub fn emit_error(&self, error: impl Fn() -> EngineError) {
        self.lock()
            .streams
            .retain(|tx| tx.send(Err(error())).is_ok());
    }

    /// Ends every open event stream.
    pub fn disconnect(&self) {
        self.lock().streams.clear();
    }

    /// Makes the next `n` container lists fail (an API error, 500).
    pub fn fail_lists(&self, n: usize) {
        self.lock().failing_lists = n;
    }

    /// The engine stops answering: open streams end with an error, and every request
    /// fails with one (saying `why`) until [`FakeEngine::come_back`]. Called again
    /// while away, it changes what the refusals say.
    pub fn go_away(&self, why: &str) {
        let mut state = self.lock();
        state.away = Some(why.to_string());
        let error = away_error(why);
        for tx in state.streams.drain(..) {
            let _ = tx.send(Err(error()));
        }
    }

    /// The engine answers again.
    pub fn come_back(&self) {
        self.lock().away = None;
    }

    /// How many requests were refused while the engine was away.
    pub fn refused(&self) -> usize {
        self.lock().refused
    }

    /// Sets what execs do from now on.
    pub fn on_exec(
        &self,
        handler: impl Fn(&Container, &[String], &mut dyn Write) -> i64 + Send + Sync + 'static,
    ) {
        self.lock().exec = Arc::new(handler);
    }

    /// The execs run so far, in order.
    pub fn exec_calls(&self) -> Vec<ExecCall> {
        self.lock().execs.clone()
    }
}

impl ContainerEngine for FakeEngine {
    fn version(&self) -> Result<EngineVersion, EngineError> {
        Ok(EngineVersion {
            product: "Fake Engine".into(),
            version: "0".into(),
            api_version: "1.41".into(),
            min_api_version: Some("1.12".into()),
            os: "linux".into(),
            arch: std::env::consts::ARCH.into(),
            kernel: String::new(),
        })
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<Container>, EngineError> {
        let mut state = self.lock();
        state.refuse_if_away()?;
        if state.failing_lists > 0 {
            state.failing_lists -= 1;
            return Err(EngineError::Api {
                what: "listing containers".into(),
                status: 500,
                message: "the fake engine is away".into(),
            });
        }
        Ok(state
            .containers
            .iter()
            .filter(|c| !filter.running_only || c.is_running())
            .filter(|c| filter.labels.iter().all(|l| has_label(c, l)))
            .cloned()
            .collect())
    }

    fn inspect(&self, id_or_name: &str) -> Result<Container, EngineError> {
        let mut state = self.lock();
        state.refuse_if_away()?;
        state
            .containers
            .iter()
            .find(|c| matches(c, id_or_name))
            .cloned()
            .ok_or_else(|| EngineError::NotFound(id_or_name.to_string()))
    }

    fn events(&self, options: &EventOptions) -> Result<Events, EngineError> {
        let mut state = self.lock();
        state.refuse_if_away()?;
        let (tx, rx) = mpsc::channel();
        let from = options.since.unwrap_or_else(SystemTime::now);
        for e in &state.history {
            if e.time >= from && options.until.is_none_or(|u| e.time <= u) {
                let _ = tx.send(Ok(e.clone()));
            }
        }
        // With an end time, the stream ends after what is kept (the fake has no
        // clock to wait for); without, it stays open for what comes.
        if options.until.is_none() {
            state.streams.push(tx);
        }
        Ok(Events::new(rx, None))
    }

    fn exec(
        &self,
        container: &str,
        command: &[String],
        output: &mut dyn Write,
    ) -> Result<i64, EngineError> {
        let (target, handler) = {
            let mut state = self.lock();
            state.refuse_if_away()?;
            let target = state
                .containers
                .iter()
                .find(|c| matches(c, container))
                .cloned()
                .ok_or_else(|| EngineError::NotFound(container.to_string()))?;
            if !target.is_running() {
                return Err(EngineError::NotRunning {
                    name: target.name,
                    state: target.state.to_string(),
                });
            }
            state.execs.push(ExecCall {
                container: target.name.clone(),
                command: command.to_vec(),
            });
            (target, state.exec.clone())
        };
        // Called without the lock, so a handler may use the engine.
        Ok(handler(&target, command, output))
    }
}

impl State {
    /// While the engine is away, the error a request gets (and it is counted).
    fn refuse_if_away(&mut self) -> Result<(), EngineError> {
        let Some(why) = &self.away else {
            return Ok(());
        };
        let error = away_error(why)();
        self.refused += 1;
        Err(error)
    }
}

/// What a request gets from an engine that is away: the same text for every request,
/// as a socket nobody answers on gives.
fn away_error(why: &str) -> impl Fn() -> EngineError {
    let why = why.to_string();
    move || EngineError::Transport {
        what: "the fake engine".into(),
        message: why.clone(),
    }
}

/// Engines accept a full id, a unique id prefix or the name.
fn matches(c: &Container, id_or_name: &str) -> bool {
    c.name == id_or_name || (!id_or_name.is_empty() && c.id.starts_with(id_or_name))
}

/// A `label` filter entry: `KEY` (present) or `KEY=VALUE`.
fn has_label(c: &Container, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => c.labels.get(k).is_some_and(|x| x == v),
        None => c.labels.contains_key(filter),
    }
}

/// A created (not running) container named `name`, with a made-up id derived from
/// the name (so the same name always has the same id).
pub fn container(name: &str) -> Container {
    Container {
        id: made_up_id(name),
        name: name.to_string(),
        state: ContainerState::Created,
        pid: None,
        labels: BTreeMap::new(),
        network_mode: "none".into(),
        image: "busybox".into(),
        created: Some(SystemTime::now()),
        started: None,
    }
}

/// Replica `replica` of a compose service, named as compose v2 would name it and
/// labelled as both versions label it.
pub fn compose_container(project: &str, service: &str, replica: u32) -> Container {
    let mut c = container(&format!("{project}-{service}-{replica}"));
    for (k, v) in [
        (PROJECT_LABEL, project.to_string()),
        (SERVICE_LABEL, service.to_string()),
        (NUMBER_LABEL, replica.to_string()),
        (ONEOFF_LABEL, "False".to_string()),
    ] {
        c.labels.insert(k.to_string(), v);
    }
    c
}

/// 64 hex digits from a name (FNV-1a, four rounds with different seeds).
fn made_up_id(name: &str) -> String {
    (0u64..4)
        .map(|round| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
            for b in name.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            format!("{h:016x}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn start_and_die_change_the_container_and_reach_open_streams() {
        let engine = FakeEngine::new();
        engine.add(compose_container("lab", "web", 1));
        let events = engine.events(&EventOptions::default()).unwrap();

        engine.start("lab-web-1", 4242);
        let c = engine.inspect("lab-web-1").unwrap();
        assert!(c.is_running());
        assert_eq!(c.pid, Some(4242));
        engine.die(&c.id[..12], 137);
        assert!(!engine.inspect(&c.id).unwrap().is_running());

        let first = events
            .recv_timeout(Duration::from_secs(1))
            .unwrap()
            .unwrap();
        assert_eq!(first.kind, EventKind::Start);
        assert_eq!(first.compose().unwrap().replica, Some(1));
        let second = events
            .recv_timeout(Duration::from_secs(1))
            .unwrap()
            .unwrap();
        assert_eq!(
            second.kind,
            EventKind::Die {
                exit_code: Some(137)
            }
        );

        engine.disconnect();
        let rest: Vec<_> = events.collect();
        assert!(rest.is_empty(), "{rest:?}");
    }

    #[test]
    fn since_replays_kept_events() {
        let engine = FakeEngine::new();
        engine.add(container("db"));
        let before = SystemTime::now();
        engine.start("db", 10);
        engine.die("db", 0);
        let replay: Vec<_> = engine
            .events(&EventOptions {
                since: Some(before),
                until: Some(SystemTime::now()),
            })
            .unwrap()
            .map(|e| e.unwrap().kind)
            .collect();
        assert_eq!(
            replay,
            vec![EventKind::Start, EventKind::Die { exit_code: Some(0) }]
        );
    }

    #[test]
    fn exec_runs_the_handler_and_records_the_call() {
        let engine = FakeEngine::new();
        engine.add(container("db"));
        let cmd = vec!["ip".to_string(), "link".to_string()];
        let mut out = Vec::new();
        assert!(matches!(
            engine.exec("db", &cmd, &mut out),
            Err(EngineError::NotRunning { .. })
        ));
        assert!(matches!(
            engine.exec("nope", &cmd, &mut out),
            Err(EngineError::NotFound(_))
        ));
        engine.start("db", 10);
        engine.on_exec(|c, cmd, out| {
            write!(out, "{} ran {}", c.name, cmd.join(" ")).unwrap();
            3
        });
        assert_eq!(engine.exec("db", &cmd, &mut out).unwrap(), 3);
        assert_eq!(String::from_utf8(out).unwrap(), "db ran ip link");
        assert_eq!(
            engine.exec_calls(),
            vec![ExecCall {
                container: "db".into(),
                command: cmd
            }]
        );
    }

    #[test]
    fn an_engine_away_breaks_its_streams_and_refuses_until_it_comes_back() {
        let engine = FakeEngine::new();
        engine.add(container("db"));
        let events = engine.events(&EventOptions::default()).unwrap();
        engine.go_away("stopped");
        let broken = events.recv_timeout(Duration::from_secs(1)).unwrap();
        assert_eq!(broken.unwrap_err().to_string(), "the fake engine: stopped");
        assert!(events.recv_timeout(Duration::from_millis(1)).is_err());
        assert!(engine.events(&EventOptions::default()).is_err());
        engine.go_away("still stopped");
        let refused = engine.list(&ListFilter::default()).unwrap_err();
        assert_eq!(refused.to_string(), "the fake engine: still stopped");
        assert!(engine.inspect("db").is_err());
        assert_eq!(engine.refused(), 3);

        engine.come_back();
        assert_eq!(engine.list(&ListFilter::default()).unwrap().len(), 1);
        assert!(engine.events(&EventOptions::default()).is_ok());
        assert_eq!(engine.refused(), 3);
    }

    #[test]
    fn list_filters_by_label_and_state() {
        let engine = FakeEngine::new();
        engine.add(compose_container("lab", "web", 1));
        engine.add(compose_container("lab", "web", 2));
        engine.add(compose_container("other", "web", 1));
        engine.start("lab-web-2", 20);
        let lab = ListFilter {
            labels: vec![format!("{PROJECT_LABEL}=lab")],
            running_only: false,
        };
        assert_eq!(engine.list(&lab).unwrap().len(), 2);
        let running = ListFilter {
            running_only: true,
            ..lab
        };
        let names: Vec<_> = engine
            .list(&running)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, vec!["lab-web-2"]);
        assert_ne!(container("a").id, container("b").id);
        assert_eq!(container("a").id.len(), 64);
    }
}
