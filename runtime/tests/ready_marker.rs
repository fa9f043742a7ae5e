//! The ready marker (docs/plan.md, "Units") in the kernel: the altname step is carried
//! out, found in place, repaired and undone like any other step.
//!
//! This runtime reaches no container yet (their units wait), so the tests give a
//! node's unit the step a container's unit ends with. Nothing in the runtime depends on
//! the kind of a step's unit: a step runs in its namespace, whatever that is.
//!
//! Each test works in a test host namespace of its own ([`TempNetns`]) under a project
//! name of its own, and removes everything, its state directory included.

use compiler::plan::{ready_altname, Ns, Op, Plan, Step};
use compiler::source::{SourceFile, SourceKind};
use runtime::apply::{apply, ApplyError, Hooks};
use runtime::context::Settings;
use runtime::lock::Wait;
use runtime::progress::Quiet;
use runtime::resolve::ConlinkNs;
use runtime::status::status;
use runtime::testing::{can_touch_kernel, unique, TempNetns};
use serde_json::Value;
use std::process::Command;

/// Node `a` stands in for a container with two links; `b` is its peer.
const CONFIG: &str = "
nodes: [{name: a}, {name: b}]
bridges: [{bridge: s1, mode: linux}]
links:
  - {node: a, bridge: s1, dev: eth0, ip: 10.40.0.1/24}
  - {node: a, bridge: s1, dev: eth1}
  - {node: b, bridge: s1, ip: 10.40.0.2/24}
";

/// One test's project: its plan, settings, host and namespaces; removes it all when
/// dropped.
struct World {
    project: String,
    plan: Plan,
    settings: Settings,
    host: TempNetns,
    /// Node a's pinned namespace.
    node_a: String,
}

impl World {
    fn new(prefix: &str) -> World {
        let project = unique(prefix);
        let files = vec![SourceFile::new("net.yaml", CONFIG, SourceKind::Network)];
        let opts = compiler::Options {
            project: Some(project.clone()),
            ..Default::default()
        };
        let c = compiler::compile(files, &Default::default(), &opts);
        let plan = c.plan.expect("the test configuration compiles");
        let settings = Settings {
            state_dir: std::env::temp_dir().join(format!("conlink-ready-{project}")),
            netns_dir: runtime::netns::netns_dir(),
            conlink_ns: ConlinkNs::Own,
            wait: Wait::Yes,
            containers: None,
        };
        World {
            node_a: format!("conlink.{project}.a"),
            project,
            plan,
            settings,
            host: TempNetns::new(&format!("{prefix}host")).expect("test host namespace"),
        }
    }

    fn marker(&self) -> String {
        ready_altname(&self.project)
    }

    /// The plan with `ops` appended to node a's unit, as the lowering appends the
    /// marker to a container's.
    fn plan_with(&self, ops: &[Op]) -> Plan {
        let mut plan = self.plan.clone();
        let unit = plan
            .units
            .iter_mut()
            .find(|u| u.id == "node:a")
            .expect("node a's unit");
        let ns = Ns::Node("a".into());
        for op in ops {
            let id = format!("{}/{}", unit.id, unit.steps.len());
            unit.steps.push(Step {
                id,
                ns: ns.clone(),
                undo: op.inverse(),
                op: op.clone(),
            });
        }
        plan
    }

    fn marker_on(&self, dev: &str) -> Op {
        Op::AltnameAdd {
            dev: dev.into(),
            altname: self.marker(),
        }
    }

    fn apply(&self, plan: &Plan, hooks: &Hooks) -> Result<runtime::apply::Report, ApplyError> {
        self.host
            .run(|| apply(plan, &self.settings, hooks, &mut Quiet))
    }

    /// `status`'s differences, as text.
    fn differences(&self, plan: &Plan) -> Vec<String> {
        let st = self
            .host
            .run(|| status(plan, &self.settings, &mut Quiet))
            .expect("status");
        st.differences.iter().map(|d| d.to_string()).collect()
    }

