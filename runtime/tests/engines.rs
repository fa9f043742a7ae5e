//! The engine client against real engines: a private `dockerd` (and Podman's API
//! service) started by each test through `runtime::engine_harness`, with containers
//! made from a local busybox image.
//!
//! Each test records a visible skip when the engine is not installed or cannot start
//! here. Run them under the kernel-test lock (`flock /work/.kernel-tests.lock …`).

use runtime::containers::compose::{PROJECT_LABEL, SERVICE_LABEL};
use runtime::containers::docker::DockerEngine;
use runtime::containers::namespace::open_netns;
use runtime::containers::own::{id_from_cgroup, id_from_mountinfo, own_container, OwnContainer};
use runtime::containers::socket::{EngineKind, EngineSettings, Origin, SocketChoice};
use runtime::containers::{
    exec_logged, Container, ContainerEngine, ContainerState, EngineError, Event, EventKind,
    EventOptions, Events, ListFilter,
};
use runtime::engine_harness::{Dockerd, PodmanService, RootlessPodman};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

fn explicit(engine: EngineKind, path: &Path) -> SocketChoice {
    SocketChoice {
        engine,
        path: path.to_path_buf(),
        origin: Origin::Option("--engine-socket"),
    }
}

/// Events until `done` says the ones wanted are there (at most 20 s).
fn events_until(events: &Events, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Ok(e)) => seen.push(e),
            Ok(Err(e)) => panic!("event stream error: {e}"),
            Err(e) => panic!("events so far {seen:#?}; then: {e:?}"),
        }
    }
    seen
}

fn has(events: &[Event], name: &str, kind: &EventKind) -> bool {
    events.iter().any(|e| e.name == name && &e.kind == kind)
}

fn netns_inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

fn by_name<'a>(list: &'a [Container], name: &str) -> &'a Container {
    list.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} in {list:#?}"))
}

