//! Rules about commands (docs/configuration.md, "Commands").

use super::super::checker::Checker;
use crate::diag::Diagnostic;
use crate::model::{Command, CommandLine};
use crate::source::Spanned;

/// A command that runs nothing: an empty string, an empty list, or a list whose
/// program is empty.
pub fn empty_command(cx: &mut Checker, c: &Spanned<Command>) -> bool {
    let empty = match &c.command.value {
        CommandLine::Shell(s) => s.trim().is_empty(),
        CommandLine::Argv(v) => v.first().is_none_or(|a| a.is_empty()),
    };
    if empty {
        cx.report(
            Diagnostic::error("conlink::check::empty_command", "the command is empty")
                .at(c.command.span, "nothing to run")
                .help(
                    "write a shell command as a string, or a program and its arguments as a list",
                ),
        );
    }
    !empty
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;

    #[test]
    fn empty_command_reports_commands_that_run_nothing() {
        for (command, ok) in [
            ("ip route", true),
            ("[ip, route]", true),
            ("'  '", false),
            ("[]", false),
            ("['', x]", false),
        ] {
            let c = case(&format!("commands: [{{node: r, command: {command}}}]"));
            let cmd = &c.config.commands[0];
            assert_eq!(
                c.codes(|cx| empty_command(cx, cmd)).is_empty(),
                ok,
                "{command}"
            );
        }
    }
}
