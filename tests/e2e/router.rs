//! examples/router: three hosts on three switched subnets behind router node r0.

use super::*;

const HOSTS: [(&str, &str); 3] = [
    ("h1", "192.168.1.100"),
    ("h2", "172.16.0.100"),
    ("h3", "10.0.0.100"),
];

#[test]
fn router_example_routes_between_subnets_and_converges() {
    if !can_run("e2e::router", &["ping", "sysctl", "socat", "busybox"]) {
        return;
    }
    let file = example("router/network.yaml");
    let host = TestHost::new("rt");
    let mut p = Project::new(&host, "rt");
    p.apply(&file);
    // The example's commands: one service loop in each host.
    let h3 = ns_inode(&p.node("h3"));
    let loops = poll(Duration::from_secs(5), || {
        let r = command_roots(h3);
        (!r.is_empty()).then_some(r)
    });
    let loops = loops.expect("h3's service is not running");
    assert_eq!(loops.len(), 1, "h3 runs one command: {loops:?}");
    p.assert_in_sync(&file);

    // Every host reaches every other, both ways; all of them cross r0.
    for (from, _) in HOSTS {
        for (to, addr) in HOSTS {
            if from != to {
                assert_ping(&p.node(from), addr);
            }
        }
    }

    // The router matters: without forwarding in r0, h1 no longer reaches h3 ...
    let r0 = p.node("r0");
    assert_eq!(sysctl(&r0, "net.ipv4.ip_forward"), "1");
    must_in_ns(&r0, &["sysctl", "-w", "net.ipv4.ip_forward=0"]);
    assert_no_ping(&p.node("h1"), "10.0.0.100");
    // ... while its own neighbour still answers (the failure is r0's, not h1's).
    assert_ping(&p.node("h1"), "192.168.1.1");
    // status sees the drift, and only it.
    let out = p.status(&file);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // (Lines about commands say how each runs; they are no differences.)
    let diff = text(&out.stdout);
    let differences = diff
        .lines()
        .filter(|l| !l.starts_with("running ") && !l.starts_with("exited "));
    assert_eq!(differences.count(), 1, "{diff}");
    assert!(diff.contains("sysctl -w net.ipv4.ip_forward=1"), "{diff}");

    // Applying again repairs the drift (convergence), and only the drift.
    let report = p.apply(&file);
    assert!(
        !report.contains("nothing to do"),
        "apply did not notice the changed sysctl: {report}"
    );
    assert_eq!(sysctl(&r0, "net.ipv4.ip_forward"), "1");
    assert_ping(&p.node("h1"), "10.0.0.100");
    // A third apply finds everything in place.
    let report = p.apply(&file);
    assert!(report.contains("nothing to do"), "not converged: {report}");
    p.assert_in_sync(&file);
    // None of these applies restarted the commands (h3 did not restart).
    assert_eq!(command_roots(h3), loops, "commands were run again");

    // The example's commands: each host serves one line on TCP 8000+N (the service
    // may need a moment to start, so poll).
    let got = poll(Duration::from_secs(10), || {
        let out = p.exec(
            "h1",
            &["timeout", "3", "busybox", "nc", "10.0.0.100", "8003"],
        );
        let said = text(&out.stdout);
        said.contains("hello from h3").then_some(said)
    });
    assert!(got.is_some(), "h3's service did not answer h1 through r0");
    assert_tcp_answer(&p.node("h3"), "192.168.1.100", 8001, "hello from h1");

    // What the kernel reports matches the plan (MTUs, derived MACs, routes, tx off).
    let checked = compare_with_plan(&p, &p.plan_json(&file));
    assert!(checked.routes == 3 && checked.macs == 6, "{checked:?}");

    // destroy stops the nodes' commands along with the nodes.
    assert!(!pids_in_netns(h3).is_empty(), "h3's service is not running");
    p.destroy();
    let gone = poll(Duration::from_secs(5), || {
        pids_in_netns(h3).is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "h3's service outlived destroy: {:?}",
        pids_in_netns(h3)
    );
}
