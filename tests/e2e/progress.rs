//! `-v` prints each step as the runtime carries it out (docs/cli.md, "Common options"):
//! the step's id, namespace and one-line form as `conlink plan` prints them; `-vv` adds
//! timings.

use super::*;

const CONFIG: &str = r#"
nodes:
  - name: h0
  - name: h1
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: h0, bridge: s1, ip: 10.0.0.1/24}
  - {node: h1, bridge: s1, ip: 10.0.0.2/24}
"#;

/// (step id, namespace) of every step of the plan.
fn steps(plan: &Value) -> Vec<(String, String)> {
    plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .flat_map(|u| u["steps"].as_array().expect("steps"))
        .map(|s| {
            (
                s["id"].as_str().expect("id").to_string(),
                s["ns"].as_str().expect("ns").to_string(),
            )
        })
        .collect()
}

/// The progress lines of `out` (stderr) that say `word` about a step: the words after
/// `word`, split on runs of two spaces.
fn lines_with(out: &Output, command: &str, word: &str) -> Vec<Vec<String>> {
    let prefix = format!("conlink {command}: {word} ");
    text(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            rest.trim_start()
                .split("  ")
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect()
}

#[test]
fn verbose_runs_print_each_step_with_its_id_namespace_and_line() {
    if !can_run("e2e::progress", &[]) {
        return;
    }
    let dir = TempDir::new("prog");
    let file = dir.write("net.yaml", CONFIG);
    let f = file.to_str().expect("utf-8");
    let host = TestHost::new("prog");
    let mut p = Project::new(&host, "prog");
    let plan = p.plan_json(&file);
    let all = steps(&plan);

    // -v apply: one `run` line per step, in plan order: id, namespace, the step.
    let out = p.conlink(&["-v", "apply", "-n", f]);
    assert!(out.status.success(), "{}", show(&out));
    let ran = lines_with(&out, "apply", "run");
    let ids: Vec<(String, String)> = ran.iter().map(|w| (w[0].clone(), w[1].clone())).collect();
    assert_eq!(ids, all, "{}", show(&out));
    let plan_text = p.conlink(&["plan", "-n", f]);
    for w in &ran {
        assert_eq!(w.len(), 3, "no timings without -vv: {w:?}");
        let line = format!("{}  {}  {}", w[0], w[1], w[2]);
        assert!(
            text(&plan_text.stdout).contains(&line),
            "{line:?} is not the plan's line for the step"
        );
    }

    // -vv apply again: every step in place, each with its timing.
    let out = p.conlink(&["-vv", "apply", "-n", f]);
    assert!(out.status.success(), "{}", show(&out));
    let in_place = lines_with(&out, "apply", "in place");
    assert_eq!(in_place.len(), all.len(), "{}", show(&out));
    for w in &in_place {
        let last = w.last().expect("words");
        assert!(
            last.starts_with('[') && last.ends_with("ms]"),
            "-vv should end each line with its timing: {w:?}"
        );
    }

    // -v status: each step checked.
    let out = p.conlink(&["-v", "status", "-n", f]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        lines_with(&out, "status", "in place").len(),
        all.len(),
        "{}",
        show(&out)
    );

    // -v destroy: what it removes.
    let out = p.conlink(&["-v", "destroy"]);
    assert!(out.status.success(), "{}", show(&out));
    let removed = lines_with(&out, "destroy", "removed");
    for node in ["h0", "h1"] {
        let ns = p.node(node);
        assert!(
            removed.iter().any(|w| w.iter().any(|x| x.contains(&ns))),
            "-v destroy should name namespace {ns}: {}",
            show(&out)
        );
    }
    p.destroy();
}
