//! `apply --format json` and `status --format json` (docs/cli.md) on a real applied
//! example (examples/router): each document is valid against its committed schema
//! (schema/apply.schema.json, schema/status.schema.json) and says what happened:
//! the steps created, the commands running, a drift with its unit, step, namespace and
//! kind, and the step that repaired it.

use super::*;

fn validate(doc: &Value, schema_file: &str) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::root().join(schema_file)).expect("schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "breaks {schema_file}: {errors:?}\n{doc:#}"
    );
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", show(out)))
}

#[test]
fn apply_and_status_speak_json() {
    if !can_run("e2e::report", &["sysctl", "busybox"]) {
        return;
    }
    let file = example("router/network.yaml");
    let f = file.to_str().unwrap();
    let host = TestHost::new("rep");
    let mut p = Project::new(&host, "rep");

    let out = p.conlink(&["apply", "-n", f, "--format", "json"]);
    assert!(out.status.success(), "apply: {}", show(&out));
    let applied = json(&out);
    validate(&applied, "schema/apply.schema.json");
    assert_eq!(applied["format"], 1);
    assert_eq!(applied["ok"], true);
    assert_eq!(applied["project"], p.name.as_str());
    let created = applied["created"].as_array().expect("created");
    assert!(!created.is_empty(), "nothing created: {applied:#}");
    assert_eq!(created.len() as u64, applied["executed"].as_u64().unwrap());
    assert!(
        created.iter().any(|s| s["unit"] == "network"
            && s["ns"] == "node:r0"
            && s["line"] == "sysctl -w net.ipv4.ip_forward=1"),
        "r0's forwarding is not among the created steps: {created:#?}"
    );

    let out = p.conlink(&["status", "-n", f, "--format", "json"]);
    assert!(out.status.success(), "status: {}", show(&out));
    let status = json(&out);
    validate(&status, "schema/status.schema.json");
    assert_eq!(status["in_sync"], true);
    assert_eq!(status["differences"].as_array().map(Vec::len), Some(0));
    let commands = status["commands"].as_array().expect("commands");
    assert!(
        commands.iter().any(|c| c["unit"] == "node:h1"
            && c["ns"] == "node:h1"
            && (c["state"] == "running" && c["pid"].as_i64().is_some() || c["state"] == "exited")),
        "h1's command is not listed: {commands:#?}"
    );

    // A drift: r0 stops forwarding.
    must_in_ns(&p.node("r0"), &["sysctl", "-w", "net.ipv4.ip_forward=0"]);
    let out = p.conlink(&["status", "-n", f, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "status after drift: {}",
        show(&out)
    );
    let status = json(&out);
    validate(&status, "schema/status.schema.json");
    assert_eq!(status["in_sync"], false);
    let diffs = status["differences"].as_array().expect("differences");
    assert_eq!(diffs.len(), 1, "one difference expected: {diffs:#?}");
    let d = &diffs[0];
    // conlink reads a sysctl that does not have its planned value as the step not
    // being in place: `missing`, which `apply` carries out again.
    assert_eq!(d["kind"], "missing", "{d:#}");
    assert_eq!(d["what"], "sysctl -w net.ipv4.ip_forward=1", "{d:#}");
    assert_eq!(d["unit"], "network", "{d:#}");
    assert_eq!(d["ns"], "node:r0", "{d:#}");
    assert!(d["step"].as_str().unwrap().starts_with("network/"), "{d:#}");
    assert!(d["text"].as_str().unwrap().starts_with("missing "), "{d:#}");
    let step = d["step"].clone();

    let out = p.conlink(&["apply", "-n", f, "--format", "json"]);
    assert!(out.status.success(), "repairing apply: {}", show(&out));
    let repaired = json(&out);
    validate(&repaired, "schema/apply.schema.json");
    let created = repaired["created"].as_array().expect("created");
    assert_eq!(
        created.len(),
        1,
        "only the drift is created again: {repaired:#}"
    );
    assert_eq!(created[0]["step"], step, "{repaired:#}");
    assert_eq!(created[0]["ns"], "node:r0", "{repaired:#}");
    assert_eq!(repaired["executed"], 1, "{repaired:#}");
    assert_eq!(sysctl(&p.node("r0"), "net.ipv4.ip_forward"), "1");
    p.destroy();
}
