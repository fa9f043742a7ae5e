//! Network namespaces: creating, pinning, entering and removing them.
//!
//! A namespace is "pinned" by bind-mounting its nsfs file onto a file under
//! `/run/netns`, as `ip netns add` does, so that it outlives the process that made it
//! and other tools (`ip netns exec`) can find it. Entering a namespace is per thread
//! (`setns(2)`): [`enter`] switches the calling thread in and back out again, which is
//! how conlink opens one netlink socket per namespace: a socket stays bound to the
//! namespace it was created in.

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// Where pinned namespaces live (the same directory `ip netns` uses).
pub const NETNS_DIR: &str = "/run/netns";

/// The directory for pinned namespaces; tests may point it elsewhere with
/// `CONLINK_NETNS_DIR` (used with `unshare -m` and a private tmpfs).
pub fn netns_dir() -> PathBuf {
    std::env::var_os("CONLINK_NETNS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(NETNS_DIR))
}

/// The calling thread's current network namespace.
pub fn current() -> io::Result<File> {
    File::open("/proc/thread-self/ns/net")
}

/// Opens a pinned namespace (or any nsfs path).
pub fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Runs `f` with the calling thread inside `ns`, then switches back.
pub fn enter<R>(ns: &File, f: impl FnOnce() -> R) -> io::Result<R> {
    let home = current()?;
    setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
    let out = f();
    // Failing to switch back would leave later work in the wrong namespace: abort
    // loudly rather than continue.
    if let Err(e) = setns(home.as_fd(), CloneFlags::CLONE_NEWNET) {
        panic!("cannot return to the original network namespace: {e}");
    }
    Ok(out)
}

/// Makes `dir` a shared mount point, as iproute2 does, so that namespaces pinned
/// below it are visible to other mount namespaces that share it.
fn prepare_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let shared = || {
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match shared() {
        Ok(()) => Ok(()),
        Err(nix::Error::EINVAL) => {
            // Not a mount point yet: bind it onto itself, then retry.
            mount(
                Some(dir),
                dir,
                Some("none"),
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(io::Error::from)?;
            shared().map_err(io::Error::from)
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates a new network namespace pinned at `dir/name` and returns it open, with
/// what `inside` returned: `inside` runs in the new namespace before it is pinned, so
/// that what it does (conlink marks the loopback as its own) is there before anyone
/// can find the namespace. Fails with `AlreadyExists` if something is already pinned
/// there: conlink never adopts a namespace it did not create.
///
/// A pin is an empty file first, then the namespace mounted on it; a process killed in
/// between leaves the empty file ([`is_half_made_pin`]).
pub fn create_pinned<T>(
    dir: &Path,
    name: &str,
    inside: impl FnOnce() -> io::Result<T>,
) -> io::Result<(File, T)> {
    // The directory is made a shared mount once per process.
    static PREPARED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    {
        let mut done = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
        if !done.iter().any(|d| d == dir) {
            prepare_dir(dir)?;
            done.push(dir.to_path_buf());
        }
    }
    let path = dir.join(name);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    // unshare(2) on this thread, pin, then back: cheaper than a thread per namespace
    // (a run may create hundreds).
    let home = current()?;
    let made = unshare(CloneFlags::CLONE_NEWNET)
        .map_err(io::Error::from)
        .and_then(|()| inside())
        .and_then(|out| {
            mount(
                Some("/proc/thread-self/ns/net"),
                &path,
                Some("none"),
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(io::Error::from)?;
            Ok(out)
        });
    if let Err(e) = setns(home.as_fd(), CloneFlags::CLONE_NEWNET) {
        panic!("cannot return to the original network namespace: {e}");
    }
    match made {
        Ok(out) => Ok((File::open(&path)?, out)),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// Whether `path` is a pin left half-made by a process killed while creating it: an
/// empty regular file with no namespace mounted on it.
pub fn is_half_made_pin(path: &Path) -> bool {
    let empty_file = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
    empty_file && File::open(path).is_ok_and(|f| !is_namespace(&f))
}

/// Whether an open file is a namespace (nsfs): a pinned name only is one while a
/// namespace is mounted on it.
pub fn is_namespace(file: &File) -> bool {
    nix::sys::statfs::fstatfs(file)
        .map(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
        .unwrap_or(false)
}

/// Unpins `dir/name`. The namespace itself goes away once nothing else holds it.
/// Missing is success (teardown is idempotent).
pub fn remove_pinned(dir: &Path, name: &str) -> io::Result<()> {
    let path = dir.join(name);
    match umount2(&path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
        Err(e) => return Err(e.into()),
    }
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Names pinned in `dir` that start with `prefix`, sorted.
pub fn list_pinned(dir: &Path, prefix: &str) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// The identity of a namespace (device and inode of its nsfs file), to tell whether
/// two handles are the same namespace and to record it in the state file.
pub fn identity(ns: &File) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = ns.metadata()?;
    Ok((m.dev(), m.ino()))
}

/// Moves this process into the machine's mount namespace when it runs in another
/// one, so that namespaces it pins under `/run/netns` outlive it.
///
/// `ip netns exec H conlink apply` (docs/plan.md, "Namespaces": how tests put several
/// hosts on one machine) runs conlink in a private mount namespace whose `/run/netns` is a slave of
/// the machine's: a pin made there would vanish when conlink exits, and the node
/// namespaces with it. The machine's mount namespace is pid 1's; where pid 1 cannot be
/// looked at (a sandbox), the parent's (`ip netns exec` replaced itself with conlink,
/// so the parent is whoever ran it). Must be called while the process has one thread.
pub fn join_init_mount_ns() -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let mine = std::fs::metadata("/proc/self/ns/mnt")?;
    let parent = nix::unistd::getppid().as_raw();
    for pid in [1, parent] {
        let path = format!("/proc/{pid}/ns/mnt");
        let Ok(other) = std::fs::metadata(&path) else {
            continue;
        };
        if other.ino() == mine.ino() && other.dev() == mine.dev() {
            return Ok(false);
        }
        if !slave_netns_dir() {
            // Our /run/netns propagates to the machine's: nothing to fix.
            return Ok(false);
        }
        let f = File::open(&path)?;
        setns(f.as_fd(), CloneFlags::CLONE_NEWNS).map_err(io::Error::from)?;
        return Ok(true);
    }
    Ok(false)
}

/// Whether the netns directory is a mount that receives from, but does not send to,
/// another mount namespace (what `ip netns exec` sets up).
fn slave_netns_dir() -> bool {
    let dir = netns_dir();
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines().any(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        f.get(4).is_some_and(|mp| std::path::Path::new(mp) == dir)
            && f.iter().any(|x| x.starts_with("master:"))
            && !f.iter().any(|x| x.starts_with("shared:"))
    })
}
