//! The `conlink` binary: parse the command line, run one subcommand, map the outcome to
//! an exit code (docs/cli.md, "Exit codes"): 0 success, 1 invalid configuration or
//! failed operation, 2 usage error, 3 applied with units waiting for their containers. Only the requested output goes to stdout; messages
//! go to stderr.

// First, so that every module below writes messages with its `eprintln!`, which
// never panics on a closed standard error.
#[macro_use]
mod output;

mod cli;
mod commands;
mod privileges;
mod project;
mod sources;

use std::process::ExitCode;

// The system allocator. mimalloc made plans about a third faster (10k links 63 ->
// 40 ms) but kept ~20 MB more resident in `apply` (1000 links: 40 vs 19 MB), and the
// runtime's memory budget is the tighter one (docs/decisions.md).

/// How a command ended, decided by the command; `main` only turns it into an exit code.
pub enum Outcome {
    Success,
    /// Invalid configuration or a failed operation (already reported).
    Failed,
    /// The command line was wrong, or the command is not available (already reported).
    Usage,
    /// `apply` did what it could, and units wait for containers that do not run.
    Waiting,
}

fn main() -> ExitCode {
    let (args, matches) = cli::Args::parse_with_matches();
    let outcome = match &args.command {
        cli::Command::Validate(src) => commands::validate::run(&args.common, src),
        cli::Command::Plan(plan) => commands::plan::run(&args.common, plan),
        cli::Command::Schema(s) => commands::schema::run(s),
        cli::Command::Apply(a) => commands::runtime::apply(&args.common, a),
        cli::Command::Status(a) => commands::runtime::status(&args.common, a),
        cli::Command::Destroy(d) => commands::runtime::destroy(&args.common, d),
        cli::Command::Exec {
            project,
            node,
            command,
        } => commands::runtime::exec(&args.common, project, node, command),
        cli::Command::Wait(w) => match matches.subcommand_matches("wait") {
            Some(m) => commands::wait::run(&args.common, w, m),
            None => Outcome::Usage,
        },
        cli::Command::Copy(c) => commands::copy::run(c),
        cli::Command::Graph(g) => commands::graph::run(&args.common, g),
        cli::Command::Completions(c) => commands::shell::completions(c),
        cli::Command::Man(m) => commands::shell::man(m),
        cli::Command::Run(a) => commands::run::run(&args.common, a),
    };
    match outcome {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(1),
        Outcome::Usage => ExitCode::from(2),
        Outcome::Waiting => ExitCode::from(3),
    }
}