/// Runs a CLI command that must succeed; its standard output.
fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What both engines must do alike: list, inspect, events, exec, namespaces.
/// `cli` makes the engine's CLI command (`docker`/`podman`).
fn list_inspect_events_exec(
    engine: &dyn ContainerEngine,
    image: &str,
    cli: &dyn Fn() -> Command,
    extra_run_args: &[&str],
    dir: &Path,
) {
    let events = engine.events(&EventOptions::default()).unwrap();
    let before = SystemTime::now();

    let mut args = vec!["run", "--detach", "--name", "cl-web", "--network", "none"];
    args.extend_from_slice(extra_run_args);
    args.extend_from_slice(&["--label", "app=web", image, "sleep", "300"]);
    let web_id = ok(cli().args(&args)).trim().to_string();
    let mut args = vec!["run", "--name", "cl-short", "--network", "none"];
    args.extend_from_slice(extra_run_args);
    args.extend_from_slice(&[image, "sh", "-c", "exit 3"]);
    // The CLI passes the container's exit status on.
    assert_eq!(cli().args(&args).status().unwrap().code(), Some(3));

    // Events: the start of both, the death of the short one with its exit code.
    let seen = events_until(&events, |seen| {
        has(seen, "cl-web", &EventKind::Start)
            && has(seen, "cl-short", &EventKind::Start)
            && has(seen, "cl-short", &EventKind::Die { exit_code: Some(3) })
    });
    let start = seen
        .iter()
        .find(|e| e.name == "cl-web" && e.kind == EventKind::Start)
        .unwrap();
    assert_eq!(start.id, web_id);
    assert_eq!(start.labels.get("app").map(String::as_str), Some("web"));
    assert!(!start.labels.contains_key("name") && !start.labels.contains_key("image"));
    assert!(start.time >= before - Duration::from_secs(2), "{start:?}");

    // List: both, with what wiring needs.
    let all = engine.list(&ListFilter::default()).unwrap();
    let web = by_name(&all, "cl-web");
    assert_eq!(web.id, web_id);
    assert_eq!(web.state, ContainerState::Running);
    assert!(web.is_running() && web.pid.is_some(), "{web:?}");
    assert_eq!(web.network_mode, "none");
    assert_eq!(web.labels.get("app").map(String::as_str), Some("web"));
    assert!(web.started.is_some() && web.created.is_some());
    assert!(web.created <= web.started);
    let short = by_name(&all, "cl-short");
    assert_eq!(
        (short.state.clone(), short.pid),
        (ContainerState::Exited, None)
    );
    let labelled = engine
        .list(&ListFilter {
            labels: vec!["app=web".into()],
            running_only: false,
        })
        .unwrap();
    assert_eq!(labelled.len(), 1, "{labelled:#?}");
    let running = engine
        .list(&ListFilter {
            labels: vec![],
            running_only: true,
        })
        .unwrap();
    assert!(running.iter().all(|c| c.is_running()) && running.iter().any(|c| c.name == "cl-web"));

    // Inspect: by name, by id prefix; a missing one is NotFound.
    assert_eq!(&engine.inspect("cl-web").unwrap(), web);
    assert_eq!(&engine.inspect(&web_id[..12]).unwrap(), web);
    assert!(matches!(
        engine.inspect("cl-no-such-container"),
        Err(EngineError::NotFound(_))
    ));

    // The namespace: the container's own (network none), not ours.
    let ns = open_netns(web, Path::new("/proc")).unwrap();
    let ns_inode = ns.metadata().unwrap().ino();
    assert_eq!(
        ns_inode,
        netns_inode(
            &Path::new("/proc")
                .join(web.pid.unwrap().to_string())
                .join("ns/net")
        )
    );
    assert_ne!(ns_inode, netns_inode(Path::new("/proc/self/ns/net")));
    assert!(matches!(
        open_netns(short, Path::new("/proc")),
        Err(EngineError::NotRunning { .. })
    ));

    // Exec: output of both streams, the exit code, no shell unless asked for.
    let cmd = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let mut out = Vec::new();
    let code = engine
        .exec(
            "cl-web",
            &cmd(&["sh", "-c", "echo to-out; echo to-err >&2; exit 7"]),
            &mut out,
        )
        .unwrap();
    assert_eq!(code, 7);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("to-out") && out.contains("to-err"), "{out:?}");
    // An argument with shell syntax reaches the program as it is.
    let log = dir.join("exec.log");
    let code = exec_logged(engine, "cl-web", &cmd(&["echo", "a;b $(x)"]), &log).unwrap();
    assert_eq!(code, 0);
    let code = exec_logged(engine, "cl-web", &cmd(&["sh", "-c", "exit 0"]), &log).unwrap();
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a;b $(x)\n");
    let missing = engine
        .exec("cl-web", &cmd(&["/no/such/program"]), &mut Vec::new())
        .unwrap();
    assert_ne!(missing, 0);
    let stopped = engine.exec("cl-short", &cmd(&["true"]), &mut Vec::new());
    assert!(
        matches!(stopped, Err(EngineError::NotRunning { .. })),
        "{stopped:?}"
    );
    assert!(matches!(
        engine.exec("cl-no-such-container", &cmd(&["true"]), &mut Vec::new()),
        Err(EngineError::NotFound(_))
    ));

    // A new stream with `since` replays what happened from then on.
    let replay: Vec<Event> = engine
        .events(&EventOptions {
            since: Some(before),
            until: Some(SystemTime::now() + Duration::from_secs(1)),
        })
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert!(has(&replay, "cl-web", &EventKind::Start), "{replay:#?}");
    assert!(has(
        &replay,
        "cl-short",
        &EventKind::Die { exit_code: Some(3) }
    ));
}

