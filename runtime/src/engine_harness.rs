//! Real container engines for tests: a private `dockerd` or Podman API service that a
//! test starts, uses and removes again, with a local busybox image (no registry is
//! reachable on the test machines). Used by this crate's tests of the engine client
//! and by the binary's end-to-end tests; not part of conlink's behaviour.
//!
//! Everything an engine keeps lives in one temporary directory: its state, its
//! socket, its containers' files and mounts. Its containers' cgroups go under a
//! cgroup parent named for the test. Dropping the engine (also when the test fails)
//! removes the containers, stops the daemon, ends whatever it left running (its
//! containerd, shims, conmon), unmounts what is still mounted under the directory,
//! removes the directory and the cgroup parent. Left behind are only the empty
//! directories every daemon on the machine shares (`/run/docker/plugins`,
//! `/run/containerd/s`), which another daemon may be using.
//!
//! When the engine is not installed or cannot start here, [`Dockerd::start`] and
//! [`PodmanService::start`] record a visible skip (`testing::skip`) and return `None`.
//!
//! The daemon's process does not inherit the test's open files (so a `flock` held by
//! the test runner is not held on by a daemon), and it gets SIGTERM if the thread
//! that started it ends without stopping it (the test process was killed): an
//! engine belongs to the test function that started it.

use crate::testing::{skip, unique};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The busybox image's tag in every private engine.
pub const BUSYBOX_IMAGE: &str = "conlink-test/busybox:latest";

/// Where Debian's `busybox-static` puts its binary.
const BUSYBOX: &str = "/bin/busybox";

/// How long a daemon may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A private Docker daemon.
pub struct Dockerd {
    base: Base,
}

