//! The drop-in upgrade from conlink 2.x (docs/migration.md): a compose file written
//! the way 2.x users write theirs runs with conlink's image after changing one line,
//! the `network` service's `image:`. Everything else stays: 2.x's command
//! (`/app/build/conlink.js --compose-file …`), `pid: host`, `network_mode: none`, the
//! five capabilities, `apparmor:unconfined`, and the host paths `/var/run/docker.sock`
//! and `/var/lib/docker` mounted as they are (the lab's daemon has both, in a mount
//! namespace of its own: `Lab::start_at_usual_paths`). The services wait the 2.x way,
//! for the `network` service's `All links connected` line; then the pings a 2.x user
//! checks pass, through a router, between replicas, to the router, and a command of
//! the configuration has run in its container. `docker-compose stop` ends conlink
//! with exit 0, and after `down` nothing is left.

use super::lab::{Lab, CONLINK_IMAGE};
use crate::e2e::{show, text};
use runtime::engine_harness::BUSYBOX_IMAGE;
use std::time::Duration;

/// The file as a 2.x user has it (written for this test; its services run the test's
/// busybox image). Only [`IMAGE_2X`] changes.
const ORIGINAL_2X: &str = r#"version: "2.4"

services:
  network:
    image: lonocloud/conlink:latest
    pid: host
    network_mode: none
    cap_add: [SYS_ADMIN, NET_ADMIN, SYS_NICE, NET_BROADCAST, IPC_LOCK]
    security_opt: [ 'apparmor:unconfined' ]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /var/lib/docker:/var/lib/docker
      - ./:/test
    command: /app/build/conlink.js --compose-file /test/compose.yaml

  router:
    image: conlink-test/busybox:latest
    network_mode: none
    sysctls:
      - net.ipv4.ip_forward=1
    command: sleep 864000
    x-network:
      links:
        - {bridge: lan1, dev: eth0, ip: 10.0.1.100/24}
        - {bridge: lan2, dev: eth1, ip: 10.0.2.100/24}

  node1:
    image: conlink-test/busybox:latest
    network_mode: none
    scale: 2
    command: sleep 864000
    x-network:
      links:
        - {bridge: lan1, ip: 10.0.1.1/24, route: "default via 10.0.1.100"}

  node2:
    image: conlink-test/busybox:latest
    network_mode: none
    command: sleep 864000

x-network:
  links:
    - {service: node2, bridge: lan2, ip: 10.0.2.1/24, route: "default via 10.0.2.100"}
  commands:
    - {service: node2, command: "ip -o addr show dev eth0 > /tmp/addresses"}
"#;

/// The one line a 2.x user changes.
const IMAGE_2X: &str = "    image: lonocloud/conlink:latest";

/// The file with conlink's image: [`ORIGINAL_2X`] with [`IMAGE_2X`] replaced.
fn upgraded() -> String {
    let ours = format!("    image: {CONLINK_IMAGE}");
    let upgraded = ORIGINAL_2X.replace(IMAGE_2X, &ours);
    // One line differs, and it is that one.
    let original: Vec<&str> = ORIGINAL_2X.lines().collect();
    let changed: Vec<&str> = upgraded.lines().collect();
    assert_eq!(original.len(), changed.len());
    let differing: Vec<(&str, &str)> = original
        .iter()
        .zip(&changed)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(differing, vec![(IMAGE_2X, ours.as_str())]);
    upgraded
}

#[test]
fn a_2x_compose_file_runs_after_changing_its_image_line() {
    let test = "e2e::containers::dropin_2x::a_2x_compose_file_runs_after_changing_its_image_line";
    // The services' image in the file is the lab's busybox.
    assert_eq!(BUSYBOX_IMAGE, "conlink-test/busybox:latest");
    let file = upgraded();
    let Some(lab) = Lab::start_at_usual_paths(test, "dropin") else {
        return;
    };
    lab.write(&file);
    lab.must(&["up", "-d"]);

    // 2.x's readiness line, once every replica is wired.
    let log = lab.wait_log("network", "All links connected", 1, Duration::from_secs(60));
    assert!(
        log.contains("All links connected: 5 unit(s), 4 container(s)"),
        "{log}"
    );
    // conlink's defaults in its container, as 2.x's were: the usual socket, its own
    // container's project, Linux bridges in the network service's namespace.
    assert!(log.contains("/var/run/docker.sock"), "{log}");
    assert!(log.contains("project dropin"), "{log}");
    assert!(log.contains("the one it runs in"), "{log}");

    let pings = [
        ("node1", 1, "10.0.1.2", "a replica to the other"),
        ("node1", 2, "10.0.1.100", "a replica to the router"),
        ("node1", 1, "10.0.2.1", "through the router"),
        ("node2", 1, "10.0.1.2", "back through the router"),
        ("router", 1, "10.0.2.1", "the router to lan2"),
    ];
    for (from, index, to, what) in pings {
        lab.ping(from, index, to).unwrap_or_else(|e| {
            panic!(
                "{what}: {from}#{index} → {to}: {e}\n{}",
                lab.logs("network")
            )
        });
    }
    // The command ran in node2 (through the engine's exec) once its link was up.
    let ran = crate::e2e::poll(Duration::from_secs(20), || {
        let out = lab.exec("node2", 1, &["cat", "/tmp/addresses"]);
        out.status.success().then(|| text(&out.stdout))
    })
    .unwrap_or_else(|| panic!("node2's command did not run:\n{}", lab.logs("network")));
    assert!(ran.contains("10.0.2.1/24"), "{ran}");

    // 2.x's --show-config, through 2.x's command, in the running service.
    let shown = lab.exec(
        "network",
        1,
        &[
            "/app/build/conlink.js",
            "--show-config",
            "--compose-file",
            "/test/compose.yaml",
        ],
    );
    assert!(shown.status.success(), "{}", show(&shown));
    let config: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!(
        config["links"].as_array().map(Vec::len),
        Some(4),
        "{config}"
    );

    // `docker-compose stop`: conlink removes what it made and exits 0.
    let network = lab.container_id("network", 1);
    lab.must(&["stop", "network"]);
    let code = lab.docker(&["inspect", "-f", "{{.State.ExitCode}}", &network]);
    let said = lab.docker_logs(&network);
    assert_eq!(code.trim(), "0", "{said}");
    assert!(said.contains("stopping (SIGTERM)"), "{said}");
    assert!(said.contains("removed "), "{said}");

    lab.must(&["down", "--timeout", "10"]);
    let left = lab.docker(&["ps", "--all", "--quiet"]);
    assert!(left.trim().is_empty(), "containers left: {left}");
    lab.assert_nothing_left();
}
