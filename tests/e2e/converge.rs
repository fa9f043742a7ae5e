//! `apply` of a changed configuration: one run brings the system to the new plan
//! (docs/cli.md, "conlink apply": what is missing is created, what conlink made
//! and the plan no longer has is removed).

use super::*;

const BEFORE: &str = "
nodes:
  - name: internet
  - name: h1
  - name: h2
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: internet, bridge: s1, ip: [10.20.0.254/24, 10.30.0.254/24, 8.8.8.8/32]}
  - {node: h1, bridge: s1, ip: 10.20.0.1/24, route: default via 10.20.0.254}
  - {node: h2, bridge: s1, ip: 10.20.0.2/24}
";

/// h2 is gone; h1 moved to another subnet, with another MTU and route.
const AFTER_OTHER_SUBNET: &str = "
nodes:
  - name: internet
  - name: h1
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: internet, bridge: s1, ip: [10.20.0.254/24, 10.30.0.254/24, 8.8.8.8/32]}
  - {node: h1, bridge: s1, ip: 10.30.0.1/24, mtu: 1400, route: 8.8.8.8/32 via 10.30.0.254}
";

/// Only h1's address changes, within its subnet.
const AFTER_SAME_SUBNET: &str = "
nodes:
  - name: internet
  - name: h1
  - name: h2
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: internet, bridge: s1, ip: [10.20.0.254/24, 10.30.0.254/24, 8.8.8.8/32]}
  - {node: h1, bridge: s1, ip: 10.20.0.7/24, route: default via 10.20.0.254}
  - {node: h2, bridge: s1, ip: 10.20.0.2/24}
";

/// The IPv4 addresses (CIDR) on `dev` in `ns`.
fn ipv4_addrs(ns: &str, dev: &str) -> Vec<String> {
    let out = must_in_ns(ns, &["ip", "-j", "-4", "addr", "show", "dev", dev]);
    let v: Value = serde_json::from_str(&out).expect("ip -j addr");
    v[0]["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!("{}/{}", a["local"].as_str().expect("local"), a["prefixlen"]))
        .collect()
}

#[test]
fn changed_config_converges_in_one_apply() {
    if !can_run("e2e::converge::other_subnet", &["ping"]) {
        return;
    }
    let dir = TempDir::new("cv");
    let before = dir.write("before.yaml", BEFORE);
    let after = dir.write("after.yaml", AFTER_OTHER_SUBNET);
    let host = TestHost::new("cv");
    let mut p = Project::new(&host, "cv");
    p.apply(&before);
    assert_ping(&p.node("h1"), "8.8.8.8");
    let h2 = p.node("h2");

    p.apply(&after);
    p.assert_in_sync(&after);
    // The removed node and its outer interface are gone ...
    assert!(!Path::new("/run/netns").join(&h2).exists(), "{h2} left");
    assert!(!in_ns(&p.own_ns(), &["ip", "link", "show", "h2-eth0"])
        .status
        .success());
    // ... h1 has exactly its new address, MTU and route, and they work.
    let h1 = p.node("h1");
    assert_eq!(ipv4_addrs(&h1, "eth0"), ["10.30.0.1/24"]);
    assert_eq!(link_info(&h1, "eth0")["mtu"], 1400);
    assert_eq!(link_info(&p.own_ns(), "h1-eth0")["mtu"], 1400);
    // (The old default route stays: see `a_removed_route_is_removed`.)
    assert_ping(&h1, "8.8.8.8");
    compare_with_plan(&p, &p.plan_json(&after));

    p.destroy();
}

/// Changing an address within its subnet: the new address is added as a secondary of
/// the old one, and removing the old (primary) one afterwards takes the new one and
/// its routes with it (promote_secondaries is 0 in a new namespace).
#[test]
fn changed_address_in_the_same_subnet_converges_in_one_apply() {
    if !can_run("e2e::converge::same_subnet", &["ping"]) {
        return;
    }
    let dir = TempDir::new("cvs");
    let before = dir.write("before.yaml", BEFORE);
    let after = dir.write("after.yaml", AFTER_SAME_SUBNET);
    let host = TestHost::new("cvs");
    let mut p = Project::new(&host, "cvs");
    p.apply(&before);
    p.apply(&after);
    let h1 = p.node("h1");
    assert_eq!(ipv4_addrs(&h1, "eth0"), ["10.20.0.7/24"]);
    p.assert_in_sync(&after);
    assert_ping(&h1, "8.8.8.8");
    p.destroy();
}

/// A route dropped from the configuration: `status` reports it as extra and `apply`
/// removes it (docs/cli.md, "conlink status" and "conlink apply").
#[test]
fn a_removed_route_is_removed() {
    if !can_run("e2e::converge::route", &[]) {
        return;
    }
    let dir = TempDir::new("cvr");
    let with = dir.write(
        "with.yaml",
        "nodes: [{name: h1}]\nlinks: [{node: h1, bridge: s1, ip: 10.20.0.1/24, route: 10.99.0.0/16 via 10.20.0.254}]\n",
    );
    let without = dir.write(
        "without.yaml",
        "nodes: [{name: h1}]\nlinks: [{node: h1, bridge: s1, ip: 10.20.0.1/24}]\n",
    );
    let host = TestHost::new("cvr");
    let mut p = Project::new(&host, "cvr");
    p.apply(&with);
    let out = p.status(&without);
    assert_eq!(
        out.status.code(),
        Some(1),
        "status misses the extra route: {}",
        show(&out)
    );
    assert!(text(&out.stdout).contains("10.99.0.0/16"), "{}", show(&out));
    p.apply(&without);
    let routes = must_in_ns(&p.node("h1"), &["ip", "route"]);
    assert!(
        !routes.contains("10.99.0.0/16"),
        "dropped route left: {routes}"
    );
    p.assert_in_sync(&without);
    p.destroy();
}
