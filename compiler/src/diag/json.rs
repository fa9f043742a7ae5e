//! Diagnostics as JSON (`conlink validate --format json`): one object per diagnostic,
//! with file, line and column computed through the file's line index.

use super::{Diagnostics, Severity};
use crate::source::SourceMap;
use serde::Serialize;

/// One diagnostic as a JSON object, for `--format json`.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    pointer: Option<&'a str>,
    label: Option<&'a str>,
    help: Option<&'a str>,
}

/// Renders diagnostics as a JSON array (one object per diagnostic).
pub fn render_json(diags: &Diagnostics, sources: &SourceMap) -> String {
    let items: Vec<JsonDiagnostic<'_>> = diags
        .iter()
        .map(|d| {
            let place = d.primary.as_ref().map(|l| {
                let f = sources.get(l.span.file);
                (f, f.line_col(l.span.start), f.line_col(l.span.end), l)
            });
            JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                file: place.map(|p| p.0.name.as_str()),
                line: place.map(|p| p.1 .0),
                column: place.map(|p| p.1 .1),
                end_line: place.map(|p| p.2 .0),
                end_column: place.map(|p| p.2 .1),
                pointer: d.pointer.as_deref(),
                label: place.map(|p| p.3.message.as_str()),
                help: d.help.as_deref(),
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&items).expect("diagnostics serialize");
    s.push('\n');
    s
}
