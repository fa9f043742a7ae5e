//! Drawings of a [`Graph`] (`conlink graph --format …`, docs/cli.md, "graph"): one
//! module per format, each a pure function of the graph. Every label is made
//! harmless for its language (quotes, backslashes, markup), and characters that would
//! hide text (control characters, bidirectional overrides) are shown escaped, as in
//! the plan's text form.
//!
//! * [`dot`]: Graphviz, the default;
//! * [`mermaid`]: a `flowchart` for Markdown on GitHub and GitLab;
//! * [`svg`]: laid out here (the layout-rs crate), for machines without Graphviz;
//! * [`json`]: the graph as data.

pub mod dot;
pub mod json;
pub mod mermaid;
pub mod svg;

use crate::graph::Graph;
use crate::plan::words::escape_hidden;

/// The drawings `conlink graph` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
    Svg,
}

/// `graph` drawn in `format`, ending with a newline.
pub fn render(graph: &Graph, format: GraphFormat) -> String {
    match format {
        GraphFormat::Dot => dot::render(graph),
        GraphFormat::Mermaid => mermaid::render(graph),
        GraphFormat::Json => json::render(graph),
        GraphFormat::Svg => svg::render(graph),
    }
}

/// A label's lines with hidden characters made visible (`\n`, `\u202e`), so one line
/// of a label stays one line of the drawing.
fn visible_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| escape_hidden(l).into_owned())
        .collect()
}
