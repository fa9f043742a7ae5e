//! The configuration's JSON Schema: generated from [`crate::model`], committed at
//! `schema/conlink.schema.json`, and used by `conlink validate` itself, so editors and
//! the tool share one definition of the language.
//!
//! Validation errors from the jsonschema crate are turned into located diagnostics:
//! each error's instance path is looked up in the YAML tree to find the node to label,
//! and `anyOf`/`oneOf` failures are reduced to the alternative the user most likely
//! meant rather than listing every alternative.

use super::node::{Node, Value};
use crate::diag::did_you_mean;
use crate::diag::Diagnostic;
use crate::model::Config;
use jsonschema::error::ValidationErrorKind;
use jsonschema::ValidationError;
use serde_json::Value as Json;

/// Stable identifier of the configuration schema.
pub const CONFIG_SCHEMA_ID: &str = "urn:conlink:schema:config:v1";

/// Generates the configuration schema from the model types.
pub fn config_schema() -> schemars::Schema {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut value = generator.into_root_schema_for::<Config>().to_value();
    strip_null(&mut value);
    let mut schema = schemars::Schema::try_from(value).expect("still a schema object");
    schema.insert("$id".into(), CONFIG_SCHEMA_ID.into());
    schema.insert("title".into(), "conlink network configuration".into());
    schema
}

/// schemars lets every `Option` field also be `null`. In conlink an absent property is
/// how "not set" is written, and `mtu: null` (or an empty `mtu:`) is more likely a
/// mistake than a wish, so the schema rejects `null` everywhere.
fn strip_null(v: &mut Json) {
    let is_null = |s: &Json| s.get("type").and_then(Json::as_str) == Some("null");
    if let Json::Object(obj) = v {
        if let Some(Json::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t.as_str() != Some("null"));
            if types.len() == 1 {
                let single = types[0].clone();
                obj.insert("type".into(), single);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Json::Array(alts)) = obj.get_mut(key) {
                alts.retain(|a| !is_null(a));
                if alts.len() == 1 {
                    let Some(Json::Object(only)) = obj
                        .remove(key)
                        .and_then(|a| a.as_array().and_then(|a| a.first().cloned()))
                    else {
                        continue;
                    };
                    for (k, val) in only {
                        obj.entry(k).or_insert(val);
                    }
                }
            }
        }
        obj.values_mut().for_each(strip_null);
    } else if let Json::Array(items) = v {
        items.iter_mut().for_each(strip_null);
    }
}

/// The schema as committed: pretty JSON with a trailing newline.
pub fn config_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&config_schema()).expect("schema serializes");
    s.push('\n');
    s
}

/// The compose specification's JSON Schema, which compose files follow.
pub const COMPOSE_SPEC_SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/compose-spec/compose-spec/master/schema/compose-spec.json";

/// The name [`compose_schema`] refers to the configuration schema by: the committed
/// file next to it in `schema/`.
pub const CONFIG_SCHEMA_FILE: &str = "conlink.schema.json";

/// A schema for compose files that carry conlink's configuration, for editors
/// (`schema/compose-x-network.schema.json`, README.md "Editors"): the compose
/// specification's schema, and ours at the top-level `x-network` and at each service's.
/// An editor applies one schema per file, so one that knows compose files needs both
/// in one. It has no `$id`, so that the reference to the configuration schema resolves
/// next to wherever the file is (a copy in a project, or its raw URL); it is draft-07,
/// like the compose schema, which editors support best.
pub fn compose_schema() -> Json {
    let ours = serde_json::json!({ "$ref": CONFIG_SCHEMA_FILE });
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "docker compose file with conlink's x-network",
        "description": "A compose file (the compose specification's schema) whose top-level and per-service `x-network` hold conlink configuration (conlink's schema).",
        "allOf": [
            { "$ref": COMPOSE_SPEC_SCHEMA_URL },
            {
                "type": "object",
                "properties": {
                    "x-network": ours,
                    "services": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": { "x-network": ours }
                        }
                    }
                }
            }
        ]
    })
}

