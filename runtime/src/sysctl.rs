//! sysctls of a network namespace, read and written through `/proc/sys/net`.
//!
//! The files under `/proc/sys/net` belong to the network namespace of the thread that
//! opens them (the kernel looks the table up through the opener's namespace), not to
//! the namespace `/proc` was mounted in. So [`read`] and [`write()`] act in the calling
//! thread's namespace: run them inside [`crate::netns::enter`] to reach a node.
//!
//! Only `net.*` keys are accepted. Every other sysctl (`kernel.*`, `vm.*`, …) is global
//! to the machine: writing one "inside a node" would silently change the host.
//!
//! Keys are written as `sysctl(8)` takes them. In the dotted form (`net.ipv4.ip_forward`)
//! an interface name that itself contains dots is written with `/` in their place
//! (`net.ipv4.conf.eth0/100.forwarding` for `eth0.100`); a key whose first separator is
//! `/` is already a path (`net/ipv4/conf/eth0.100/forwarding`) and is taken as written.

use std::io::{self, Read, Write};
use std::path::PathBuf;

/// Where the per-namespace sysctl files live.
const PROC_SYS: &str = "/proc/sys";

/// Reads `key` in the calling thread's namespace, without the trailing newline the
/// kernel adds (multi-value sysctls keep their inner tabs).
pub fn read(key: &str) -> io::Result<String> {
    let path = path(key)?;
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| explain(e, key, None))?;
    let trimmed = text.trim_end_matches('\n').len();
    text.truncate(trimmed);
    Ok(text)
}

/// Writes `value` to `key` in the calling thread's namespace.
///
/// Where `/proc/sys` is mounted read-only (a container engine does that in every
/// container that is not privileged, conlink's own `network` service included), the
/// file is opened through a proc instance of conlink's own instead: mounted nowhere
/// (`fsopen`/`fsmount`), so no mount of the machine or the container changes, and gone
/// when conlink closes it. That needs CAP_SYS_ADMIN over the process id namespace
/// (`pid: host` with a rootful engine); where it is refused, the error says how to give
/// conlink's container a writable `/proc/sys`.
pub fn write(key: &str, value: &str) -> io::Result<()> {
    let path = path(key)?;
    // No O_CREAT or O_TRUNC: sysctl files exist or the key is wrong, and the kernel
    // parses each write(2) as a whole value, so the value goes out in one call.
    let mut file = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => private_proc::open_for_writing(&path)
            .map_err(|refused| read_only(key, value, &refused))?,
        Err(e) => return Err(explain(e, key, Some(value))),
    };
    file.write_all(value.as_bytes())
        .map_err(|e| explain(e, key, Some(value)))
}

/// A proc filesystem of conlink's own, attached to no directory.
mod private_proc {
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::path::Path;
    use std::sync::OnceLock;

    /// `fsconfig(2)`'s command that creates the superblock.
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;

    /// Opens `path` (under `/proc`) for writing through the private instance, made
    /// once per process. The sysctl files under it belong to the network namespace of
    /// the thread that opens them, as under `/proc/sys`.
    pub fn open_for_writing(path: &Path) -> io::Result<File> {
        static MOUNT: OnceLock<Result<OwnedFd, i32>> = OnceLock::new();
        let mount = MOUNT
            .get_or_init(|| detached_proc().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)))
            .as_ref()
            .map_err(|errno| io::Error::from_raw_os_error(*errno))?;
        let relative = path
            .strip_prefix("/proc")
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let name = std::ffi::CString::new(relative.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a valid directory fd and a NUL-terminated path; the result is
        // checked before use and owned by the File.
        let fd = unsafe {
            libc::openat(
                mount.as_raw_fd(),
                name.as_ptr(),
                libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// A new proc filesystem as a detached mount: `fsopen("proc")`, create, `fsmount`.
    fn detached_proc() -> io::Result<OwnedFd> {
        let owned = |ret: libc::c_long| -> io::Result<OwnedFd> {
            if ret < 0 {
                Err(io::Error::last_os_error())
            } else {
                // SAFETY: the kernel returned a new descriptor that nothing else owns.
                Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
            }
        };
        // SAFETY: plain system calls with a NUL-terminated name and null pointers
        // where the calls take none.
        let fs =
            owned(unsafe { libc::syscall(libc::SYS_fsopen, c"proc".as_ptr(), FSOPEN_CLOEXEC) })?;
        let created = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_void>(),
                0,
            )
        };
        if created < 0 {
            return Err(io::Error::last_os_error());
        }
        owned(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0) })
    }
}

