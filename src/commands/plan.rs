//! `conlink plan`: print the plan (docs/plan.md) as text, JSON or a shell script.
//! Touches nothing.

use crate::cli::{Common, ConlinkNsArg, PlanArgs, PlanFormat, Sources};
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
    compile_with(common, srcs, scale, compiler::compile)
}

/// [`compile`] with the compiler's entry point given, for commands that want more
/// than the plan (`graph`).
pub fn compile_with<T>(
    common: &Common,
    srcs: &Sources,
    scale: &[(String, u32)],
    entry: impl FnOnce(
        Vec<compiler::source::SourceFile>,
        &compiler::interpolate::Env,
        &compiler::Options,
    ) -> T,
) -> Result<T, Outcome> {
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
    Ok(entry(files, &sources::env(), &opts))
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
        PlanFormat::Text => compiler::render::text::render(&plan),
        PlanFormat::Json => compiler::render::json::render(&plan),
        PlanFormat::Script => compiler::render::script::render(&plan, &script_names(common, &plan)),
    };
    print_stdout(&text);
    Outcome::Success
}

/// The namespaces' real names, as the runtime gives them. `--conlink-netns auto` is
/// `own` here: the script is for a host, and where it will run is not known.
fn script_names(
    common: &Common,
    plan: &compiler::plan::Plan,
) -> compiler::render::script::ScriptNames {
    compiler::render::script::ScriptNames {
        conlink: (common.conlink_netns != ConlinkNsArg::Current)
            .then(|| runtime::names::conlink_ns(&plan.project)),
        node_prefix: runtime::names::node_ns_prefix(&plan.project),
    }
}
