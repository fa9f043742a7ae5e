//! An `apply` interrupted by SIGINT or SIGTERM stops at the next step and rolls back:
//! no half-built network is left.

use super::*;
use std::fmt::Write as _;

/// 40 nodes × 5 links on 5 bridges: long enough to be interrupted in the middle.
fn topology() -> String {
    let mut y = String::from("nodes:\n");
    for i in 0..40 {
        let _ = writeln!(y, "  - name: n{i}");
    }
    y.push_str("bridges:\n");
    for j in 0..5 {
        let _ = writeln!(y, "  - {{bridge: s{j}, mode: linux}}");
    }
    y.push_str("links:\n");
    for i in 0..40 {
        for j in 0..5 {
            let _ = writeln!(
                y,
                "  - {{node: n{i}, dev: eth{j}, bridge: s{j}, ip: 10.{j}.0.{}/16}}",
                i + 1
            );
        }
    }
    y
}

fn interrupted_apply_rolls_back(signal: &str) {
    let test = format!("e2e::interrupt::{signal}");
    if !can_run(&test, &[]) {
        return;
    }
    let dir = TempDir::new("intr");
    let file = dir.write("net.yaml", &topology());
    let host = TestHost::new("intr");
    let p = Project::new(&host, "intr");
    let child = Command::new("ip")
        .args(["netns", "exec", &host.name, conlink_bin()])
        .args([
            "--ovs",
            "no",
            "--keep-veth-offload",
            "--project",
            &p.name,
            "--state-dir",
        ])
        .arg(&p.state_dir)
        .arg("apply")
        .arg("-n")
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start conlink apply");
    // Interrupt once the build is under way: the 20th node's namespace exists.
    let started = poll(Duration::from_secs(10), || {
        std::path::Path::new(&format!("/run/netns/conlink.{}.n20", p.name))
            .exists()
            .then_some(())
    });
    assert!(started.is_some(), "apply never got to node n20");
    let sig = if signal == "INT" {
        nix::sys::signal::Signal::SIGINT
    } else {
        nix::sys::signal::Signal::SIGTERM
    };
    // `ip netns exec` replaced itself with conlink: the child's pid is conlink's.
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, sig).expect("send the signal");
    let out = child.wait_with_output().expect("wait for conlink");
    let stderr = text(&out.stderr);
    if out.status.success() {
        // The run finished before the signal arrived: nothing to check here.
        runtime::testing::skip(&test, "apply finished before the signal arrived");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted by SIG{signal}")),
        "{stderr}"
    );
    assert!(stderr.contains("rolled back"), "{stderr}");
    // Nothing of the project is left (checked again when `p` is dropped, after a
    // destroy that must find nothing).
    let left = leftovers(&p.name, &[&host.name]);
    assert!(left.is_empty(), "left after an interrupted apply: {left:?}");
    assert!(
        !p.state_file().exists(),
        "an interrupted first apply leaves no state file"
    );
}

#[test]
fn sigint_during_apply_rolls_back() {
    interrupted_apply_rolls_back("INT");
}

#[test]
fn sigterm_during_apply_rolls_back() {
    interrupted_apply_rolls_back("TERM");
}