#[test]
fn docker_list_inspect_events_exec() {
    let test = "engines::docker_list_inspect_events_exec";
    let Some(dockerd) = Dockerd::start(test) else {
        return;
    };
    let image = dockerd.busybox_image().unwrap();
    let socket = explicit(EngineKind::Docker, dockerd.socket());
    let engine = DockerEngine::connect(&socket).unwrap();
    let version = engine.version().unwrap();
    assert!(!version.is_podman(), "{version}");
    assert!(!version.api_version.is_empty());
    // conlink speaks the engine's API version (Docker 20.10: 1.41), not a newer one.
    assert_eq!(engine.api_version(), version.api_version);

    list_inspect_events_exec(&engine, image, &|| dockerd.docker(), &[], dockerd.dir());

    // DOCKER_HOST is followed; the default socket is skipped when absent.
    let settings = EngineSettings {
        docker_host: Some(dockerd.host()),
        podman_socket: Some(dockerd.dir().join("no-podman.sock")),
        ..Default::default()
    };
    let err = DockerEngine::connect_available(&settings)
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no-podman.sock (Podman, from --podman-socket)"),
        "an explicit socket that is missing is an error: {err}"
    );
    let settings = EngineSettings {
        docker_host: Some(dockerd.host()),
        ..Default::default()
    };
    let found = DockerEngine::connect_available(&settings).unwrap();
    assert!(found.iter().any(|e| e.socket().path == dockerd.socket()));
}

#[test]
fn docker_compose_labels() {
    let test = "engines::docker_compose_labels";
    let Some(dockerd) = Dockerd::start(test) else {
        return;
    };
    if !std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        runtime::testing::skip(test, "needs `docker-compose` (see .ci/run)");
        return;
    }
    let image = dockerd.busybox_image().unwrap();
    let file = dockerd.dir().join("compose.yaml");
    std::fs::write(
        &file,
        format!(
            "version: \"2.4\"\n\
             services:\n\
             \x20 web:\n\
             \x20   image: {image}\n\
             \x20   command: sleep 300\n\
             \x20   network_mode: none\n\
             \x20   scale: 2\n\
             \x20 db:\n\
             \x20   image: {image}\n\
             \x20   command: sleep 300\n\
             \x20   network_mode: none\n\
             \x20   container_name: the-database\n"
        ),
    )
    .unwrap();
    let project = "cltest";
    let up = dockerd
        .compose(&file, project)
        .args(["up", "--detach"])
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let oneoff = dockerd
        .compose(&file, project)
        .args(["run", "--detach", "web", "sleep", "300"])
        .output()
        .unwrap();
    assert!(
        oneoff.status.success(),
        "{}",
        String::from_utf8_lossy(&oneoff.stderr)
    );

    let engine = DockerEngine::connect(&explicit(EngineKind::Docker, dockerd.socket())).unwrap();
    let mine = engine
        .list(&ListFilter {
            labels: vec![format!("{PROJECT_LABEL}={project}")],
            running_only: true,
        })
        .unwrap();
    let mut found: Vec<(String, String, Option<u32>, bool)> = mine
        .iter()
        .map(|c| {
            let id = c
                .compose()
                .unwrap_or_else(|| panic!("no compose labels: {c:?}"));
            assert_eq!(id.project, project);
            (c.name.clone(), id.service, id.replica, id.oneoff)
        })
        .collect();
    found.sort();
    let replicas: Vec<_> = found.iter().filter(|f| !f.3).cloned().collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        replicas,
        [
            (s("cltest_web_1"), s("web"), Some(1), false),
            (s("cltest_web_2"), s("web"), Some(2), false),
            (s("the-database"), s("db"), Some(1), false),
        ],
        "compose v1 names and labels"
    );
    let oneoffs: Vec<_> = found.iter().filter(|f| f.3).collect();
    assert_eq!(oneoffs.len(), 1, "{found:#?}");
    assert_eq!(oneoffs[0].1, "web");
    assert!(oneoffs[0].0.starts_with("cltest_web_run_"), "{found:#?}");
    for c in &mine {
        assert_eq!(c.network_mode, "none");
        assert!(c.labels.contains_key(SERVICE_LABEL));
    }
}

