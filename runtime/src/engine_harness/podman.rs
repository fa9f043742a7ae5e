//! A private Podman API service (`podman system service`) for a test, on a socket
//! of its own or at Podman's usual `/run/podman/podman.sock` in a mount namespace of
//! its own.

use super::base::Base;
use super::busybox::BUSYBOX_IMAGE;
use super::commands::{checked, run_with_timeout, text};
use crate::testing::skip;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Podman's usual rootful socket, where [`PodmanService::start_at_usual_paths`]
/// serves it (in the service's own mount namespace).
pub const PODMAN_USUAL_SOCKET: &str = "/run/podman/podman.sock";

/// A private Podman API service (`podman system service`), with its own storage.
pub struct PodmanService {
    base: Base,
    /// Whether it answers at [`PODMAN_USUAL_SOCKET`] in a mount namespace of its own
    /// ([`PodmanService::start_at_usual_paths`]).
    usual_paths: bool,
}

impl PodmanService {
    /// Starts a private Podman service, or records why it cannot run here and
    /// returns `None`.
    pub fn start(test: &str) -> Option<PodmanService> {
        PodmanService::start_with(test, false)
    }

    /// Starts a private Podman service that listens at Podman's usual
    /// `/run/podman/podman.sock`, as a machine's rootful Podman does, for a conlink
    /// given no socket at all. The service runs in a mount namespace of its own with
    /// fresh, empty `/run` and `/var/lib` (tmpfs), so neither Docker's nor the
    /// machine's Podman socket is there, and `/run/podman` is a directory of the
    /// engine's (bind-mounted), so [`Self::socket`] is the same socket seen from the
    /// machine. No other process sees a socket at the usual path; commands that
    /// should are run with [`Self::in_mount_namespace`]. Its storage is private as
    /// [`Self::start`]'s, and its containers are made through the service
    /// ([`Self::podman`] is a remote client), so that they live in its namespace too.
    /// The namespace and its mounts go when its last process ends.
    pub fn start_at_usual_paths(test: &str) -> Option<PodmanService> {
        PodmanService::start_with(test, true)
    }

    fn start_with(test: &str, usual_paths: bool) -> Option<PodmanService> {
        let tools: &[&str] = if usual_paths {
            &["podman", "runc", "unshare", "nsenter"]
        } else {
            &["podman", "runc"]
        };
        // Image imports write a cache of blob information at a fixed place.
        let base = Base::prepare(
            test,
            "podman",
            tools,
            &[
                "/var/lib/containers/cache/blob-info-cache-v1.boltdb",
                "/var/lib/containers/cache",
                "/var/lib/containers",
            ],
        )?;
        let dir = &base.dir;
        // Configuration files of its own, so that nothing of the machine's Podman
        // (storage, locks, networks, events) is used or changed: file locks instead
        // of the shared-memory ones all Podman instances share, runc (crun fails
        // here), cgroupfs (no systemd), and the limits the test machines need.
        let storage = format!(
            "[storage]\ndriver = \"overlay\"\ngraphroot = \"{root}\"\nrunroot = \"{run}\"\n",
            root = dir.join("root").display(),
            run = dir.join("runroot").display()
        );
        let containers = format!(
            "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
             [engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\
             events_logfile_path = \"{events}\"\nlock_type = \"file\"\nruntime = \"runc\"\n\
             tmp_dir = \"{tmp}\"\nstatic_dir = \"{root}/libpod\"\nvolume_path = \"{root}/volumes\"\n\
             [network]\nnetwork_config_dir = \"{net}\"\n",
            events = dir.join("events.log").display(),
            tmp = dir.join("tmp").display(),
            root = dir.join("root").display(),
            net = dir.join("networks").display(),
        );
        let written = fs::write(dir.join("storage.conf"), storage)
            .and_then(|_| fs::write(dir.join("containers.conf"), containers))
            .and_then(|_| fs::write(dir.join("registries.conf"), ""));
        if let Err(e) = written {
            skip(test, &format!("cannot write in {}: {e}", dir.display()));
            return None;
        }
        let mut base = base;
        if usual_paths {
            // The service's /run/podman, the engine's directory `run` seen from the
            // machine: the socket the harness waits on and a remote client uses.
            let run = base.dir.join("run");
            if let Err(e) = fs::create_dir(&run) {
                skip(test, &format!("cannot create {}: {e}", run.display()));
                return None;
            }
            base.socket = run.join("podman.sock");
        }
        let cmd = service_command(&base, usual_paths);
        if let Err(e) = base.spawn(cmd) {
            skip(test, &e);
            return None;
        }
        let mut p = PodmanService { base, usual_paths };
        if let Err(e) = p.base.wait_ready() {
            skip(test, &format!("podman system service did not start: {e}"));
            return None;
        }
        Some(p)
    }

    /// Stops the API service, calls `meanwhile` (the `podman` CLI works without the
    /// service), and starts the service again on the same storage and socket, as an
    /// upgrade of Podman or a restart of its systemd unit would. The containers keep
    /// running: conmon watches them, not the service.
    ///
    /// Not for a service at the usual paths: a new one would get a new mount
    /// namespace, without the mounts of the containers made in the old one.
    pub fn restart_with(&mut self, meanwhile: impl FnOnce(&Self)) -> Result<(), String> {
        if self.usual_paths {
            return Err("a service at the usual paths cannot be restarted".into());
        }
        self.base.stop_daemon();
        meanwhile(self);
        self.base
            .spawn(service_command(&self.base, self.usual_paths))?;
        self.base.wait_ready()
    }

    /// The service's socket as the test's own processes reach it (for a service at
    /// the usual paths, the one it serves at [`PODMAN_USUAL_SOCKET`] in its
    /// namespace).
    pub fn socket(&self) -> &Path {
        &self.base.socket
    }

    /// `program` run in the service's mount namespace (`nsenter --mount`), where a
    /// service at the usual paths answers at [`PODMAN_USUAL_SOCKET`]; the network
    /// namespace and everything else stay the test's. For a service started with
    /// [`Self::start`], `program` as it is (the service shares the test's mounts).
    pub fn in_mount_namespace(&self, program: impl AsRef<OsStr>) -> Command {
        match self.mount_namespace() {
            Some(ns) => {
                let mut cmd = Command::new("nsenter");
                cmd.arg(format!("--mount={}", ns.display()))
                    .arg("--")
                    .arg(program);
                cmd
            }
            None => Command::new(program),
        }
    }

    /// `path` as processes in the service's mount namespace see it, readable from
    /// the test (`/proc/PID/root/PATH`); `path` itself for a service started with
    /// [`Self::start`]. `path` is absolute.
    pub fn seen_inside(&self, path: &Path) -> PathBuf {
        match self.namespace_pid() {
            Some(pid) => {
                Path::new(&format!("/proc/{pid}/root")).join(path.strip_prefix("/").unwrap_or(path))
            }
            None => path.to_path_buf(),
        }
    }

    fn mount_namespace(&self) -> Option<PathBuf> {
        let pid = self.namespace_pid()?;
        Some(PathBuf::from(format!("/proc/{pid}/ns/mnt")))
    }

    /// The pid whose mount namespace is the service's own: the service's, when it
    /// runs at the usual paths.
    fn namespace_pid(&self) -> Option<u32> {
        self.base.daemon_pid().filter(|_| self.usual_paths)
    }

    pub fn dir(&self) -> &Path {
        &self.base.dir
    }

    /// A `podman` command using this service's storage and settings. Containers
    /// it runs should be given `--cgroup-parent` [`Self::cgroup_parent_arg`]. For a
    /// service at the usual paths, a remote client of the service (`--remote
    /// --url`): the service makes the containers, in its mount namespace, and
    /// they are not the children of a command the test started.
    pub fn podman(&self) -> Command {
        let mut cmd = Command::new("podman");
        cmd.envs(podman_env(&self.base.dir)).stdin(Stdio::null());
        if self.usual_paths {
            cmd.arg("--remote")
                .arg("--url")
                .arg(format!("unix://{}", self.base.socket.display()));
        }
        cmd
    }

    /// `--cgroup-parent=/NAME`: keeps the containers' cgroups where cleanup finds
    /// them.
    pub fn cgroup_parent_arg(&self) -> String {
        format!("--cgroup-parent=/{}", self.base.cgroup)
    }

    /// Runs `podman ARGS`; panics with its output when it fails.
    pub fn run(&self, args: &[&str]) -> String {
        checked(
            self.podman().args(args),
            &format!("podman {}", args.join(" ")),
        )
    }

    /// Makes the busybox image (once per service) and returns its tag.
    pub fn busybox_image(&self) -> Result<&'static str, String> {
        import_busybox(&|| self.podman(), &self.base.busybox_tar()?)
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = run_with_timeout(
            self.podman()
                .args(["rm", "--all", "--force", "--time", "0"]),
            Duration::from_secs(60),
        );
        self.base.stop();
    }
}

