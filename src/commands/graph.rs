//! `conlink graph`: draw the topology the sources describe (docs/cli.md, "graph").
//! Touches nothing; a configuration that `plan` accepts always draws.

use crate::cli::{Common, GraphArgs, GraphFormatArg};
use crate::commands::{plan, print_diagnostics, print_stdout};
use crate::Outcome;
use compiler::render::graph::{render, GraphFormat};

pub fn run(common: &Common, args: &GraphArgs) -> Outcome {
    let (c, graph) =
        match plan::compile_with(common, &args.sources, &args.scale, compiler::compile_graph) {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
    print_diagnostics(&c.diagnostics, &c.sources);
    let Some(graph) = graph else {
        return Outcome::Failed;
    };
    let format = match args.format {
        GraphFormatArg::Dot => GraphFormat::Dot,
        GraphFormatArg::Mermaid => GraphFormat::Mermaid,
        GraphFormatArg::Json => GraphFormat::Json,
        GraphFormatArg::Svg => GraphFormat::Svg,
    };
    print_stdout(&render(&graph, format));
    Outcome::Success
}
