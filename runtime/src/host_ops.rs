//! Steps that are not rtnetlink requests: sysctls, ethtool settings, tc qdiscs and
//! filters, nftables tables, commands, and the route to conlink's external address.
//! Each runs synchronously, after every queued netlink request has been sent.

use crate::command::{self, Started};
use crate::engine::Engine;
use crate::error::KernelError;
use crate::ethtool::{self, Ethtool};
use crate::netlink::tc;
use crate::netlink::Socket;
use crate::netns;
use crate::nft;
use crate::state::{Extra, State};
use crate::sysctl;
use compiler::plan::{NftChain, NftRule, Ns, Op, Qdisc, Step};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Per-run context of the non-netlink steps: ethtool sockets by namespace (opened
/// once per run, like the netlink sockets) and where command logs go.
pub struct HostCtx {
    pub logs: PathBuf,
    ethtool: BTreeMap<Ns, Ethtool>,
    nft: BTreeMap<Ns, Socket>,
}

impl HostCtx {
    pub fn new(state_dir: &Path, project: &str) -> HostCtx {
        HostCtx {
            logs: crate::state::project_dir(state_dir, project).join("logs"),
            ethtool: BTreeMap::new(),
            nft: BTreeMap::new(),
        }
    }

    fn nft(&mut self, ns: &Ns, file: &File) -> Result<&mut Socket, String> {
        if !self.nft.contains_key(ns) {
            let s = netns::enter(file, nft::socket)
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("cannot open an nftables socket in {ns}: {e}"))?;
            self.nft.insert(ns.clone(), s);
        }
        Ok(self.nft.get_mut(ns).expect("inserted above"))
    }

    fn ethtool(&mut self, ns: &Ns, file: &File) -> Result<&Ethtool, String> {
        if !self.ethtool.contains_key(ns) {
            let e = netns::enter(file, Ethtool::open)
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("cannot open an ethtool socket in {ns}: {e}"))?;
            self.ethtool.insert(ns.clone(), e);
        }
        Ok(&self.ethtool[ns])
    }
}

fn unsupported(op: &Op) -> String {
    match op {
        Op::OvsBridgeAdd { .. }
        | Op::OvsBridgeDel { .. }
        | Op::OvsPortAdd { .. }
        | Op::OvsPortDel { .. } => "Open vSwitch bridges are not supported by this runtime yet; give the bridge `mode: linux` (or run with --ovs no so `auto` bridges are Linux bridges)".into(),
        other => format!("conlink's runtime cannot carry out this step: {other:?}"),
    }
}

