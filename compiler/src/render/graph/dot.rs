//! `conlink graph --format dot`: Graphviz's language, an undirected graph laid out left
//! to right. Targets are boxes, bridges ellipses, tunnels and host interfaces other
//! shapes, so the kinds tell apart at a glance even without colour.

use super::visible_lines;
use crate::graph::{Graph, VertexKind};
use std::fmt::Write;

pub fn render(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph {} {{", quote(&graph.project));
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for v in &graph.vertices {
        let _ = writeln!(
            out,
            "  {} [shape={}, label={}];",
            quote(&v.id),
            shape(&v.kind),
            label(&v.label)
        );
    }
    for e in &graph.edges {
        let style = if e.kind == "tunnel" {
            ", style=dashed"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {} -- {} [label={}{style}];",
            quote(&e.from),
            quote(&e.to),
            label(&e.label)
        );
    }
    out.push_str("}\n");
    out
}

fn shape(kind: &VertexKind) -> &'static str {
    match kind {
        VertexKind::Node { .. } => "box",
        VertexKind::Container { .. } => "box3d",
        VertexKind::Service { .. } => "component",
        VertexKind::Bridge { .. } => "ellipse",
        VertexKind::Tunnel { .. } => "cds",
        VertexKind::HostInterface { .. } => "house",
        VertexKind::Dummy { .. } => "note",
    }
}

/// A multi-line label: lines joined by DOT's `\n` escape inside one quoted string.
fn label(lines: &[String]) -> String {
    let lines: Vec<String> = visible_lines(lines).iter().map(|l| escape(l)).collect();
    format!("\"{}\"", lines.join("\\n"))
}

/// `s` as a DOT quoted string.
pub(crate) fn quote(s: &str) -> String {
    format!("\"{}\"", escape(&visible_lines(&[s.to_string()])[0]))
}

/// Inside a DOT quoted string a `"` ends it and a backslash starts an escape (`\n`,
/// `\N`, `\l` …): both are escaped, so a label shows exactly its text.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_stay_text() {
        assert_eq!(quote(r#"a"b\n"#), r#""a\"b\\n""#);
        assert_eq!(label(&["x".into(), "y\u{202e}".into()]), r#""x\ny\\u202e""#);
    }
}
