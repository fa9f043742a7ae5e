//! Convergence: `apply` on a system that matches changes nothing and says so; after
//! manual changes `status` lists each difference and `apply` repairs only those.
//! Runs real kernel operations inside a test host namespace.

use compiler::plan::Plan;
use compiler::source::{SourceFile, SourceKind};
use runtime::apply::{apply, Hooks};
use runtime::context::{Context, Settings};
use runtime::destroy::remove_unit;
use runtime::differences::Difference;
use runtime::lock::Wait;
use runtime::progress::Quiet;
use runtime::resolve::ConlinkNs;
use runtime::status::status;
use runtime::testing::{can_touch_kernel, unique, TempDir, TempNetns};
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

/// Settings with a state directory that is removed when the returned guard drops.
fn settings(name: &str) -> (Settings, TempDir) {
    let dir = TempDir::new(name);
    let settings = Settings {
        state_dir: dir.path().to_path_buf(),
        netns_dir: runtime::netns::netns_dir(),
        conlink_ns: ConlinkNs::Own,
        wait: Wait::Yes,
        containers: None,
    };
    (settings, dir)
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
    let (s, _dir) = settings(&format!("conlink-converge-{project}"));
    let host = TempNetns::new("cvhost").expect("test host namespace");
    let node_a = format!("conlink.{project}.a");
    let node_b = format!("conlink.{project}.b");
    let own = format!("conlink.{project}");

    let first = host
        .run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("first apply");
    assert!(first.executed > 0);
    assert_eq!(first.in_place, 0);

    // Again on a matching system: nothing to do.
    let again = host
        .run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("second apply");
    assert_eq!(again.executed, 0, "a matching system needs no change");
    assert_eq!(again.in_place, first.executed);
    let st = host.run(|| status(&plan, &s, &mut Quiet)).expect("status");
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

    let st = host.run(|| status(&plan, &s, &mut Quiet)).expect("status");
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
        .run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("repairing apply");
    assert_eq!(
        repair.executed,
        st.differences.len(),
        "{repair:?} vs {text:#?}"
    );
    let st = host.run(|| status(&plan, &s, &mut Quiet)).expect("status");
    assert!(st.differences.is_empty(), "{:?}", st.differences);
    assert_eq!(sysctl(&node_a, "net.ipv4.ip_forward"), "1");

    let removed = host
        .run(|| runtime::destroy::destroy(&project, &s, &mut Quiet))
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
        .run(|| runtime::destroy::destroy(&project, &s, &mut Quiet))
        .expect("destroy again");
    assert!(again.nothing(), "destroy is idempotent: {again:?}");
}

