//! Convergence: `apply` on a system that matches changes nothing and says so; after
//! manual changes `status` lists each difference and `apply` repairs only those.
//! Runs real kernel operations inside a test host namespace.

use compiler::plan::Plan;
use compiler::source::{SourceFile, SourceKind};
use runtime::apply::{apply, Hooks, Settings};
use runtime::resolve::ConlinkNs;
use runtime::status::{status, Difference};
use runtime::testing::{can_touch_kernel, unique, TempNetns};
use std::path::PathBuf;
use std::process::Command;

const CONFIG: &str = "
nodes:
  - {name: a, sysctls: {net.ipv4.ip_forward: 1}}
  - {name: b}
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: a, bridge: s1, ip: 10.20.0.1/24, mtu: 1400}
  - {node: b, bridge: s1, ip: 10.20.0.2/24, route: 10.30.0.0/16 via 10.20.0.1}
";

fn plan(project: &str) -> Plan {
    let files = vec![SourceFile::new("net.yaml", CONFIG, SourceKind::Network)];
    let opts = compiler::Options {
        project: Some(project.into()),
        ..Default::default()
    };
    let c = compiler::compile(files, &Default::default(), &opts);
    c.plan.expect("the test configuration compiles")
}

fn settings(name: &str) -> Settings {
    let state_dir = std::env::temp_dir().join(name);
    Settings {
        state_dir,
        netns_dir: runtime::netns::netns_dir(),
        conlink_ns: ConlinkNs::Own,
    }
}

/// `ip -n NS ARGS…`, which must succeed.
fn ip(ns: &str, args: &[&str]) {
    let out = Command::new("ip")
        .arg("-n")
        .arg(ns)
        .args(args)
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip -n {ns} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sysctl(ns: &str, key: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sysctl", "-n", key])
        .output()
        .expect("run sysctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn apply_converges_and_status_lists_each_difference() {
    if !can_touch_kernel("converge::apply_converges_and_status_lists_each_difference") {
        return;
    }
    let project = unique("cv").replace('-', "x");
    let plan = plan(&project);
    let s = settings(&format!("conlink-converge-{project}"));
    let host = TempNetns::new("cvhost").expect("test host namespace");
    let node_a = format!("conlink.{project}.a");
    let node_b = format!("conlink.{project}.b");
    let own = format!("conlink.{project}");

    let first = host
        .run(|| apply(&plan, &s, &Hooks::default()))
        .expect("first apply");
    assert!(first.executed > 0);
    assert_eq!(first.in_place, 0);

    // Again on a matching system: nothing to do.
    let again = host
        .run(|| apply(&plan, &s, &Hooks::default()))
        .expect("second apply");
    assert_eq!(again.executed, 0, "a matching system needs no change");
    assert_eq!(again.in_place, first.executed);
    let st = host.run(|| status(&plan, &s)).expect("status");
    assert!(st.differences.is_empty(), "{:?}", st.differences);

    // Manual changes: an address deleted, an interface down, an MTU changed, a
    // sysctl reset, an address added.
    ip(&node_a, &["addr", "del", "10.20.0.1/24", "dev", "eth0"]);
    ip(&node_b, &["link", "set", "eth0", "down"]);
    ip(&own, &["link", "set", "a-eth0", "mtu", "1300"]);
    ip(&node_b, &["addr", "add", "10.99.0.1/24", "dev", "eth0"]);
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &node_a,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=0",
        ])
        .status()
        .expect("sysctl");

    let st = host.run(|| status(&plan, &s)).expect("status");
    let text: Vec<String> = st.differences.iter().map(|d| d.to_string()).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(
        has("missing    node:a/") && has("ip addr add 10.20.0.1/24 dev eth0"),
        "{text:#?}"
    );
    assert!(has("state of eth0: planned up, found down"), "{text:#?}");
    assert!(has("mtu of a-eth0: planned 1400, found 1300"), "{text:#?}");
    assert!(has("sysctl -w net.ipv4.ip_forward=1"), "{text:#?}");
    assert!(
        has("extra      node:b: address 10.99.0.1/24 on eth0"),
        "{text:#?}"
    );
    // The route through b's eth0 went when it went down: missing too.
    assert!(has("ip route add 10.30.0.0/16 via 10.20.0.1"), "{text:#?}");
    assert!(
        st.differences
            .iter()
            .all(|d| !matches!(d, Difference::Foreign { .. })),
        "{text:#?}"
    );

    // apply repairs exactly those.
    let repair = host
        .run(|| apply(&plan, &s, &Hooks::default()))
        .expect("repairing apply");
    assert_eq!(
        repair.executed,
        st.differences.len(),
        "{repair:?} vs {text:#?}"
    );
    let st = host.run(|| status(&plan, &s)).expect("status");
    assert!(st.differences.is_empty(), "{:?}", st.differences);
    assert_eq!(sysctl(&node_a, "net.ipv4.ip_forward"), "1");

    let removed = host
        .run(|| runtime::destroy::destroy(&project, &s))
        .expect("destroy");
    assert!(removed.problems.is_empty(), "{:?}", removed.problems);
    let left: Vec<PathBuf> = std::fs::read_dir(runtime::netns::netns_dir())
        .expect("netns dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(&format!("conlink.{project}")))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let again = host
        .run(|| runtime::destroy::destroy(&project, &s))
        .expect("destroy again");
    assert!(again.nothing(), "destroy is idempotent: {again:?}");
}
