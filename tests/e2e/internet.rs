//! An "internet" node: one switch, two hosts, and a node that holds a public address
//! besides its switch address; the hosts reach that address through it.

use super::*;

/// h1 routes everything through the internet node, h2 only 8.8.8.8/32. (This kernel
/// has no dummy interfaces, so 8.8.8.8 is a second address on the node's link.)
const CONFIG: &str = "
nodes:
  - name: internet
  - name: h1
  - name: h2
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: internet, bridge: s1, ip: [10.20.0.254/24, 8.8.8.8/32]}
  - {node: h1, bridge: s1, ip: 10.20.0.1/24, route: default via 10.20.0.254}
  - {node: h2, bridge: s1, ip: 10.20.0.2/24, route: 8.8.8.8/32 via 10.20.0.254}
";

#[test]
fn internet_node_answers_for_its_public_address() {
    if !can_run("e2e::internet", &["ping"]) {
        return;
    }
    let dir = TempDir::new("inet");
    let file = dir.write("network.yaml", CONFIG);
    let host = TestHost::new("inet");
    let mut p = Project::new(&host, "inet");
    p.apply(&file);
    p.assert_in_sync(&file);

    for h in ["h1", "h2"] {
        // The route conlink added sends 8.8.8.8 to the internet node ...
        let route = must_in_ns(&p.node(h), &["ip", "route", "get", "8.8.8.8"]);
        assert!(route.contains("via 10.20.0.254"), "{h}: {route}");
        // ... which answers from that address.
        assert_ping(&p.node(h), "8.8.8.8");
        let out = ping_once(&p.node(h), "8.8.8.8");
        assert!(text(&out.stdout).contains("from 8.8.8.8"), "{}", show(&out));
    }
    // h2 has no default route: anything else is unreachable (the route is specific).
    assert_no_ping(&p.node("h2"), "8.8.4.4");

    // Teardown must not need the state file: the ownership marks suffice.
    p.destroy_without_state();
}
