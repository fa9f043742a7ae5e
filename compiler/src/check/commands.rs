//! Checking commands (docs/configuration.md, "Commands").

use super::checked::CheckedCommand;
use super::checker::{Checker, NodeIndex};
use super::rules::commands::empty_command;
use super::shared::target;
use crate::model::{targets_of, Command};
use crate::source::Spanned;

/// Checks one command.
pub fn command(
    cx: &mut Checker,
    c: &Spanned<Command>,
    nodes: &NodeIndex,
) -> Option<CheckedCommand> {
    let t = target(
        cx,
        "command",
        c.span,
        &targets_of(&c.service, &c.container, &c.node),
        nodes,
    );
    if !empty_command(cx, c) {
        return None;
    }
    Some(CheckedCommand {
        target: t?,
        span: c.span,
        command: c.command.value.clone(),
    })
}
