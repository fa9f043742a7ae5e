//! Every example under examples/NAME/ is planned (text, JSON and shell script) and
//! compared with its snapshot; the script passes `sh -n`. An example directory holds its YAML files and a `conlink.test` file with
//! `args:` (the sources and options for `conlink plan`) and `env:` lines.

use crate::util::{conlink, entries, expect_code, parse_spec, root, snapshot_settings, text};

#[test]
fn every_example_plans_as_snapshotted() {
    let mut count = 0;
    for dir in entries(&root().join("examples")) {
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let spec_file = dir.join("conlink.test");
        let spec = parse_spec(
            &std::fs::read_to_string(&spec_file)
                .unwrap_or_else(|e| panic!("{}: {e}", spec_file.display())),
            false,
        );
        for format in ["text", "json", "script"] {
            let mut cmd = conlink(&dir);
            cmd.arg("--ovs")
                .arg("no")
                .arg("plan")
                .args(&spec.args)
                .args(["--format", format]);
            cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
            let out = cmd.output().expect("run conlink");
            expect_code(&out, 0, &format!("example {name} ({format})"));
            snapshot_settings().bind(|| {
                insta::assert_snapshot!(format!("example__{name}__{format}"), text(&out.stdout));
            });
            if format == "script" {
                let syntax = std::process::Command::new("sh")
                    .args(["-n", "-c", &text(&out.stdout)])
                    .output()
                    .expect("run sh -n");
                assert!(
                    syntax.status.success(),
                    "example {name}: sh -n refuses the script: {}",
                    text(&syntax.stderr)
                );
            }
            if format == "json" {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
                let schema: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(root().join("schema/plan.schema.json"))
                        .expect("plan schema"),
                )
                .expect("schema JSON");
                let validator = jsonschema::validator_for(&schema).expect("valid schema");
                let errors: Vec<String> =
                    validator.iter_errors(&v).map(|e| e.to_string()).collect();
                assert!(
                    errors.is_empty(),
                    "example {name}: plan JSON breaks its schema: {errors:?}"
                );
            }
        }
        // `validate` agrees that the example is valid.
        let mut cmd = conlink(&dir);
        cmd.arg("--ovs")
            .arg("no")
            .arg("validate")
            .args(spec.args.iter().filter(|a| *a != "--format"));
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        expect_code(
            &cmd.output().expect("run conlink"),
            0,
            &format!("validate example {name}"),
        );
        count += 1;
    }
    assert!(count >= 10, "expected at least 10 examples, found {count}");
}