/// Creates and runs a container that prints its /proc/self/mountinfo and cgroup,
/// checks that the parsers find its id in them, and returns the id and both texts.
fn seen_from_inside(
    cli: &dyn Fn() -> Command,
    create_args: &[&str],
    image: &str,
) -> (String, String, String) {
    let mut args = vec!["create", "--network", "none"];
    args.extend_from_slice(create_args);
    args.extend_from_slice(&[
        image,
        "sh",
        "-c",
        "cat /proc/self/mountinfo; echo ====; cat /proc/self/cgroup",
    ]);
    let id = ok(cli().args(&args)).trim().to_string();
    let out = ok(cli().args(["start", "--attach", &id]));
    let (mountinfo, cgroup) = out.split_once("====\n").expect("both files");
    assert_eq!(
        id_from_mountinfo(mountinfo).as_deref(),
        Some(id.as_str()),
        "{mountinfo}"
    );
    // With cgroup v1 (and v2 without a cgroup namespace) the cgroup names it too; with
    // a private cgroup namespace it names nothing — never another container.
    let from_cgroup = id_from_cgroup(cgroup);
    assert!(
        from_cgroup.is_none() || from_cgroup.as_deref() == Some(id.as_str()),
        "{cgroup}"
    );
    (id, mountinfo.to_string(), cgroup.to_string())
}

#[test]
fn docker_own_container_from_inside() {
    let test = "engines::docker_own_container_from_inside";
    let Some(dockerd) = Dockerd::start(test) else {
        return;
    };
    let image = dockerd.busybox_image().unwrap();
    let engine = DockerEngine::connect(&explicit(EngineKind::Docker, dockerd.socket())).unwrap();

    // A container that says what conlink would read in its own /proc.
    let (id, mountinfo, cgroup) = seen_from_inside(
        &|| dockerd.docker(),
        &[
            "--label",
            &format!("{PROJECT_LABEL}=lab"),
            "--label",
            &format!("{SERVICE_LABEL}=network"),
        ],
        image,
    );

    // The same files as conlink's own /proc: the engine says which container and
    // which compose project.
    let proc = dockerd.dir().join("fake-proc");
    std::fs::create_dir_all(proc.join("self")).unwrap();
    std::fs::write(proc.join("self/mountinfo"), &mountinfo).unwrap();
    std::fs::write(proc.join("self/cgroup"), &cgroup).unwrap();
    let own = own_container(&engine, &proc).unwrap();
    match &own {
        OwnContainer::Found(c) => assert_eq!(c.id, id),
        other => panic!("{other:?}"),
    }
    assert_eq!(own.compose_project().as_deref(), Some("lab"));
    // This test process runs on the host: no container of its own.
    assert_eq!(
        own_container(&engine, Path::new("/proc")).unwrap(),
        OwnContainer::NotInContainer
    );

    // A pid that is another container's process is refused, as conlink without
    // `pid: host` would see it.
    let a = dockerd.run(&["run", "-d", "--network", "none", image, "sleep", "300"]);
    let b = dockerd.run(&["run", "-d", "--network", "none", image, "sleep", "300"]);
    let a = engine.inspect(a.trim()).unwrap();
    let b = engine.inspect(b.trim()).unwrap();
    assert!(open_netns(&a, Path::new("/proc")).is_ok());
    let wrong = Container {
        pid: b.pid,
        ..a.clone()
    };
    let err = open_netns(&wrong, Path::new("/proc")).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("belongs to container {}", &b.id[..12])),
        "{err}"
    );
    assert!(err.to_string().contains("`pid: host`"), "{err}");
}

#[test]
fn podman_list_inspect_events_exec() {
    let test = "engines::podman_list_inspect_events_exec";
    let Some(podman) = PodmanService::start(test) else {
        return;
    };
    let image = podman.busybox_image().unwrap();
    let engine = DockerEngine::connect(&explicit(EngineKind::Podman, podman.socket())).unwrap();
    let version = engine.version().unwrap();
    assert!(version.is_podman(), "{version}");

    let cgroup = podman.cgroup_parent_arg();
    list_inspect_events_exec(
        &engine,
        image,
        &|| podman.podman(),
        &[&cgroup],
        podman.dir(),
    );

    // conlink's own id from inside a Podman container.
    seen_from_inside(&|| podman.podman(), &[&cgroup], image);
}

