//! A private Docker daemon for a test.

use super::base::Base;
use super::busybox::BUSYBOX_IMAGE;
use super::commands::{checked, run_with_timeout, text};
use crate::testing::skip;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A private Docker daemon.
pub struct Dockerd {
    base: Base,
    /// Whether it also answers at Docker's usual paths ([`Dockerd::start_at_usual_paths`]).
    usual_paths: bool,
}

impl Dockerd {
    /// Starts a private `dockerd`, or records why it cannot run here and returns
    /// `None`.
    pub fn start(test: &str) -> Option<Dockerd> {
        Dockerd::start_with(test, false)
    }

    /// Starts a private `dockerd` that also answers at `/var/run/docker.sock` and has
    /// a `/var/lib/docker`, as the machine's Docker would, for compose files that
    /// mount those host paths into a container (conlink 2.x's files do). The daemon
    /// runs in a mount namespace of its own with fresh, empty `/run` and `/var/lib`
    /// (tmpfs), so the paths exist for it and for the containers it makes, while the
    /// machine's `/run` and `/var/lib` stay untouched and other tests never see a
    /// Docker socket at the usual place.
    pub fn start_at_usual_paths(test: &str) -> Option<Dockerd> {
        Dockerd::start_with(test, true)
    }

    fn start_with(test: &str, usual_paths: bool) -> Option<Dockerd> {
        let tools: &[&str] = if usual_paths {
            &["dockerd", "docker", "unshare"]
        } else {
            &["dockerd", "docker"]
        };
        let base = Base::prepare(test, "dockerd", tools, &[])?;
        let dir = base.dir.clone();
        // An empty configuration file, so the machine's /etc/docker/daemon.json
        // (if any) does not change the daemon.
        if let Err(e) = fs::write(dir.join("daemon.json"), "{}\n") {
            skip(test, &format!("cannot write in {}: {e}", dir.display()));
            return None;
        }
        let mut base = base;
        if let Err(e) = base.spawn(dockerd_command(&base, usual_paths)) {
            skip(test, &e);
            return None; // dropped: cleaned up
        }
        let mut d = Dockerd { base, usual_paths };
        if let Err(e) = d.base.wait_ready() {
            skip(test, &format!("dockerd did not start: {e}"));
            return None; // dropped: cleaned up
        }
        Some(d)
    }

    /// Stops the daemon (its containers stop with it) and starts it again on the
    /// same state and socket, as a reboot or an upgrade of the engine would.
    pub fn restart(&mut self) -> Result<(), String> {
        self.base.stop_daemon();
        self.base
            .spawn(dockerd_command(&self.base, self.usual_paths))?;
        self.base.wait_ready()
    }

    /// The daemon's socket.
    pub fn socket(&self) -> &Path {
        &self.base.socket
    }

    /// `unix://SOCKET`, for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.base.socket.display())
    }

    /// The temporary directory that holds everything of this daemon; tests may
    /// keep their own files under it (they go with it).
    pub fn dir(&self) -> &Path {
        &self.base.dir
    }

    /// The cgroup parent the daemon's containers are under.
    pub fn cgroup_parent(&self) -> &str {
        &self.base.cgroup
    }

    /// The environment for a Docker client of this daemon (CLI, compose, conlink).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DOCKER_HOST".into(), self.host()),
            // The CLI's own configuration, kept with the daemon's.
            (
                "DOCKER_CONFIG".into(),
                self.base.dir.join("cli").display().to_string(),
            ),
        ]
    }

    /// A `docker` command talking to this daemon.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.envs(self.env()).stdin(Stdio::null());
        cmd
    }

    /// A `docker-compose` (v1) command talking to this daemon, for project `project`
    /// with the compose file `file`.
    pub fn compose(&self, file: &Path, project: &str) -> Command {
        let mut cmd = Command::new("docker-compose");
        cmd.envs(self.env())
            .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
            .arg("--no-ansi")
            .arg("--file")
            .arg(file)
            .arg("--project-name")
            .arg(project)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `docker ARGS` and returns its standard output; panics with its output
    /// when it fails (a test's setup step).
    pub fn run(&self, args: &[&str]) -> String {
        checked(
            self.docker().args(args),
            &format!("docker {}", args.join(" ")),
        )
    }

    /// Makes the busybox image (once per daemon) and returns its tag.
    pub fn busybox_image(&self) -> Result<&'static str, String> {
        let tar = self.base.busybox_tar()?;
        if self.image_exists(BUSYBOX_IMAGE) {
            return Ok(BUSYBOX_IMAGE);
        }
        let out = self
            .docker()
            .args(["import", "--change", "CMD [\"/bin/sh\"]"])
            .arg(&tar)
            .arg(BUSYBOX_IMAGE)
            .output()
            .map_err(|e| format!("docker import: {e}"))?;
        if !out.status.success() {
            return Err(format!("docker import: {}", text(&out)));
        }
        Ok(BUSYBOX_IMAGE)
    }

    fn image_exists(&self, tag: &str) -> bool {
        self.docker()
            .args(["image", "inspect", tag])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn remove_containers(&self) {
        let Ok(ids) = run_with_timeout(
            self.docker().args(["ps", "--all", "--quiet", "--no-trunc"]),
            Duration::from_secs(20),
        ) else {
            return;
        };
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = run_with_timeout(
                self.docker()
                    .args(["rm", "--force", "--volumes"])
                    .args(&ids),
                Duration::from_secs(60),
            );
        }
    }
}

/// The daemon with all its state under the engine's directory and no networking
/// of its own (no bridge, no iptables, no forwarding). With `usual_paths`, started
/// through `unshare` in a private mount namespace where `/run` and `/var/lib` are
/// empty tmpfs, and listening at `/var/run/docker.sock` too
/// ([`Dockerd::start_at_usual_paths`]); `sh` mounts them and then becomes the daemon
/// (`exec`), which keeps the daemon's pid the one the harness started. The mounts
/// and the namespace go when its last process ends.
fn dockerd_command(base: &Base, usual_paths: bool) -> Command {
    let dir = &base.dir;
    let mut cmd = if usual_paths {
        let mut c = super::base::at_usual_paths("exec dockerd \"$@\"");
        c.args(["--host", "unix:///var/run/docker.sock"]);
        c
    } else {
        Command::new("dockerd")
    };
    // containerd writes stack dumps (`containerd.PID.stacks.log`) to the temporary
    // directory; keep them in the engine's directory, which is removed with it.
    let tmp = dir.join("tmp");
    let _ = std::fs::create_dir(&tmp);
    cmd.env("TMPDIR", tmp);
    cmd.arg("--config-file")
        .arg(dir.join("daemon.json"))
        .arg("--data-root")
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("dockerd.pid"))
        .arg("--host")
        .arg(format!("unix://{}", base.socket.display()))
        .arg("--cgroup-parent")
        .arg(format!("/{}", base.cgroup))
        .args([
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--userland-proxy=false",
        ]);
    cmd
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.remove_containers();
        self.base.stop();
    }
}
