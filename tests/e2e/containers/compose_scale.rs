//! A scaled service and an "internet" service, with the network configuration in a
//! file of its own, wired by conlink as the `network` service: replicas beyond the
//! compose file's count are planned when they appear (same derived addresses), a
//! replica restarted at once is wired again, and scaling down removes the gone
//! replicas' bridge ports.

use super::lab::{compose_file, Lab};
use crate::e2e::text;
use std::time::Duration;

const NETWORK: &str = "links:
  - {service: node, bridge: s1, ip: 10.0.1.1/16}
  - {service: internet, bridge: s1, ip: 10.0.0.1/16}
";

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn scale_up_restart_and_scale_down_rewire_replicas() {
    let test = "e2e::containers::compose_scale::scale_up_restart_and_scale_down_rewire_replicas";
    let Some(lab) = Lab::start(test, "scalelab") else {
        return;
    };
    lab.write_file("network.yaml", NETWORK);
    lab.write(&compose_file(
        lab.dockerd.socket(),
        "  {}",
        &["--network-file", "/test/network.yaml"],
        &[("node", ""), ("internet", "")],
    ));
    lab.must(&["up", "-d", "--scale", "node=2"]);
    let log = lab.wait_log("network", "All links connected: 4 unit(s)", 1, WAIT);
    assert!(
        log.contains("planned again with internet=1, node=2"),
        "{log}"
    );
    lab.ping("node", 2, "10.0.0.1").unwrap();
    lab.ping("internet", 1, "10.0.1.2").unwrap();

    // Up to 5: replica 5 gets 10.0.1.5, as a plan for 5 replicas gives it.
    lab.must(&["up", "-d", "--scale", "node=5"]);
    lab.wait_log("network", "All links connected: 7 unit(s)", 1, WAIT);
    lab.ping("internet", 1, "10.0.1.5").unwrap();
    let addr = text(
        &lab.exec(
            "node",
            5,
            &["ip", "-4", "-o", "addr", "show", "dev", "eth0"],
        )
        .stdout,
    );
    assert!(addr.contains("10.0.1.5/16"), "{addr}");

    // Replica 3 restarted at once: unwired on its die, wired on its start.
    let id = lab.container_id("node", 3);
    lab.docker(&["restart", "--time", "0", &id]);
    let log = lab.wait_log("network", "wired service:node#3", 2, WAIT);
    assert!(log.contains("unwired service:node#3"), "{log}");
    lab.ping("internet", 1, "10.0.1.3").unwrap();

    // Down to 1: the other replicas' bridge ports go, and all that is left is wired.
    lab.must(&["up", "-d", "--scale", "node=1", "--timeout", "1"]);
    let log = lab.wait_log("network", "All links connected: 3 unit(s)", 1, WAIT);
    assert!(
        log.contains("planned again with internet=1, node=1"),
        "{log}"
    );
    let ports = text(
        &lab.exec("network", 1, &["ls", "/sys/class/net/s1/brif"])
            .stdout,
    );
    let ports: Vec<&str> = ports.split_whitespace().collect();
    assert_eq!(ports, vec!["internet_1-eth0", "node_1-eth0"], "{log}");
    lab.ping("node", 1, "10.0.0.1").unwrap();

    eprintln!(
        "{test}: the network service's log:\n{}",
        lab.logs("network")
    );
    lab.must(&["down", "--timeout", "1"]);
    lab.assert_nothing_left();
}
