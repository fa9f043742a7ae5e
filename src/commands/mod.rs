//! One module per subcommand.

pub mod containers;
pub mod copy;
pub mod graph;
pub mod mounts;
pub mod plan;
mod progress;
pub mod run;
pub mod runtime;
pub mod schema;
pub mod shell;
pub mod show_config;
pub mod validate;
pub mod wait;

use compiler::diag::Diagnostics;
use compiler::source::SourceMap;
use std::io::IsTerminal;

/// How many diagnostics the text form shows; the rest are counted (`--format json`
/// lists them all). A run with thousands of errors is a file gone wrong, and the first
/// ones say what to fix.
pub const SHOWN_DIAGNOSTICS: usize = 50;

/// Prints diagnostics to stderr in rustc style (coloured on a terminal unless NO_COLOR):
/// the first [`SHOWN_DIAGNOSTICS`], then a count.
pub fn print_diagnostics(diags: &Diagnostics, sources: &SourceMap) {
    if diags.is_empty() {
        return;
    }
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!(
        "{}",
        compiler::diag::render_text_first(diags, sources, color, 100, SHOWN_DIAGNOSTICS)
    );
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.0.len() - errors;
    let hidden = diags.0.len().saturating_sub(SHOWN_DIAGNOSTICS);
    let more = if hidden > 0 {
        format!(" ({hidden} more not shown; `--format json` lists them all)")
    } else {
        String::new()
    };
    if errors > 0 || hidden > 0 {
        eprintln!("conlink: {errors} error(s), {warnings} warning(s){more}");
    }
}

/// Writes requested output to stdout; a closed pipe (`conlink plan | head`) is not an
/// error (see `output.rs`).
pub fn print_stdout(text: &str) {
    crate::output::stdout(text);
}