/// Whether two sysctl values are the same setting: the kernel prints multi-value
/// sysctls with tabs (`32768\t60999`) while people write spaces, so values are
/// compared word by word (for convergence checks).
pub fn same_value(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

/// The `/proc/sys` path of `key`, after checking that it names a `net.*` sysctl and
/// cannot climb out of `/proc/sys/net`.
pub fn path(key: &str) -> io::Result<PathBuf> {
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid sysctl name `{key}`: {why}"),
        )
    };
    if key.is_empty() {
        return Err(bad("it is empty"));
    }
    if key.starts_with('/') {
        return Err(bad("write it relative to /proc/sys, without a leading `/`"));
    }
    if key.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    let relative = as_path(key);
    let mut parts = relative.split('/');
    for part in parts.clone() {
        match part {
            "" => return Err(bad("it has an empty component")),
            "." | ".." => return Err(bad("`.` and `..` are not sysctl names")),
            _ => {}
        }
    }
    if parts.next() != Some("net") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "sysctl {key} is not per network namespace: conlink sets only net.* sysctls \
                 inside a namespace (others would change the whole machine)"
            ),
        ));
    }
    Ok(PathBuf::from(PROC_SYS).join(relative))
}

/// The interface a per-interface key (`net.ipv6.conf.DEV.disable_ipv6`, in either
/// form) belongs to, with the dots of its name; `None` for a key of the whole namespace
/// (`all`, `default`, or no interface at all). Such a setting goes with its interface.
pub fn interface_of(key: &str) -> Option<String> {
    let path = as_path(key);
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["net", "ipv4" | "ipv6", "conf", dev, _] if !matches!(*dev, "all" | "default") => {
            Some((*dev).to_string())
        }
        _ => None,
    }
}

/// `key` with `/` separators, as sysctl(8) converts it: when the first separator is a
/// dot, dots become slashes and slashes (standing for dots inside interface names)
/// become dots; when it is a slash, the key is a path already.
fn as_path(key: &str) -> String {
    match key.find(['.', '/']) {
        Some(i) if key.as_bytes()[i] == b'.' => key
            .chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect(),
        _ => key.to_string(),
    }
}

/// The error of a write to `key` where `/proc/sys` is read-only (container engines
/// mount it so in containers that are not privileged) and conlink's own proc instance
/// was refused too (`refused`, the kernel's answer to mounting it: EPERM without
/// CAP_SYS_ADMIN over the process id namespace, as under rootless Podman, whose
/// containers' user namespace does not own the host's process id namespace).
fn read_only(key: &str, value: &str, refused: &io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::ReadOnlyFilesystem,
        format!(
            "cannot set sysctl {key} to {value:?}: /proc/sys is read-only here, as in a \
             container, and the kernel refused conlink a proc of its own ({refused}; that \
             needs CAP_SYS_ADMIN over the host's process ids: `pid: host` with a rootful \
             engine, and never under rootless Podman): give conlink's container a \
             writable /proc/sys (Podman, rootful or rootless: `--security-opt \
             unmask=/proc/sys`; Docker: `--security-opt systempaths=unconfined`, or \
             `privileged: true` in compose)"
        ),
    )
}

