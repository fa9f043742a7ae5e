//! Rendering a plan for people and tools (docs/plan.md, "Text form" and "JSON form").
//!
//! * [`text`]: `--format text`, one command line per step, grouped by unit.
//! * [`json`]: `--format json`, the plan as data.
//! * [`script`]: `--format script`, a POSIX shell script that builds the network.
//! * [`graph`]: drawings of the topology (`conlink graph`).
//! * [`plan_schema_text`]: the JSON Schema of the JSON form.

pub mod graph;
pub mod json;
pub mod script;
pub mod text;

/// The plan's JSON Schema ([`crate::plan::plan_schema`]) as pretty-printed JSON, with a
/// trailing newline (the content of `schema/plan.schema.json`).
pub fn plan_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&crate::plan::plan_schema())
        .expect("a JSON Schema always serialises to JSON");
    text.push('\n');
    text
}
