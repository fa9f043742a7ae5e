//! Writing to standard output and standard error (docs/cli.md, "Output").
//!
//! Only what a command was asked for goes to standard output ([`stdout`]); messages go
//! to standard error ([`stderr`]). A stream whose reader went away (`conlink plan |
//! head`, `conlink validate … 2>&1 | true`) is not an error: what would have been
//! written is dropped and the command goes on to its end, with the exit code of what
//! it did. The standard library's `eprintln!` panics on such a stream, and a panic
//! would stop `apply` halfway, without its rollback: this module defines the
//! binary's own `eprintln!` and `eprint!`, which `main.rs` declares before every
//! other module so that theirs are these (a macro defined in the crate shadows the
//! standard one). Standard output is written only through [`stdout`] (clippy's
//! `print_stdout` lint is on).

use std::io::Write;

/// Writes requested output to standard output.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes a message to standard error.
pub fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes a line to standard error, formatted as by `format!`; never panics.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::output::stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes to standard error, formatted as by `format!`; never panics.
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::output::stderr(&format!($($arg)*))
    };
}
