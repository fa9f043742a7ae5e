//! Every file under tests/invalid/ is an invalid configuration: `conlink validate` must
//! exit 1 without panicking, and its rendered diagnostics must match the snapshot. Files
//! named `*.compose.yaml` are compose files, others network files; `# args:` and
//! `# env:` comment lines at the top add options and environment. A file whose top has
//! `# expect: warnings only` shows a warning rule: validation passes (exit 0) and the
//! snapshot holds the warning.
//!
//! Every semantic rule (`conlink::check::NAME`) has a file of its own here, named
//! `NAME` with `-` for `_`, whose diagnostics include that code.

use crate::util::{conlink, entries, expect_code, parse_spec, root, snapshot_settings, text};

#[test]
fn every_invalid_configuration_is_reported_with_its_location() {
    let dir = root().join("tests/invalid");
    let mut count = 0;
    for file in entries(&dir) {
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        if !(fname.ends_with(".yaml") || fname.ends_with(".json")) {
            continue;
        }
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        let spec = parse_spec(&content, true);
        let warnings_only = content
            .lines()
            .take_while(|l| l.starts_with('#'))
            .any(|l| l.trim() == "# expect: warnings only");
        let (code, severity) = if warnings_only {
            (0, "warning")
        } else {
            (1, "error")
        };
        let flag = if fname.ends_with(".compose.yaml") {
            "-c"
        } else {
            "-n"
        };
        let run = |format: &str| {
            let mut cmd = conlink(&dir);
            cmd.args(["--ovs", "no", "validate", flag, &fname, "--format", format])
                .args(&spec.args);
            cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
            cmd.output().expect("run conlink")
        };
        let out = run("text");
        expect_code(&out, code, &fname);
        let stderr = text(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{fname}: conlink panicked:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("{fname}:")),
            "{fname}: the diagnostic does not name the file:\n{stderr}"
        );
        let name = fname.trim_end_matches(".yaml").trim_end_matches(".json");
        snapshot_settings().bind(|| insta::assert_snapshot!(format!("invalid__{name}"), stderr));

        // The JSON form carries the same errors with file, line, column and pointer.
        let out = run("json");
        expect_code(&out, code, &format!("{fname} (json)"));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diagnostics JSON");
        let errors: Vec<&serde_json::Value> = v
            .as_array()
            .expect("array")
            .iter()
            .filter(|d| d["severity"] == severity)
            .collect();
        assert!(!errors.is_empty(), "{fname}: no {severity} in JSON output");
        for e in errors {
            assert_eq!(e["file"], fname.as_str(), "{fname}: {e}");
            assert!(e["line"].as_u64().is_some_and(|l| l >= 1), "{fname}: {e}");
            assert!(e["column"].as_u64().is_some_and(|c| c >= 1), "{fname}: {e}");
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{fname}: {e}"
            );
        }
        count += 1;
    }
    assert!(
        count >= 40,
        "expected at least 40 invalid configurations, found {count}"
    );
}

