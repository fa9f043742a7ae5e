//! What the kernel reports after apply is what `conlink plan --format json` says:
//! MTUs, MACs, routes and ethtool features.

use super::*;

/// h's link sets everything explicitly: MTU, MAC, routes of every shape (default with
/// metric, a /32, another table, IPv6 with metric) and ethtool features both off and
/// on (gro is off by default on a veth, so `on` is a real change).
const CONFIG: &str = r#"
nodes:
  - name: r
  - name: h
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: r, bridge: s1, ip: [10.1.0.1/24, "fd00:1::1/64"]}
  - node: h
    bridge: s1
    ip: [10.1.0.2/24, "fd00:1::2/64"]
    mtu: 1400
    mac: 02:00:00:00:aa:01
    ethtool: ["-K tso off gso off", "--offload gro on"]
    route:
      - default via 10.1.0.1 metric 50
      - 10.9.0.0/16 via 10.1.0.1 metric 7
      - 10.8.0.1/32 via 10.1.0.1
      - 10.7.0.0/24 via 10.1.0.1 table 100
      - fd00:9::/64 via fd00:1::1 metric 20
"#;

#[test]
fn kernel_state_matches_the_plan() {
    if !can_run("e2e::readback", &["ethtool"]) {
        return;
    }
    let dir = TempDir::new("rb");
    let file = dir.write("network.yaml", CONFIG);
    let host = TestHost::new("rb");
    let mut p = Project::new(&host, "rb");
    p.apply(&file);
    p.assert_in_sync(&file);

    // Generic comparison: every link, route and ethtool feature of the plan.
    let plan = p.plan_json(&file);
    let checked = compare_with_plan(&p, &plan);
    // 2 veths x 2 ends; 2 planned MACs (the inner ends); 5 routes; tx (x2), tso, gso, gro.
    assert_eq!(
        (checked.mtus, checked.macs, checked.routes, checked.features),
        (4, 2, 5, 5),
        "the plan did not contain what the config asks for: {checked:?}"
    );

    // The same facts spelled out, so the test cannot pass by comparing nothing.
    let h = p.node("h");
    let eth0 = link_info(&h, "eth0");
    assert_eq!(eth0["mtu"], 1400);
    assert_eq!(eth0["address"], "02:00:00:00:aa:01");
    assert_eq!(link_info(&p.own_ns(), "h-eth0")["mtu"], 1400, "outer end");
    let v4 = must_in_ns(&h, &["ip", "route", "show", "table", "all"]);
    for r in [
        "default via 10.1.0.1 dev eth0 metric 50",
        "10.9.0.0/16 via 10.1.0.1 dev eth0 metric 7",
        "10.8.0.1 via 10.1.0.1 dev eth0",
        "10.7.0.0/24 via 10.1.0.1 dev eth0 table 100",
    ] {
        assert!(v4.contains(r), "missing route {r}:\n{v4}");
    }
    let v6 = must_in_ns(&h, &["ip", "-6", "route", "show"]);
    assert!(
        v6.contains("fd00:9::/64 via fd00:1::1 dev eth0 metric 20"),
        "{v6}"
    );
    let k = must_in_ns(&h, &["ethtool", "-k", "eth0"]);
    for f in [
        "tx-checksumming: off",
        "tcp-segmentation-offload: off",
        "generic-segmentation-offload: off",
        "generic-receive-offload: on",
    ] {
        assert!(k.lines().any(|l| l.starts_with(f)), "want {f}:\n{k}");
    }
    // r set no ethtool: only the default veth `tx off`.
    let kr = must_in_ns(&p.node("r"), &["ethtool", "-k", "eth0"]);
    assert!(kr.contains("tx-checksumming: off"), "{kr}");

    // The routes work: h reaches r over IPv4 and IPv6.
    assert_ping(&h, "10.1.0.1");
    assert_ping(&h, "fd00:1::1");

    p.destroy();
}

/// With `--keep-veth-offload` the plan has no `tx off` and the kernel keeps tx on.
#[test]
fn keep_veth_offload_leaves_tx_on() {
    if !can_run("e2e::readback::keep_offload", &["ethtool"]) {
        return;
    }
    let dir = TempDir::new("rbk");
    let file = dir.write("network.yaml", CONFIG);
    let host = TestHost::new("rbk");
    let mut p = Project::new(&host, "rbk").option("--keep-veth-offload");
    p.apply(&file);
    let checked = compare_with_plan(&p, &p.plan_json(&file));
    assert_eq!(checked.features, 3, "only h's own settings: {checked:?}");
    let kr = must_in_ns(&p.node("r"), &["ethtool", "-k", "eth0"]);
    assert!(kr.contains("tx-checksumming: on"), "{kr}");
    p.destroy();
}