impl Dockerd {
    /// Starts a private `dockerd`, or records why it cannot run here and returns
    /// `None`.
    pub fn start(test: &str) -> Option<Dockerd> {
        let base = Base::prepare(test, "dockerd", &["dockerd", "docker"], &[])?;
        let dir = base.dir.clone();
        // An empty configuration file, so the machine's /etc/docker/daemon.json
        // (if any) does not change the daemon.
        if let Err(e) = fs::write(dir.join("daemon.json"), "{}\n") {
            skip(test, &format!("cannot write in {}: {e}", dir.display()));
            return None;
        }
        let mut base = base;
        if let Err(e) = base.spawn(dockerd_command(&base)) {
            skip(test, &e);
            return None; // dropped: cleaned up
        }
        let mut d = Dockerd { base };
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
        self.base.spawn(dockerd_command(&self.base))?;
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
/// of its own (no bridge, no iptables, no forwarding).
fn dockerd_command(base: &Base) -> Command {
    let dir = &base.dir;
    let mut cmd = Command::new("dockerd");
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
        let mut cmd = Command::new("podman");
        cmd.envs(podman_env(dir))
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", base.socket.display()));
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
        let tar = self.base.busybox_tar()?;
        let exists = self
            .podman()
            .args(["image", "exists", BUSYBOX_IMAGE])
            .status()
            .is_ok_and(|s| s.success());
        if exists {
            return Ok(BUSYBOX_IMAGE);
        }
        let out = self
            .podman()
            .args(["import", "--quiet", "--change", "CMD [\"/bin/sh\"]"])
            .arg(&tar)
            .arg(BUSYBOX_IMAGE)
            .output()
            .map_err(|e| format!("podman import: {e}"))?;
        if !out.status.success() {
            return Err(format!("podman import: {}", text(&out)));
        }
        Ok(BUSYBOX_IMAGE)
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

fn podman_env(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("CONTAINERS_CONF", dir.join("containers.conf")),
        ("CONTAINERS_STORAGE_CONF", dir.join("storage.conf")),
        ("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf")),
    ]
}

/// What both engines share: the directory, the daemon process, the cleanup.
struct Base {
    dir: PathBuf,
    socket: PathBuf,
    cgroup: String,
    daemon: Option<Child>,
    /// Paths outside the directory the engine writes whatever its settings (that
    /// did not exist before it started), removed at the end: files, then
    /// directories if empty.
    outside: Vec<PathBuf>,
}

impl Base {
    /// Checks the prerequisites and makes the directory.
    fn prepare(test: &str, kind: &str, tools: &[&str], outside: &[&str]) -> Option<Base> {
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
    fn spawn(&mut self, mut cmd: Command) -> Result<(), String> {
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

    /// Waits until the daemon answers `GET /_ping`.
    fn wait_ready(&mut self) -> Result<(), String> {
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

    /// A tar of a root filesystem with the static busybox and its applets.
    fn busybox_tar(&self) -> Result<PathBuf, String> {
        let tar = self.dir.join("busybox-rootfs.tar");
        if tar.exists() {
            return Ok(tar);
        }
        if !is_static_elf(Path::new(BUSYBOX)) {
            return Err(format!(
                "{BUSYBOX} is missing or not statically linked (install busybox-static)"
            ));
        }
        let root = self.dir.join("busybox-rootfs");
        busybox_rootfs(&root).map_err(|e| format!("building {}: {e}", root.display()))?;
        let out = Command::new("tar")
            .arg("--create")
            .arg("--file")
            .arg(&tar)
            .arg("--directory")
            .arg(&root)
            .arg(".")
            .output()
            .map_err(|e| format!("tar: {e}"))?;
        if !out.status.success() {
            return Err(format!("tar: {}", text(&out)));
        }
        Ok(tar)
    }

    /// Stops the daemon process: SIGTERM, then SIGKILL after 20 s.
    fn stop_daemon(&mut self) {
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
    fn stop(&mut self) {
        self.stop_daemon();
        // What the daemon started and left running (its containerd, shims, conmon):
        // every process whose command line names a path in this directory.
        let dir = format!("{}/", self.dir.display());
        for _ in 0..50 {
            let left = processes_mentioning(&dir);
            if left.is_empty() {
                break;
            }
            for pid in left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
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

/// Builds a root filesystem: `/bin/busybox`, a link for each applet, and the
/// directories a container expects.
fn busybox_rootfs(root: &Path) -> std::io::Result<()> {
    let bin = root.join("bin");
    fs::create_dir_all(&bin)?;
    for d in ["etc", "tmp", "proc", "sys", "dev", "root", "var/run"] {
        fs::create_dir_all(root.join(d))?;
    }
    fs::copy(BUSYBOX, bin.join("busybox"))?;
    let list = Command::new(BUSYBOX).arg("--list").output()?;
    for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
        if applet != "busybox" && !applet.contains('/') {
            std::os::unix::fs::symlink("busybox", bin.join(applet))?;
        }
    }
    // sbin and usr/bin paths some scripts expect.
    std::os::unix::fs::symlink("bin", root.join("sbin"))?;
    fs::create_dir_all(root.join("usr"))?;
    std::os::unix::fs::symlink("../bin", root.join("usr/bin"))?;
    std::os::unix::fs::symlink("../bin", root.join("usr/sbin"))?;
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    fs::write(root.join("etc/group"), "root:x:0:\n")?;
    Ok(())
}

/// Whether `path` is an ELF executable without a program interpreter (PT_INTERP),
/// i.e. statically linked.
pub fn is_static_elf(path: &Path) -> bool {
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut data = Vec::new();
    if f.read_to_end(&mut data).is_err() || data.len() < 64 || &data[..4] != b"\x7fELF" {
        return false;
    }
    // ELF64 little-endian only (the machines are x86_64).
    if data[4] != 2 || data[5] != 1 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().unwrap_or_default()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        match data.get(o..o + 4) {
            Some(t) => u32::from_le_bytes([t[0], t[1], t[2], t[3]]) != 3, // PT_INTERP
            None => false,
        }
    })
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

fn wait_for(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs a command to its end, but kills it after `timeout` (a cleanup step must not
/// hang on a broken daemon).
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<String, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let _ = stdout.read_to_string(&mut out);
        out
    });
    if !wait_for(&mut child, timeout) {
        let _ = child.kill();
        let _ = child.wait();
        return Err("timed out".into());
    }
    reader.join().map_err(|_| "reader panicked".to_string())
}

fn checked(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Processes whose command line contains `needle`.
fn processes_mentioning(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c).replace('\0', " ");
                c.contains(needle)
            })
        })
        .collect()
}

/// Unmounts every mount at or below `dir` in this mount namespace, deepest first.
fn unmount_under(dir: &Path) {
    for _ in 0..5 {
        let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
            return;
        };
        let prefix = dir.display().to_string();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(unescape_mount_path)
            .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
            .collect();
        if points.is_empty() {
            return;
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = nix::mount::umount2(Path::new(&p), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// mountinfo(5) writes space, tab, newline and backslash as octal escapes.
fn unescape_mount_path(p: &str) -> String {
    let mut out = String::new();
    let mut rest = p;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes the cgroup parent `name` (and what is left below it) in every hierarchy.
fn remove_cgroup(name: &str) {
    let root = Path::new("/sys/fs/cgroup");
    let mut dirs = vec![root.join(name)];
    if let Ok(entries) = fs::read_dir(root) {
        dirs.extend(entries.flatten().map(|e| e.path().join(name)));
    }
    for dir in dirs {
        remove_cgroup_dir(&dir);
    }
}

/// A cgroup directory goes with rmdir once its children are gone (its files are
/// not real files and are not removed one by one).
fn remove_cgroup_dir(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_dir(&e.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_dynamic_executables() {
        // The test binary itself is dynamically linked (a normal cargo build).
        let me = std::env::current_exe().unwrap();
        assert!(!is_static_elf(&me));
        assert!(!is_static_elf(Path::new("/etc/hostname")));
    }

    #[test]
    fn mount_paths_are_unescaped() {
        assert_eq!(unescape_mount_path("/tmp/a\\040b"), "/tmp/a b");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
        assert_eq!(unescape_mount_path("/odd\\x"), "/odd\\x");
    }
}
