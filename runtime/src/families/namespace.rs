//! Namespaces: `ip netns add` creates a node's (or conlink's own) namespace, marks its
//! loopback as conlink's and then pins it; it is in place when the namespace is there
//! with that mark (or is the one conlink runs in). Its undo stops every process still
//! inside and unpins it, which removes everything in it. A namespace there without
//! the mark is never adopted; an empty pin of the project's, left by a run killed
//! while pinning, is replaced (docs/decisions.md, "Surviving SIGKILL").

use crate::action::{Action, At, Check, Removal, Subject};
use crate::context::Context;
use crate::engine::mark_request;
use crate::error::{NotOurs, NsError, StepError};
use crate::names;
use crate::netlink::Socket;
use crate::netns;
use crate::places::Lookup;
use crate::planned::Planned;
use crate::state::Extra;
use compiler::plan::Ns;
use std::io;
use std::path::Path;

/// `ip netns add` (`Op::NetnsAdd`).
pub struct Add;

/// `ip netns del` (`Op::NetnsDel`).
pub struct Del;

impl Action for Add {
    fn makes_namespace(&self) -> bool {
        true
    }

    fn batched(&self) -> bool {
        false
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let ns = at.ns;
        let pinned_by_conlink = match cx.lookup(ns)? {
            // Not there (or waiting for its container, which carrying it out says).
            Lookup::Absent(_) | Lookup::Waiting(_) => return Ok(Check::Missing),
            Lookup::Ready(place) => place.pinned.is_some(),
        };
        Ok(if is_ours(cx, ns, pinned_by_conlink)? {
            Check::InPlace
        } else {
            Check::Foreign(NotOurs::Namespace { ns: ns.clone() })
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let ns = at.ns;
        let pinned = match cx.lookup(ns)? {
            Lookup::Absent(pinned) => pinned,
            Lookup::Waiting(why) => {
                return Err(NsError::Waiting {
                    ns: ns.clone(),
                    why,
                }
                .into())
            }
            // Only a namespace this run created is there without having been checked.
            Lookup::Ready(_) => return Ok(Extra::None),
        };
        let dir = cx.netns_dir().to_path_buf();
        // A pin of this project's left empty by a run that was killed while making it
        // is conlink's own: it goes, and the namespace is made afresh.
        if netns::is_half_made_pin(&dir.join(&pinned)) {
            netns::remove_pinned(&dir, &pinned)
                .map_err(|e| StepError::io(format!("remove the half-made pin {pinned}"), e))?;
        }
        // The loopback carries the mark before the namespace is pinned, so a pinned
        // namespace of the project is always recognisably conlink's, even if this run
        // is killed right after. The socket that set it stays the namespace's.
        let mark = cx.mark().to_string();
        let (file, sock) = netns::create_pinned(&dir, &pinned, || {
            let mut sock = Socket::route()?;
            sock.request(mark_request(LOOPBACK, &mark), 0)
                .map_err(|e| io::Error::other(format!("mark the loopback: {e}")))?;
            Ok(sock)
        })
        .map_err(|e| StepError::io(format!("create namespace {pinned} in {}", dir.display()), e))?;
        cx.add_created(ns, file, pinned, sock);
        Ok(Extra::None)
    }

    fn plan(&self, ns: &Ns, project: &str, planned: &mut Planned) {
        if let Ns::Node(n) = ns {
            planned.add_node(names::node_ns(project, n));
        }
    }
}

impl Action for Del {
    /// It removes its namespace itself, and needs it for nothing.
    fn namespaces<'a>(&'a self, _: &'a Ns) -> Vec<&'a Ns> {
        Vec::new()
    }

    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let Some(place) = cx.remove_place(at.ns) else {
            return Ok(Extra::None);
        };
        if let Some(pinned) = place.pinned {
            drop(place.file);
            remove_pinned(cx.netns_dir(), &pinned)?;
        }
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        Removal::Namespace
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Namespace)
    }
}

/// The loopback's ifindex in every namespace.
const LOOPBACK: u32 = 1;

/// Whether a namespace that is there is conlink's: the one conlink runs in (nothing
/// pinned), or one it pinned, with the ownership mark on its loopback.
fn is_ours(cx: &mut Context, ns: &Ns, pinned_by_conlink: bool) -> Result<bool, StepError> {
    if !pinned_by_conlink {
        return Ok(true);
    }
    cx.observe(ns)?;
    let mark = cx.mark();
    Ok(cx.snapshot(ns).is_some_and(|s| s.loopback_marked(mark)))
}

/// Unpins the namespace pinned as `name` under `dir`, after stopping every process
/// inside it (a process inside keeps a namespace alive). Missing is success.
pub fn remove_pinned(dir: &Path, name: &str) -> Result<(), StepError> {
    kill_processes(&dir.join(name));
    netns::remove_pinned(dir, name)
        .map_err(|e| StepError::io(format!("remove namespace {name}"), e))
}

/// Removes a node namespace `status` calls extra.
pub fn remove_extra(cx: &mut Context, pinned: &str) -> Result<(), StepError> {
    remove_pinned(cx.netns_dir(), pinned)
}

/// Stops every process whose network namespace is the one pinned at `pinned`, so
/// that unpinning it really removes it (as `ip netns pids` finds them).
fn kill_processes(pinned: &Path) {
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
