//! Scenario 4: the bridge modes with conlink as the compose `network` service
//! (docs/configuration.md, "Bridges"). With `--default-bridge-mode linux`, a service
//! scaled to 2 and one other service share one bridge: a Linux bridge device with
//! the three outer ends as its ports. With `patch`, a bridge joins exactly two links,
//! so the topology is two services on one bridge: no bridge device, each outer end's
//! ingress redirected by tc to the other. The pings pass in each mode, and the kernel
//! in conlink's namespace shows what the mode says.
//!
//! A patch over the two replicas of one service is not in the language: a patch
//! bridge needs two links, and one link of a scaled service makes two ends. That
//! refusal is checked here too, with `conlink plan`.

use super::lab::{compose_file, Lab};
use super::scenario::{conlink_in_network, must_in_netns_of, ops, pid_of, plan_json, unit, units};
use crate::e2e::{show, text};
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

const SHARED: &str = "  links:
    - {service: node, bridge: s1, ip: 10.0.1.1/24}
    - {service: other, bridge: s1, ip: 10.0.1.100/24}";

const PATCHED: &str = "  links:
    - {service: left, bridge: w1, ip: 10.0.2.1/24}
    - {service: right, bridge: w1, ip: 10.0.2.2/24}";

#[test]
fn linux_and_patch_bridge_modes() {
    let test = "e2e::containers::compose_modes::linux_and_patch_bridge_modes";
    let Some(lab) = Lab::start(test, "modeslab") else {
        return;
    };

    // linux: one bridge device, three ports.
    lab.write(&compose_file(
        lab.dockerd.socket(),
        SHARED,
        &["--default-bridge-mode", "linux"],
        &[("node", "    scale: 2\n"), ("other", "")],
    ));
    let plan = plan_json(&lab, &["--default-bridge-mode", "linux"]);
    assert_eq!(plan["services"][0]["service"], "node", "{plan}");
    assert_eq!(plan["services"][0]["replicas"], 2, "{plan}");
    assert_eq!(plan["bridges"][0]["name"], "s1", "{plan}");
    assert_eq!(plan["bridges"][0]["mode"], "linux", "{plan}");
    assert!(
        units(&plan)
            .iter()
            .all(|u| ops(u, "redirect_add").is_empty()),
        "{plan}"
    );
    let bridge = ops(unit(&plan, "network"), "link_add");
    assert!(
        bridge
            .iter()
            .any(|op| op["name"] == "s1" && op["spec"]["type"] == "bridge"),
        "{plan}"
    );
    lab.must(&["up", "-d"]);
    let log = lab.wait_log(
        "network",
        "All links connected: 4 unit(s), 3 container(s)",
        1,
        WAIT,
    );
    for (from, index, to) in [
        ("other", 1, "10.0.1.1"),
        ("other", 1, "10.0.1.2"),
        ("node", 1, "10.0.1.2"),
        ("node", 2, "10.0.1.100"),
    ] {
        lab.ping(from, index, to)
            .unwrap_or_else(|e| panic!("linux: {from}#{index} -> {to}: {e}\n{log}"));
    }
    let conlink = pid_of(&lab, "network", 1);
    let s1 = must_in_netns_of(&conlink, &["ip", "-d", "-o", "link", "show", "s1"]);
    assert!(s1.contains(" bridge "), "{s1}");
    let ports = must_in_netns_of(&conlink, &["ip", "-o", "link", "show", "master", "s1"]);
    let mut names: Vec<&str> = ports
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n))
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["node_1-eth0", "node_2-eth0", "other_1-eth0"],
        "{ports}"
    );
    let filters = must_in_netns_of(
        &conlink,
        &["tc", "filter", "show", "dev", "node_1-eth0", "ingress"],
    );
    assert!(!filters.contains("mirred"), "{filters}");
    let (code, status) = conlink_in_network(&lab, &["--default-bridge-mode", "linux", "status"]);
    assert_eq!(code, Some(0), "{status}");
    for unit in ["service:node#1", "service:node#2", "service:other#1"] {
        assert!(
            status.contains(&format!("container  {unit}: wired")),
            "{status}"
        );
    }
    lab.must(&["down", "--timeout", "10"]);
    lab.assert_nothing_left();

    // patch: no bridge device; two tc redirects, one on each outer end.
    lab.write(&compose_file(
        lab.dockerd.socket(),
        PATCHED,
        &["--default-bridge-mode", "patch"],
        &[("left", ""), ("right", "")],
    ));
    let plan = plan_json(&lab, &["--default-bridge-mode", "patch"]);
    assert_eq!(plan["bridges"][0]["mode"], "patch", "{plan}");
    let patch = unit(&plan, "patch:w1");
    let redirects: Vec<(String, String)> = ops(patch, "redirect_add")
        .iter()
        .map(|op| (op["dev"].to_string(), op["to"].to_string()))
        .collect();
    assert_eq!(
        redirects,
        [
            ("\"left_1-eth0\"".into(), "\"right_1-eth0\"".into()),
            ("\"right_1-eth0\"".into(), "\"left_1-eth0\"".into())
        ],
        "{patch}"
    );
    assert!(
        units(&plan).iter().all(|u| ops(u, "link_add")
            .iter()
            .all(|op| op["spec"]["type"] != "bridge")),
        "{plan}"
    );
    lab.must(&["up", "-d"]);
    // network, left, right and the patch's own unit.
    let log = lab.wait_log(
        "network",
        "All links connected: 4 unit(s), 2 container(s)",
        1,
        WAIT,
    );
    lab.ping("left", 1, "10.0.2.2")
        .unwrap_or_else(|e| panic!("patch: left -> right: {e}\n{log}"));
    lab.ping("right", 1, "10.0.2.1")
        .unwrap_or_else(|e| panic!("patch: right -> left: {e}\n{log}"));
    let conlink = pid_of(&lab, "network", 1);
    let links = must_in_netns_of(&conlink, &["ip", "-d", "-o", "link"]);
    assert!(!links.contains(" w1:"), "{links}");
    assert!(!links.contains("bridge"), "{links}");
    for (from, to) in [
        ("left_1-eth0", "right_1-eth0"),
        ("right_1-eth0", "left_1-eth0"),
    ] {
        let filters = must_in_netns_of(&conlink, &["tc", "filter", "show", "dev", from, "ingress"]);
        assert!(
            filters.contains("mirred") && filters.contains(&format!("to device {to})")),
            "{from}: {filters}"
        );
    }
    let (code, status) = conlink_in_network(&lab, &["--default-bridge-mode", "patch", "status"]);
    assert_eq!(code, Some(0), "{status}");
    for unit in ["service:left#1", "service:right#1"] {
        assert!(
            status.contains(&format!("container  {unit}: wired")),
            "{status}"
        );
    }
    eprintln!(
        "{test}: the network service's log (patch):\n{}",
        lab.logs("network")
    );
    lab.must(&["down", "--timeout", "10"]);
    lab.assert_nothing_left();

    // A patch over the two replicas of one service: one link, refused when planning.
    let file = lab.write_file(
        "patch-replicas.yaml",
        "links:\n  - {service: node, bridge: w, ip: 10.0.3.1/24}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_conlink"))
        .args([
            "plan",
            "--project",
            "modeslab",
            "--default-bridge-mode",
            "patch",
        ])
        .args(["--scale", "node=2", "--network-file"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        said.contains("patch bridge `w` has 1 link(s); a patch joins exactly two"),
        "{said}"
    );
}
