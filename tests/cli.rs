//! Command-line behaviour: exit codes (docs/cli.md, "Exit codes"), stdout/stderr
//! discipline, determinism (docs/plan.md, "Properties") and the loading rules of
//! docs/configuration.md, "Sources and merging", seen from outside.

use crate::util::{conlink, expect_code, text, TempDir};
use std::path::Path;

fn write(dir: &TempDir, name: &str, content: &str) {
    dir.write(name, content);
}

fn tempdir(name: &str) -> TempDir {
    TempDir::new(name)
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
        let mut cmd = conlink(d.path());
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
    let code = |args: &[&str]| {
        conlink(d.path())
            .args(args)
            .output()
            .expect("run")
            .status
            .code()
    };
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
    // `exec` without a command.
    assert_eq!(code(&["exec", "h1"]), Some(2));
    // `run` without an engine (or without root) fails (1), never runs on.
    let no_engine = d.path().join("no-engine.sock");
    let no_engine = no_engine.to_str().unwrap();
    assert_eq!(
        code(&["run", "--engine-socket", no_engine, "-n", "ok.yaml"]),
        Some(1)
    );
    // One exit code per kind of error, whatever the command (issue 8, item 9): a bad
    // `--project` is a bad option value (2)…
    for args in [
        &["validate", "-n", "ok.yaml"][..],
        &["plan", "-n", "ok.yaml"],
        &["apply", "-n", "ok.yaml"],
        &["status", "-n", "ok.yaml"],
        &["destroy"],
        &["exec", "h1", "--", "true"],
    ] {
        let out = conlink(d.path())
            .args(["--project", "Bad/Name"])
            .args(args)
            .output()
            .expect("run");
        expect_code(&out, 2, &format!("--project Bad/Name {args:?}"));
    }
    // …and a bad name from the environment is configuration (1).
    for args in [
        &["validate", "-n", "ok.yaml"][..],
        &["plan", "-n", "ok.yaml"],
        &["apply", "-n", "ok.yaml"],
        &["destroy"],
        &["exec", "h1", "--", "true"],
    ] {
        let out = conlink(d.path())
            .env("COMPOSE_PROJECT_NAME", "Bad/Name")
            .args(args)
            .output()
            .expect("run");
        expect_code(&out, 1, &format!("COMPOSE_PROJECT_NAME=Bad/Name {args:?}"));
        assert!(
            text(&out.stderr).contains("COMPOSE_PROJECT_NAME"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn errors_go_to_stderr_and_output_to_stdout() {
    let d = tempdir("streams");
    write(&d, "bad.yaml", "links: [{node: nope, bridge: s1}]\n");
    let out = conlink(d.path())
        .args(["validate", "-n", "bad.yaml"])
        .output()
        .expect("run");
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("bad.yaml:1:"),
        "{}",
        text(&out.stderr)
    );
    let out = conlink(d.path())
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
    let out = conlink(d.path())
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
        let out = conlink(d.path())
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
        let out = conlink(d.path())
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

/// conlink 2.x's environment variables: `CONLINK_BRIDGE_MODE` is the default bridge
/// mode (an option given wins), `VERBOSE` is `-v`.
#[test]
fn conlink_2x_environment_variables() {
    let d = tempdir("env2x");
    write(&d, "net.yaml", ROUTER);
    let plan = |env: &[(&str, &str)], args: &[&str]| {
        let out = conlink(d.path())
            .envs(env.iter().copied())
            .args(["--ovs", "no", "--project", "p", "plan", "-n", "net.yaml"])
            .args(args)
            .output()
            .expect("run");
        expect_code(&out, 0, "plan");
        text(&out.stdout)
    };
    let linux = plan(&[], &[]);
    let patch = plan(&[("CONLINK_BRIDGE_MODE", "patch")], &[]);
    let given = plan(
        &[("CONLINK_BRIDGE_MODE", "patch")],
        &["--default-bridge-mode", "linux"],
    );
    let linux_given = plan(&[], &["--default-bridge-mode", "linux"]);
    assert!(linux.contains("type bridge"), "{linux}");
    assert_ne!(patch, linux);
    assert!(!patch.contains("type bridge"), "{patch}");
    assert_eq!(given, linux_given);

    let summary = |env: &[(&str, &str)]| {
        let out = conlink(d.path())
            .envs(env.iter().copied())
            .args([
                "--project",
                "p",
                "validate",
                "-n",
                "net.yaml",
                "--format",
                "json",
            ])
            .output()
            .expect("run");
        expect_code(&out, 0, "validate");
        text(&out.stderr)
    };
    assert!(summary(&[]).trim().is_empty());
    assert!(!summary(&[("VERBOSE", "1")]).trim().is_empty());
    assert!(summary(&[("VERBOSE", "0")]).trim().is_empty());
}

/// `run --config-schema FILE` (conlink 2.x's) is accepted, and said to be ignored.
#[test]
fn run_accepts_the_2x_schema_option_and_ignores_it() {
    let d = tempdir("schema2x");
    write(&d, "net.yaml", ROUTER);
    let out = conlink(d.path())
        .args([
            "run",
            "-n",
            "net.yaml",
            "--config-schema",
            "/app/schema.yaml",
        ])
        .args(["--engine-socket", "/nonexistent/engine.sock"])
        .output()
        .expect("run");
    let err = text(&out.stderr);
    assert!(
        err.contains("--config-schema /app/schema.yaml is ignored"),
        "{err}"
    );
    assert_ne!(out.status.code(), Some(2), "{err}");
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

/// Thousands of errors: the text form shows the first 50 and counts the rest; the JSON
/// form has them all (issue 8, item 7).
#[test]
fn many_errors_show_the_first_fifty_and_count_the_rest() {
    let d = tempdir("many-errors");
    let mut yaml = String::from("nodes: [{name: h1}]\nlinks:\n");
    for i in 0..200 {
        yaml.push_str(&format!("  - {{node: h1, dev: 'bad/{i}', bridge: s1}}\n"));
    }
    write(&d, "bad.yaml", &yaml);
    let out = conlink(d.path())
        .args(["validate", "-n", "bad.yaml"])
        .output()
        .expect("run");
    expect_code(&out, 1, "validate");
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("conlink::check::interface_name").count(),
        50,
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "conlink: 200 error(s), 0 warning(s) (150 more not shown; `--format json` lists them all)\n"
        ),
        "{stderr}"
    );
    let out = conlink(d.path())
        .args(["validate", "-n", "bad.yaml", "--format", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(200));
}

/// A huge value is shortened in messages, and its line is not printed (issue 8,
/// item 7: a 10 MB name printed 55 MB of errors).
#[test]
fn a_huge_value_is_shortened_in_messages() {
    let d = tempdir("huge-value");
    let name = "x".repeat(1 << 20);
    write(
        &d,
        "bad.yaml",
        &format!("nodes: [{{name: h1}}]\nlinks:\n  - {{node: h1, dev: {name}, bridge: s1}}\n"),
    );
    for format in ["text", "json"] {
        let out = conlink(d.path())
            .args(["validate", "-n", "bad.yaml", "--format", format])
            .output()
            .expect("run");
        expect_code(&out, 1, "validate");
        let printed = out.stdout.len() + out.stderr.len();
        assert!(
            printed < 4096,
            "{format}: {printed} bytes printed for one error"
        );
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(all.contains("…(1048576 bytes)…"), "{all}");
    }
}

/// A reader that went away is no reason to panic: `conlink … 2>&1 | true` ends with
/// the command's own exit code (issue 8, item 9).
#[test]
fn a_closed_output_stream_ends_quietly() {
    use std::process::Stdio;
    let d = tempdir("closed-pipe");
    write(&d, "ok.yaml", ROUTER);
    write(&d, "bad.yaml", "links: [{node: nope, bridge: s1}]\n");
    let cases: &[(&[&str], i32)] = &[
        (&["validate", "-n", "ok.yaml"], 0),
        (&["validate", "-n", "bad.yaml"], 1),
        (&["validate", "-n", "bad.yaml", "--format", "json"], 1),
        (&["plan", "-n", "ok.yaml"], 0),
        (&["plan", "-n", "bad.yaml"], 1),
        (&["schema"], 0),
        (&["validate"], 2),
        (&["--help"], 0),
        (&["plan", "--bogus"], 2),
    ];
    for (args, code) in cases {
        // Both streams are one pipe whose reading end is already closed.
        let (reader, writer) = nix::unistd::pipe().expect("pipe");
        drop(reader);
        let out = conlink(d.path())
            .args(["--ovs", "no"])
            .args(*args)
            .stdout(Stdio::from(writer.try_clone().expect("dup")))
            .stderr(Stdio::from(writer))
            .status()
            .expect("run");
        assert_eq!(out.code(), Some(*code), "conlink {args:?}: {out:?}");
    }
}

/// Run without root, the commands that need it say so, whatever the system call
/// that would have failed first (issue 8, item 10). The user is `nobody`; then root
/// without CAP_NET_ADMIN, since the check reads capabilities, not the user id.
#[test]
fn without_root_the_commands_that_need_it_say_so() {
    let test = "cli::without_root_the_commands_that_need_it_say_so";
    if !nix::unistd::geteuid().is_root() {
        runtime::testing::skip(test, "needs root to run conlink as another user");
        return;
    }
    let d = tempdir("no-root");
    write(&d, "ok.yaml", ROUTER);
    let state = d.path().join("state");
    // conlink through setpriv(1), which changes the user or drops capabilities.
    let as_user = |setpriv: &[&str], args: &[&str]| {
        std::process::Command::new("setpriv")
            .args(setpriv)
            .arg(env!("CARGO_BIN_EXE_conlink"))
            .args(["--ovs", "no", "--state-dir"])
            .arg(&state)
            .args(args)
            .current_dir(d.path())
            .env_clear()
            .env("NO_COLOR", "1")
            .output()
    };
    let nobody = ["--reuid", "65534", "--regid", "65534", "--clear-groups"];
    match as_user(&nobody, &["--version"]) {
        Ok(out) if out.status.success() => {}
        other => {
            runtime::testing::skip(
                test,
                &format!("cannot run the binary as nobody with setpriv: {other:?}"),
            );
            return;
        }
    }
    let no_net_admin = ["--inh-caps=-net_admin", "--bounding-set=-net_admin"];
    for (who, setpriv, lacks) in [
        ("nobody", &nobody[..], "CAP_NET_ADMIN and CAP_SYS_ADMIN"),
        (
            "root without CAP_NET_ADMIN",
            &no_net_admin[..],
            "CAP_NET_ADMIN)",
        ),
    ] {
        for args in [
            &["apply", "-n", "ok.yaml"][..],
            &["status", "-n", "ok.yaml"],
            &["--project", "p", "destroy"],
            &["--project", "p", "exec", "h1", "--", "true"],
        ] {
            let out = as_user(setpriv, args).expect("run setpriv");
            expect_code(&out, 1, &format!("{who}: {args:?}"));
            let stderr = text(&out.stderr);
            assert!(
                stderr
                    .contains("this needs root (the capabilities CAP_NET_ADMIN and CAP_SYS_ADMIN)")
                    && stderr.contains(&format!("lacks {lacks}")),
                "{who}: {args:?}: {stderr}"
            );
            for raw in ["Permission denied", "Operation not permitted", "EPERM"] {
                assert!(!stderr.contains(raw), "{who}: {args:?}: {stderr}");
            }
        }
    }
    assert!(!state.exists(), "nothing may be created without root");
}

/// The default project is the first file's directory, network files too (issue 8,
/// item 13: with network files only, every project was called `conlink`).
#[test]
fn the_project_is_named_after_the_first_files_directory() {
    let d = tempdir("project-names");
    for sub in ["lab-one", "comp", "net"] {
        std::fs::create_dir(d.path().join(sub)).expect("mkdir");
    }
    write(&d, "lab-one/net.yaml", ROUTER);
    write(&d, "net/net.yaml", ROUTER);
    write(&d, "comp/compose.yaml", "services: {web: {image: nginx}}\n");
    let project = |args: &[&str]| {
        let out = conlink(d.path())
            .args(["--ovs", "no", "plan"])
            .args(args)
            .output()
            .expect("run");
        expect_code(&out, 0, &format!("plan {args:?}"));
        let plan = text(&out.stdout);
        let header = plan.lines().next().unwrap_or_default().to_string();
        header
    };
    assert!(
        project(&["-n", "lab-one/net.yaml"]).starts_with("# conlink plan: project lab-one,"),
        "{}",
        project(&["-n", "lab-one/net.yaml"])
    );
    // Compose files come first in the merge order, wherever they are on the line.
    assert!(project(&["-n", "net/net.yaml", "-c", "comp/compose.yaml"])
        .starts_with("# conlink plan: project comp,"));
}

/// `destroy` and `exec` without sources or `--project` take the one project this
/// machine has, and ask which one when there are several (issue 8, item 13).
#[test]
fn destroy_and_exec_without_sources_find_the_one_project_here() {
    let d = tempdir("find-project");
    let state = d.path().join("state");
    let netns = d.path().join("netns");
    std::fs::create_dir(&netns).expect("mkdir");
    for p in ["alpha", "beta"] {
        std::fs::create_dir_all(state.join(p)).expect("mkdir");
        std::fs::write(state.join(p).join("state.json"), "{}").expect("write");
    }
    let run = |args: &[&str]| {
        conlink(d.path())
            .env("CONLINK_NETNS_DIR", &netns)
            .arg("--state-dir")
            .arg(&state)
            .args(args)
            .output()
            .expect("run")
    };
    for args in [&["destroy"][..], &["exec", "h1", "--", "true"]] {
        let out = run(args);
        expect_code(&out, 2, &format!("{args:?} with two projects"));
        assert!(
            text(&out.stderr)
                .contains("several conlink projects: alpha, beta; say which with --project"),
            "{}",
            text(&out.stderr)
        );
    }
    std::fs::remove_dir_all(state.join("beta")).expect("rm");
    if nix::unistd::geteuid().is_root() {
        let out = run(&["exec", "h1", "--", "true"]);
        expect_code(&out, 1, "exec with one project");
        assert!(
            text(&out.stderr).contains("no node h1 in project alpha"),
            "{}",
            text(&out.stderr)
        );
    }
    std::fs::remove_dir_all(state.join("alpha")).expect("rm");
    let out = run(&["destroy"]);
    expect_code(&out, 0, "destroy with no project");
    assert!(
        text(&out.stderr).contains("no conlink project on this machine: nothing to remove"),
        "{}",
        text(&out.stderr)
    );
}

/// A newline in a command's argv cannot fake steps in a reviewed plan: the word is
/// quoted as `$'…'` and the step stays one line (issue 8, item 8).
#[test]
fn a_newline_in_a_value_stays_inside_its_step() {
    let d = tempdir("newline");
    write(
        &d,
        "net.yaml",
        "nodes: [{name: h1}]\nlinks: [{node: h1, bridge: s1}]\ncommands:\n  - node: h1\n    command: [echo, \"hi\\n  node:h1/9  node:h1  ip link del eth0\"]\n",
    );
    let out = conlink(d.path())
        .args(["--ovs", "no", "--project", "p", "plan", "-n", "net.yaml"])
        .output()
        .expect("run");
    expect_code(&out, 0, "plan");
    let plan = text(&out.stdout);
    let with_del: Vec<&str> = plan
        .lines()
        .filter(|l| l.contains("link del eth0"))
        .collect();
    assert_eq!(
        with_del,
        ["  node:h1/3  node:h1  exec echo $'hi\\n  node:h1/9  node:h1  ip link del eth0'"],
        "{plan}"
    );
}
