//! One module per subcommand.

pub mod copy;
pub mod plan;
pub mod runtime;
pub mod schema;
pub mod validate;
pub mod wait;

use crate::Outcome;
use compiler::diag::Diagnostics;
use compiler::source::SourceMap;
use std::io::IsTerminal;

/// Subcommands of the runtime, which a later version provides.
pub fn not_yet(name: &str) -> Outcome {
    eprintln!("conlink {name}: not implemented yet");
    Outcome::Usage
}

/// Prints diagnostics to stderr in rustc style (coloured on a terminal unless NO_COLOR).
pub fn print_diagnostics(diags: &Diagnostics, sources: &SourceMap) {
    if diags.is_empty() {
        return;
    }
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!(
        "{}",
        compiler::diag::render_text(diags, sources, color, 100)
    );
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.0.len() - errors;
    if errors > 0 {
        eprintln!("conlink: {errors} error(s), {warnings} warning(s)");
    }
}

/// Writes requested output to stdout; a closed pipe (`conlink plan | head`) is not an error.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
