//! conlink 2.x configurations run unchanged: every file under tests/compat/ is written
//! the way a 2.x user wrote theirs, and must validate and plan as 2.x would have built
//! it (docs/configuration.md, "Sources and merging", "Files written for conlink 2.x").
//!
//! Files named `*.compose.yaml` are compose files, others network files. Comment lines
//! at the top say what to check: `# args:` and `# env:` as for tests/invalid/;
//! `# plan: TEXT`, a text that some line of the text plan contains; `# not in plan:
//! TEXT`, a text no line contains; `# warning: CODE`, the warnings expected (none when
//! there is no such line).
//!
//! Also here: `conlink run --show-config`, 2.x's option to print the merged
//! configuration.

use crate::util::{conlink, entries, expect_code, parse_spec, root, text, CaseSpec, TempDir};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// What a fixture's header asks for.
#[derive(Default)]
struct Expect {
    in_plan: Vec<String>,
    not_in_plan: Vec<String>,
    warnings: Vec<String>,
}

fn expectations(content: &str) -> Expect {
    let mut e = Expect::default();
    for line in content.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(t) = line.strip_prefix("plan:") {
            e.in_plan.push(t.trim().to_string());
        } else if let Some(t) = line.strip_prefix("not in plan:") {
            e.not_in_plan.push(t.trim().to_string());
        } else if let Some(t) = line.strip_prefix("warning:") {
            e.warnings.push(t.trim().to_string());
        }
    }
    e
}

#[test]
fn every_2x_configuration_plans_as_2x_built_it() {
    let dir = root().join("tests/compat");
    let mut count = 0;
    for file in entries(&dir) {
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        if !fname.ends_with(".yaml") {
            continue;
        }
        let content = std::fs::read_to_string(&file).expect("read fixture");
        let spec = parse_spec(&content, true);
        let expect = expectations(&content);
        assert!(
            !expect.in_plan.is_empty(),
            "{fname}: say what the plan must contain (`# plan:` lines)"
        );
        let flag = if fname.ends_with(".compose.yaml") {
            "-c"
        } else {
            "-n"
        };
        let run = |command: &str, format: &str| {
            let mut cmd = conlink(&dir);
            cmd.args(["--ovs", "no", command, flag, &fname, "--format", format])
                .args(&spec.args);
            cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
            cmd.output().expect("run conlink")
        };

        let out = run("validate", "json");
        expect_code(&out, 0, &format!("validate {fname}"));
        let diags: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let codes: Vec<&str> = diags
            .as_array()
            .expect("array")
            .iter()
            .map(|d| d["code"].as_str().expect("code"))
            .collect();
        assert_eq!(codes, expect.warnings, "{fname}: warnings");

        let out = run("plan", "text");
        expect_code(&out, 0, &format!("plan {fname}"));
        let plan = text(&out.stdout);
        for wanted in &expect.in_plan {
            assert!(
                plan.lines().any(|l| l.contains(wanted.as_str())),
                "{fname}: no plan line contains `{wanted}`:\n{plan}"
            );
        }
        for unwanted in &expect.not_in_plan {
            assert!(
                !plan.contains(unwanted.as_str()),
                "{fname}: the plan contains `{unwanted}`:\n{plan}"
            );
        }
        count += 1;
    }
    assert!(count >= 8, "expected at least 8 fixtures, found {count}");
}

