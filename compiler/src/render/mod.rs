//! Rendering a plan for people and tools (docs/plan.md, "Text form" and "JSON form").
//!
//! * [`text`]: `--format text`, one command line per step, grouped by unit.
//! * [`json`]: `--format json`, the plan as data.
//! * [`plan_schema_text`]: the JSON Schema of the JSON form.

pub mod json;
pub mod text;

/// The plan's JSON Schema ([`crate::plan::plan_schema`]) as pretty-printed JSON, with a
/// trailing newline (the content of `schema/plan.schema.json`).
pub fn plan_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&crate::plan::plan_schema())
        .expect("a JSON Schema always serialises to JSON");
    text.push('\n');
    text
}
