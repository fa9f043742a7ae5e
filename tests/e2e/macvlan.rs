//! A macvlan link on a parent interface of the host (`outer-dev`): the node appears
//! on the parent's segment with an address and MAC of its own.

use super::*;

const CONFIG: &str = "
nodes:
  - name: m1
links:
  - node: m1
    type: macvlan
    mode: bridge
    outer-dev: par0
    dev: lan
    mac: 02:00:c6:33:64:0a
    ip: 198.51.100.10/24
";

#[test]
fn macvlan_on_a_veth_parent_is_reachable_from_the_segment() {
    if !can_run("e2e::macvlan", &["ping"]) {
        return;
    }
    let dir = TempDir::new("mv");
    let file = dir.write("network.yaml", CONFIG);
    let host = TestHost::new("mv");
    // The segment: the host's par0 — peer0 in another namespace (a neighbour).
    let lan = TestHost::new("mvlan");
    wire(&host, "par0", "", &lan, "peer0", "198.51.100.1/24");
    let mut p = Project::new(&host, "mv");
    p.apply(&file);
    p.assert_in_sync(&file);

    // The macvlan is in the node, on top of the host's par0, with the given MAC.
    let m1 = p.node("m1");
    let lan_dev = link_info(&m1, "lan");
    assert_eq!(lan_dev["linkinfo"]["info_kind"], "macvlan", "{lan_dev}");
    assert_eq!(
        lan_dev["linkinfo"]["info_data"]["mode"], "bridge",
        "{lan_dev}"
    );
    assert_eq!(lan_dev["address"], "02:00:c6:33:64:0a", "{lan_dev}");

    assert_ping(&lan.name, "198.51.100.10");
    assert_ping(&m1, "198.51.100.1");
    // The neighbour learnt the macvlan's own MAC, not the parent's.
    let neigh = must_in_ns(&lan.name, &["ip", "neigh", "show", "198.51.100.10"]);
    assert!(neigh.contains("02:00:c6:33:64:0a"), "{neigh}");

    p.destroy_without_state();
    // The parent was the host's, not conlink's: it survives teardown.
    let par0 = link_info(&host.name, "par0");
    assert_ne!(par0["ifalias"].as_str(), Some(p.mark().as_str()), "{par0}");
}
