//! Helpers for tests that touch the kernel (used by this crate's tests and the
//! binary's end-to-end tests; not part of conlink's behaviour).
//!
//! A test that cannot run here calls [`skip`]: it says why on stderr and appends the
//! reason to the file named by `CONLINK_SKIP_LOG`, which `scripts/test.sh` counts and
//! prints, so a skip is never a silent pass.

use crate::netns;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// Records that `test` was skipped and why.
pub fn skip(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(path) = std::env::var_os("CONLINK_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            // One write of the whole line: tests run in parallel threads, and
            // appends made by one write(2) each do not interleave.
            let _ = f.write_all(format!("{test}: {reason}\n").as_bytes());
        }
    }
}

/// Whether the process may create namespaces and interfaces (root, or inside
/// `unshare -r`). When not, records the skip.
pub fn can_touch_kernel(test: &str) -> bool {
    let ok = nix::unistd::geteuid().is_root();
    if !ok {
        skip(test, "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)");
    }
    ok
}

/// A unique name for a test object: `prefix` + pid + counter.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A pinned namespace that is removed when dropped.
pub struct TempNetns {
    pub name: String,
    pub file: File,
    dir: PathBuf,
}

impl TempNetns {
    pub fn new(prefix: &str) -> std::io::Result<TempNetns> {
        let dir = netns::netns_dir();
        let name = unique(prefix);
        let (file, ()) = netns::create_pinned(&dir, &name, || Ok(()))?;
        Ok(TempNetns { name, file, dir })
    }

    /// Runs `f` inside the namespace.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        netns::enter(&self.file, f).expect("enter test namespace")
    }
}

impl Drop for TempNetns {
    fn drop(&mut self) {
        let _ = netns::remove_pinned(&self.dir, &self.name);
    }
}

/// A directory under the system's temporary directory, removed (with what is in it)
/// when dropped, also when the test panics.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove_dir_all_settled(&self.0);
    }
}

/// Removes `dir` with everything in it, trying again while it is still there: a
/// command's supervisor, which outlives the command conlink stopped by a moment,
/// writes the command's exit record when it has reaped it. A file made between
/// `remove_dir_all`'s listing and its final `rmdir` keeps the directory (ENOTEMPTY);
/// once the directory is gone, the supervisor's write fails and nothing comes back.
pub fn remove_dir_all_settled(dir: &std::path::Path) {
    for _ in 0..50 {
        let _ = std::fs::remove_dir_all(dir);
        if !dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
