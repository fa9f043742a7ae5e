//! Diagnostics benchmark: the cost of reporting many errors, for 1k, 10k and 100k of
//! them, in two shapes that once took quadratic time (docs/decisions.md, "Loading"):
//!
//! * `dev`: a network file whose every link has an invalid `dev` (a semantic error
//!   per link);
//! * `dup`: a mapping with the same key on every line (a syntax error per line, each
//!   pointing back at the first).
//!
//! For each it prints the time to compile (finding the errors), to render all of them
//! as text (what miette draws), the first 50 as `conlink validate` shows them, and all
//! of them as JSON, with the time per error. Linear costs keep the time per error
//! flat as the count grows.
//!
//! Run: `cargo bench -p compiler --bench diagnostics` (optionally `-- 1000 10000`).
//! Figures are medians of three runs.

#![allow(clippy::print_stdout)] // a benchmark prints its table

use compiler::diag::{render_json, render_text, render_text_first};
use compiler::source::{SourceFile, SourceKind};
use compiler::Compilation;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// A network file with `n` links, each with an invalid `dev`.
fn invalid_devs(n: usize) -> String {
    let mut y = String::from("nodes: [{name: h1}]\nlinks:\n");
    for i in 0..n {
        let _ = writeln!(y, "  - {{node: h1, dev: 'bad/{i}', bridge: s1}}");
    }
    y
}

/// A network file whose `x` mapping repeats one key `n + 1` times.
fn duplicate_keys(n: usize) -> String {
    let mut y = String::from("x:\n");
    for i in 0..=n {
        let _ = writeln!(y, "  a: {i}");
    }
    y
}

fn compile(text: &str) -> Compilation {
    let file = SourceFile::new("bench.yaml", text, SourceKind::Network);
    compiler::compile(vec![file], &Default::default(), &Default::default())
}

/// The median of three runs of `f`, and its last result.
fn median<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..3 {
        let start = Instant::now();
        out = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[1], out.expect("ran"))
}

fn cell(d: Duration, n: usize) -> String {
    format!(
        "{:>9.1} ms {:>6.2} µs",
        d.as_secs_f64() * 1e3,
        d.as_secs_f64() * 1e6 / n as f64
    )
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    println!(
        "{:<5} {:>7}  {:>19}  {:>19}  {:>19}  {:>19}",
        "shape", "errors", "compile (per error)", "text, all", "text, first 50", "json, all"
    );
    for (shape, generate) in [
        ("dev", invalid_devs as fn(usize) -> String),
        ("dup", duplicate_keys),
    ] {
        for &n in &sizes {
            let text = generate(n);
            let (compile_time, c) = median(|| compile(&text));
            let found = c.diagnostics.0.len();
            assert!(found >= n, "{shape}: expected {n} errors, found {found}");
            let (all, _) = median(|| render_text(&c.diagnostics, &c.sources, false, 100).len());
            let (first, _) =
                median(|| render_text_first(&c.diagnostics, &c.sources, false, 100, 50).len());
            let (json, _) = median(|| render_json(&c.diagnostics, &c.sources).len());
            println!(
                "{shape:<5} {found:>7}  {}  {}  {}  {}",
                cell(compile_time, found),
                cell(all, found),
                cell(first, found),
                cell(json, found)
            );
        }
    }
}