/// Every `conlink::check::*` code the checker can emit has its own fixture (named after
/// the rule) whose snapshotted diagnostics show it.
#[test]
fn every_semantic_rule_has_a_fixture() {
    let mut codes = std::collections::BTreeSet::new();
    let mut dirs = vec![root().join("compiler/src/check")];
    while let Some(dir) = dirs.pop() {
        for path in entries(&dir) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source file");
                for (i, _) in text.match_indices("\"conlink::check::") {
                    let rest = &text[i + "\"conlink::check::".len()..];
                    let end = rest.find('"').expect("a closed string");
                    codes.insert(rest[..end].to_string());
                }
            }
        }
    }
    assert!(codes.len() >= 30, "found only {codes:?}");
    let mut missing = Vec::new();
    for code in &codes {
        let name = code.replace('_', "-");
        let fixture = ["yaml", "compose.yaml"]
            .iter()
            .map(|ext| root().join(format!("tests/invalid/{name}.{ext}")))
            .find(|p| p.exists());
        let snapshot = fixture.and_then(|p| {
            let stem = p
                .file_name()?
                .to_str()?
                .trim_end_matches(".yaml")
                .to_string();
            std::fs::read_to_string(root().join(format!("snapshots/invalid__{stem}.snap"))).ok()
        });
        if !snapshot.is_some_and(|s| s.contains(&format!("conlink::check::{code}"))) {
            missing.push(format!(
                "conlink::check::{code} (tests/invalid/{name}.yaml)"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "rules without a fixture showing their code:\n  {}",
        missing.join("\n  ")
    );
}

/// `--format github`: GitHub Actions annotations on stdout, one line per diagnostic,
/// for a few fixtures: several errors, a warning (exit 0), a span over two lines (no
/// columns), a compose file, and a problem with no place in any file.
#[test]
fn github_annotations_of_a_few_configurations() {
    let dir = root().join("tests/invalid");
    for (fname, extra, code) in [
        ("several-errors.yaml", &[][..], 1),
        ("netem-repeated.yaml", &[], 0),
        ("missing-bridge.yaml", &[], 1),
        (
            "scale-leaves-subnet.compose.yaml",
            &["--scale", "nope=2"],
            1,
        ),
    ] {
        let flag = if fname.ends_with(".compose.yaml") {
            "-c"
        } else {
            "-n"
        };
        let out = conlink(&dir)
            .args(["--ovs", "no", "validate", flag, fname, "--format", "github"])
            .args(extra)
            .output()
            .expect("run conlink");
        expect_code(&out, code, fname);
        let stdout = text(&out.stdout);
        assert!(
            !stdout.is_empty()
                && stdout
                    .lines()
                    .all(|l| l.starts_with("::error ") || l.starts_with("::warning ")),
            "{fname}: not one workflow command per line:\n{stdout}"
        );
        let name = fname.trim_end_matches(".yaml");
        snapshot_settings().bind(|| insta::assert_snapshot!(format!("github__{name}"), stdout));
    }
}

/// `conlink validate FILE…`, as pre-commit runs it: each file on its own, read as what
/// it is; a compose file without `x-network` passes; the exit code is the worst.
#[test]
fn files_named_alone_are_validated_one_by_one() {
    let d = crate::util::TempDir::new("each-file");
    d.write(
        "net.yaml",
        "links: [{node: a, bridge: s1}]\nnodes: [{name: a}]\n",
    );
    d.write(
        "compose.yaml",
        "services:\n  web:\n    image: x\n    x-network:\n      links: [{bridge: s1, ip: 10.0.0.1/24}]\n",
    );
    d.write("plain-compose.yaml", "services: {db: {image: postgres}}\n");
    d.write("bad.yaml", "links: [{node: nope, bridge: s1}]\n");
    let run = |files: &[&str]| {
        conlink(d.path())
            .args(["--ovs", "no", "validate", "--format", "github"])
            .args(files)
            .output()
            .expect("run conlink")
    };
    let out = run(&["net.yaml", "compose.yaml", "plain-compose.yaml"]);
    expect_code(&out, 0, "valid files");
    assert_eq!(text(&out.stdout), "");
    let out = run(&["net.yaml", "bad.yaml", "compose.yaml"]);
    expect_code(&out, 1, "one invalid file");
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("::error file=bad.yaml,"), "{stdout}");
    // Files alone and -n/-c do not mix.
    let out = conlink(d.path())
        .args(["validate", "-n", "net.yaml", "bad.yaml"])
        .output()
        .expect("run conlink");
    expect_code(&out, 2, "-n with a file alone");
}

/// The pre-commit hook runs `conlink validate` with the files appended.
#[test]
fn the_pre_commit_hook_runs_validate_on_the_files() {
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml"))
        .expect(".pre-commit-hooks.yaml");
    let entries: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry:"))
        .map(str::trim)
        .collect();
    assert!(!entries.is_empty(), "no hook entry");
    for entry in entries {
        let words: Vec<&str> = entry.split_whitespace().collect();
        assert_eq!(words[..2], ["conlink", "validate"], "{entry}");
        let out = conlink(&root().join("tests/compat"))
            .args(&words[1..])
            .arg("route-names-own-dev.compose.yaml")
            .arg("netem-option-repeated.yaml")
            .output()
            .expect("run conlink");
        expect_code(&out, 0, entry);
    }
}
