//! Whether conlink may change the system, and saying so when it may not
//! (docs/cli.md: the commands that need root).
//!
//! `apply`, `destroy`, `status` and `exec` create, enter or read network namespaces
//! and talk to the kernel's network configuration: they need CAP_SYS_ADMIN and
//! CAP_NET_ADMIN. Without them each system call fails in its own words ("cannot lock
//! project: Permission denied", "Operation not permitted", "EPERM"), so the commands
//! check first and say what is needed. The check reads the process's effective
//! capabilities rather than its user id, so a user namespace that grants them
//! (`unshare -r`) passes. Where a refusal still happens (an operation such a user
//! namespace does not cover), [`denied`] recognises EPERM and EACCES in the runtime's
//! errors and the command adds the same sentence.

use crate::Outcome;
use std::error::Error;

/// The capabilities the commands that change the system need, by number
/// (linux/capability.h) and name.
const NEEDED: [(u32, &str); 2] = [(12, "CAP_NET_ADMIN"), (21, "CAP_SYS_ADMIN")];

/// What to tell a user who lacks them.
pub const SENTENCE: &str =
    "this needs root (the capabilities CAP_NET_ADMIN and CAP_SYS_ADMIN): run it with sudo";

/// Checks that the process has the needed capabilities; when not, says so for
/// `command` and gives the outcome to exit with.
pub fn check(command: &str) -> Result<(), Outcome> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let missing = missing(&status);
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "conlink {command}: {SENTENCE} (this process lacks {})",
        missing.join(" and ")
    );
    Err(Outcome::Failed)
}

/// The needed capabilities missing from the effective set in the text of
/// `/proc/self/status` (all of them when it cannot be read).
fn missing(proc_status: &str) -> Vec<&'static str> {
    let effective = proc_status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    NEEDED
        .iter()
        .filter(|(bit, _)| effective & (1 << bit) == 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Whether `error`, or an error it was caused by, is a refusal for lack of
/// privileges (EPERM or EACCES); `errno` is the kernel's answer the error carries
/// outside its chain of causes, if any (`StepError::kernel`).
pub fn denied(error: &(dyn Error + 'static), errno: Option<i32>) -> bool {
    let refused = |n: i32| n == libc::EPERM || n == libc::EACCES;
    if errno.is_some_and(refused) {
        return true;
    }
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.raw_os_error().is_some_and(refused)
                || io.kind() == std::io::ErrorKind::PermissionDenied
            {
                return true;
            }
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_read_from_the_effective_set() {
        let root = "Name:\tconlink\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert!(missing(root).is_empty());
        let nobody = "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n";
        assert_eq!(missing(nobody), ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
        // Root without CAP_NET_ADMIN (bit 12), e.g. `setpriv --inh-caps -net_admin`.
        let no_net_admin = "CapEff:\t000001ffffffefff\n";
        assert_eq!(missing(no_net_admin), ["CAP_NET_ADMIN"]);
        assert_eq!(missing(""), ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
    }

    #[test]
    fn refusals_are_found_in_the_chain_of_causes() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("cannot lock project")
            }
        }
        impl Error for Wrapper {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let eperm = Wrapper(std::io::Error::from_raw_os_error(libc::EPERM));
        assert!(denied(&eperm, None));
        let eacces = std::io::Error::from_raw_os_error(libc::EACCES);
        assert!(denied(&eacces, None));
        let enoent = Wrapper(std::io::Error::from_raw_os_error(libc::ENOENT));
        assert!(!denied(&enoent, None));
        assert!(denied(&enoent, Some(libc::EPERM)));
        assert!(!denied(&enoent, Some(libc::EEXIST)));
    }
}
