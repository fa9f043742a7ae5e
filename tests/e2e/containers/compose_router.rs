//! A router and three hosts as compose services, wired by conlink running as the
//! project's `network` service: pings in all directions through the router, the
//! readiness line once (all replicas wired), `status` and `apply` beside the run,
//! conlink's container killed and started again (every link rebuilt in its new
//! namespace), SIGTERM removing everything with exit 0, and `docker-compose down`
//! leaving nothing.

use super::lab::{compose_file, Lab};
use crate::e2e::text;
use std::time::{Duration, Instant};

const X_NETWORK: &str = "  links:
    - {service: r, dev: eth1, bridge: s1, ip: 10.0.1.1/24}
    - {service: r, dev: eth2, bridge: s2, ip: 10.0.2.1/24}
    - {service: h1, bridge: s1, ip: 10.0.1.10/24, route: default via 10.0.1.1}
    - {service: h2, bridge: s2, ip: 10.0.2.10/24, route: default via 10.0.2.1}
    - {service: h3, bridge: s2, ip: 10.0.2.11/24, route: default via 10.0.2.1}";

#[test]
fn router_and_hosts_as_services_ping_in_all_directions() {
    let test =
        "e2e::containers::compose_router::router_and_hosts_as_services_ping_in_all_directions";
    let Some(lab) = Lab::start(test, "routerlab") else {
        return;
    };
    lab.write(&compose_file(
        lab.dockerd.socket(),
        X_NETWORK,
        &[],
        &[
            ("r", "    sysctls: {net.ipv4.ip_forward: 1}\n"),
            ("h1", ""),
            ("h2", ""),
            ("h3", ""),
        ],
    ));
    lab.must(&["up", "-d"]);
    let log = lab.wait_log("network", "All links connected", 1, Duration::from_secs(60));
    // Once, after every replica is wired (2.x printed it after the first container).
    assert_eq!(log.matches("All links connected").count(), 1, "{log}");
    assert!(
        log.contains("All links connected: 5 unit(s), 4 container(s)"),
        "{log}"
    );

    let hosts = [
        ("h1", "10.0.1.10"),
        ("h2", "10.0.2.10"),
        ("h3", "10.0.2.11"),
    ];
    for (from, _) in hosts {
        for (to, addr) in hosts {
            if from != to {
                lab.ping(from, 1, addr).unwrap_or_else(|e| {
                    panic!("{from} -> {to} ({addr}): {e}\n{}", lab.logs("network"))
                });
            }
        }
        lab.ping(from, 1, "10.0.1.1").unwrap();
    }
    // The hosts' addresses and routes are the plan's.
    let addr = text(
        &lab.exec("h2", 1, &["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
            .stdout,
    );
    assert!(addr.contains("10.0.2.10/24"), "{addr}");
    let route = text(&lab.exec("h1", 1, &["ip", "route"]).stdout);
    assert!(route.contains("default via 10.0.1.1 dev eth0"), "{route}");

    // `status` inside the network service: in sync, exit 0 (its healthcheck).
    let status = lab.compose(&[
        "exec",
        "-T",
        "network",
        "conlink",
        "--ovs",
        "no",
        "status",
        "--compose-file",
        "/test/compose.yaml",
    ]);
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        crate::e2e::show(&status)
    );
    // `apply` from another process says that the run manages the project.
    let apply = lab.compose(&[
        "exec",
        "-T",
        "network",
        "conlink",
        "--ovs",
        "no",
        "apply",
        "--compose-file",
        "/test/compose.yaml",
    ]);
    // docker-compose 1.29's `exec -T` gives the program's stderr on its stdout.
    let said = text(&apply.stdout) + &text(&apply.stderr);
    assert_eq!(apply.status.code(), Some(1), "{said}");
    assert!(said.contains("managed by `conlink run`"), "{said}");

    // conlink's container killed (its namespace, the bridges and the outer ends go
    // with it, and so the hosts' ends) and started again: everything is rebuilt in
    // its new namespace.
    let id = lab.container_id("network", 1);
    lab.docker(&["kill", "--signal", "KILL", &id]);
    let gone = crate::e2e::poll(Duration::from_secs(10), || {
        let links = text(&lab.exec("h1", 1, &["ip", "-o", "link"]).stdout);
        (!links.contains("eth0")).then_some(())
    });
    assert!(gone.is_some(), "h1's end outlived conlink's namespace");
    lab.docker(&["start", &id]);
    let log = lab.wait_log("network", "All links connected", 2, Duration::from_secs(60));
    assert!(log.contains("applied: "), "{log}");
    for (from, _) in hosts {
        for (to, addr) in hosts {
            if from != to {
                lab.ping(from, 1, addr)
                    .unwrap_or_else(|e| panic!("after the restart: {from} -> {to}: {e}\n{log}"));
            }
        }
    }

    // SIGTERM (what `down` sends): everything removed, exit 0, within the stop timeout.
    let began = Instant::now();
    lab.must(&["stop", "--timeout", "10", "network"]);
    let took = began.elapsed();
    eprintln!(
        "{test}: the network service's log:\n{}",
        lab.docker_logs(&id)
    );
    let code = lab.docker(&["inspect", "-f", "{{.State.ExitCode}}", &id]);
    let log = lab.docker_logs(&id);
    assert_eq!(code.trim(), "0", "{log}");
    assert!(log.contains("stopping (SIGTERM)"), "{log}");
    eprintln!(
        "{test}: stopping the network service took {:.3} s",
        took.as_secs_f64()
    );
    // The hosts' links went with the outer ends in conlink's (now gone) namespace.
    let links = text(&lab.exec("h1", 1, &["ip", "-o", "link"]).stdout);
    assert!(!links.contains("eth0"), "{links}");

    lab.must(&["down", "--timeout", "10"]);
    lab.assert_nothing_left();
}
