//! `conlink run --show-config` (conlink 2.x's option): print the configuration the
//! sources give, merged and interpolated, as JSON, and exit without touching anything
//! (docs/cli.md, "conlink run"). JSON, as 2.x printed; it is also YAML, so the output
//! reads back as a network file that plans the same. For that, a `$` that
//! interpolation left in a value is printed as `$$`, as it is written in a file
//! (docs/configuration.md, "Interpolation"); read back, it is `$` again.

use crate::cli::{Common, Sources};
use crate::commands::plan::compile_with;
use crate::commands::{print_diagnostics, print_stdout};
use crate::Outcome;
use serde_json::Value;

pub fn run(common: &Common, srcs: &Sources) -> Outcome {
    let merged = match compile_with(common, srcs, &[], |files, env, _| {
        compiler::load_merged(files, env)
    }) {
        Ok(m) => m,
        Err(outcome) => return outcome,
    };
    print_diagnostics(&merged.diagnostics, &merged.sources);
    let Some(config) = merged.config else {
        return Outcome::Failed;
    };
    let printed = serde_json::to_value(&config)
        .map(escape_dollars)
        .and_then(|v| serde_json::to_string_pretty(&v));
    match printed {
        Ok(json) => {
            print_stdout(&(json + "\n"));
            Outcome::Success
        }
        Err(e) => {
            eprintln!("conlink: cannot print the configuration: {e}");
            Outcome::Failed
        }
    }
}

/// Every string value with `$` written `$$` (keys are never interpolated).
fn escape_dollars(v: Value) -> Value {
    match v {
        Value::String(s) if s.contains('$') => Value::String(s.replace('$', "$$")),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_dollars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, escape_dollars(v)))
                .collect(),
        ),
        other => other,
    }
}
