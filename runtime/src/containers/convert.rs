//! From the Engine API's answers (bollard's models of them) to conlink's
//! [`Container`], [`Event`] and [`EngineVersion`].
//!
//! Docker and Podman fill these answers differently (Podman's events carry extra
//! attributes and say `died`, its health status and restart policy may be empty),
//! so every field is optional here and a missing one becomes "not known", never a
//! failure — except the id, without which nothing can be done with a container.

use super::model::{Container, ContainerState, EngineVersion, Event, EventKind};
use super::timestamp;
use bollard::models::{
    ContainerInspectResponse, EventMessage, EventMessageTypeEnum, SystemVersion,
};
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

/// A container from an inspect answer (`GET /containers/{id}/json`).
pub fn from_inspect(r: ContainerInspectResponse) -> Option<Container> {
    let id = r.id.filter(|i| !i.is_empty())?;
    let state = r.state.unwrap_or_default();
    let status = state
        .status
        .map(|s| ContainerState::from_name(s.as_ref()))
        .unwrap_or_else(|| {
            // Very old answers have only the flags.
            if state.running == Some(true) {
                ContainerState::Running
            } else {
                ContainerState::Other(String::new())
            }
        });
    let config = r.config.unwrap_or_default();
    Some(Container {
        name: r
            .name
            .as_deref()
            .map(strip_slash)
            .unwrap_or(&id)
            .to_string(),
        id,
        state: status,
        pid: state
            .pid
            .and_then(|p| u32::try_from(p).ok())
            .filter(|p| *p > 0),
        labels: sorted(config.labels),
        network_mode: r
            .host_config
            .and_then(|h| h.network_mode)
            .unwrap_or_default(),
        image: config.image.or(r.image).unwrap_or_default(),
        created: r.created.as_deref().and_then(timestamp::parse_rfc3339),
        started: state
            .started_at
            .as_deref()
            .and_then(timestamp::parse_rfc3339),
    })
}

/// Event attributes that are the engine's, not the container's labels.
const EVENT_ATTRIBUTES: &[&str] = &[
    "name",
    "image",
    "exitCode",
    "signal",
    "execID",
    // Podman's additions.
    "containerExitCode",
    "podId",
];

/// A start or die event of a container; `None` for every other event.
pub fn event(m: EventMessage) -> Option<Event> {
    if m.typ.is_some_and(|t| t != EventMessageTypeEnum::CONTAINER) {
        return None;
    }
    let actor = m.actor.unwrap_or_default();
    let attributes = actor.attributes.unwrap_or_default();
    let kind = match m.action.as_deref()? {
        "start" => EventKind::Start,
        // Podman's own name for it is "died"; its Docker-compatible stream says "die".
        "die" | "died" => EventKind::Die {
            exit_code: attributes
                .get("exitCode")
                .or_else(|| attributes.get("containerExitCode"))
                .and_then(|c| c.parse().ok()),
        },
        _ => return None,
    };
    let id = actor.id.filter(|i| !i.is_empty())?;
    let time = m
        .time_nano
        .and_then(timestamp::from_unix_nanos)
        .or_else(|| m.time.and_then(timestamp::from_unix_seconds))
        .unwrap_or_else(SystemTime::now);
    let name = attributes
        .get("name")
        .map(|n| strip_slash(n).to_string())
        .unwrap_or_else(|| id.clone());
    let labels = attributes
        .into_iter()
        .filter(|(k, _)| !EVENT_ATTRIBUTES.contains(&k.as_str()))
        .collect();
    Some(Event {
        kind,
        id,
        name,
        labels,
        time,
    })
}

/// The engine's description of itself (`GET /version`).
pub fn version(v: SystemVersion) -> EngineVersion {
    let components = v.components.unwrap_or_default();
    // Docker calls its main component "Engine", Podman "Podman Engine".
    let main = components
        .iter()
        .find(|c| c.name.to_ascii_lowercase().contains("podman"))
        .or_else(|| components.iter().find(|c| c.name == "Engine"));
    let product = match main {
        Some(c) if c.name == "Engine" => "Docker Engine".to_string(),
        Some(c) => c.name.clone(),
        None => "Docker Engine".to_string(),
    };
    EngineVersion {
        product,
        version: v
            .version
            .or_else(|| main.map(|c| c.version.clone()))
            .unwrap_or_default(),
        api_version: v.api_version.unwrap_or_default(),
        min_api_version: v.min_api_version,
        os: v.os.unwrap_or_default(),
        arch: v.arch.unwrap_or_default(),
        kernel: v.kernel_version.unwrap_or_default(),
    }
}

