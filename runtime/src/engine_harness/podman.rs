//! A private Podman API service (`podman system service`) for a test.

use super::base::Base;
use super::busybox::BUSYBOX_IMAGE;
use super::commands::{checked, run_with_timeout, text};
use crate::testing::skip;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A private Podman API service (`podman system service`), with its own storage.
pub struct PodmanService {
    base: Base,
}

impl PodmanService {
    /// Starts a private Podman service, or records why it cannot run here and
    /// returns `None`.
    pub fn start(test: &str) -> Option<PodmanService> {
        // Image imports write a cache of blob information at a fixed place.
        let base = Base::prepare(
            test,
            "podman",
            &["podman", "runc"],
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
        let cmd = service_command(&base);
        let mut base = base;
        if let Err(e) = base.spawn(cmd) {
            skip(test, &e);
            return None;
        }
        let mut p = PodmanService { base };
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
    pub fn restart_with(&mut self, meanwhile: impl FnOnce(&Self)) -> Result<(), String> {
        self.base.stop_daemon();
        meanwhile(self);
        self.base.spawn(service_command(&self.base))?;
        self.base.wait_ready()
    }

    pub fn socket(&self) -> &Path {
        &self.base.socket
    }

    pub fn dir(&self) -> &Path {
        &self.base.dir
    }

    /// A `podman` command using this service's storage and settings. Containers
    /// it runs should be given `--cgroup-parent` [`Self::cgroup_parent_arg`].
    pub fn podman(&self) -> Command {
        let mut cmd = Command::new("podman");
        cmd.envs(podman_env(&self.base.dir)).stdin(Stdio::null());
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

/// `podman system service` on the engine's socket, with its settings.
fn service_command(base: &Base) -> Command {
    let mut cmd = Command::new("podman");
    cmd.envs(podman_env(&base.dir))
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", base.socket.display()));
    cmd
}

fn podman_env(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("CONTAINERS_CONF", dir.join("containers.conf")),
        ("CONTAINERS_STORAGE_CONF", dir.join("storage.conf")),
        ("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf")),
    ]
}