/// [`compose_schema`] as committed: pretty JSON with a trailing newline.
pub fn compose_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&compose_schema()).expect("schema serializes");
    s.push('\n');
    s
}

/// Validates configuration fragments against the schema. Built once per process
/// (`load::VALIDATOR`).
pub struct SchemaValidator {
    schema: Json,
    validator: jsonschema::Validator,
}

impl Default for SchemaValidator {
    fn default() -> Self {
        SchemaValidator::new()
    }
}

impl SchemaValidator {
    pub fn new() -> SchemaValidator {
        let schema = config_schema().to_value();
        let validator = jsonschema::options()
            .should_validate_formats(false)
            .build(&schema)
            .expect("the generated schema is a valid JSON Schema");
        SchemaValidator { schema, validator }
    }

    /// Every schema error in one configuration fragment, located in its YAML tree.
    pub fn validate(&self, root: &Node) -> Vec<Diagnostic> {
        let instance = root.to_json();
        let mut out = Vec::new();
        for err in self.validator.iter_errors(&instance) {
            self.report(root, &err, &mut out);
        }
        // One wrong node can fail several keywords; say each thing once.
        out.dedup();
        out
    }

    fn report(&self, root: &Node, err: &ValidationError<'_>, out: &mut Vec<Diagnostic>) {
        let path = err.instance_path().as_str();
        let node = root.at_pointer(path).unwrap_or(root);
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = self.allowed_keys(err.schema_path().as_str());
                let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
                for key in unexpected {
                    let ptr = format!("{}/{}", path, escape(key));
                    let span = root.key_at_pointer(&ptr).map_or(node.span, |k| k.span);
                    let mut d = Diagnostic::error(
                        "conlink::schema::unknown_key",
                        format!("unknown key `{key}`"),
                    )
                    .at(span, "not a known key here");
                    d = match did_you_mean(key, &allowed) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("known keys here: {}", allowed.join(", "))),
                    };
                    out.push(d);
                }
            }
            ValidationErrorKind::Required { property } => {
                let key = property.as_str().unwrap_or_default();
                let span = match &node.value {
                    Value::Map(entries) if !entries.is_empty() => entries[0].0.span,
                    _ => node.span,
                };
                out.push(
                    Diagnostic::error(
                        "conlink::schema::missing_key",
                        format!("missing required key `{key}`"),
                    )
                    .at(span, format!("this mapping needs `{key}`")),
                );
            }
            ValidationErrorKind::Type { kind } => {
                let expected = type_kind_names(kind);
                out.push(wrong_type(node, &expected));
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<&str> = options
                    .as_array()
                    .map(|a| a.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default();
                out.push(not_one_of(node, &options));
            }
            ValidationErrorKind::Minimum { limit } | ValidationErrorKind::Maximum { limit } => {
                let (min, max) = self.range_at(err.schema_path().as_str());
                let what = if matches!(err.kind(), ValidationErrorKind::Minimum { .. }) {
                    "small"
                } else {
                    "large"
                };
                let range = match (min, max) {
                    (Some(a), Some(b)) => format!("{a}-{b}"),
                    _ => format!("limit {limit}"),
                };
                out.push(
                    Diagnostic::error(
                        "conlink::schema::out_of_range",
                        format!(
                            "{} is too {what} (allowed: {range})",
                            json_scalar(&node.to_json())
                        ),
                    )
                    .at(node.span, format!("allowed: {range}")),
                );
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                self.report_alternatives(root, node, context, out);
            }
            _ => out.push(
                Diagnostic::error("conlink::schema::invalid", err.to_string())
                    .at(node.span, "here"),
            ),
        }
    }

    /// Reports the most specific cause of an `anyOf`/`oneOf` failure.
    fn report_alternatives(
        &self,
        root: &Node,
        node: &Node,
        context: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Diagnostic>,
    ) {
        let here = |e: &ValidationError<'_>| {
            root.at_pointer(e.instance_path().as_str()).map(|n| n.span) == Some(node.span)
        };
        // Alternatives written for another type of value are not what the user meant.
        let same_type: Vec<&Vec<ValidationError<'static>>> = context
            .iter()
            .filter(|errs| {
                !errs
                    .iter()
                    .any(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }) && here(e))
            })
            .collect();
        if same_type.is_empty() {
            let mut expected: Vec<String> = context
                .iter()
                .flat_map(|errs| errs.iter())
                .filter_map(|e| match e.kind() {
                    ValidationErrorKind::Type { kind } if here(e) => Some(type_kind_names(kind)),
                    _ => None,
                })
                .collect();
            expected.dedup();
            out.push(wrong_type(node, &expected.join(" or ")));
            return;
        }
        // A choice between constants (an enum written with descriptions) reads as one list.
        let consts: Option<Vec<String>> = same_type
            .iter()
            .map(|errs| match errs.as_slice() {
                [e] => match e.kind() {
                    ValidationErrorKind::Constant { expected_value } => {
                        expected_value.as_str().map(str::to_string)
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if let Some(consts) = consts {
            let options: Vec<&str> = consts.iter().map(String::as_str).collect();
            out.push(not_one_of(node, &options));
            return;
        }
        // Integers may be written as strings for interpolation; a string that is not a
        // number after interpolation deserves a plain sentence, not a regex.
        if matches!(node.value, Value::Str(_))
            && same_type.iter().all(|errs| {
                errs.iter()
                    .all(|e| matches!(e.kind(), ValidationErrorKind::Pattern { .. }))
            })
        {
            out.push(
                Diagnostic::error(
                    "conlink::schema::not_a_number",
                    format!(
                        "expected an integer, found the string {:?}",
                        node.as_str().unwrap_or_default()
                    ),
                )
                .at(node.span, "not an integer")
                .help("write a decimal integer, or a ${VARIABLE} that expands to one"),
            );
            return;
        }
        // Otherwise the alternative whose errors reach deepest into the value is the
        // one the user was writing.
        let best = same_type
            .iter()
            .max_by_key(|errs| {
                errs.iter()
                    .map(|e| e.instance_path().as_str().len())
                    .max()
                    .unwrap_or(0)
            })
            .expect("not empty");
        for e in best.iter() {
            self.report(root, e, out);
        }
    }

    /// The property names a schema object allows, from the path of its
    /// `additionalProperties` keyword.
    fn allowed_keys(&self, schema_path: &str) -> Vec<String> {
        let parent = schema_path
            .strip_suffix("/additionalProperties")
            .unwrap_or(schema_path);
        self.schema
            .pointer(&format!("{parent}/properties"))
            .and_then(Json::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// `minimum` and `maximum` of the schema object a range keyword sits in.
    fn range_at(&self, schema_path: &str) -> (Option<i64>, Option<i64>) {
        let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
        let obj = self.schema.pointer(parent);
        let get = |k: &str| obj.and_then(|o| o.get(k)).and_then(Json::as_i64);
        (get("minimum"), get("maximum"))
    }
}

fn wrong_type(node: &Node, expected: &str) -> Diagnostic {
    let d = Diagnostic::error(
        "conlink::schema::wrong_type",
        format!("expected {expected}, found {}", node.type_phrase()),
    )
    .at(node.span, format!("expected {expected}"));
    if matches!(node.value, Value::Null) {
        d.help("leave the key out to leave it unset; `key:` with no value is null")
    } else {
        d
    }
}

fn not_one_of(node: &Node, options: &[&str]) -> Diagnostic {
    let shown = json_scalar(&node.to_json());
    let d = Diagnostic::error(
        "conlink::schema::unknown_value",
        format!("{shown} is not one of: {}", options.join(", ")),
    )
    .at(
        node.span,
        format!("expected one of: {}", options.join(", ")),
    );
    match node.as_str().and_then(|s| did_you_mean(s, options)) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d,
    }
}

fn json_scalar(v: &Json) -> String {
    match v {
        Json::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

fn type_kind_names(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "string" => "a string".to_string(),
        "integer" => "an integer".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "a boolean".to_string(),
        "null" => "nothing".to_string(),
        other => other.to_string(),
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(ts) => ts.iter().map(|t| name(&t)).collect::<Vec<_>>().join(" or "),
    }
}

/// Escapes one JSON-pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
