//! Podman at its usual socket, `/run/podman/podman.sock`, as a machine's rootful
//! Podman serves it: conlink given no socket option and no `DOCKER_HOST` finds Podman
//! there, says so, and wires two `podman run --network none` containers (pings both
//! ways; `destroy`, and SIGTERM to `conlink run`, leave nothing). And both engines
//! named at once: `--engine-socket` (2.x's `--docker-socket`) wins over
//! `--podman-socket` whichever comes first on the command line, and an option wins over
//! `DOCKER_HOST` (docs/cli.md, "Common options").
//!
//! The first test's service is its own (`PodmanService::start_at_usual_paths`): it
//! listens at the usual path only in a mount namespace of its own, where `/run` is an
//! empty tmpfs (so no Docker socket is there either), and conlink runs in that
//! namespace (`nsenter --mount`); the network namespace is the test's. No other process
//! on the machine sees a socket at the usual path, so the other tests' conlink
//! commands that name no socket are unchanged. conlink's state, lock and pinned
//! namespaces are then in that namespace's `/run`, where the test looks for leftovers.

use super::lab::{assert_nothing_left, assert_nothing_left_seen, conlink_as, link_names, Running};
use super::podman_lab::{exec, ping, start_containers};
use crate::e2e::{can_run, show, text};
use runtime::engine_harness::{PodmanService, PODMAN_USUAL_SOCKET};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// The busybox image in `podman`, or a recorded skip and `None`.
fn image(test: &str, podman: &PodmanService) -> Option<&'static str> {
    match podman.busybox_image() {
        Ok(i) => Some(i),
        Err(e) => {
            runtime::testing::skip(test, &format!("no busybox image: {e}"));
            None
        }
    }
}

/// Checks that conlink left no interface in the containers `names`.
fn assert_unwired(podman: &PodmanService, names: &[&str]) {
    for name in names {
        let out = exec(podman, name, &["ip", "-o", "link"]);
        assert!(out.status.success(), "{name}: {}", show(&out));
        let links = text(&out.stdout);
        assert!(!links.contains("eth0"), "{name}: {links}");
    }
}

