//! conlink 2.x configurations run unchanged: every file under tests/compat/ is written
//! the way a 2.x user wrote theirs, and must validate and plan as 2.x would have built
//! it (docs/configuration.md, "Sources and merging", "Files written for conlink 2.x").
//!
//! Files named `*.compose.yaml` are compose files, others network files. Comment lines
//! at the top say what to check: `# args:` and `# env:` as for tests/invalid/;
//! `# plan: TEXT`, a text that some line of the text plan contains; `# not in plan:
//! TEXT`, a text no line contains; `# warning: CODE`, the warnings expected (none when
//! there is no such line).

use crate::util::{conlink, entries, expect_code, parse_spec, root, text};

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