/// Rootless Podman: a user of the test's own, its API service and containers. The
/// engine client sees the same as with rootful Podman, and a container's namespace
/// is reachable from its pid.
#[test]
fn podman_rootless_list_inspect_events_exec() {
    let test = "engines::podman_rootless_list_inspect_events_exec";
    let Some(podman) = RootlessPodman::start(test) else {
        return;
    };
    let image = podman.busybox_image().unwrap();
    let engine = DockerEngine::connect(&explicit(EngineKind::Podman, podman.socket())).unwrap();
    let version = engine.version().unwrap();
    assert!(version.is_podman(), "{version}");
    list_inspect_events_exec(&engine, image, &|| podman.podman(), &[], podman.dir());

    // The containers run as the test's user (root inside maps to it), not as root.
    let web = engine.inspect("cl-web").unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", web.pid.unwrap())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(
        uid_line.split_whitespace().nth(1),
        Some(podman.uid().to_string().as_str()),
        "{uid_line}"
    );
    seen_from_inside(&|| podman.podman(), &[], image);
}

/// Dropping the rootless engine removes its user, the user's subordinate ids and
/// every process and file it had.
#[test]
fn rootless_podman_leaves_nothing() {
    let test = "engines::rootless_podman_leaves_nothing";
    let Some(podman) = RootlessPodman::start(test) else {
        return;
    };
    let image = podman.busybox_image().unwrap();
    podman.run(&["run", "-d", "--network", "none", image, "sleep", "300"]);
    let left = podman.remove();
    assert!(left.is_empty(), "left: {left:?}");
}

#[test]
fn harness_cleans_up_after_a_failing_test() {
    let test = "engines::harness_cleans_up_after_a_failing_test";
    let mut left = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Some(dockerd) = Dockerd::start(test) else {
            return;
        };
        let image = dockerd.busybox_image().unwrap();
        dockerd.run(&[
            "run",
            "--detach",
            "--network",
            "none",
            image,
            "sleep",
            "300",
        ]);
        left = Some((
            dockerd.dir().to_path_buf(),
            dockerd.cgroup_parent().to_string(),
        ));
        panic!("the test fails with a container running");
    }));
    let Some((dir, cgroup)) = left else {
        return; // skipped (recorded by Dockerd::start)
    };
    assert!(result.is_err());
    assert!(!dir.exists(), "{} is left", dir.display());
    let needle = format!("{}/", dir.display());
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(&needle), "mounts left:\n{mountinfo}");
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            assert!(!cmdline.contains(&needle), "process left: {cmdline}");
        }
    }
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        assert!(
            !hierarchy.path().join(&cgroup).exists(),
            "cgroup left in {hierarchy:?}"
        );
    }
}

#[test]
fn docker_events_end_when_the_engine_restarts() {
    let test = "engines::docker_events_end_when_the_engine_restarts";
    let Some(mut dockerd) = Dockerd::start(test) else {
        return;
    };
    let image = dockerd.busybox_image().unwrap();
    let engine = DockerEngine::connect(&explicit(EngineKind::Docker, dockerd.socket())).unwrap();
    let events = engine.events(&EventOptions::default()).unwrap();
    let id = dockerd
        .run(&[
            "run",
            "--detach",
            "--network",
            "none",
            image,
            "sleep",
            "300",
        ])
        .trim()
        .to_string();
    let seen = events_until(&events, |s| s.iter().any(|e| e.id == id));
    let last = seen.last().unwrap().time;

    dockerd.restart().unwrap();
    // The stream ends: maybe after events the engine sent on its way down (the
    // container's death) and an error, but it ends; reconnecting is the caller's job.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(_) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the event stream is still open 30 s after the engine restarted")
            }
        }
    }

    // The same client works again (each request has its own connection); the
    // container stopped with the daemon.
    assert!(!engine.inspect(&id).unwrap().is_running());
    let events = engine
        .events(&EventOptions {
            since: Some(last),
            until: None,
        })
        .unwrap();
    dockerd.run(&["start", &id]);
    events_until(&events, |s| {
        s.iter().any(|e| e.id == id && e.kind == EventKind::Start)
    });
}
