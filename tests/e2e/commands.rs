//! Commands of nodes: `status` finds them without the state file and says whether each
//! runs or exited (with its exit code); `apply` starts a command when it (re)creates
//! its target, not on every run (docs/decisions.md, "Commands").

use super::*;

/// h0 runs a loop; h1 runs once and exits 0; h2 fails with exit code 3. Each writes one
/// line to its log per start.
const CONFIG: &str = r#"
nodes:
  - name: h0
  - name: h1
  - name: h2
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: h0, bridge: s1, ip: 10.0.0.1/24}
  - {node: h1, bridge: s1, ip: 10.0.0.2/24}
  - {node: h2, bridge: s1, ip: 10.0.0.3/24}
commands:
  - {node: h0, command: "echo started; while :; do sleep 1; done"}
  - {node: h1, command: [sh, -c, "echo started"]}
  - {node: h2, command: "echo started; exit 3"}
"#;

/// The id of the step that runs the command of `node`, from the plan.
fn command_step(plan: &Value, node: &str) -> String {
    let ns = format!("node:{node}");
    plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .flat_map(|u| u["steps"].as_array().expect("steps"))
        .find(|s| s["ns"] == ns.as_str() && s["op"]["op"] == "exec")
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("no command step for {node}"))
        .to_string()
}

/// How many times the command of step `step` started (lines in its log).
fn starts(p: &Project, step: &str) -> usize {
    let safe: String = step
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let log = p
        .state_dir
        .join(&p.name)
        .join("logs")
        .join(format!("{safe}.log"));
    std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == "started")
        .count()
}

/// The line of `status`'s output about step `step`.
fn status_line(out: &Output, step: &str) -> String {
    text(&out.stdout)
        .lines()
        .find(|l| l.contains(&format!(" {step}:")))
        .unwrap_or_else(|| panic!("no line for {step}: {}", show(out)))
        .to_string()
}

#[test]
fn status_tells_running_exited_and_failed_commands_and_apply_does_not_rerun_them() {
    if !can_run("e2e::commands::status", &[]) {
        return;
    }
    let dir = TempDir::new("cmd");
    let file = dir.write("net.yaml", CONFIG);
    let host = TestHost::new("cmd");
    let mut p = Project::new(&host, "cmd");
    let plan = p.plan_json(&file);
    let (s0, s1, s2) = (
        command_step(&plan, "h0"),
        command_step(&plan, "h1"),
        command_step(&plan, "h2"),
    );
    p.apply(&file);
    let ran = poll(Duration::from_secs(5), || {
        (starts(&p, &s1) == 1 && starts(&p, &s2) == 1).then_some(())
    });
    assert!(ran.is_some(), "the commands of h1 and h2 did not run");
    // Let the short ones exit.
    std::thread::sleep(Duration::from_millis(300));

    let out = p.status(&file);
    let line = status_line(&out, &s0);
    assert!(line.starts_with("running "), "{line}");
    let line = status_line(&out, &s1);
    assert!(
        line.starts_with("exited ") && line.contains("exit code 0"),
        "{line}"
    );
    let line = status_line(&out, &s2);
    assert!(
        line.starts_with("failed ") && line.contains("exit code 3"),
        "{line}"
    );
    // A failed command is a difference; the others are not.
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(text(&out.stderr).contains("1 difference"), "{}", show(&out));

    // Applying again starts none of them again: their targets were not recreated.
    let report = p.apply(&file);
    std::thread::sleep(Duration::from_millis(300));
    for s in [&s0, &s1, &s2] {
        assert_eq!(
            starts(&p, s),
            1,
            "{s} started again by a second apply: {report}"
        );
    }
    assert!(
        report.contains(&s2) && report.contains("exit code 3"),
        "apply should report the failed command: {report}"
    );

    // Without the state file, status still finds the running command.
    std::fs::remove_file(p.state_file()).expect("remove the state file");
    let out = p.status(&file);
    let line = status_line(&out, &s0);
    assert!(line.starts_with("running "), "{line}\n{}", show(&out));
    // ... and apply does not start a second copy.
    p.apply(&file);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        starts(&p, &s0),
        1,
        "a second copy of h0's command was started"
    );

    // Recreating the targets runs every command again.
    p.destroy();
    p.destroyed = false;
    p.apply(&file);
    let again = poll(Duration::from_secs(5), || {
        [&s0, &s1, &s2]
            .iter()
            .all(|s| starts(&p, s) == 2)
            .then_some(())
    });
    assert!(
        again.is_some(),
        "recreated targets did not run their commands again"
    );
    p.destroy();
}
