//! `conlink validate`: load, interpolate, merge, schema-check and semantic-check, and
//! report every error (docs/cli.md, "conlink validate").

use crate::cli::{Common, Format, ValidateArgs};
use crate::commands::{print_diagnostics, print_stdout};
use crate::Outcome;

pub fn run(common: &Common, args: &ValidateArgs) -> Outcome {
    let c = match super::plan::compile(common, &args.sources, &args.scale) {
        Ok(c) => c,
        Err(outcome) => return outcome,
    };
    if args.format == Format::Json {
        print_stdout(&compiler::diag::render_json(&c.diagnostics, &c.sources));
    } else {
        print_diagnostics(&c.diagnostics, &c.sources);
    }
    match &c.plan {
        Some(plan) => {
            if common.verbose > 0 || args.format == Format::Text {
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
