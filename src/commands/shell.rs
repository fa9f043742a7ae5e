//! `conlink completions SHELL` and `conlink man`: shell completion scripts and manual
//! pages, both generated from the same clap definitions as the command line itself
//! (docs/cli.md, "conlink completions" and "conlink man"), so they cannot disagree
//! with `--help`.
//!
//! Generated when asked, not at build time: the binary is the one file conlink ships
//! (`conlink copy` puts it into other containers), a build script would have to compile
//! the command line twice, and an image or package runs the installed binary to write
//! them (the Dockerfile does), so the pages always describe that very binary.

use crate::cli::{Args, CompletionsArgs, ManArgs, ShellArg};
use crate::commands::print_stdout;
use crate::Outcome;
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::Path;

pub fn completions(args: &CompletionsArgs) -> Outcome {
    let shell = match args.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "conlink", &mut out);
    print_stdout(&String::from_utf8_lossy(&out));
    Outcome::Success
}

pub fn man(args: &ManArgs) -> Outcome {
    match &args.dir {
        Some(dir) => match write_pages(dir) {
            Ok(()) => Outcome::Success,
            Err(e) => {
                eprintln!(
                    "conlink man: cannot write the pages to {}: {e}",
                    dir.display()
                );
                Outcome::Failed
            }
        },
        None => {
            let mut out = Vec::new();
            // Writing to memory cannot fail.
            let _ = clap_mangen::Man::new(Args::command()).render(&mut out);
            print_stdout(&String::from_utf8_lossy(&out));
            Outcome::Success
        }
    }
}

/// conlink(1), and conlink-COMMAND(1) for each command, into `dir`.
fn write_pages(dir: &Path) -> std::io::Result<()> {
    // Subcommand pages are named after the full command (`conlink-plan.1`).
    clap_mangen::generate_to(Args::command(), dir)
}