#[test]
fn podman_found_at_its_usual_socket_when_no_socket_is_named() {
    let test =
        "e2e::containers::podman_default::podman_found_at_its_usual_socket_when_no_socket_is_named";
    if !can_run(test, &["podman", "nsenter"]) {
        return;
    }
    let Some(podman) = PodmanService::start_at_usual_paths(test) else {
        return;
    };
    let Some(image) = image(test, &podman) else {
        return;
    };
    const PROJECT: &str = "podmandefault";
    const NAMES: [&str; 2] = ["pd-a", "pd-b"];
    let net = podman.dir().join("net.yaml");
    std::fs::write(
        &net,
        "links:
  - {container: pd-a, bridge: s1, ip: 10.9.7.1/24}
  - {container: pd-b, bridge: s1, ip: 10.9.7.2/24}
",
    )
    .unwrap();
    let net = net.to_str().unwrap();
    start_containers(&podman, image, &NAMES);
    // conlink in the service's mount namespace, told nothing about engines.
    let conlink = |args: &[&str]| {
        let mut cmd = conlink_as(
            podman.in_mount_namespace(env!("CARGO_BIN_EXE_conlink")),
            PROJECT,
        );
        cmd.args(args);
        cmd
    };
    // What the namespace shows: the socket at the usual path, no Docker socket.
    let seen = |p: &str| podman.seen_inside(Path::new(p));
    assert!(seen(PODMAN_USUAL_SOCKET).exists());
    assert!(!seen("/var/run/docker.sock").exists());
    let found = format!("found Podman at {PODMAN_USUAL_SOCKET} (the default path)");
    let nothing_left = || {
        assert_nothing_left_seen(PROJECT, &|p: &Path| podman.seen_inside(p));
        // Nor in the machine's /run, which conlink never saw.
        assert_nothing_left(PROJECT);
    };

    // apply, then destroy. A one-shot command names the engine it found only with
    // -v (the second apply finds everything in place).
    let out = conlink(&["apply", "-n", net]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = text(&out.stderr);
    assert!(!said.contains("found "), "{said}");
    let out = conlink(&["-v", "apply", "-n", net]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = text(&out.stderr);
    assert!(said.contains(&format!("conlink apply: {found}")), "{said}");
    ping(&podman, "pd-a", "10.9.7.2").unwrap();
    ping(&podman, "pd-b", "10.9.7.1").unwrap();
    let out = conlink(&["destroy", "-n", net]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_unwired(&podman, &NAMES);
    nothing_left();

    // run, then SIGTERM.
    let mut run = Running::spawn(conlink(&["run", "-n", net]));
    let log = run.wait_for("All links connected", 1, WAIT);
    assert!(log.contains(&format!("conlink run: {found}")), "{log}");
    let links = podman
        .in_mount_namespace("ip")
        .args([
            "netns",
            "exec",
            &format!("conlink.{PROJECT}"),
            "ip",
            "-o",
            "link",
        ])
        .output()
        .unwrap();
    assert!(links.status.success(), "{}", show(&links));
    assert!(
        link_names(&text(&links.stdout)).contains(&"s1".to_string()),
        "{log}\n{}",
        show(&links)
    );
    ping(&podman, "pd-a", "10.9.7.2").unwrap();
    ping(&podman, "pd-b", "10.9.7.1").unwrap();
    let log = run.terminate();
    eprintln!("{test}: conlink run's log:\n{log}");
    assert_unwired(&podman, &NAMES);
    nothing_left();
}

#[test]
fn engine_socket_wins_over_podman_socket_whichever_comes_first() {
    let test =
        "e2e::containers::podman_default::engine_socket_wins_over_podman_socket_whichever_comes_first";
    if !can_run(test, &["podman"]) {
        return;
    }
    // Two engines: the one with the containers, and one without them, so that the
    // result shows which was asked.
    let Some(podman) = PodmanService::start(test) else {
        return;
    };
    let Some(other) = PodmanService::start(test) else {
        return;
    };
    let Some(image) = image(test, &podman) else {
        return;
    };
    const PROJECT: &str = "podmanboth";
    const NAMES: [&str; 2] = ["pe-a", "pe-b"];
    let net = podman.dir().join("net.yaml");
    std::fs::write(
        &net,
        "links:
  - {container: pe-a, bridge: s1, ip: 10.9.8.1/24}
  - {container: pe-b, bridge: s1, ip: 10.9.8.2/24}
",
    )
    .unwrap();
    let net = net.to_str().unwrap();
    start_containers(&podman, image, &NAMES);
    let with = podman.socket().to_str().unwrap();
    let without = other.socket().to_str().unwrap();
    let conlink = |options: &[&str], command: &str| -> Command {
        let mut cmd = conlink_as(Command::new(env!("CARGO_BIN_EXE_conlink")), PROJECT);
        cmd.arg("-v").args(options).args([command, "-n", net]);
        cmd
    };

    let podman_option = ["--podman-socket", with];
    let engine_option = ["--docker-socket", without];
    for options in [
        [podman_option, engine_option].concat(),
        [engine_option, podman_option].concat(),
    ] {
        // The engine without the containers is asked: the units wait (exit 3).
        let out = conlink(&options, "apply").output().unwrap();
        let said = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{options:?}: {}", show(&out));
        assert!(
            said.contains(&format!(
                "conlink apply: found Docker at {without} (from --engine-socket)"
            )),
            "{options:?}: {said}"
        );
        assert!(
            said.contains("waiting for container pe-a (no such container)"),
            "{options:?}: {said}"
        );
        let out = conlink(&options, "destroy").output().unwrap();
        assert!(out.status.success(), "{options:?}: {}", show(&out));
        assert_nothing_left(PROJECT);
    }

    // --podman-socket, with DOCKER_HOST naming the other engine: the option wins.
    let out = conlink(&podman_option, "apply")
        .env("DOCKER_HOST", format!("unix://{without}"))
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        said.contains(&format!(
            "conlink apply: found Podman at {with} (from --podman-socket)"
        )),
        "{said}"
    );
    ping(&podman, "pe-a", "10.9.8.2").unwrap();
    ping(&podman, "pe-b", "10.9.8.1").unwrap();
    let out = conlink(&podman_option, "destroy").output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_unwired(&podman, &NAMES);
    assert_nothing_left(PROJECT);
}
