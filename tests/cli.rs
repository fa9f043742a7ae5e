//! Command-line behaviour: exit codes (docs/cli.md, "Exit codes"), stdout/stderr
//! discipline, determinism (docs/plan.md, "Properties") and the loading rules of
//! docs/configuration.md, "Sources and merging", seen from outside.

use crate::util::{conlink, expect_code, text};
use std::path::Path;

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).expect("write fixture");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("conlink-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

const ROUTER: &str = "
nodes:
  - name: r0
    sysctls: {net.ipv4.ip_forward: 1}
  - name: h1
links:
  - {node: r0, dev: eth1, bridge: s1, ip: 10.0.1.1/24}
  - {node: h1, bridge: s1, ip: 10.0.1.2/24, route: default via 10.0.1.1, mtu: '${MTU:-1500}'}
";

#[test]
fn plan_is_byte_identical_whatever_the_environment_order() {
    let d = tempdir("determinism");
    write(&d, "net.yaml", ROUTER);
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = conlink(&d);
        cmd.args([
            "--ovs",
            "no",
            "--project",
            "p",
            "plan",
            "-n",
            "net.yaml",
            "--format",
            "json",
        ]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run");
        expect_code(&out, 0, "plan");
        out.stdout
    };
    let vars = [("MTU", "1400"), ("A", "1"), ("B", "2"), ("Z", "3")];
    let mut reversed = vars;
    reversed.reverse();
    let first = run(&vars);
    assert_eq!(first, run(&reversed));
    assert!(
        text(&first).contains("\"mtu\": 1400"),
        "MTU not interpolated:\n{}",
        text(&first)
    );
}

#[test]
fn exit_codes_follow_the_cli_reference() {
    let d = tempdir("exit-codes");
    write(&d, "ok.yaml", ROUTER);
    write(&d, "bad.yaml", "links: [{node: nope, bridge: s1}]\n");
    let code = |args: &[&str]| conlink(&d).args(args).output().expect("run").status.code();
    assert_eq!(code(&["validate", "-n", "ok.yaml"]), Some(0));
    assert_eq!(code(&["validate", "-n", "bad.yaml"]), Some(1));
    assert_eq!(code(&["validate", "-n", "missing.yaml"]), Some(1));
    assert_eq!(code(&["validate"]), Some(2));
    assert_eq!(
        code(&["plan", "--format", "yaml", "-n", "ok.yaml"]),
        Some(2)
    );
    assert_eq!(code(&["frobnicate"]), Some(2));
    assert_eq!(code(&["plan", "-n", "ok.yaml", "--scale", "web"]), Some(2));
    // `exec` without a command, and `run`, which the container issue brings.
    assert_eq!(code(&["exec", "h1"]), Some(2));
    assert_eq!(code(&["run", "-n", "ok.yaml"]), Some(2));
    // A bad project name for a command that takes no configuration.
    assert_eq!(code(&["--project", "Bad/Name", "destroy"]), Some(2));
}

#[test]
fn errors_go_to_stderr_and_output_to_stdout() {
    let d = tempdir("streams");
    write(&d, "bad.yaml", "links: [{node: nope, bridge: s1}]\n");
    let out = conlink(&d)
        .args(["validate", "-n", "bad.yaml"])
        .output()
        .expect("run");
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("bad.yaml:1:"),
        "{}",
        text(&out.stderr)
    );
    let out = conlink(&d)
        .args(["validate", "-n", "bad.yaml", "--format", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(v[0]["file"], "bad.yaml");
    assert_eq!(v[0]["line"], 1);
    assert_eq!(v[0]["pointer"], "/links/0/node");
}

#[test]
fn all_errors_are_reported_in_one_run() {
    let d = tempdir("all-errors");
    write(
        &d,
        "bad.yaml",
        "links:\n  - {node: a, bridge: s1, ip: 10.0.0.1/}\n  - {node: b, bridge: s1, mac: zz}\nnodes: [{name: a}, {name: b}]\n",
    );
    let out = conlink(&d)
        .args(["validate", "-n", "bad.yaml", "--format", "json"])
        .output()
        .expect("run");
    expect_code(&out, 1, "validate");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let lines: Vec<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3], "{v}");
}

#[test]
fn colon_lists_and_merge_rules() {
    let d = tempdir("merge");
    write(
        &d,
        "a.yaml",
        "services:\n  web:\n    scale: 2\n    x-network:\n      links: [{bridge: s1, ip: [10.0.0.10/24]}]\n      commands: [{command: 'true'}]\n",
    );
    // A string merged after a list appends to it (2.x split it into characters).
    write(
        &d,
        "b.yaml",
        "services:\n  web:\n    x-network:\n      links: [{bridge: s1, ip: fd00::10/64}]\n",
    );
    let plan_with = |args: &[&str]| {
        let out = conlink(&d)
            .args(["--ovs", "no", "--project", "m", "plan"])
            .args(args)
            .output()
            .expect("run");
        expect_code(&out, 0, &format!("plan {args:?}"));
        out
    };
    let out = plan_with(&["-c", "a.yaml:b.yaml", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let units: Vec<&str> = plan["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["network", "service:web#1", "service:web#2"]);
    let addrs = |unit: usize| -> Vec<String> {
        plan["units"][unit]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["op"]["op"] == "addr_add")
            .map(|s| s["op"]["addr"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(addrs(1), ["10.0.0.10/24", "fd00::10/64"]);
    assert_eq!(addrs(2), ["10.0.0.11/24", "fd00::11/64"]);
    // The command inside web's x-network runs in web (2.x forgot to default commands).
    let execs = plan["units"][2]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["op"]["op"] == "exec")
        .count();
    assert_eq!(execs, 1);

    // --scale overrides the compose count.
    let out = plan_with(&["-c", "a.yaml", "-c", "b.yaml", "--scale", "web=3"]);
    assert!(
        text(&out.stdout).contains("unit service:web#3"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn auto_bridges_follow_the_ovs_decision_and_show_it() {
    let d = tempdir("auto");
    write(&d, "net.yaml", ROUTER);
    let plan = |ovs: &str| {
        let out = conlink(&d)
            .args(["--ovs", ovs, "--project", "p", "plan", "-n", "net.yaml"])
            .output()
            .expect("run");
        expect_code(&out, 0, "plan");
        text(&out.stdout)
    };
    let with = plan("yes");
    let without = plan("no");
    assert!(with.contains("ovs-vsctl add-br s1"), "{with}");
    assert!(without.contains("type bridge"), "{without}");
    assert!(
        without.contains("Open vSwitch is not available"),
        "{without}"
    );
}

#[test]
fn the_schema_command_prints_json() {
    let out = conlink(Path::new(".")).arg("schema").output().expect("run");
    expect_code(&out, 0, "schema");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema JSON");
    assert!(v["properties"]["links"].is_object());
    let out = conlink(Path::new("."))
        .args(["schema", "--plan"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan schema JSON");
    assert!(v["properties"]["units"].is_object());
}
