//! Fuzz target `compile`: bytes as a configuration file, through everything
//! `conlink validate` and `conlink plan` do with it.
//!
//! The bytes are read as the CLI reads a file (UTF-8, or it stops with "cannot read"),
//! then compiled twice with an empty environment and the default options: once as a
//! network file (`-n`) and once as a compose file (`-c`). Each compilation's
//! diagnostics are rendered as text (plain and coloured) and as JSON; a plan, when
//! there is one, as text and as JSON. Beyond "never panic", it checks what the
//! CLI relies on: a plan exactly when there is no error, and JSON that parses.

#![no_main]

use compiler::diag::{render_json, render_text};
use compiler::interpolate::Env;
use compiler::render::{json, text};
use compiler::source::{SourceFile, SourceKind};
use compiler::{compile, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [SourceKind::Network, SourceKind::Compose] {
        let file = SourceFile::new("fuzz.yaml", text, kind);
        let c = compile(vec![file], &Env::new(), &Options::default());

        let errors = c.diagnostics.has_errors();
        assert_eq!(c.plan.is_some(), !errors, "a plan exactly when no error");
        for color in [false, true] {
            std::hint::black_box(render_text(&c.diagnostics, &c.sources, color, 100));
        }
        let diags = render_json(&c.diagnostics, &c.sources);
        serde_json::from_str::<serde_json::Value>(&diags).expect("diagnostics JSON parses");

        if let Some(plan) = &c.plan {
            std::hint::black_box(text::render(plan));
            let plan_json = json::render(plan);
            serde_json::from_str::<serde_json::Value>(&plan_json).expect("plan JSON parses");
        }
    }
});