/// Imports the busybox root filesystem `tar` as the test image with the `podman`
/// commands `podman` makes (rootful or rootless), unless that storage has it already;
/// returns its tag.
pub(super) fn import_busybox(
    podman: &dyn Fn() -> Command,
    tar: &Path,
) -> Result<&'static str, String> {
    let exists = podman()
        .args(["image", "exists", BUSYBOX_IMAGE])
        .status()
        .is_ok_and(|s| s.success());
    if exists {
        return Ok(BUSYBOX_IMAGE);
    }
    let out = podman()
        .args(["import", "--quiet", "--change", "CMD [\"/bin/sh\"]"])
        .arg(tar)
        .arg(BUSYBOX_IMAGE)
        .output()
        .map_err(|e| format!("podman import: {e}"))?;
    if !out.status.success() {
        return Err(format!("podman import: {}", text(&out)));
    }
    Ok(BUSYBOX_IMAGE)
}

/// `podman system service` on the engine's socket, with its settings. With
/// `usual_paths`, started through `unshare` in a private mount namespace where `/run`
/// and `/var/lib` are empty tmpfs and `/run/podman` is the engine's directory `run`
/// (bind-mounted; its path is `sh`'s first argument, not part of the script), and
/// listening at [`PODMAN_USUAL_SOCKET`]; `sh` mounts them and then becomes the
/// service (`exec`), which keeps the service's pid the one the harness started and
/// whose namespace [`PodmanService::in_mount_namespace`] enters.
fn service_command(base: &Base, usual_paths: bool) -> Command {
    let mut cmd = if usual_paths {
        // The engine's directory `run` is the first argument, not part of the script.
        let mut c = super::base::at_usual_paths(
            "run=$1 && shift && mkdir /run/podman && mount --bind \"$run\" /run/podman && \
             exec podman \"$@\"",
        );
        c.arg(base.dir.join("run"));
        c
    } else {
        Command::new("podman")
    };
    let socket = if usual_paths {
        PathBuf::from(PODMAN_USUAL_SOCKET)
    } else {
        base.socket.clone()
    };
    cmd.envs(podman_env(&base.dir))
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", socket.display()));
    cmd
}

fn podman_env(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("CONTAINERS_CONF", dir.join("containers.conf")),
        ("CONTAINERS_STORAGE_CONF", dir.join("storage.conf")),
        ("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf")),
    ]
}
