//! The engine client: the Docker Engine API over a unix socket, through bollard.
//! Podman serves the same API (its Docker-compatible service), so one client serves
//! both; only the socket differs.
//!
//! bollard is async; conlink's runtime is not. A [`DockerEngine`] owns a small tokio
//! runtime (one worker thread, which drives the connections and the event streams)
//! and each call blocks on it, so callers on any thread see plain blocking functions.

use super::convert;
use super::error::EngineError;
use super::model::{Container, EngineVersion, EventOptions};
use super::probe;
use super::socket::{EngineSettings, SocketChoice};
use super::{ContainerEngine, Events, ListFilter};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::{EventsOptionsBuilder, ListContainersOptionsBuilder};
use bollard::{Docker, API_DEFAULT_VERSION};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long one request may wait for the engine's answer (the answer's headers, for
/// streams: an event stream may then stay quiet for as long as it likes).
const REQUEST_TIMEOUT_SECS: u64 = 60;

/// A connection to one engine.
pub struct DockerEngine {
    runtime: tokio::runtime::Runtime,
    api: Docker,
    socket: SocketChoice,
    version: EngineVersion,
}

impl DockerEngine {
    /// Connects to the engine at `socket`: checks that it answers and agrees on the
    /// API version to speak.
    pub fn connect(socket: &SocketChoice) -> Result<DockerEngine, EngineError> {
        let version = convert::version(probe::probe(socket)?);
        let client_version = probe::client_version(&version.api_version, API_DEFAULT_VERSION);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("conlink-engine")
            .enable_all()
            .build()
            .map_err(|e| EngineError::io("starting the engine client", e))?;
        let path = socket.path.to_str().ok_or_else(|| EngineError::Transport {
            what: format!("connecting to {}", socket.path.display()),
            message: "the socket path is not UTF-8".into(),
        })?;
        let api = {
            let _context = runtime.enter();
            Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, &client_version)
        }
        .map_err(|e| EngineError::Transport {
            what: format!("connecting to {}", socket.path.display()),
            message: e.to_string(),
        })?;
        Ok(DockerEngine {
            runtime,
            api,
            socket: socket.clone(),
            version,
        })
    }

    /// Connects to every engine the settings name or that is at its usual place.
    /// A socket named explicitly must work; a default one that does not exist is
    /// skipped. No engine at all is an error that lists where conlink looked.
    pub fn connect_available(settings: &EngineSettings) -> Result<Vec<DockerEngine>, EngineError> {
        let candidates = settings.candidates()?;
        let mut engines = Vec::new();
        for socket in &candidates {
            match DockerEngine::connect(socket) {
                Ok(engine) => engines.push(engine),
                Err(EngineError::SocketMissing { .. }) if !socket.is_explicit() => {}
                Err(e) => return Err(e),
            }
        }
        if engines.is_empty() {
            return Err(EngineError::SocketMissing { tried: candidates });
        }
        Ok(engines)
    }

    pub fn socket(&self) -> &SocketChoice {
        &self.socket
    }

    /// The version the engine reported when conlink connected.
    pub fn engine_version(&self) -> &EngineVersion {
        &self.version
    }

    /// The API version conlink speaks with this engine.
    pub fn api_version(&self) -> String {
        self.api.client_version().to_string()
    }

    /// An exec's error. Engines say "not running" differently (Docker: 409, Podman
    /// 4: 500 "container state improper"), so a refused exec is checked against
    /// the container's state.
    async fn exec_error(
        &self,
        what: &str,
        container: &str,
        e: bollard::errors::Error,
    ) -> EngineError {
        let error = api_error(what.to_string(), Some(container), e);
        if let EngineError::Api { .. } = error {
            if let Ok(c) = self.inspect_async(container).await {
                if !c.is_running() {
                    return EngineError::NotRunning {
                        name: c.name,
                        state: c.state.to_string(),
                    };
                }
            }
        }
        error
    }

    async fn inspect_async(&self, id_or_name: &str) -> Result<Container, EngineError> {
        let answer = self
            .api
            .inspect_container(id_or_name, None)
            .await
            .map_err(|e| {
                api_error(
                    format!(
                        "inspecting container {id_or_name} (GET /containers/{id_or_name}/json)"
                    ),
                    Some(id_or_name),
                    e,
                )
            })?;
        convert::from_inspect(answer).ok_or_else(|| EngineError::Transport {
            what: format!("inspecting container {id_or_name}"),
            message: "the answer has no container id".into(),
        })
    }
}

