//! The plan as JSON (`conlink plan --format json`): the same plan as data, in the
//! documented shape of [`crate::plan::plan_schema`], for CI and other tools.
//!
//! The output is deterministic: the plan's types serialise their fields in declaration
//! order and hold no hash maps.

use crate::plan::Plan;

/// The plan as pretty-printed JSON, with a trailing newline.
pub fn render(plan: &Plan) -> String {
    // Every type in a plan serialises to JSON (no non-string map keys, no fallible
    // custom serialisers), so this cannot fail.
    let mut json = serde_json::to_string_pretty(plan).expect("a plan always serialises to JSON");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::sample_plan;

    #[test]
    fn round_trips_through_serde() {
        let plan = sample_plan();
        let json = render(&plan);
        assert!(json.ends_with("}\n"));
        let back: Plan = serde_json::from_str(&json).expect("the rendered plan parses back");
        assert_eq!(back, plan);
        assert_eq!(render(&back), json);
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(render(&sample_plan()), render(&sample_plan()));
    }

    #[test]
    fn the_plan_schema_validates_the_json() {
        let schema: serde_json::Value =
            serde_json::from_str(&crate::render::plan_schema_text()).expect("the schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let json: serde_json::Value =
            serde_json::from_str(&render(&sample_plan())).expect("the plan is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(validator.is_valid(&json));
    }

    #[test]
    fn the_plan_schema_rejects_a_bad_namespace() {
        let schema = serde_json::to_value(crate::plan::plan_schema()).expect("the schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let mut json = serde_json::to_value(sample_plan()).expect("the plan is JSON");
        json["units"][0]["steps"][0]["ns"] = "pid:42".into();
        assert!(!validator.is_valid(&json));
    }
}
