//! Why the kernel refused conlink a container's `/proc/PID/ns/net`, in terms of what
//! the user can change.
//!
//! Opening another process's namespace file passes the kernel's ptrace read check
//! (`ptrace_may_access`): the caller must run as the same user as the process and, in
//! the same user namespace, hold every capability the process holds (its permitted
//! set must be a subset of the caller's effective set) — or hold CAP_SYS_PTRACE over
//! the process's user namespace. A security module (AppArmor, SELinux) may refuse on
//! top. The cases that fail in practice: a container started with a capability
//! conlink's own container lacks (`--cap-add NET_RAW` under Podman, whose default set
//! leaves NET_RAW out), and conlink's container in a user namespace of its own
//! (Podman's `--userns=keep-id`), which holds no capability over the namespaces of
//! the user's other containers. [`explain`] compares what `/proc` shows of the two processes
//! and names what differs.

use std::fs;
use std::path::Path;

/// Capability names by number (linux/capability.h), without the `CAP_` prefix, as
/// `cap_add` and `--cap-add` take them.
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// What the kernel shows of a process, as far as its check is concerned: the texts
/// of `/proc/PID/status` and `/proc/PID/uid_map` (both readable without the access
/// that was refused; empty when they could not be read).
pub struct Seen {
    pub status: String,
    pub uid_map: String,
}

impl Seen {
    /// Reads `DIR/status` and `DIR/uid_map` of a process directory under `/proc`.
    pub fn read(dir: &Path) -> Seen {
        let read = |file: &str| fs::read_to_string(dir.join(file)).unwrap_or_default();
        Seen {
            status: read("status"),
            uid_map: read("uid_map"),
        }
    }
}

/// What conlink's container needs so that the kernel lets it open the namespace of
/// container `name`, from what is seen of that container's process (`theirs`) and of
/// conlink's own (`ours`). A sentence to follow the refusal.
pub fn explain(name: &str, theirs: &Seen, ours: &Seen) -> String {
    let ptrace = "or give conlink's container SYS_PTRACE (which lets it read any \
                  process it can see)";
    // Processes of one user namespace see the same map (relative to the parent
    // namespace); a process of another namespace shows its map relative to the
    // reader's, which differs. conlink holds capabilities only in its own user
    // namespace and those made from it, so a container it cannot open there is in a
    // namespace that is neither: SYS_PTRACE would not reach it either.
    if !theirs.uid_map.is_empty() && !ours.uid_map.is_empty() && theirs.uid_map != ours.uid_map {
        return format!(
            "container {name} runs in another user namespace than conlink's (their uid \
             maps differ), and the kernel grants conlink capabilities only in its own user \
             namespace and the ones made from it: run conlink's container in the user \
             namespace the container's was made from (under rootless Podman: without \
             `--userns`; containers with `--userns=keep-id` are then reachable too)"
        );
    }
    if let (Some(t), Some(o)) = (uid(&theirs.status), uid(&ours.status)) {
        if t != o {
            return format!(
                "container {name}'s process runs as uid {t}, conlink as uid {o}, and the \
                 kernel lets a process open another user's namespace only with \
                 SYS_PTRACE: give conlink's container SYS_PTRACE (which lets it read any \
                 process it can see), or run the container's process as conlink's user"
            );
        }
    }
    let (Some(their_caps), Some(our_caps)) =
        (caps(&theirs.status, "CapPrm"), caps(&ours.status, "CapEff"))
    else {
        return format!(
            "conlink may open it when it runs as the same user as the container's \
             process and holds every capability that process holds; add the \
             container's capabilities to conlink's container, {ptrace}"
        );
    };
    let lacking = their_caps & !our_caps;
    if lacking != 0 {
        return format!(
            "container {name}'s process holds capabilities conlink's process lacks ({}), \
             and the kernel lets a process open another's namespace only when it holds \
             all of that process's capabilities: add {} to conlink's container \
             (`cap_add`, `--cap-add`), {ptrace}",
            names(lacking).join(", "),
            names(lacking).join(","),
        );
    }
    format!(
        "the usual checks pass (the same user, every capability of container {name}'s \
         process), so a security module (AppArmor, SELinux) or a process that made \
         itself undumpable refused it; {ptrace}"
    )
}

