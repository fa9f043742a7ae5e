//! What is in conlink's namespaces besides the plan (docs/cli.md, "conlink status" and
//! "conlink apply"): an interface added by hand inside a node is listed by `status` as
//! not conlink's and left alone by `apply`; what `apply` does remove (conlink's own
//! objects the plan no longer has) it reports as removed.

use super::*;

const TWO: &str = r#"
nodes:
  - name: h0
  - name: h1
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: h0, bridge: s1, ip: 10.0.0.1/24}
  - {node: h1, bridge: s1, ip: 10.0.0.2/24}
"#;

const ONE: &str = r#"
nodes:
  - name: h0
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: h0, bridge: s1, ip: 10.0.0.1/24}
"#;

#[test]
fn a_hand_made_interface_in_a_node_is_shown_and_kept() {
    if !can_run("e2e::extras::hand_made", &[]) {
        return;
    }
    let dir = TempDir::new("xtra");
    let file = dir.write("net.yaml", TWO);
    let host = TestHost::new("xtra");
    let mut p = Project::new(&host, "xtra");
    p.apply(&file);
    let h0 = p.node("h0");
    must(
        "ip",
        &[
            "-n", &h0, "link", "add", "mine0", "type", "veth", "peer", "name", "mine1",
        ],
    );

    let out = p.status(&file);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let listed = text(&out.stdout);
    for dev in ["mine0", "mine1"] {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with("extra ") && l.contains(dev) && l.contains("not conlink's")),
            "status should list {dev} as extra, not conlink's: {}",
            show(&out)
        );
    }
    // apply leaves what is not conlink's alone.
    p.apply(&file);
    assert!(in_ns(&h0, &["ip", "link", "show", "mine0"])
        .status
        .success());
    p.destroy();
}

#[test]
fn objects_apply_removes_are_reported_as_removed() {
    if !can_run("e2e::extras::removed", &[]) {
        return;
    }
    let dir = TempDir::new("rmv");
    let two = dir.write("two.yaml", TWO);
    let one = dir.write("one.yaml", ONE);
    let host = TestHost::new("rmv");
    let mut p = Project::new(&host, "rmv");
    p.apply(&two);
    let report = p.apply(&one);
    let removed: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("conlink: removed "))
        .collect();
    assert!(
        removed.iter().any(|l| l.contains(&p.node("h1"))),
        "the removed node should be reported as removed: {report}"
    );
    assert!(
        removed.iter().any(|l| l.contains("h1-eth0")),
        "the removed outer interface should be reported as removed: {report}"
    );
    assert!(
        !report.contains("repaired"),
        "removals are not repairs: {report}"
    );
    p.assert_in_sync(&one);
    p.destroy();
}
