//! `conlink plan`: print the plan (docs/plan.md) as text or JSON. Touches nothing.

use crate::cli::{Common, Format, PlanArgs, Sources};
use crate::commands::{print_diagnostics, print_stdout};
use crate::{sources, Outcome};
use compiler::Compilation;

/// Reads the sources and compiles them; when the sources cannot be read, says why and
/// gives the outcome to exit with.
pub fn compile(
    common: &Common,
    srcs: &Sources,
    scale: &[(String, u32)],
) -> Result<Compilation, Outcome> {
    let files = sources::read(srcs).map_err(|e| match e {
        sources::ReadError::NoSources(m) => {
            eprintln!("conlink: {m}");
            Outcome::Usage
        }
        sources::ReadError::Unreadable(m) => {
            eprintln!("conlink: {m}");
            Outcome::Failed
        }
    })?;
    let opts = sources::options(common, srcs, scale);
    Ok(compiler::compile(files, &sources::env(), &opts))
}

pub fn run(common: &Common, args: &PlanArgs) -> Outcome {
    let c = match compile(common, &args.sources, &args.scale) {
        Ok(c) => c,
        Err(outcome) => return outcome,
    };
    print_diagnostics(&c.diagnostics, &c.sources);
    let Some(plan) = c.plan else {
        return Outcome::Failed;
    };
    let text = match args.format {
        Format::Text => compiler::render::text::render(&plan),
        Format::Json => compiler::render::json::render(&plan),
    };
    print_stdout(&text);
    Outcome::Success
}