    /// The altnames of `dev` in node a, as `ip` reads them.
    fn altnames(&self, dev: &str) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-j", "-n", &self.node_a, "link", "show", "dev", dev])
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip link show {dev}: {out:?}");
        let links: Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
        links[0]["altnames"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `ip -n NODE_A link property ACTION dev DEV altname MARKER`.
    fn property(&self, action: &str, dev: &str) {
        let marker = self.marker();
        let args = ["-n", &self.node_a, "link", "property", action, "dev", dev];
        let out = Command::new("ip")
            .args(args)
            .args(["altname", &marker])
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip {args:?}: {out:?}");
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self
            .host
            .run(|| runtime::destroy::destroy(&self.project, &self.settings, &mut Quiet));
        let _ = std::fs::remove_dir_all(&self.settings.state_dir);
    }
}

#[test]
fn the_marker_is_applied_found_in_place_and_repaired() {
    if !can_touch_kernel("ready_marker::the_marker_is_applied_found_in_place_and_repaired") {
        return;
    }
    let w = World::new("rm");
    let plan = w.plan_with(&[w.marker_on("eth0")]);
    let marker = w.marker();

    let first = w.apply(&plan, &Hooks::default()).expect("apply");
    assert_eq!(w.altnames("eth0"), std::slice::from_ref(&marker));
    assert!(w.altnames("eth1").is_empty());
    // Again: nothing to do, and status agrees.
    let again = w.apply(&plan, &Hooks::default()).expect("apply again");
    assert_eq!((again.executed, again.in_place), (0, first.executed));
    assert_eq!(w.differences(&plan), Vec::<String>::new());

    // Moved to the other interface: a difference that apply repairs by moving it back.
    w.property("del", "eth0");
    w.property("add", "eth1");
    let found = w.differences(&plan);
    let unit = plan.units.iter().find(|u| u.id == "node:a").unwrap();
    let id = &unit.steps.last().unwrap().id;
    assert_eq!(
        found,
        [format!(
            "different  {id}: altname {marker}: planned on eth0, found on eth1"
        )]
    );
    let repair = w.apply(&plan, &Hooks::default()).expect("repairing apply");
    assert_eq!(repair.repaired.len(), 1, "{repair:?}");
    assert_eq!(w.altnames("eth0"), std::slice::from_ref(&marker));
    assert!(w.altnames("eth1").is_empty());

    // Gone: missing, shown as the command that adds it; apply adds it again.
    w.property("del", "eth0");
    assert_eq!(
        w.differences(&plan),
        [format!(
            "missing    {id}: ip link property add dev eth0 altname {marker}"
        )]
    );
    let readd = w.apply(&plan, &Hooks::default()).expect("apply");
    assert_eq!(readd.executed, 1, "{readd:?}");
    assert_eq!(w.altnames("eth0"), [marker]);
    assert_eq!(w.differences(&plan), Vec::<String>::new());
}

/// A run that added the marker to an interface that stays, then failed, takes it off
/// again: its undo is carried out, not left to the interface's deletion.
#[test]
fn a_failed_run_takes_the_marker_off_again() {
    if !can_touch_kernel("ready_marker::a_failed_run_takes_the_marker_off_again") {
        return;
    }
    let w = World::new("rf");
    w.apply(&w.plan, &Hooks::default())
        .expect("apply without the marker");
    assert!(w.altnames("eth0").is_empty());

    // The marker, then one more step, which is made to fail.
    let other = Op::AltnameAdd {
        dev: "eth1".into(),
        altname: format!("x{}", w.marker()),
    };
    let plan = w.plan_with(&[w.marker_on("eth0"), other]);
    let unit_a = plan.units.iter().position(|u| u.id == "node:a").unwrap();
    let before: usize = plan.units[..unit_a].iter().map(|u| u.steps.len()).sum();
    let last = before + plan.units[unit_a].steps.len() - 1;
    let hooks = Hooks {
        fail_at: Some(last),
    };
    let err = w.apply(&plan, &hooks).expect_err("the injected failure");
    let ApplyError::Failed(f) = err else {
        panic!("not a step failure: {err}")
    };
    assert_eq!(f.step_id, plan.units[unit_a].steps.last().unwrap().id);
    assert_eq!(f.undone, 1, "only the marker was carried out: {f}");
    assert!(f.rollback_errors.is_empty(), "{:?}", f.rollback_errors);
    assert!(w.altnames("eth0").is_empty(), "the marker stayed");
    assert!(w.altnames("eth1").is_empty());
}
