//! `conlink validate`: load, interpolate, merge, schema-check and semantic-check, and
//! report every error (docs/cli.md, "conlink validate"), as text, JSON or GitHub
//! Actions annotations. Files named without `-n` or `-c` (as pre-commit passes the
//! files it checks) are each validated on their own.

use crate::cli::{Common, ReportFormat, Sources, ValidateArgs};
use crate::commands::{print_diagnostics, print_stdout};
use crate::Outcome;
use compiler::diag::Diagnostics;
use compiler::source::SourceMap;
use compiler::Compilation;

/// What a file that configures nothing says; not an error for a file checked on its
/// own, since most compose files of a repository have no `x-network`.
const NOTHING_CONFIGURED: &str = "conlink::check::nothing_configured";

/// What a network file that is a compose file says.
const COMPOSE_AS_NETWORK: &str = "conlink::source::compose_file_as_network";

pub fn run(common: &Common, args: &ValidateArgs) -> Outcome {
    if !args.files.is_empty() {
        return each_file(common, args);
    }
    let c = match super::plan::compile(common, &args.sources, &args.scale) {
        Ok(c) => c,
        Err(outcome) => return outcome,
    };
    let mut json = Vec::new();
    report(args.format, &c.diagnostics, &c.sources, &mut json);
    if args.format == ReportFormat::Json {
        print_json(json);
    }
    match &c.plan {
        Some(plan) => {
            if common.verbose > 0 || args.format == ReportFormat::Text {
                let steps: usize = plan.units.iter().map(|u| u.steps.len()).sum();
                eprintln!(
                    "conlink: configuration is valid ({} units, {steps} steps)",
                    plan.units.len()
                );
            }
            Outcome::Success
        }
        None => Outcome::Failed,
    }
}

/// `conlink validate FILE…`: each file on its own, read as a compose file when it has
/// `services` and as a network file otherwise; a file that configures nothing passes.
/// The exit code is the worst of them.
fn each_file(common: &Common, args: &ValidateArgs) -> Outcome {
    let mut json = Vec::new();
    let (mut failed, mut unreadable) = (0, 0);
    for file in &args.files {
        let Some(mut c) = compile_one(common, file, &args.scale) else {
            unreadable += 1;
            continue;
        };
        c.diagnostics.0.retain(|d| d.code != NOTHING_CONFIGURED);
        report(args.format, &c.diagnostics, &c.sources, &mut json);
        if c.diagnostics.has_errors() {
            failed += 1;
        }
    }
    if args.format == ReportFormat::Json {
        print_json(json);
    }
    let checked = args.files.len() - unreadable;
    if common.verbose > 0 || args.format == ReportFormat::Text {
        eprintln!("conlink: {checked} file(s) checked, {failed} invalid");
    }
    if failed + unreadable > 0 {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// Compiles one file, as a network file, or as a compose file when it is one; `None`
/// when it cannot be read (said on stderr).
fn compile_one(common: &Common, file: &str, scale: &[(String, u32)]) -> Option<Compilation> {
    let as_kind = |network: bool| {
        let sources = Sources {
            network_files: if network {
                vec![file.to_string()]
            } else {
                vec![]
            },
            compose_files: if network {
                vec![]
            } else {
                vec![file.to_string()]
            },
        };
        super::plan::compile(common, &sources, scale).ok()
    };
    let c = as_kind(true)?;
    if c.diagnostics.iter().any(|d| d.code == COMPOSE_AS_NETWORK) {
        return as_kind(false);
    }
    Some(c)
}

/// Reports diagnostics in `format`; JSON objects are collected into `json`, to print
/// one array at the end.
fn report(
    format: ReportFormat,
    diags: &Diagnostics,
    sources: &SourceMap,
    json: &mut Vec<serde_json::Value>,
) {
    match format {
        ReportFormat::Text => print_diagnostics(diags, sources),
        ReportFormat::Json => {
            let text = compiler::diag::render_json(diags, sources);
            if let Ok(serde_json::Value::Array(items)) = serde_json::from_str(&text) {
                json.extend(items);
            }
        }
        ReportFormat::Github => print_stdout(&compiler::diag::render_github(diags, sources)),
    }
}

fn print_json(items: Vec<serde_json::Value>) {
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Array(items))
        .expect("diagnostics serialize");
    text.push('\n');
    print_stdout(&text);
}