/// One unit removed on its own (what `run` does when a container dies) takes exactly
/// its objects and its records with it; the next `apply` puts back only that unit.
#[test]
fn removing_one_unit_undoes_its_steps_and_nothing_else() {
    if !can_touch_kernel("converge::removing_one_unit_undoes_its_steps_and_nothing_else") {
        return;
    }
    let project = unique("ru").replace('-', "x");
    let plan = plan(&project);
    let (s, _dir) = settings(&format!("conlink-unit-{project}"));
    let host = TempNetns::new("ruhost").expect("test host namespace");
    let (own, node_a, node_b) = (
        format!("conlink.{project}"),
        format!("conlink.{project}.a"),
        format!("conlink.{project}.b"),
    );
    host.run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("apply");
    let links = |ns: &str| {
        let out = Command::new("ip")
            .args(["-n", ns, "-o", "link", "show"])
            .output()
            .expect("ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(links(&own).contains(" b-eth0@"), "{}", links(&own));
    assert!(links(&node_b).contains(" eth0@"), "{}", links(&node_b));
    let unit_b = plan.units.iter().find(|u| u.id == "node:b").expect("unit");

    let mut st = runtime::state::load(&s.state_dir, &project)
        .expect("state")
        .expect("a state file after apply");
    let recorded = st.steps.len();
    let problems = host.run(|| {
        let mut cx = Context::new(&plan.project, &plan.mark, plan.group, &s).expect("context");
        remove_unit(&mut cx, &mut st, "node:b")
    });
    assert!(problems.is_empty(), "{problems:?}");
    runtime::state::save(&s.state_dir, &st).expect("save state");
    assert!(st.steps.iter().all(|r| !r.id.starts_with("node:b/")));
    assert!(st.steps.iter().any(|r| r.id.starts_with("node:a/")));
    assert!(st.steps.len() < recorded);
    // b's link is gone from both ends; a's is untouched.
    assert!(!links(&own).contains(" b-eth0@"), "{}", links(&own));
    assert!(!links(&node_b).contains(" eth0@"), "{}", links(&node_b));
    assert!(links(&own).contains(" a-eth0@"), "{}", links(&own));
    assert!(links(&node_a).contains(" eth0@"), "{}", links(&node_a));

    // status misses exactly the unit's steps.
    let found = host.run(|| status(&plan, &s, &mut Quiet)).expect("status");
    let text: Vec<String> = found.differences.iter().map(|d| d.to_string()).collect();
    assert!(!text.is_empty());
    assert!(
        text.iter().all(|t| t.starts_with("missing    node:b/")),
        "{text:#?}"
    );
    // apply puts back that unit's steps, and only them.
    let again = host
        .run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("apply again");
    assert_eq!(again.executed, found.differences.len(), "{again:?}");
    assert!(again.executed <= unit_b.steps.len(), "{again:?}");
    let found = host.run(|| status(&plan, &s, &mut Quiet)).expect("status");
    assert!(found.differences.is_empty(), "{:?}", found.differences);

    let removed = host
        .run(|| runtime::destroy::destroy(&project, &s, &mut Quiet))
        .expect("destroy");
    assert!(removed.problems.is_empty(), "{:?}", removed.problems);
}

/// A namespace pinned under conlink's name that conlink did not create (no ownership
/// mark on its loopback) is never adopted, and `destroy` leaves it alone.
#[test]
fn a_foreign_namespace_with_a_planned_name_is_never_adopted_or_removed() {
    if !can_touch_kernel("converge::a_foreign_namespace_with_a_planned_name") {
        return;
    }
    let project = unique("fo");
    let plan = plan(&project);
    let (s, _dir) = settings(&format!("conlink-foreign-{project}"));
    let host = TempNetns::new("fohost").expect("test host namespace");
    let foreign = format!("conlink.{project}.b");
    let made = Command::new("ip")
        .args(["netns", "add", &foreign])
        .status()
        .expect("ip netns add");
    assert!(made.success());

    let err = host
        .run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect_err("apply must refuse the foreign namespace");
    let text = err.to_string();
    assert!(text.contains("is not conlink's"), "{text}");
    assert!(text.contains("node:b"), "{text}");
    // Rolled back: nothing of the project but the foreign namespace.
    let ours: Vec<String> = std::fs::read_dir(runtime::netns::netns_dir())
        .expect("netns dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("conlink.{project}")))
        .collect();
    assert_eq!(ours, std::slice::from_ref(&foreign));

    let removed = host
        .run(|| runtime::destroy::destroy(&project, &s, &mut Quiet))
        .expect("destroy");
    assert!(removed.nothing(), "{removed:?}");
    assert!(
        runtime::netns::netns_dir().join(&foreign).exists(),
        "destroy removed a namespace it did not create"
    );
    Command::new("ip")
        .args(["netns", "del", &foreign])
        .status()
        .expect("ip netns del");
}

/// Routes in every form the configuration accepts (docs/configuration.md, "String
/// languages: route, netem, ethtool") read back from the kernel as planned.
#[test]
fn routes_in_every_form_read_back() {
    if !can_touch_kernel("converge::routes_in_every_form_read_back") {
        return;
    }
    let project = unique("rt");
    let config = "
nodes: [{name: a}]
bridges: [{bridge: s1, mode: linux}]
links:
  - node: a
    bridge: s1
    ip: [10.40.0.1/24, fd00:40::1/64]
    route:
      - default via 10.40.0.254 metric 20
      - 10.41.0.0/16 via 10.40.0.254 src 10.40.0.1 proto static
      - 10.42.0.0/16 scope link
      - 10.43.0.0/16 via 10.40.0.253 table 100
      - 10.44.0.0/16 via 192.0.2.1 onlink
      - fd00:41::/64 via fd00:40::254 metric 300
";
    let files = vec![SourceFile::new("net.yaml", config, SourceKind::Network)];
    let opts = compiler::Options {
        project: Some(project.clone()),
        ..Default::default()
    };
    let c = compiler::compile(files, &Default::default(), &opts);
    let plan = c.plan.expect("the route configuration compiles");
    let (s, _dir) = settings(&format!("conlink-routes-{project}"));
    let host = TempNetns::new("rthost").expect("test host namespace");
    host.run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("apply");
    let node = format!("conlink.{project}.a");
    let show = |args: &[&str]| {
        let out = Command::new("ip")
            .arg("-n")
            .arg(&node)
            .args(args)
            .output()
            .expect("ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let v4 = show(&["-4", "route", "show", "table", "all"]);
    let v6 = show(&["-6", "route", "show"]);
    for want in [
        "default via 10.40.0.254 dev eth0 metric 20",
        "10.41.0.0/16 via 10.40.0.254 dev eth0 proto static src 10.40.0.1",
        "10.42.0.0/16 dev eth0 scope link",
        "10.43.0.0/16 via 10.40.0.253 dev eth0 table 100",
        "10.44.0.0/16 via 192.0.2.1 dev eth0 onlink",
    ] {
        assert!(
            v4.lines().any(|l| l.trim_end().starts_with(want)),
            "missing {want:?} in\n{v4}"
        );
    }
    assert!(
        v6.contains("fd00:41::/64 via fd00:40::254 dev eth0 metric 300"),
        "{v6}"
    );
    // In place on a second run, and status agrees.
    let again = host
        .run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("apply again");
    assert_eq!(again.executed, 0);
    let st = host.run(|| status(&plan, &s, &mut Quiet)).expect("status");
    assert!(st.differences.is_empty(), "{:?}", st.differences);
    let removed = host
        .run(|| runtime::destroy::destroy(&project, &s, &mut Quiet))
        .expect("destroy");
    assert!(removed.problems.is_empty(), "{:?}", removed.problems);
}
