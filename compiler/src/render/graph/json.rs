//! `conlink graph --format json`: the [`Graph`] as pretty-printed JSON, its `format`
//! field versioning the shape (docs/cli.md, "graph").

use crate::graph::Graph;

pub fn render(graph: &Graph) -> String {
    let mut text = serde_json::to_string_pretty(graph).expect("a graph always serialises");
    text.push('\n');
    text
}