/// A capability set (`CapPrm`, `CapEff`) in a `status` text.
fn caps(status: &str, set: &str) -> Option<u64> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(set)?.strip_prefix(':'))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// The real user id in a `status` text (in the reader's user namespace).
fn uid(status: &str) -> Option<u32> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// The names of the capabilities whose bits are set in `set`.
fn names(set: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| set & (1 << bit) != 0)
        .map(|bit| match NAMES.get(bit) {
            Some(name) => (*name).to_string(),
            None => format!("capability {bit}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOTLESS_MAP: &str =
        "         0       1001          1\n         1     100000      65536\n";

    /// What [`explain`] reads of a process of the rootless user namespace.
    fn status(uid: u32, caps: u64) -> Seen {
        Seen {
            status: format!(
                "Name:\tsh\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nCapPrm:\t{caps:016x}\nCapEff:\t{caps:016x}\n"
            ),
            uid_map: ROOTLESS_MAP.into(),
        }
    }

    /// Podman's default capabilities (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
    /// NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).
    const PODMAN_DEFAULT: u64 = 0x8004_05fb;
    const NET_ADMIN: u64 = 1 << 12;
    const NET_RAW: u64 = 1 << 13;
    const SYS_ADMIN: u64 = 1 << 21;

    #[test]
    fn a_capability_conlink_lacks_is_named() {
        let theirs = status(1000, PODMAN_DEFAULT | NET_RAW);
        let ours = status(1000, PODMAN_DEFAULT | NET_ADMIN | SYS_ADMIN);
        let text = explain("web", &theirs, &ours);
        assert!(
            text.contains(
                "container web's process holds capabilities conlink's process lacks (NET_RAW)"
            ),
            "{text}"
        );
        assert!(
            text.contains("add NET_RAW to conlink's container"),
            "{text}"
        );
        assert!(text.contains("SYS_PTRACE"), "{text}");

        let theirs = status(0, (1 << 25) | (1 << 13) | (1 << 45));
        let text = explain("web", &theirs, &status(0, 0));
        assert!(
            text.contains("lacks (NET_RAW, SYS_TIME, capability 45)"),
            "{text}"
        );
        assert!(
            text.contains("add NET_RAW,SYS_TIME,capability 45 to"),
            "{text}"
        );
    }

    #[test]
    fn another_user_needs_sys_ptrace() {
        let text = explain("web", &status(1001, 0), &status(0, SYS_ADMIN));
        assert!(
            text.contains("runs as uid 1001, conlink as uid 0"),
            "{text}"
        );
        assert!(
            text.contains("give conlink's container SYS_PTRACE"),
            "{text}"
        );
    }

    #[test]
    fn another_user_namespace_is_named() {
        // `--userns=keep-id`: the user's own uid inside, no capabilities.
        let keep_id = Seen {
            uid_map: "         0          1       1001\n      1001          0          1\n".into(),
            ..status(0, 0)
        };
        let text = explain("web", &keep_id, &status(0, SYS_ADMIN));
        assert!(
            text.contains("container web runs in another user namespace than conlink's"),
            "{text}"
        );
        assert!(text.contains("without `--userns`"), "{text}");
    }

    #[test]
    fn nothing_visible_points_at_security_modules() {
        let text = explain(
            "web",
            &status(0, PODMAN_DEFAULT),
            &status(0, PODMAN_DEFAULT | SYS_ADMIN),
        );
        assert!(text.contains("AppArmor"), "{text}");
        // Unreadable status files: the rule itself.
        let nothing = Seen {
            status: String::new(),
            uid_map: String::new(),
        };
        let text = explain("web", &nothing, &nothing);
        assert!(
            text.contains("holds every capability that process holds"),
            "{text}"
        );
    }
}
