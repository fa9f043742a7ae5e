//! examples/patch: a `patch` bridge joins two outer veth ends with tc ingress
//! redirects (no bridge device), so every frame passes, even those a Linux bridge
//! keeps to itself.

use super::*;

/// An LLDP frame (to the nearest-bridge group address, which bridges never forward).
fn lldp_frame() -> Vec<u8> {
    let mut f = vec![0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]; // destination
    f.extend([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]); // source
    f.extend([0x88, 0xcc]); // ethertype LLDP
    f.resize(60, 0); // minimum frame size
    f
}

#[test]
fn patch_example_wires_two_nodes_back_to_back() {
    if !can_run("e2e::patch", &["ping", "tc", "tcpdump", "socat"]) {
        return;
    }
    let file = example("patch/network.yaml");
    let host = TestHost::new("patch");
    let mut p = Project::new(&host, "patch");
    p.apply(&file);
    p.assert_in_sync(&file);
    let own = p.own_ns();

    // Traffic passes the patch both ways, IPv4 and IPv6 (DAD: assert_ping polls).
    assert_ping(&p.node("sw1"), "10.10.0.2");
    assert_ping(&p.node("sw2"), "10.10.0.1");
    assert_ping(&p.node("sw1"), "fd00:10::2");
    // And the management network through the ordinary bridge.
    assert_ping(&p.node("sw2"), "10.99.0.1");

    // The patch is tc, not a bridge: no device p1, the outer ends have no master, and
    // each one's ingress redirects to the other.
    assert!(!in_ns(&own, &["ip", "link", "show", "p1"]).status.success());
    for (dev, other) in [("sw1-eth0", "sw2-eth0"), ("sw2-eth0", "sw1-eth0")] {
        assert!(link_info(&own, dev)["master"].is_null(), "{dev} enslaved");
        let filters = must("tc", &["-n", &own, "filter", "show", "dev", dev, "ingress"]);
        let want = format!("mirred (Egress Redirect to device {other})");
        assert!(filters.contains(&want), "{dev} ingress: {filters}");
    }

    // Transparency: an LLDP frame crosses the patch, but not the Linux bridge s1.
    let frame = lldp_frame();
    let through_patch = capture_one(
        &p.node("sw2"),
        "eth0",
        "ether proto 0x88cc",
        Duration::from_secs(5),
        || send_frame(&p.node("sw1"), "eth0", &frame),
    );
    assert!(
        through_patch.is_some(),
        "LLDP frame did not cross the patch"
    );
    let through_bridge = capture_one(
        &p.node("sw2"),
        "mgmt",
        "ether proto 0x88cc",
        Duration::from_secs(1),
        || send_frame(&p.node("sw1"), "mgmt", &frame),
    );
    assert!(
        through_bridge.is_none(),
        "a Linux bridge forwarded LLDP, so the patch check above proves nothing: {through_bridge:?}"
    );

    p.destroy_without_state();
}
