//! Joining the machine's mount namespace before a command touches the kernel, so that
//! namespaces it pins outlive it (`runtime::netns::join_init_mount_ns`).

/// Joins the machine's mount namespace; called after the sources are read (relative
/// paths may not resolve after) and before anything starts a thread.
pub fn join_machine_mounts() {
    if let Err(e) = runtime::netns::join_init_mount_ns() {
        eprintln!(
            "conlink: warning: cannot join the machine's mount namespace ({e}); namespaces pinned by this run are visible only in this one"
        );
    }
}
