//! `destroy` on its own: with no state file, and for a project that was never applied.
//! (Every other e2e test also ends with a checked destroy, twice.)

use super::*;

/// With the state file lost, destroy still removes the whole router example, and the
/// nodes' commands (child processes of conlink inside the nodes) stop with them.
#[test]
fn destroy_without_state_file_stops_everything() {
    if !can_run("e2e::teardown::no_state", &["busybox"]) {
        return;
    }
    let file = example("router/network.yaml");
    let host = TestHost::new("td");
    let mut p = Project::new(&host, "td");
    p.apply(&file);
    let nodes: Vec<u64> = ["r0", "h1", "h2", "h3"]
        .iter()
        .map(|n| ns_inode(&p.node(n)))
        .collect();
    // h1..h3 each run a service loop (r0 runs none).
    for (i, ino) in nodes.iter().enumerate().skip(1) {
        let up = poll(Duration::from_secs(5), || {
            (!pids_in_netns(*ino).is_empty()).then_some(())
        });
        assert!(up.is_some(), "no command runs in h{i}");
    }

    p.destroy_without_state();
    for ino in nodes {
        // Killed processes may take a moment to exit.
        let gone = poll(Duration::from_secs(5), || {
            pids_in_netns(ino).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "processes left in a removed node: {:?}",
            pids_in_netns(ino)
        );
    }
}

/// destroy of a project that does not exist succeeds, says so, and creates nothing.
#[test]
fn destroy_of_an_unknown_project_is_a_no_op() {
    if !can_run("e2e::teardown::unknown", &[]) {
        return;
    }
    let host = TestHost::new("tdu");
    let dir = TempDir::new("tdu");
    let project = unique("e2e-never-");
    let out = conlink(&host.name, &project, &dir.0, &["destroy"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("nothing to remove"),
        "{}",
        show(&out)
    );
    let left = leftovers(&project, &[&host.name]);
    assert!(left.is_empty(), "{left:?}");
}
