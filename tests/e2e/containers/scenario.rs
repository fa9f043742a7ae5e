//! What the compose scenarios of bridge modes, read-back, `conlink wait` and the
//! healthcheck share beyond the [`Lab`]: the plan conlink makes of the lab's compose
//! file (the test's own binary on the host, as JSON), the check that conlink's
//! addresses are usable at once, conlink run inside the `network`
//! service, and commands run from the host in a container's network namespace (the
//! host's `ip` and `tc` show what busybox's do not, such as tc actions).

use super::lab::Lab;
use crate::e2e::{show, text};
use std::process::{Command, Output};

/// `conlink --ovs no plan --format json` of the lab's compose file for its project,
/// with `args` (`--scale`, `--default-bridge-mode`, …), parsed.
pub fn plan_json(lab: &Lab, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_conlink"))
        .args(["--ovs", "no", "plan", "--format", "json", "--project"])
        .arg(&lab.project)
        .arg("--compose-file")
        .arg(&lab.file)
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .expect("run conlink plan");
    assert!(out.status.success(), "conlink plan: {}", show(&out));
    serde_json::from_slice(&out.stdout).expect("conlink plan --format json is JSON")
}

/// The units of a JSON plan.
pub fn units(plan: &serde_json::Value) -> &Vec<serde_json::Value> {
    plan["units"].as_array().expect("a plan has units")
}

/// The unit `id` of a JSON plan.
pub fn unit<'a>(plan: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    units(plan)
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("no unit {id} in the plan"))
}

/// The `op` objects of a unit's steps whose `op` is `name`.
pub fn ops<'a>(unit: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    unit["steps"]
        .as_array()
        .expect("a unit has steps")
        .iter()
        .map(|s| &s["op"])
        .filter(|op| op["op"] == name)
        .collect()
}

/// Checks `ip -o addr` output (iproute2's or busybox's, which both name the flags
/// `tentative` and `dadfailed`): every global address, i.e. conlink's, is usable at
/// once, none still in or failed by duplicate address detection. The kernel's own
/// link-local addresses may still be tentative and are not checked. `whose` names the
/// container in the failure.
pub fn assert_global_addrs_usable(addr_text: &str, whose: &str) {
    let global: Vec<&str> = addr_text
        .lines()
        .filter(|l| l.contains("scope global"))
        .collect();
    assert!(
        !global.is_empty()
            && global
                .iter()
                .all(|l| !l.contains("tentative") && !l.contains("dadfailed")),
        "{whose}: a global address is missing, tentative or failed:\n{addr_text}"
    );
}

/// `conlink --ovs no ARGS --compose-file /test/compose.yaml` in the `network` service
/// (its stdout and stderr together: docker-compose 1.29's `exec -T` mixes them).
pub fn conlink_in_network(lab: &Lab, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = vec!["conlink", "--ovs", "no"];
    cmd.extend_from_slice(args);
    cmd.extend_from_slice(&["--compose-file", "/test/compose.yaml"]);
    let out = lab.exec("network", 1, &cmd);
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

/// The process id of replica `index` of `service` (its network namespace is that
/// process's).
pub fn pid_of(lab: &Lab, service: &str, index: u32) -> String {
    let id = lab.container_id(service, index);
    lab.docker(&["inspect", "-f", "{{.State.Pid}}", &id])
        .trim()
        .to_string()
}

/// Runs `cmd` (a host program) in the network namespace of process `pid`.
pub fn in_netns_of(pid: &str, cmd: &[&str]) -> Output {
    Command::new("nsenter")
        .arg(format!("--net=/proc/{pid}/ns/net"))
        .args(cmd)
        .output()
        .expect("run nsenter")
}

/// [`in_netns_of`], which must succeed; its stdout.
pub fn must_in_netns_of(pid: &str, cmd: &[&str]) -> String {
    let out = in_netns_of(pid, cmd);
    assert!(
        out.status.success(),
        "in {pid}'s namespace: {cmd:?}: {}",
        show(&out)
    );
    text(&out.stdout)
}
