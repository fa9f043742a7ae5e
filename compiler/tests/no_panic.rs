//! Bad input never panics: every example and every invalid fixture, mangled in many
//! ways (truncated, lines dropped or repeated, characters swapped), is compiled; the
//! compiler must answer with a plan or with diagnostics, never a panic. Every variant
//! that plans also draws, in every format (`conlink graph` never fails on what `plan`
//! accepts), and its SVG is well-formed XML.

use compiler::interpolate::Env;
use compiler::render::graph::{render, GraphFormat};
use compiler::source::{SourceFile, SourceKind};
use compiler::{compile, compile_graph, Options};
use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "json") {
            out.push(path);
        }
    }
}

/// Deterministic variations of a text: prefixes, each line dropped or doubled, and a
/// few characters replaced by YAML punctuation.
fn variants(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let step = (text.len() / 40).max(1);
    for cut in (0..text.len()).step_by(step) {
        if text.is_char_boundary(cut) {
            out.push(text[..cut].to_string());
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len() {
        let mut dropped = lines.clone();
        dropped.remove(i);
        out.push(dropped.join("\n"));
        let mut doubled = lines.clone();
        doubled.insert(i, lines[i]);
        out.push(doubled.join("\n"));
    }
    for (k, punct) in [
        ":", "-", "[", "{", "'", "\"", "&a", "*a", "$", "${", "\t", "\u{e9}",
    ]
    .iter()
    .enumerate()
    {
        let mut pos = (k * 7919) % text.len().max(1);
        while !text.is_char_boundary(pos) {
            pos += 1;
        }
        out.push(format!("{}{}{}", &text[..pos], punct, &text[pos..]));
    }
    out
}

/// Every example and invalid fixture, in file order.
fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    yaml_files(&root.join("examples"), &mut files);
    yaml_files(&root.join("tests/invalid"), &mut files);
    files.sort();
    assert!(files.len() > 100, "found only {} files", files.len());
    files
}

/// The environment the examples' interpolations expect.
fn env() -> Env {
    [
        ("NODE_NAME", "n1"),
        ("REMOTE", "192.0.2.2"),
        ("NODE_IP", "192.168.100.1"),
        ("VNI", "7"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn kind_of(text: &str) -> SourceKind {
    if text.contains("services:") {
        SourceKind::Compose
    } else {
        SourceKind::Network
    }
}

#[test]
fn mangled_inputs_never_panic() {
    let env = env();
    let opts = Options {
        project: Some("fuzz".into()),
        ..Options::default()
    };
    let mut runs = 0;
    for file in &corpus() {
        let text = std::fs::read_to_string(file).expect("read");
        let kind = kind_of(&text);
        for variant in variants(&text) {
            let c = compile(vec![SourceFile::new("v.yaml", variant, kind)], &env, &opts);
            // Either outcome is fine; a located error must stay inside the file.
            for d in c.diagnostics.iter() {
                if let Some(l) = &d.primary {
                    assert!(
                        l.span.end as usize <= c.sources.get(l.span.file).text.len(),
                        "{}: span past the end",
                        file.display()
                    );
                }
            }
            runs += 1;
        }
    }
    assert!(runs > 1000, "only {runs} variants compiled");
}

#[test]
fn whatever_plans_also_draws_in_every_format() {
    let env = env();
    let opts = Options {
        project: Some("fuzz".into()),
        ..Options::default()
    };
    let mut drawn = 0;
    for file in &corpus() {
        let text = std::fs::read_to_string(file).expect("read");
        let kind = kind_of(&text);
        for variant in std::iter::once(text.clone()).chain(variants(&text)) {
            let (c, graph) =
                compile_graph(vec![SourceFile::new("v.yaml", variant, kind)], &env, &opts);
            assert_eq!(
                c.plan.is_some(),
                graph.is_some(),
                "{}: a plan without a graph, or the reverse",
                file.display()
            );
            let Some(graph) = graph else { continue };
            for format in [GraphFormat::Dot, GraphFormat::Mermaid, GraphFormat::Json] {
                assert!(!render(&graph, format).is_empty());
            }
            let svg = render(&graph, GraphFormat::Svg);
            if let Err(e) = roxmltree::Document::parse(&svg) {
                panic!("{}: SVG is not well-formed XML: {e}", file.display());
            }
            drawn += 1;
        }
    }
    // Half the variants of the examples plan, give or take; far fewer would mean the
    // corpus stopped exercising the graph.
    assert!(drawn > 300, "only {drawn} variants planned and drew");
}