impl ContainerEngine for DockerEngine {
    fn version(&self) -> Result<EngineVersion, EngineError> {
        let v = self
            .runtime
            .block_on(self.api.version())
            .map_err(|e| api_error("asking the engine's version (GET /version)".into(), None, e))?;
        Ok(convert::version(v))
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<Container>, EngineError> {
        let mut filters: HashMap<&str, Vec<String>> = HashMap::new();
        if !filter.labels.is_empty() {
            filters.insert("label", filter.labels.clone());
        }
        let options = ListContainersOptionsBuilder::default()
            .all(!filter.running_only)
            .filters(&filters)
            .build();
        self.runtime.block_on(async {
            let summaries = self.api.list_containers(Some(options)).await.map_err(|e| {
                api_error("listing containers (GET /containers/json)".into(), None, e)
            })?;
            // The list answer has neither process ids nor start times: inspect each
            // container, all at once.
            let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
            let inspected =
                futures_util::future::join_all(ids.iter().map(|id| self.inspect_async(id))).await;
            let mut containers = Vec::with_capacity(inspected.len());
            for result in inspected {
                match result {
                    Ok(c) => containers.push(c),
                    // Removed between the list and the inspection: not there any more.
                    Err(EngineError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(containers)
        })
    }

    fn inspect(&self, id_or_name: &str) -> Result<Container, EngineError> {
        self.runtime.block_on(self.inspect_async(id_or_name))
    }

    fn events(&self, options: &EventOptions) -> Result<Events, EngineError> {
        // Only the type is filtered by the engine; start and die are picked here
        // (convert::event). Podman 4 matches an `event` filter against its own
        // names ("died"), and not at all for replayed events.
        let mut filters: HashMap<&str, Vec<&str>> = HashMap::new();
        filters.insert("type", vec!["container"]);
        // Asking from the moment of the call (when no earlier time is given) means
        // an event that happens before the stream is connected is still delivered:
        // the engine replays what it keeps from `since` on.
        let since = options.since.unwrap_or_else(SystemTime::now);
        let mut builder = EventsOptionsBuilder::default()
            .filters(&filters)
            .since(&api_time(since));
        if let Some(until) = options.until {
            builder = builder.until(&api_time(until));
        }
        let request = builder.build();

        let (tx, rx) = mpsc::channel();
        let api = self.api.clone();
        let task = self.runtime.spawn(async move {
            let mut stream = Box::pin(api.events(Some(request)));
            while let Some(item) = stream.next().await {
                let forward = match item {
                    Ok(message) => convert::event(message).map(Ok),
                    Err(e) if is_decode_error(&e) => {
                        Some(Err(EngineError::EventDecode(e.to_string())))
                    }
                    Err(e) => Some(Err(api_error(
                        "following the engine's events (GET /events)".into(),
                        None,
                        e,
                    ))),
                };
                if let Some(f) = forward {
                    if tx.send(f).is_err() {
                        break; // nobody listens any more
                    }
                }
            }
        });
        Ok(Events::new(rx, Some(Box::new(move || task.abort()))))
    }

    fn exec(
        &self,
        container: &str,
        command: &[String],
        output: &mut dyn Write,
    ) -> Result<i64, EngineError> {
        let what = format!("running {command:?} in container {container}");
        self.runtime.block_on(async {
            let created = match self
                .api
                .create_exec(
                    container,
                    CreateExecOptions::<String> {
                        cmd: Some(command.to_vec()),
                        attach_stdout: Some(true),
                        attach_stderr: Some(true),
                        ..Default::default()
                    },
                )
                .await
            {
                Ok(created) => created,
                Err(e) => {
                    let what = format!("{what} (POST /containers/{container}/exec)");
                    return Err(self.exec_error(&what, container, e).await);
                }
            };
            let started = match self.api.start_exec(&created.id, None).await {
                Ok(started) => started,
                Err(e) => {
                    let what = format!("{what} (POST /exec/{}/start)", created.id);
                    return Err(self.exec_error(&what, container, e).await);
                }
            };
            if let StartExecResults::Attached {
                output: mut stream,
                input: _input, // kept open until the output ends
            } = started
            {
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| api_error(what.clone(), None, e))?;
                    let bytes = match &chunk {
                        LogOutput::StdOut { message }
                        | LogOutput::StdErr { message }
                        | LogOutput::Console { message }
                        | LogOutput::StdIn { message } => message,
                    };
                    output
                        .write_all(bytes)
                        .map_err(|e| EngineError::io(format!("writing the output of {what}"), e))?;
                }
            }
            output
                .flush()
                .map_err(|e| EngineError::io(format!("writing the output of {what}"), e))?;
            // The output ends when the process closes it; the engine may take a moment
            // more to record the exit code.
            for _ in 0..250 {
                let info = self.api.inspect_exec(&created.id).await.map_err(|e| {
                    let what = format!("{what} (GET /exec/{}/json)", created.id);
                    api_error(what, None, e)
                })?;
                if info.running != Some(true) {
                    if let Some(code) = info.exit_code {
                        return Ok(code);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(EngineError::Transport {
                what,
                message: "the engine did not report an exit code within 5 s of the output's end"
                    .into(),
            })
        })
    }
}

/// The engine's time format for `since`/`until`: seconds since the epoch, with
/// nanoseconds after a dot.
fn api_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn is_decode_error(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::JsonDataError { .. }
            | bollard::errors::Error::JsonSerdeError { .. }
    )
}

/// An error of a request, with a 404 about `target` as "no such container". `what`
/// names the Engine API call after what it was for (`docs/security.md`, "Engine API
/// calls"), so a call a filtering proxy refuses is named in the error.
fn api_error(what: String, target: Option<&str>, e: bollard::errors::Error) -> EngineError {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => match target {
            Some(t) if status_code == 404 => EngineError::NotFound(t.to_string()),
            _ => EngineError::Api {
                what,
                status: status_code,
                message: message.trim().to_string(),
            },
        },
        other => EngineError::Transport {
            what,
            message: other.to_string(),
        },
    }
}
