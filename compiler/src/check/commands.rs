//! Checks of `commands` (config.md §9).

use super::links::target;
use super::{CheckedCommand, Checker, NodeIndex};
use crate::diag::Diagnostic;
use crate::model::{Command, CommandLine};
use crate::source::Spanned;

pub fn command(
    cx: &mut Checker,
    c: &Spanned<Command>,
    nodes: &NodeIndex,
) -> Option<CheckedCommand> {
    let t = target(cx, "command", c, &c.service, &c.container, &c.node, nodes);
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
        return None;
    }
    Some(CheckedCommand {
        target: t?,
        span: c.span,
        command: c.command.value.clone(),
    })
}
