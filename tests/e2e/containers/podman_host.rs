//! The Podman issue's scenario (1): the container issue's scenario 3 (see
//! host_names.rs) with rootful Podman. `podman run --network none` containers on a
//! private Podman API service (`runtime::engine_harness::PodmanService`), wired from
//! the host by `conlink run -n net.yaml --podman-socket SOCKET` through Podman's
//! Docker-compatible API: names from `${NODE_NAME}`, one shortened outer name, pings
//! both ways, a restart wired again with the same MAC, a container killed with SIGKILL
//! and started again wired again, a restart of the API service while a container is
//! killed and started again (conlink reconnects and wires it), and nothing left after
//! SIGTERM.

use super::lab::{assert_nothing_left, conlink_links, host_conlink, planned_outer, Running};
use super::podman_lab::{exec, ping, start_containers};
use crate::e2e::{show, text};
use runtime::engine_harness::PodmanService;
use std::process::Command;
use std::time::Duration;

const PROJECT: &str = "podmanhost";
const NODE_NAME: &str = "p3";
/// `p3-` and this, then `-eth0`: 38 bytes, shortened.
const LONG: &str = "a-podman-container-with-a-long-name";
const NETWORK: &str = "links:
  - {container: '${NODE_NAME}-a', bridge: s1, ip: 10.9.6.1/24}
  - {container: '${NODE_NAME}-${LONG}', bridge: s1, ip: 10.9.6.2/24}
";
const WAIT: Duration = Duration::from_secs(60);

/// conlink on the host for the Podman service, with NODE_NAME and LONG set.
fn conlink(podman: &PodmanService, args: &[&str]) -> Command {
    let mut cmd = host_conlink(PROJECT, ("--podman-socket", podman.socket()), args);
    cmd.env("NODE_NAME", NODE_NAME).env("LONG", LONG);
    cmd
}

fn mac(podman: &PodmanService, name: &str) -> String {
    text(&exec(podman, name, &["cat", "/sys/class/net/eth0/address"]).stdout)
}

#[test]
fn rootful_podman_containers_wired_from_the_host() {
    let test = "e2e::containers::podman_host::rootful_podman_containers_wired_from_the_host";
    if !crate::e2e::can_run(test, &["podman"]) {
        return;
    }
    let Some(mut podman) = PodmanService::start(test) else {
        return;
    };
    let image = match podman.busybox_image() {
        Ok(i) => i,
        Err(e) => {
            runtime::testing::skip(test, &format!("no busybox image: {e}"));
            return;
        }
    };
    let net = podman.dir().join("net.yaml");
    std::fs::write(&net, NETWORK).unwrap();
    let net = net.to_str().unwrap();
    let a = format!("{NODE_NAME}-a");
    let long = format!("{NODE_NAME}-{LONG}");

    let out = conlink(&podman, &["plan", "-n", net]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let plan = text(&out.stdout);
    let (outer_a, _) = planned_outer(&plan, &format!("container:{a}"));
    let (outer_long, alt) = planned_outer(&plan, &format!("container:{long}"));
    assert!(outer_long.len() <= 15, "{outer_long}");
    assert_eq!(alt.as_deref(), Some(&*format!("{long}-eth0")));

    start_containers(&podman, image, &[&a, &long]);

    let mut run = Running::spawn(conlink(&podman, &["run", "-n", net]));
    let log = run.wait_for("All links connected", 1, WAIT);
    assert!(log.contains("3 unit(s) wired, 0 waiting"), "{log}");
    let mut want = vec!["lo".to_string(), "s1".into(), outer_a, outer_long];
    want.sort();
    assert_eq!(conlink_links(PROJECT), want, "{log}");
    ping(&podman, &a, "10.9.6.2").unwrap();
    ping(&podman, &long, "10.9.6.1").unwrap();

    // A restart: unwired on its die, wired on its start, with the same MAC.
    let before = mac(&podman, &long);
    podman.run(&["restart", "--time", "1", &long]);
    let log = run.wait_for("All links connected", 2, WAIT);
    assert!(log.contains(&format!("unwired container:{long}")), "{log}");
    assert_eq!(
        log.matches(&format!("wired container:{long} ({long})"))
            .count(),
        1,
        "{log}"
    );
    assert_eq!(mac(&podman, &long), before);
    assert_eq!(conlink_links(PROJECT), want, "{log}");
    ping(&podman, &a, "10.9.6.2").unwrap();
    ping(&podman, &long, "10.9.6.1").unwrap();

    // kill -9 (conmon reports the death) and a start: wired again the same.
    podman.run(&["kill", "--signal", "KILL", &a]);
    run.wait_for(&format!("unwired container:{a} ("), 1, WAIT);
    podman.run(&["start", &a]);
    let log = run.wait_for("All links connected", 3, WAIT);
    assert!(log.contains(&format!("wired container:{a} ({a})")), "{log}");
    assert_eq!(conlink_links(PROJECT), want, "{log}");
    ping(&podman, &a, "10.9.6.2").unwrap();

    // (A die that did not reach conlink so far is handled, but worth a word.)
    if run.log().contains("no die event came") {
        eprintln!(
            "{test}: a die event of Podman did not reach conlink:\n{}",
            run.log()
        );
    }

    // The API service restarts; while it is away (the CLI needs no service) a
    // container is killed and started again: conlink reconnects and wires its new run.
    let pid = |podman: &PodmanService, name: &str| {
        podman.run(&["inspect", "--format", "{{.State.Pid}}", name])
    };
    let pid_before = pid(&podman, &a);
    podman
        .restart_with(|podman| {
            podman.run(&["kill", "--signal", "KILL", &a]);
            podman.run(&["start", &a]);
        })
        .expect("the Podman service starts again");
    assert_ne!(pid(&podman, &a), pid_before);
    let log = run.wait_for(
        "following the engine's events again; comparing with its containers",
        1,
        WAIT,
    );
    assert!(
        log.contains("lost the engine's events") || log.contains("closed its event stream"),
        "{log}"
    );
    let log = run.wait_for(&format!("wired container:{a} ({a})"), 2, WAIT);
    assert!(
        !log.contains(&format!("cannot wire container:{a}")),
        "{log}"
    );
    run.wait_for("All links connected", 4, WAIT);
    assert_eq!(conlink_links(PROJECT), want);
    ping(&podman, &a, "10.9.6.2").unwrap();
    ping(&podman, &long, "10.9.6.1").unwrap();

    let log = run.terminate();

    eprintln!("{test}: conlink run's log:\n{log}");
    for name in [&a, &long] {
        let links = text(&exec(&podman, name, &["ip", "-o", "link"]).stdout);
        assert!(!links.contains("eth0"), "{name}: {links}");
    }
    assert_nothing_left(PROJECT);
}