/// Turns an errno from `/proc/sys` into a sentence naming the key (and value), keeping
/// the error's kind so callers can still tell "missing" from "refused".
fn explain(e: io::Error, key: &str, value: Option<&str>) -> io::Error {
    let text = match (e.raw_os_error(), value) {
        (Some(libc::ENOENT), _) => format!("no such sysctl {key} in this namespace"),
        (Some(libc::EISDIR), _) => format!("sysctl {key} is a directory, not a setting"),
        (Some(libc::EINVAL), Some(v)) => format!("sysctl {key} refused the value {v:?} ({e})"),
        (Some(libc::EACCES | libc::EPERM), Some(v)) => {
            format!("cannot set sysctl {key} to {v:?}: {e} (not allowed here)")
        }
        (_, Some(v)) => format!("cannot set sysctl {key} to {v:?}: {e}"),
        (_, None) => format!("cannot read sysctl {key}: {e}"),
    };
    io::Error::new(e.kind(), text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{can_touch_kernel, TempNetns};

    #[test]
    fn a_per_interface_key_names_its_interface() {
        let dev = |k: &str| interface_of(k);
        assert_eq!(
            dev("net.ipv6.conf.eth0.disable_ipv6").as_deref(),
            Some("eth0")
        );
        assert_eq!(
            dev("net.ipv6.conf.eth0/10.disable_ipv6").as_deref(),
            Some("eth0.10")
        );
        assert_eq!(
            dev("net/ipv4/conf/eth0.10/forwarding").as_deref(),
            Some("eth0.10")
        );
        assert_eq!(dev("net.ipv6.conf.all.disable_ipv6"), None);
        assert_eq!(dev("net.ipv6.conf.default.disable_ipv6"), None);
        assert_eq!(dev("net.ipv4.ip_forward"), None);
    }

    fn path_of(key: &str) -> String {
        path(key).expect(key).to_string_lossy().into_owned()
    }

    fn refusal(key: &str) -> String {
        path(key).expect_err(key).to_string()
    }

    #[test]
    fn a_read_only_proc_sys_says_how_to_make_it_writable() {
        let e = read_only(
            "net.ipv4.ip_forward",
            "1",
            &io::Error::from_raw_os_error(libc::EPERM),
        );
        let text = e.to_string();
        assert!(
            text.contains(
                "refused conlink a proc of its own (Operation not permitted (os error 1);"
            ),
            "{text}"
        );
        assert!(text.contains("net.ipv4.ip_forward"), "{text}");
        assert!(text.contains("systempaths=unconfined"), "{text}");
        assert!(text.contains("unmask=/proc/sys"), "{text}");
        assert_eq!(e.raw_os_error(), None);
        assert_eq!(e.kind(), io::ErrorKind::ReadOnlyFilesystem);
    }

    #[test]
    fn keys_map_to_proc_paths() {
        assert_eq!(
            path_of("net.ipv4.ip_forward"),
            "/proc/sys/net/ipv4/ip_forward"
        );
        // An interface name with a dot, in both of sysctl(8)'s spellings.
        assert_eq!(
            path_of("net.ipv4.conf.eth0/100.forwarding"),
            "/proc/sys/net/ipv4/conf/eth0.100/forwarding"
        );
        assert_eq!(
            path_of("net/ipv4/conf/eth0.100/forwarding"),
            "/proc/sys/net/ipv4/conf/eth0.100/forwarding"
        );
        assert_eq!(path_of("net"), "/proc/sys/net");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(refusal("").contains("it is empty"));
        assert!(refusal("/net/ipv4/ip_forward").contains("without a leading `/`"));
        for key in ["net..ipv4", "net.ipv4.", ".net.ipv4", "net//ipv4"] {
            assert!(refusal(key).contains("empty component"), "{key}");
        }
        for key in ["net/../kernel/hostname", "net/./ipv4", "net.ipv4.conf.//.x"] {
            assert!(refusal(key).contains("`..` are not sysctl names"), "{key}");
        }
        assert!(refusal("net.ipv4\0").contains("NUL"));
        let e = refusal("kernel.hostname");
        assert!(e.contains("sysctl kernel.hostname is not per network namespace"));
        assert!(refusal("netx.ipv4").contains("not per network namespace"));
        let e = path("vm.swappiness").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn values_compare_word_by_word() {
        assert!(same_value("32768\t60999", "32768 60999"));
        assert!(same_value("1", "1"));
        assert!(!same_value("1", "0"));
        assert!(!same_value("1 2", "1"));
    }

    #[test]
    fn write_in_namespace_leaves_root_alone() {
        let test = "sysctl::write_in_namespace_leaves_root_alone";
        if !can_touch_kernel(test) {
            return;
        }
        let key = "net.ipv4.ip_forward";
        let root_before = read(key).unwrap();
        let ns = TempNetns::new("cl-sysctl-").unwrap();
        ns.run(|| {
            // A new namespace starts with forwarding off (test-machine.md).
            assert_eq!(read(key).unwrap(), "0");
            write(key, "1").unwrap();
            assert_eq!(read(key).unwrap(), "1");
        });
        assert_eq!(read(key).unwrap(), root_before, "root namespace changed");
        // The value stays with the namespace, not with the thread that wrote it.
        assert_eq!(ns.run(|| read(key)).unwrap(), "1");
    }

    /// As in a container: /proc/sys read-only (in a mount namespace of this thread's
    /// own, so nothing else sees it). The write still reaches the namespace, through
    /// conlink's private proc instance, and no mount is left behind.
    #[test]
    fn write_works_where_proc_sys_is_read_only() {
        let test = "sysctl::write_works_where_proc_sys_is_read_only";
        if !can_touch_kernel(test) {
            return;
        }
        let ns = TempNetns::new("cl-sysctl-").unwrap();
        let key = "net.ipv4.ip_forward";
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    use nix::mount::{mount, MsFlags};
                    use nix::sched::{unshare, CloneFlags};
                    unshare(CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS).unwrap();
                    let none: Option<&str> = None;
                    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none).unwrap();
                    mount(Some("/proc/sys"), "/proc/sys", none, MsFlags::MS_BIND, none).unwrap();
                    let ro = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
                    mount(none, "/proc/sys", none, ro, none).unwrap();
                    let mounts_before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
                    ns.run(|| {
                        let direct = std::fs::OpenOptions::new()
                            .write(true)
                            .open(path(key).unwrap());
                        assert_eq!(direct.unwrap_err().raw_os_error(), Some(libc::EROFS));
                        assert_eq!(read(key).unwrap(), "0");
                        write(key, "1").unwrap();
                        assert_eq!(read(key).unwrap(), "1");
                    });
                    let mounts_after = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
                    assert_eq!(mounts_before, mounts_after);
                })
                .join()
                .unwrap();
        });
        assert_eq!(ns.run(|| read(key)).unwrap(), "1");
    }

    #[test]
    fn errors_name_the_key() {
        let test = "sysctl::errors_name_the_key";
        if !can_touch_kernel(test) {
            return;
        }
        let ns = TempNetns::new("cl-sysctl-").unwrap();
        ns.run(|| {
            let e = read("net.ipv4.foo").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound);
            assert_eq!(
                e.to_string(),
                "no such sysctl net.ipv4.foo in this namespace"
            );
            let e = write("net.ipv4.foo", "1").unwrap_err();
            assert_eq!(
                e.to_string(),
                "no such sysctl net.ipv4.foo in this namespace"
            );
            // Global net sysctls exist only in the initial namespace.
            let e = read("net.core.netdev_max_backlog").unwrap_err();
            assert_eq!(
                e.to_string(),
                "no such sysctl net.core.netdev_max_backlog in this namespace"
            );
            let e = write("net.ipv4.ip_forward", "yes").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(e
                .to_string()
                .starts_with("sysctl net.ipv4.ip_forward refused the value \"yes\""));
            let e = read("net.ipv4").unwrap_err();
            assert_eq!(
                e.to_string(),
                "sysctl net.ipv4 is a directory, not a setting"
            );
        });
    }

    #[test]
    fn interface_names_with_dots() {
        let test = "sysctl::interface_names_with_dots";
        if !can_touch_kernel(test) {
            return;
        }
        let ns = TempNetns::new("cl-sysctl-").unwrap();
        ns.run(|| {
            let made = std::process::Command::new("ip")
                .args([
                    "link", "add", "v.100", "type", "veth", "peer", "name", "w.100",
                ])
                .status()
                .unwrap();
            assert!(made.success());
            write("net.ipv4.conf.v/100.forwarding", "1").unwrap();
            assert_eq!(read("net/ipv4/conf/v.100/forwarding").unwrap(), "1");
            assert_eq!(read("net.ipv4.conf.w/100.forwarding").unwrap(), "0");
        });
    }
}