fn sysctl_read(file: &File, key: &str) -> Result<String, String> {
    netns::enter(file, || sysctl::read(key))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn sysctl_write(file: &File, key: &str, value: &str) -> Result<(), String> {
    netns::enter(file, || sysctl::write(key, value))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// A log file name for a command step: its step id with `/`, `:` and `#` made safe.
fn log_name(step_id: &str) -> String {
    let safe: String = step_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.log")
}

/// Whether a non-netlink step is already in place in a namespace that existed before.
pub fn in_place(
    engine: &mut Engine,
    host: &mut HostCtx,
    st: &State,
    step: &Step,
) -> Result<bool, KernelError> {
    if let Op::ExternalRouteAdd { dev } = &step.op {
        let Ok(ext) = engine.external() else {
            return Ok(false);
        };
        let Some(snap) = engine.snapshots.get(&step.ns) else {
            return Ok(false);
        };
        let host_route = crate::netlink::route::host_route(std::net::IpAddr::V4(ext.addr));
        return Ok(snap.has_route(dev, &host_route));
    }
    let place = engine.places.get(&step.ns)?;
    // tc objects hang off an interface: look them up by its ifindex.
    match &step.op {
        Op::QdiscAdd { dev, qdisc } => {
            let Some(i) = place.index_of(dev)? else {
                return Ok(false);
            };
            let kind = match qdisc {
                Qdisc::Ingress => "ingress",
                Qdisc::Netem { .. } => "netem",
            };
            return Ok(tc::qdiscs(place.route()?, i)?
                .iter()
                .any(|q| q.kind == kind));
        }
        Op::RedirectAdd { dev, to } => {
            let (Some(i), Some(t)) = (place.index_of(dev)?, place.index_of(to)?) else {
                return Ok(false);
            };
            return Ok(tc::redirect_of(place.route()?, i)? == Some(t));
        }
        _ => {}
    }
    Ok(match &step.op {
        Op::Sysctl { key, value } => {
            sysctl_read(&place.file, key).is_ok_and(|v| sysctl::same_value(&v, value))
        }
        Op::Ethtool { dev, settings } => match host.ethtool(&step.ns, &place.file) {
            Ok(e) => e.matches(dev, settings).unwrap_or(false),
            Err(_) => false,
        },
        Op::NftTableAdd { family, table, .. } => match host.nft(&step.ns, &place.file) {
            Ok(sock) => nft::list_tables(sock)?.contains(&(*family, table.clone())),
            Err(_) => false,
        },
        Op::Exec { .. } => match st.step(&step.id).map(|r| &r.extra) {
            Some(Extra::Command {
                pid, start_time, ..
            }) => command::is_running(&Started {
                pid: *pid,
                start_time: *start_time,
            }),
            _ => false,
        },
        _ => false,
    })
}

/// Carries out a non-netlink step; returns what its undo will need.
pub fn run(engine: &mut Engine, host: &mut HostCtx, step: &Step) -> Result<Extra, String> {
    let place = engine.places.get(&step.ns).map_err(|e| e.to_string())?;
    match &step.op {
        Op::Sysctl { key, value } => {
            let previous = sysctl_read(&place.file, key)?;
            sysctl_write(&place.file, key, value)?;
            Ok(Extra::Sysctl { previous })
        }
        Op::Ethtool { dev, settings } => {
            let e = host.ethtool(&step.ns, &place.file)?;
            let saved = e.apply(dev, settings).map_err(|e| e.to_string())?;
            Ok(Extra::Ethtool {
                saved: serde_json::to_value(saved).map_err(|e| e.to_string())?,
            })
        }
        Op::NftTableAdd {
            family,
            table,
            chains,
        } => {
            let file = place.file.try_clone().map_err(|e| e.to_string())?;
            // Only rules that name conlink's external interface or address need it.
            let external = if needs_external(chains) {
                Some(engine.external()?)
            } else {
                None
            };
            let sock = host.nft(&step.ns, &file)?;
            nft::add_table(sock, *family, table, chains, external.as_ref())
                .map_err(|e| e.to_string())?;
            Ok(Extra::None)
        }
        Op::Exec { command: cmd } => {
            let log = host.logs.join(log_name(&step.id));
            let started = command::start(&place.file, cmd, &log, &[])
                .map_err(|e| format!("cannot start the command: {e}"))?;
            Ok(Extra::Command {
                pid: started.pid,
                start_time: started.start_time,
                log,
            })
        }
        op => Err(unsupported(op)),
    }
}

/// Undoes a non-netlink step.
pub fn undo(
    engine: &mut Engine,
    host: &mut HostCtx,
    ns: &Ns,
    op: &Op,
    extra: &Extra,
) -> Result<(), String> {
    // Stopping a command needs no namespace (and its namespace may be gone).
    if let (
        Op::ExecStop { .. },
        Extra::Command {
            pid, start_time, ..
        },
    ) = (op, extra)
    {
        let started = Started {
            pid: *pid,
            start_time: *start_time,
        };
        return command::stop(&started, COMMAND_GRACE).map_err(|e| e.to_string());
    }
    let place = engine.places.get(ns).map_err(|e| e.to_string())?;
    match (op, extra) {
        (Op::SysctlRestore { key }, Extra::Sysctl { previous }) => {
            sysctl_write(&place.file, key, previous)
        }
        (Op::EthtoolRestore { dev, .. }, Extra::Ethtool { saved }) => {
            let saved: ethtool::Saved =
                serde_json::from_value(saved.clone()).map_err(|e| e.to_string())?;
            let e = host.ethtool(ns, &place.file)?;
            match e.restore(dev, &saved) {
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                other => other.map_err(|e| e.to_string()),
            }
        }
        (Op::NftTableDel { family, table }, _) => {
            let file = place.file.try_clone().map_err(|e| e.to_string())?;
            match nft::del_table(host.nft(ns, &file)?, *family, table) {
                Err(e) if !e.is_gone() => Err(e.to_string()),
                _ => Ok(()),
            }
        }
        (Op::SysctlRestore { .. } | Op::EthtoolRestore { .. } | Op::ExecStop { .. }, _) => Ok(()),
        (op, _) => Err(unsupported(op)),
    }
}

/// Whether a table's rules refer to conlink's external interface or address.
fn needs_external(chains: &[NftChain]) -> bool {
    chains.iter().flat_map(|c| c.rules.iter()).any(|r| match r {
        NftRule::Dnat { iif_external, .. } => *iif_external,
        NftRule::Snat { to, .. } => to.is_none(),
    })
}

/// How long a command gets to exit after SIGTERM before it is killed.
const COMMAND_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

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
