//! Every file under tests/invalid/ is an invalid configuration: `conlink validate` must
//! exit 1 without panicking, and its rendered diagnostics must match the snapshot. Files
//! named `*.compose.yaml` are compose files, others network files; `# args:` and
//! `# env:` comment lines at the top add options and environment.

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
        expect_code(&out, 1, &fname);
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
        expect_code(&out, 1, &format!("{fname} (json)"));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diagnostics JSON");
        let errors: Vec<&serde_json::Value> = v
            .as_array()
            .expect("array")
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert!(!errors.is_empty(), "{fname}: no error in JSON output");
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
