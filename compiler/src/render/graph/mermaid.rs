//! `conlink graph --format mermaid`: a Mermaid `flowchart` that GitHub and GitLab
//! render inside a ```` ```mermaid ```` block of Markdown.
//!
//! Mermaid's ids are restricted (and some words, like `end`, are keywords), so
//! vertices get generated ids `v0`, `v1`, … and their names go in quoted labels.
//! Inside a quoted label Mermaid reads `"` as the end, `#…;` as an entity, `<…>` as
//! HTML and a leading backtick as Markdown; those characters are written as Mermaid's
//! entity codes (`#quot;`, `#35;`, `#lt;` …), and lines are joined with `<br>`.

use super::visible_lines;
use crate::graph::{Graph, VertexKind};
use std::collections::HashMap;
use std::fmt::Write;

pub fn render(graph: &Graph) -> String {
    let ids: HashMap<&str, String> = graph
        .vertices
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.as_str(), format!("v{i}")))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for (i, v) in graph.vertices.iter().enumerate() {
        let (open, close) = shape(&v.kind);
        let _ = writeln!(out, "  v{i}{open}\"{}\"{close}", label(&v.label));
    }
    for e in &graph.edges {
        // Every edge's ends are vertices of the graph (`graph::build` adds them first).
        let (Some(from), Some(to)) = (ids.get(e.from.as_str()), ids.get(e.to.as_str())) else {
            continue;
        };
        let line = if e.kind == "tunnel" { "-.-" } else { "---" };
        if e.label.is_empty() {
            let _ = writeln!(out, "  {from} {line} {to}");
        } else {
            let _ = writeln!(out, "  {from} {line}|\"{}\"| {to}", label(&e.label));
        }
    }
    out
}

/// Brackets of each kind's shape: rectangles for nodes, subroutines for containers
/// and services, hexagons for bridges, flags for tunnels, trapezoids for host
/// interfaces, rounded boxes for dummies.
fn shape(kind: &VertexKind) -> (&'static str, &'static str) {
    match kind {
        VertexKind::Node { .. } => ("[", "]"),
        VertexKind::Container { .. } | VertexKind::Service { .. } => ("[[", "]]"),
        VertexKind::Bridge { .. } => ("{{", "}}"),
        VertexKind::Tunnel { .. } => (">", "]"),
        VertexKind::HostInterface { .. } => ("[/", "\\]"),
        VertexKind::Dummy { .. } => ("(", ")"),
    }
}

fn label(lines: &[String]) -> String {
    visible_lines(lines)
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// `s` with every character Mermaid would read as syntax inside a quoted label
/// written as an entity code.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_characters_become_entities() {
        assert_eq!(
            escape(r#"a"b#c<d>&`|"#),
            "a#quot;b#35;c#lt;d#gt;#amp;#96;#124;"
        );
        assert_eq!(label(&["one".into(), "two".into()]), "one<br>two");
    }
}
