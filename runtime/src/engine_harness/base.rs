//! What both engines share: the directory that holds everything, the daemon
//! process, waiting until it answers, and the cleanup at the end.

use super::busybox;
use super::cleanup::{kill_until_gone, processes_mentioning, remove_cgroup, unmount_under};
use super::commands::wait_for;
use crate::testing::{skip, unique};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What both engines share: the directory, the daemon process, the cleanup.
pub struct Base {
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub cgroup: String,
    daemon: Option<Child>,
    /// Paths outside the directory the engine writes whatever its settings (that
    /// did not exist before it started), removed at the end: files, then
    /// directories if empty.
    outside: Vec<PathBuf>,
}

impl Base {
    /// Checks the prerequisites and makes the directory.
    pub fn prepare(test: &str, kind: &str, tools: &[&str], outside: &[&str]) -> Option<Base> {
        if !crate::testing::can_touch_kernel(test) {
            return None;
        }
        for tool in tools {
            if !on_path(tool) {
                skip(
                    test,
                    &format!("needs `{tool}` (see .ci/run for the packages)"),
                );
                return None;
            }
        }
        let name = unique(&format!("conlink-{kind}-"));
        // Short: unix socket paths are limited to 107 bytes, and the daemon puts
        // sockets of its own a few levels below.
        let dir = PathBuf::from("/tmp").join(&name);
        if let Err(e) = fs::create_dir(&dir) {
            skip(test, &format!("cannot create {}: {e}", dir.display()));
            return None;
        }
        Some(Base {
            socket: dir.join("engine.sock"),
            cgroup: name,
            dir,
            daemon: None,
            outside: outside
                .iter()
                .map(PathBuf::from)
                .filter(|p| !p.exists())
                .collect(),
        })
    }

    /// Starts the daemon with its output appended to `daemon.log`.
    pub fn spawn(&mut self, mut cmd: Command) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("daemon.log"))
            .map_err(|e| format!("cannot open the daemon's log: {e}"))?;
        let err = log
            .try_clone()
            .map_err(|e| format!("cannot open the daemon's log: {e}"))?;
        cmd.stdin(Stdio::null()).stdout(log).stderr(err);
        // SAFETY: between fork and exec only async-signal-safe calls (prctl,
        // close_range) are made.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        self.daemon = Some(child);
        Ok(())
    }

    /// The daemon's pid while it runs.
    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(|c| c.id())
    }

    /// Waits until the daemon answers `GET /_ping`.
    pub fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ping(&self.socket) {
                return Ok(());
            }
            let exited = match self.daemon.as_mut() {
                Some(child) => matches!(child.try_wait(), Ok(Some(_))),
                None => true,
            };
            if exited || Instant::now() > deadline {
                let log = fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                let why = if exited {
                    "it exited"
                } else {
                    "no answer within 30 s"
                };
                return Err(format!("{why}; its log ends with:\n{tail}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A tar of a root filesystem with the static busybox and its applets, made
    /// once per engine.
    pub fn busybox_tar(&self) -> Result<PathBuf, String> {
        busybox::rootfs_tar(&self.dir)
    }

    /// Stops the daemon process: SIGTERM, then SIGKILL after 20 s.
    pub fn stop_daemon(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            if !wait_for(&mut child, Duration::from_secs(20)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Stops everything and removes every trace.
    pub fn stop(&mut self) {
        self.stop_daemon();
        // What the daemon started and left running (its containerd, shims, conmon):
        // every process whose command line names a path in this directory.
        let dir = format!("{}/", self.dir.display());
        kill_until_gone(|| processes_mentioning(&dir));
        unmount_under(&self.dir);
        let _ = fs::remove_dir_all(&self.dir);
        remove_cgroup(&self.cgroup);
        for p in &self.outside {
            if p.is_dir() {
                let _ = fs::remove_dir(p);
            } else {
                let _ = fs::remove_file(p);
            }
        }
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        // Dockerd and PodmanService stop first; this covers a Base dropped while
        // being set up.
        if self.dir.exists() {
            self.stop();
        }
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(tool);
            fs::metadata(&p).is_ok_and(|m| m.is_file())
        })
    })
}

/// Whether the engine on `socket` answers `GET /_ping` with OK.
fn ping(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: engine\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.") && answer.contains(" 200 ") && answer.ends_with("OK")
}

/// `unshare` running `script` with `sh` in a private mount namespace, after empty
/// tmpfs are mounted over `/run` and `/var/lib`: an engine at its usual paths that no
/// other process on the machine sees. `script` ends by `exec`ing the engine with
/// `"$@"` (the arguments the caller adds), so the engine keeps the pid the harness
/// started; the mounts and the namespace go when its last process ends.
pub(super) fn at_usual_paths(script: &str) -> Command {
    let mut c = Command::new("unshare");
    c.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        &format!(
            "mount -t tmpfs -o mode=0755 conlink-test /run && \
             mount -t tmpfs -o mode=0755 conlink-test /var/lib && {script}"
        ),
        "sh",
    ]);
    c
}
