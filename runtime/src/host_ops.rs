//! Steps that are not rtnetlink requests: sysctls, ethtool settings, tc qdiscs and
//! filters, nftables tables, commands, and the route to conlink's external address.
//! Each runs synchronously, after every queued netlink request has been sent.

use crate::engine::Engine;
use crate::error::KernelError;
use crate::netns;
use crate::state::{Extra, State};
use compiler::plan::{Ns, Op, Step};
use std::path::{Path, PathBuf};

/// Per-run context of the non-netlink steps.
pub struct HostCtx {
    pub logs: PathBuf,
}

impl HostCtx {
    pub fn new(state_dir: &Path, project: &str) -> HostCtx {
        HostCtx {
            logs: crate::state::project_dir(state_dir, project).join("logs"),
        }
    }
}

fn unsupported(op: &Op) -> String {
    format!("conlink's runtime cannot carry out this step yet: {op:?}")
}

fn sysctl_path(key: &str) -> Result<PathBuf, String> {
    if key.is_empty() || key.split(['.', '/']).any(|p| p.is_empty() || p == "..") {
        return Err(format!("invalid sysctl key {key:?}"));
    }
    Ok(Path::new("/proc/sys").join(key.replace('.', "/")))
}

fn sysctl_read(file: &std::fs::File, key: &str) -> Result<String, String> {
    let path = sysctl_path(key)?;
    netns::enter(file, || std::fs::read_to_string(&path))
        .map_err(|e| e.to_string())?
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("cannot read sysctl {key}: {e}"))
}

fn sysctl_write(file: &std::fs::File, key: &str, value: &str) -> Result<(), String> {
    let path = sysctl_path(key)?;
    netns::enter(file, || std::fs::write(&path, value))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot set sysctl {key}={value}: {e}"))
}

/// Whether a non-netlink step is already in place in a namespace that existed before.
pub fn in_place(
    engine: &mut Engine,
    _host: &mut HostCtx,
    st: &State,
    step: &Step,
) -> Result<bool, KernelError> {
    let place = engine.places.get(&step.ns)?;
    Ok(match &step.op {
        Op::Sysctl { key, value } => sysctl_read(&place.file, key).is_ok_and(|v| v == *value),
        Op::Exec { .. } => st.step(&step.id).is_some(),
        _ => false,
    })
}

/// Carries out a non-netlink step; returns what its undo will need.
pub fn run(engine: &mut Engine, _host: &mut HostCtx, step: &Step) -> Result<Extra, String> {
    let place = engine.places.get(&step.ns).map_err(|e| e.to_string())?;
    match &step.op {
        Op::Sysctl { key, value } => {
            let previous = sysctl_read(&place.file, key)?;
            sysctl_write(&place.file, key, value)?;
            Ok(Extra::Sysctl { previous })
        }
        op => Err(unsupported(op)),
    }
}

/// Undoes a non-netlink step.
pub fn undo(
    engine: &mut Engine,
    _host: &mut HostCtx,
    ns: &Ns,
    op: &Op,
    extra: &Extra,
) -> Result<(), String> {
    let place = engine.places.get(ns).map_err(|e| e.to_string())?;
    match (op, extra) {
        (Op::SysctlRestore { key }, Extra::Sysctl { previous }) => {
            sysctl_write(&place.file, key, previous)
        }
        (Op::SysctlRestore { .. }, _) => Ok(()),
        (op, _) => Err(unsupported(op)),
    }
}

/// Stops every process whose network namespace is the one pinned at `pinned`, so
/// that unpinning it really removes it (as `ip netns pids` finds them).
pub fn kill_namespace_processes(pinned: &Path) {
    let Ok(target) = std::fs::metadata(pinned) else {
        return;
    };
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid as u32 == me {
            continue;
        }
        let Ok(m) = std::fs::metadata(entry.path().join("ns/net")) else {
            continue;
        };
        if m.ino() == target.ino() && m.dev() == target.dev() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