/// `run --show-config`'s output for the sources and options `args` (run in `dir`,
/// with `env`): it exits 0 and prints JSON.
fn show_config(dir: &Path, args: &[String], env: &[(String, String)]) -> String {
    let out = conlink(dir)
        .args(["--ovs", "no", "run", "--show-config"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run conlink");
    expect_code(&out, 0, &format!("run --show-config {args:?}"));
    let shown = text(&out.stdout);
    let _: serde_json::Value = serde_json::from_str(&shown)
        .unwrap_or_else(|e| panic!("--show-config {args:?} printed no JSON ({e}):\n{shown}"));
    shown
}

/// The JSON plan of `args`, with `stdin` as standard input.
fn json_plan(dir: &Path, args: &[String], env: &[(String, String)], stdin: &str) -> Value {
    let mut child = conlink(dir)
        .args(["--ovs", "no", "plan", "--format", "json"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run conlink");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    expect_code(&out, 0, &format!("plan {args:?}"));
    serde_json::from_slice(&out.stdout).expect("plan JSON")
}

/// `conlink run --show-config` (conlink 2.x's option) prints the merged, interpolated
/// configuration and exits, with no engine; fed back as a network file, what it
/// printed plans exactly as its sources did, for every example and every fixture
/// here. (The compose files' replica counts are not configuration: they are given
/// back with `--scale`, and the plan's record of where a count came from is left out
/// of the comparison.)
#[test]
fn show_config_reads_back_as_a_network_file_that_plans_the_same() {
    let mut cases: Vec<(PathBuf, String, CaseSpec)> = Vec::new();
    for dir in entries(&root().join("examples")) {
        if let Ok(spec) = std::fs::read_to_string(dir.join("conlink.test")) {
            let name = dir.display().to_string();
            cases.push((dir, name, parse_spec(&spec, false)));
        }
    }
    let fixtures = root().join("tests/compat");
    for file in entries(&fixtures) {
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        let content = std::fs::read_to_string(&file).expect("read fixture");
        let mut spec = parse_spec(&content, true);
        let flag = if fname.ends_with(".compose.yaml") {
            "-c"
        } else {
            "-n"
        };
        spec.args.extend([flag.to_string(), fname.clone()]);
        cases.push((fixtures.clone(), fname, spec));
    }
    assert!(cases.len() >= 20, "{} cases", cases.len());

    for (dir, name, mut spec) in cases {
        if !spec.args.iter().any(|a| a == "--project") {
            spec.args.extend(["--project".into(), "showconfig".into()]);
        }
        let shown = show_config(&dir, &spec.args, &spec.env);
        let original = json_plan(&dir, &spec.args, &spec.env, "");

        // The same options, the printed configuration as the only source.
        let mut again: Vec<String> = Vec::new();
        let mut args = spec.args.iter();
        while let Some(a) = args.next() {
            if matches!(
                a.as_str(),
                "-c" | "-n" | "--compose-file" | "--network-file"
            ) {
                args.next();
            } else {
                again.push(a.clone());
            }
        }
        again.extend(["-n".into(), "/dev/stdin".into()]);
        for s in original["services"].as_array().into_iter().flatten() {
            again.extend([
                "--scale".into(),
                format!("{}={}", s["service"].as_str().unwrap(), s["replicas"]),
            ]);
        }
        let replanned = json_plan(&dir, &again, &spec.env, &shown);
        let without_sources = |mut plan: Value| {
            for s in plan["services"].as_array_mut().into_iter().flatten() {
                s.as_object_mut().unwrap().remove("source");
            }
            plan
        };
        assert_eq!(
            without_sources(replanned),
            without_sources(original),
            "{name}: the configuration --show-config printed plans differently:\n{shown}"
        );
    }
}

/// `--show-config` prints what the sources say after merging and interpolation, in
/// the names the user writes, and nothing they do not say; a `$` left by
/// interpolation is printed `$$`, as it is written. A configuration that does not
/// load is reported as by `validate`, with exit code 1, and nothing is printed.
#[test]
fn show_config_prints_the_merged_configuration_in_the_users_names() {
    let d = TempDir::new("showconfig");
    d.write(
        "compose.yaml",
        "services:\n  web:\n    image: x\n    x-network:\n      links:\n        - {bridge: s1, ip: '${NET:-10.0.0}.2/24', outer-dev: web-out, netem: delay 5ms}\nx-network:\n  links:\n    - {service: web, bridge: s1, mtu: '${MTU}'}\n  bridges:\n    - {bridge: s1, mode: linux}\n",
    );
    d.write(
        "net.yaml",
        "nodes:\n  - {name: n1, sysctls: {net.ipv4.ip_forward: 1}}\ncommands:\n  - {node: n1, command: 'echo $$HOME'}\nlinks:\n  - {node: n1, bridge: s1, route: [default via 10.0.0.1]}\n",
    );
    let args: Vec<String> = ["-c", "compose.yaml", "-n", "net.yaml"]
        .map(String::from)
        .to_vec();
    let shown = show_config(d.path(), &args, &[("MTU".into(), "1400".into())]);
    let v: Value = serde_json::from_str(&shown).unwrap();
    let expected = serde_json::json!({
        "links": [
            {"service": "web", "bridge": "s1", "outer-dev": "web-out", "ip": "10.0.0.2/24",
             "mtu": 1400, "netem": "delay 5ms"},
            {"node": "n1", "bridge": "s1", "route": ["default via 10.0.0.1"]}
        ],
        "bridges": [{"bridge": "s1", "mode": "linux"}],
        "commands": [{"node": "n1", "command": "echo $$HOME"}],
        "nodes": [{"name": "n1", "sysctls": {"net.ipv4.ip_forward": 1}}]
    });
    assert_eq!(v, expected, "{shown}");

    // Bad input: the diagnostic, exit 1, no output.
    d.write("bad.yaml", "links:\n  - {node: n1, brige: s1}\n");
    let out = conlink(d.path())
        .args(["run", "--show-config", "-n", "bad.yaml"])
        .output()
        .unwrap();
    expect_code(&out, 1, "--show-config of a bad file");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("bad.yaml:2:"),
        "{}",
        text(&out.stderr)
    );
}
