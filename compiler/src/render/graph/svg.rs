//! `conlink graph --format svg`: the graph laid out and drawn here, so a picture needs
//! no Graphviz (`conlink graph -c compose.yaml --format svg > net.svg`).
//!
//! The layout is the layout-rs crate's (a Sugiyama-style layered layout, as Graphviz's
//! `dot` does it): pure Rust with no dependencies of its own, deterministic for a
//! given graph, and it writes SVG with every label escaped as XML text. It draws boxes
//! and ellipses only, so kinds differ here by shape (boxes for targets and
//! interfaces, ellipses for bridges and tunnels) and by fill colour. Every label has
//! one font size: the crate writes one CSS class per size from a hash map, whose order
//! would change from run to run.

use super::visible_lines;
use crate::graph::{Graph, VertexKind};
use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::collections::HashMap;

/// Font size of every label, in pixels.
const FONT: usize = 13;

pub fn render(graph: &Graph) -> String {
    let mut vg = VisualGraph::new(Orientation::LeftToRight);
    let mut handles = HashMap::new();
    for v in &graph.vertices {
        let text = visible_lines(&v.label).join("\n");
        let (shape, fill) = match v.kind {
            VertexKind::Node { .. } => (ShapeKind::new_box(&text), "lightyellow"),
            VertexKind::Container { .. } | VertexKind::Service { .. } => {
                (ShapeKind::new_box(&text), "lightblue")
            }
            VertexKind::Bridge { .. } => (ShapeKind::new_circle(&text), "lightgreen"),
            VertexKind::Tunnel { .. } => (ShapeKind::new_circle(&text), "lightpink"),
            VertexKind::HostInterface { .. } => (ShapeKind::new_box(&text), "lightgrey"),
            VertexKind::Dummy { .. } => (ShapeKind::new_box(&text), "white"),
        };
        let look = StyleAttr::new(Color::fast("black"), 1, Some(Color::fast(fill)), 4, FONT);
        let size = get_shape_size(Orientation::LeftToRight, &shape, FONT, false);
        let element = Element::create(shape, look, Orientation::LeftToRight, size);
        handles.insert(v.id.as_str(), vg.add_node(element));
    }
    for e in &graph.edges {
        let (Some(&from), Some(&to)) = (handles.get(e.from.as_str()), handles.get(e.to.as_str()))
        else {
            continue;
        };
        let style = if e.kind == "tunnel" {
            LineStyleKind::Dashed
        } else {
            LineStyleKind::Normal
        };
        let look = StyleAttr::new(Color::fast("black"), 1, None, 0, FONT);
        let text = visible_lines(&e.label).join("\n");
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::None,
            style,
            &text,
            &look,
            &None,
            &None,
        );
        vg.add_edge(arrow, from, to);
    }
    let mut svg = SVGWriter::new();
    vg.do_it(false, false, false, &mut svg);
    let mut text = svg.finalize();
    text.push('\n');
    text
}
