//! `conlink exec NODE -- CMD…`: run a command inside a node's namespace.

use crate::names;
use crate::netns;
use nix::sched::{setns, CloneFlags};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;

/// Enters the node's namespace and replaces this process with `command`; returns
/// only on failure, with the reason.
pub fn exec(project: &str, node: &str, command: &[String]) -> String {
    let Some((prog, args)) = command.split_first() else {
        return "no command given (write it after `--`)".into();
    };
    let pinned = names::node_ns(project, node);
    let path = netns::netns_dir().join(&pinned);
    let file = match netns::open(&path) {
        Ok(f) => f,
        Err(e) => {
            return format!(
                "no node {node} in project {project} ({}: {e}); is the project applied?",
                path.display()
            )
        }
    };
    if let Err(e) = setns(file.as_fd(), CloneFlags::CLONE_NEWNET) {
        return format!("cannot enter node {node}'s namespace: {e}");
    }
    // exec(2) only returns on failure.
    let e = std::process::Command::new(prog).args(args).exec();
    format!("cannot run {prog}: {e}")
}
