//! `conlink exec NODE -- CMD…`: run a command inside a node's namespace.

use crate::names;
use crate::netns;
use nix::sched::{setns, CloneFlags};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

/// Why `exec` could not run the command.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("no command given (write it after `--`)")]
    NoCommand,
    #[error("no node {node} in project {project} ({}: {source}); is the project applied?", path.display())]
    NoNode {
        node: String,
        project: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot enter node {node}'s namespace: {source}")]
    Enter { node: String, source: nix::Error },
    #[error("cannot run {program}: {source}")]
    Run {
        program: String,
        source: std::io::Error,
    },
}

/// Enters the node's namespace and replaces this process with `command`; returns
/// only on failure, with the reason.
pub fn exec(project: &str, node: &str, command: &[String]) -> ExecError {
    let Some((prog, args)) = command.split_first() else {
        return ExecError::NoCommand;
    };
    let pinned = names::node_ns(project, node);
    let path = netns::netns_dir().join(&pinned);
    let file = match netns::open(&path) {
        Ok(f) => f,
        Err(source) => {
            return ExecError::NoNode {
                node: node.into(),
                project: project.into(),
                path,
                source,
            }
        }
    };
    if let Err(source) = setns(file.as_fd(), CloneFlags::CLONE_NEWNET) {
        return ExecError::Enter {
            node: node.into(),
            source,
        };
    }
    // exec(2) only returns on failure.
    let source = std::process::Command::new(prog).args(args).exec();
    ExecError::Run {
        program: prog.clone(),
        source,
    }
}
