//! The JSON Schemas committed under schema/ must be exactly what the Rust types
//! generate, and `conlink schema` must print them.

use crate::util::{conlink, expect_code, root, text};

#[test]
fn committed_config_schema_matches_the_types() {
    let committed =
        std::fs::read_to_string(root().join("schema/conlink.schema.json")).unwrap_or_default();
    let generated = compiler::schema::config_schema_text();
    assert!(
        committed == generated,
        "schema/conlink.schema.json is out of date; regenerate it with `cargo run -q -- schema > schema/conlink.schema.json`"
    );
    let out = conlink(&root())
        .arg("schema")
        .output()
        .expect("run conlink");
    expect_code(&out, 0, "conlink schema");
    assert_eq!(text(&out.stdout), generated);
}

#[test]
fn committed_plan_schema_matches_the_types() {
    let committed =
        std::fs::read_to_string(root().join("schema/plan.schema.json")).unwrap_or_default();
    let generated = compiler::render::plan_schema_text();
    assert!(
        committed == generated,
        "schema/plan.schema.json is out of date; regenerate it with `cargo run -q -- schema --plan > schema/plan.schema.json`"
    );
}

/// `schema/status.schema.json` and `schema/apply.schema.json` describe `status
/// --format json` and `apply --format json` (docs/cli.md). Run with
/// `CONLINK_WRITE_SCHEMAS=1` to rewrite them from the types.
#[test]
fn committed_report_schemas_match_the_types() {
    for (file, generated) in [
        (
            "schema/status.schema.json",
            runtime::report::status_schema_text(),
        ),
        (
            "schema/apply.schema.json",
            runtime::report::apply_schema_text(),
        ),
    ] {
        let path = root().join(file);
        if std::env::var_os("CONLINK_WRITE_SCHEMAS").is_some() {
            std::fs::write(&path, &generated).expect("write schema");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{file} is out of date; regenerate it with `CONLINK_WRITE_SCHEMAS=1 cargo test --test integration schema_sync`"
        );
    }
}

/// Editors show descriptions on hover: every property of every object has one.
#[test]
fn every_config_property_has_a_description() {
    let schema = compiler::schema::config_schema().to_value();
    let mut missing = Vec::new();
    walk(&schema, "#", &mut missing);
    assert!(
        missing.is_empty(),
        "properties without a description: {missing:?}"
    );
    assert_eq!(schema["$id"], compiler::schema::CONFIG_SCHEMA_ID);
}

fn walk(v: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::Object(props)) = o.get("properties") {
                for (k, p) in props {
                    if p.get("description")
                        .and_then(|d| d.as_str())
                        .is_none_or(str::is_empty)
                    {
                        missing.push(format!("{path}/properties/{k}"));
                    }
                }
            }
            for (k, c) in o {
                walk(c, &format!("{path}/{k}"), missing);
            }
        }
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| walk(c, &format!("{path}/{i}"), missing)),
        _ => {}
    }
}

/// The compose schema for editors (README.md, "Editors") is generated too, and points
/// at the compose specification's schema and at ours for both places of `x-network`.
#[test]
fn committed_compose_schema_matches_the_code_and_applies_ours_to_x_network() {
    use serde_json::{json, Value};
    let committed = std::fs::read_to_string(root().join("schema/compose-x-network.schema.json"))
        .unwrap_or_default();
    let generated = compiler::schema::compose_schema_text();
    assert!(
        committed == generated,
        "schema/compose-x-network.schema.json is out of date; regenerate it with `cargo run -q -- schema --compose > schema/compose-x-network.schema.json`"
    );
    let out = conlink(&root())
        .args(["schema", "--compose"])
        .output()
        .expect("run conlink");
    expect_code(&out, 0, "conlink schema --compose");
    assert_eq!(text(&out.stdout), generated);
    // The reference to ours names the file committed next to it.
    assert!(root()
        .join("schema")
        .join(compiler::schema::CONFIG_SCHEMA_FILE)
        .exists());

    /// Serves the two referenced schemas from here: ours, and for the compose
    /// specification a stand-in that accepts any mapping (the test is offline).
    struct Here(Value);
    impl jsonschema::Retrieve for Here {
        fn retrieve(
            &self,
            uri: &jsonschema::Uri<String>,
        ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
            let uri = uri.as_str();
            if uri == compiler::schema::COMPOSE_SPEC_SCHEMA_URL {
                Ok(json!({"type": "object"}))
            } else if uri.ends_with(compiler::schema::CONFIG_SCHEMA_FILE) {
                Ok(self.0.clone())
            } else {
                Err(format!("unexpected reference {uri}").into())
            }
        }
    }
    let ours = compiler::schema::config_schema().to_value();
    let validator = jsonschema::options()
        .with_base_uri("file:///project/schema/compose-x-network.schema.json")
        .with_retriever(Here(ours))
        .build(&compiler::schema::compose_schema())
        .expect("the compose schema builds");
    let good = json!({
        "services": {"web": {"image": "nginx", "x-network": {"links": [{"bridge": "s1", "ip": "10.0.0.1/24"}]}}},
        "x-network": {"bridges": [{"bridge": "s1", "mode": "linux"}]}
    });
    assert!(validator.is_valid(&good));
    for bad in [
        json!({"services": {"web": {"x-network": {"links": [{"bridge": "s1", "colour": "red"}]}}}}),
        json!({"x-network": {"bridges": [{"mode": "linux"}]}}),
    ] {
        assert!(!validator.is_valid(&bad), "accepted {bad}");
    }
}