fn strip_slash(name: &str) -> &str {
    name.strip_prefix('/').unwrap_or(name)
}

fn sorted(labels: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    labels.unwrap_or_default().into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::compose::ComposeIdentity;
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/containers")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `docker inspect` prints an array of the API's inspect answers.
    fn inspect_fixture(name: &str) -> Vec<Container> {
        let answers: Vec<ContainerInspectResponse> =
            serde_json::from_str(&fixture(name)).expect("inspect answers");
        answers
            .into_iter()
            .map(|a| from_inspect(a).unwrap())
            .collect()
    }

    fn replicas(cs: &[Container]) -> Vec<(String, String, Option<u32>, bool)> {
        cs.iter()
            .map(|c| {
                let id = c.compose().unwrap();
                (id.project, id.service, id.replica, id.oneoff)
            })
            .collect()
    }

    #[test]
    fn compose_v1_containers() {
        let cs = inspect_fixture("compose-v1-inspect.json");
        let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lab_web_1",
                "lab_web_2",
                "lab_web_run_8c1f0e2b7a3d",
                "lab_network_1"
            ]
        );
        let s = |x: &str| x.to_string();
        assert_eq!(
            replicas(&cs),
            [
                (s("lab"), s("web"), Some(1), false),
                (s("lab"), s("web"), Some(2), false),
                (s("lab"), s("web"), Some(3), true),
                (s("lab"), s("network"), Some(1), false),
            ]
        );
        let web1 = &cs[0];
        assert_eq!(web1.id.len(), 64);
        assert_eq!(
            (web1.state.clone(), web1.pid),
            (ContainerState::Running, Some(4101))
        );
        assert!(web1.is_running());
        assert_eq!(web1.network_mode, "none");
        assert_eq!(web1.image, "busybox:latest");
        let started = web1.started.unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(started, Duration::new(1_772_359_201, 123_456_789));
        assert!(web1.created.unwrap() < web1.started.unwrap());
        // A stopped replica: Docker reports pid 0, which is no process.
        let web2 = &cs[1];
        assert_eq!(
            (web2.state.clone(), web2.pid),
            (ContainerState::Exited, None)
        );
        assert!(!web2.is_running());
    }

    #[test]
    fn compose_v2_containers_are_the_same_replicas_under_other_names() {
        let cs = inspect_fixture("compose-v2-inspect.json");
        let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lab-web-1",
                "lab-web-2",
                "lab-web-run-5d0c2a9e41b7",
                "router"
            ]
        );
        let s = |x: &str| x.to_string();
        assert_eq!(
            replicas(&cs),
            [
                (s("lab"), s("web"), Some(1), false),
                (s("lab"), s("web"), Some(2), false),
                // A one-off written without a number label: no replica, still one-off.
                (s("lab"), s("web"), None, true),
                // container_name: router — the name says nothing, the labels do.
                (s("lab"), s("router"), Some(1), false),
            ]
        );
        assert_eq!(cs[3].network_mode, "lab_default");

        // Replica 1 of web is found by labels in both versions, whatever its name.
        let v1 = inspect_fixture("compose-v1-inspect.json");
        let is_web_1 = |c: &&Container| {
            c.compose()
                == Some(ComposeIdentity {
                    project: "lab".into(),
                    service: "web".into(),
                    replica: Some(1),
                    oneoff: false,
                })
        };
        assert_eq!(v1.iter().find(is_web_1).unwrap().name, "lab_web_1");
        assert_eq!(cs.iter().find(is_web_1).unwrap().name, "lab-web-1");
    }

    fn events_fixture(name: &str) -> Vec<Event> {
        fixture(name)
            .lines()
            .filter_map(|line| {
                // Events of kinds bollard's model does not know (Podman's "system"
                // events) do not decode; the client asks the engine for container
                // events only.
                serde_json::from_str::<EventMessage>(line).ok()
            })
            .filter_map(event)
            .collect()
    }

    #[test]
    fn docker_events_start_and_die_only() {
        let events = events_fixture("events-docker.jsonl");
        let kinds: Vec<_> = events.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Start,
                EventKind::Die {
                    exit_code: Some(143)
                }
            ]
        );
        let start = &events[0];
        assert_eq!(start.name, "lab-web-2");
        assert_eq!(start.id.len(), 64);
        assert_eq!(
            start.time.duration_since(UNIX_EPOCH).unwrap(),
            Duration::new(1_772_359_201, 250_000_000)
        );
        // The engine's attributes (image, name, exitCode) are not labels.
        let keys: Vec<&str> = events[1].labels.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "com.docker.compose.container-number",
                "com.docker.compose.oneoff",
                "com.docker.compose.project",
                "com.docker.compose.service"
            ]
        );
        assert_eq!(events[1].compose().unwrap().replica, Some(2));
    }

    #[test]
    fn podman_events_died_and_its_exit_code() {
        let events = events_fixture("events-podman.jsonl");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::Start);
        assert_eq!(events[1].kind, EventKind::Die { exit_code: Some(3) });
        assert_eq!(events[1].name, "db1");
        let labels: Vec<(&str, &str)> = events[1]
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(labels, [("app", "db")]);
    }

    #[test]
    fn versions_of_docker_and_podman() {
        let docker: SystemVersion = serde_json::from_str(
            r#"{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1","Details":{"ApiVersion":"1.41"}},{"Name":"containerd","Version":"1.6.20"}],
               "Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64","KernelVersion":"6.18.44"}"#,
        )
        .unwrap();
        let v = version(docker);
        assert_eq!(v.to_string(), "Docker Engine 20.10.24+dfsg1 (API 1.41)");
        assert!(!v.is_podman());
        let podman: SystemVersion = serde_json::from_str(
            r#"{"Platform":{"Name":"linux/amd64/debian-12"},"Components":[{"Name":"Podman Engine","Version":"4.3.1","Details":{"APIVersion":"4.3.1","MinAPIVersion":"4.0.0"}},{"Name":"Conmon","Version":"conmon version 2.1.6"}],
               "Version":"4.3.1","ApiVersion":"1.41","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64","KernelVersion":"6.18.44"}"#,
        )
        .unwrap();
        let v = version(podman);
        assert_eq!(v.to_string(), "Podman Engine 4.3.1 (API 1.41)");
        assert!(v.is_podman());
        assert_eq!(v.min_api_version.as_deref(), Some("1.24"));
    }

    #[test]
    fn podman_inspect_details() {
        // Podman's compatible inspect answer for a container created but never
        // started: empty health status and restart policy, a zone offset.
        let answer: ContainerInspectResponse = serde_json::from_str(
            r#"{"Id":"22e8dc7efbf809e8048ce2ca03f8d05b8551ea94ebc1e1f2aa52b2b276fe0f80","Created":"2026-12-06T00:53:01.345446952+01:00",
                "Name":"/p1","State":{"Status":"created","Running":false,"Pid":0,"StartedAt":"0001-01-01T00:00:00Z","Health":{"Status":"","FailingStreak":0,"Log":null}},
                "Config":{"Labels":{"a":"b"}},"HostConfig":{"NetworkMode":"none","RestartPolicy":{"Name":"","MaximumRetryCount":0},"CgroupnsMode":""}}"#,
        )
        .unwrap();
        let c = from_inspect(answer).unwrap();
        assert_eq!(c.state, ContainerState::Created);
        assert_eq!((c.pid, c.started), (None, None));
        assert_eq!(
            c.created.unwrap().duration_since(UNIX_EPOCH).unwrap(),
            Duration::new(1_796_518_381 - 3600, 345_446_952)
        );
        assert_eq!(c.compose(), None);
    }
}
