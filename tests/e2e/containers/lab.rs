//! A compose lab for the container tests: a private `dockerd`
//! (`runtime::engine_harness::Dockerd`), the busybox image, a conlink image with this
//! test run's binary, and one compose project in a directory under the daemon's
//! (which goes with it).
//!
//! The conlink image is the Dockerfile's (built once per test run by
//! scripts/image.sh and loaded into each lab's daemon: crate::dockerfile_image) or
//! the offline one (busybox and the binary, scripts/offline-image.sh, made in each
//! lab's daemon), as `CONLINK_E2E_IMAGE=dockerfile|offline` says; by default the
//! Dockerfile's where it can be built ([`conlink_image`]). Both have conlink at
//! `/usr/local/bin/conlink`, the same entrypoint and 2.x paths, `sh`, `ip`, `ping` and
//! `ls`: the scenarios use nothing else in the `network` service. Their conlink is the
//! test run's, linked statically as the Dockerfile links it (crate::static_binary), so
//! `conlink copy` of it runs in the busybox image as a user's copy does.
//!
//! [`Lab::start`] records a visible skip and returns `None` when the engine or
//! `docker-compose` is missing; [`Lab::start_at_usual_paths`] gives the daemon
//! Docker's usual `/var/run/docker.sock` and `/var/lib/docker` (for compose files that
//! mount them, as conlink 2.x's do) without touching the machine's. Dropping a lab runs `docker-compose down` and stops
//! the daemon; [`Lab::assert_nothing_left`] checks the machine afterwards. Tests that
//! come after (the e2e scenarios of the container issue, the benchmark) build on
//! [`Lab`] and [`compose_file`].

use crate::e2e::{can_run, show, text};
use runtime::engine_harness::{Dockerd, BUSYBOX_IMAGE};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The conlink image's tag in every lab's daemon.
pub const CONLINK_IMAGE: &str = "conlink-test/conlink:e2e";

/// The conlink image of the labs (see the module's comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConlinkImage {
    /// The Dockerfile's: Debian with iproute2, tcpdump, nftables, iputils-ping.
    Dockerfile,
    /// scripts/offline-image.sh's: busybox and the binary.
    Offline,
}

/// The labs' conlink image: `CONLINK_E2E_IMAGE` (`dockerfile` or `offline`), or by
/// default the Dockerfile's where scripts/image.sh can build it (a cached Debian base
/// or `debootstrap`), else the offline one. Chosen once per run and said once on
/// stderr, past the test harness's capture (a choice made for all the scenarios
/// belongs to no one test's output). Another value of the variable is an error.
pub fn conlink_image() -> ConlinkImage {
    static CHOSEN: OnceLock<ConlinkImage> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let (chosen, why) = match std::env::var("CONLINK_E2E_IMAGE").as_deref() {
            Ok("dockerfile") => (
                ConlinkImage::Dockerfile,
                "CONLINK_E2E_IMAGE=dockerfile".into(),
            ),
            Ok("offline") => (ConlinkImage::Offline, "CONLINK_E2E_IMAGE=offline".into()),
            Ok(other) => panic!(
                "CONLINK_E2E_IMAGE={other:?}: the container tests' conlink image is \
                 `dockerfile` or `offline` (unset: the Dockerfile's where it can be built)"
            ),
            Err(_) => match crate::dockerfile_image::can_build() {
                Ok(()) => (ConlinkImage::Dockerfile, "it can be built here".into()),
                Err(why) => (
                    ConlinkImage::Offline,
                    format!("the Dockerfile's cannot: {why}"),
                ),
            },
        };
        let name = match chosen {
            ConlinkImage::Dockerfile => "the Dockerfile's image (scripts/image.sh)",
            ConlinkImage::Offline => "the offline image (scripts/offline-image.sh)",
        };
        let _ = std::io::stderr()
            .write_all(format!("container tests: conlink runs in {name}: {why}\n").as_bytes());
        chosen
    })
}

pub struct Lab {
    pub dockerd: Dockerd,
    pub project: String,
    /// The project directory (mounted at /test in the `network` service).
    pub dir: PathBuf,
    pub file: PathBuf,
}

impl Lab {
    /// A daemon with both images, and an empty project directory.
    pub fn start(test: &str, project: &str) -> Option<Lab> {
        Lab::with_conlink_image(Lab::without_conlink_image(test, project)?)
    }

    /// [`Lab::start`] with a daemon that also has Docker's usual paths,
    /// `/var/run/docker.sock` and `/var/lib/docker`, for compose files that mount
    /// them (`Dockerd::start_at_usual_paths`).
    pub fn start_at_usual_paths(test: &str, project: &str) -> Option<Lab> {
        Lab::with_conlink_image(Lab::with_daemon(test, project, true)?)
    }

    fn with_conlink_image(lab: Lab) -> Option<Lab> {
        match conlink_image() {
            ConlinkImage::Dockerfile => {
                if let Err(e) = crate::dockerfile_image::load(&lab.dockerd, CONLINK_IMAGE) {
                    panic!(
                        "the Dockerfile's image (CONLINK_E2E_IMAGE=offline uses the \
                         offline one): {e}"
                    );
                }
            }
            ConlinkImage::Offline => {
                let binary = crate::static_binary::path()
                    .unwrap_or_else(|e| panic!("the offline image's binary: {e}"));
                let built = Command::new(crate::util::root().join("scripts/offline-image.sh"))
                    .arg(CONLINK_IMAGE)
                    .env("CONLINK_BINARY", binary)
                    .envs(lab.dockerd.env())
                    .output()
                    .expect("run scripts/offline-image.sh");
                assert!(built.status.success(), "offline-image.sh: {}", show(&built));
            }
        }
        Some(lab)
    }

    /// A daemon with the busybox image only (conlink runs on the host).
    pub fn without_conlink_image(test: &str, project: &str) -> Option<Lab> {
        Lab::with_daemon(test, project, false)
    }

    fn with_daemon(test: &str, project: &str, usual_paths: bool) -> Option<Lab> {
        if !can_run(test, &["docker-compose", "docker"]) {
            return None;
        }
        let dockerd = if usual_paths {
            Dockerd::start_at_usual_paths(test)?
        } else {
            Dockerd::start(test)?
        };
        if let Err(e) = dockerd.busybox_image() {
            runtime::testing::skip(test, &format!("no busybox image: {e}"));
            return None;
        }
        let dir = dockerd.dir().join("project");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("compose.yaml");
        Some(Lab {
            dockerd,
            project: project.to_string(),
            dir,
            file,
        })
    }

    /// Writes the compose file (see [`compose_file`]).
    pub fn write(&self, text: &str) {
        std::fs::write(&self.file, text).unwrap();
    }

    /// Writes another file of the project.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `docker-compose ARGS` for this project.
    pub fn compose(&self, args: &[&str]) -> Output {
        self.dockerd
            .compose(&self.file, &self.project)
            .args(args)
            .output()
            .expect("run docker-compose")
    }

    /// `docker-compose ARGS`, which must succeed.
    pub fn must(&self, args: &[&str]) -> String {
        let out = self.compose(args);
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            show(&out)
        );
        text(&out.stdout)
    }

    /// The `network` service's log (conlink's stderr).
    pub fn logs(&self, service: &str) -> String {
        let out = self.compose(&["logs", "--no-color", service]);
        text(&out.stdout) + &text(&out.stderr)
    }

    /// Waits until `service`'s log has `needle` `count` times; the log, or a panic
    /// with the log after `timeout`.
    pub fn wait_log(&self, service: &str, needle: &str, count: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.logs(service);
            if log.matches(needle).count() >= count {
                return log;
            }
            if Instant::now() > deadline {
                panic!("no {count}× {needle:?} in the log of {service} within {timeout:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Runs a command in replica `index` of `service` (no shell).
    pub fn exec(&self, service: &str, index: u32, cmd: &[&str]) -> Output {
        let index = index.to_string();
        let mut args = vec!["exec", "-T", "--index", &index, service];
        args.extend_from_slice(cmd);
        self.compose(&args)
    }

    /// Pings `addr` from replica `index` of `service` (a few tries: ARP and the
    /// first packets may take a moment); the output of the last try.
    pub fn ping(&self, service: &str, index: u32, addr: &str) -> Result<String, String> {
        let mut last = String::new();
        for _ in 0..5 {
            let out = self.exec(service, index, &["ping", "-c", "1", "-W", "2", addr]);
            if out.status.success() {
                return Ok(text(&out.stdout));
            }
            last = show(&out);
        }
        Err(last)
    }

    /// A container's log (stdout and stderr), also after it stopped.
    pub fn docker_logs(&self, id: &str) -> String {
        let out = self.dockerd.docker().args(["logs", id]).output().unwrap();
        text(&out.stdout) + &text(&out.stderr)
    }

    /// conlink on the host (this test's namespace), for this project and daemon:
    /// `conlink --ovs no --project P --engine-socket S ARGS`, with a clean
    /// environment.
    pub fn host_conlink(&self, args: &[&str]) -> Command {
        self.host_conlink_via(self.dockerd.socket(), args)
    }

    /// [`Lab::host_conlink`] with another engine socket (a proxy in front of the
    /// daemon's).
    pub fn host_conlink_via(&self, socket: &Path, args: &[&str]) -> Command {
        host_conlink(&self.project, ("--engine-socket", socket), args)
    }

    /// Starts `docker run -d --network none --name NAME busybox` with `args` after
    /// the image (default: sleep); its id.
    pub fn run_container(&self, name: &str, extra: &[&str], cmd: &[&str]) -> String {
        let mut args = vec!["run", "-d", "--network", "none", "--name", name];
        args.extend_from_slice(extra);
        args.push(BUSYBOX_IMAGE);
        if cmd.is_empty() {
            args.extend_from_slice(&["sleep", "86400"]);
        } else {
            args.extend_from_slice(cmd);
        }
        self.docker(&args).trim().to_string()
    }

    /// `docker exec NAME CMD…`.
    pub fn docker_exec(&self, name: &str, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", name];
        args.extend_from_slice(cmd);
        self.dockerd.docker().args(&args).output().unwrap()
    }

    /// Pings `addr` from container `name` (a few tries).
    pub fn docker_ping(&self, name: &str, addr: &str) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..5 {
            let out = self.docker_exec(name, &["ping", "-c", "1", "-W", "2", addr]);
            if out.status.success() {
                return Ok(());
            }
            last = show(&out);
        }
        Err(last)
    }

    /// `docker ARGS` with this lab's daemon, which must succeed.
    pub fn docker(&self, args: &[&str]) -> String {
        self.dockerd.run(args)
    }

    /// The id of replica `index` of `service`.
    pub fn container_id(&self, service: &str, index: u32) -> String {
        let out = self.must(&["ps", "-q", service]);
        let ids: Vec<&str> = out.split_whitespace().collect();
        // `ps -q` lists replicas in no fixed order: ask each its number.
        for id in ids {
            let n = self.docker(&[
                "inspect",
                "-f",
                "{{index .Config.Labels \"com.docker.compose.container-number\"}}",
                id,
            ]);
            if n.trim() == index.to_string() {
                return id.to_string();
            }
        }
        panic!("no replica {index} of {service}");
    }

    /// Checks that nothing of the project is left on the machine: no interface with
    /// its mark in this namespace, no pinned namespace, no state or lock file.
    pub fn assert_nothing_left(&self) {
        assert_nothing_left(&self.project);
    }
}

/// Nothing of `project` in the test's namespace, `/run/netns`, `/run/conlink` (but
/// the commands' logs, which are removed then), `/run/lock/conlink`.
pub fn assert_nothing_left(project: &str) {
    assert_nothing_left_seen(project, &|p: &Path| p.to_path_buf());
}

/// [`assert_nothing_left`] for a conlink that ran in another mount namespace: `seen`
/// gives where the test reads a path of that namespace (`/proc/PID/root/PATH`).
pub fn assert_nothing_left_seen(project: &str, seen: &dyn Fn(&Path) -> PathBuf) {
    let links = crate::e2e::must("ip", &["-o", "link", "show"]);
    let mark = format!("alias conlink:{project}");
    assert!(
        !links.lines().any(|l| l.ends_with(&mark)),
        "interfaces of {project} are left:\n{links}"
    );
    // The commands' logs stay for reading (docs/cli.md, "destroy"); nothing else.
    let state = seen(&Path::new("/run/conlink").join(project));
    if let Ok(entries) = std::fs::read_dir(&state) {
        let names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| n == "logs"),
            "{} holds {names:?}",
            state.display()
        );
        let _ = std::fs::remove_dir_all(&state);
    }
    for (dir, prefix) in [
        ("/run/netns", format!("conlink.{project}")),
        ("/run/lock/conlink", format!("{project}.lock")),
    ] {
        if let Ok(entries) = std::fs::read_dir(seen(Path::new(dir))) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                assert!(
                    !name.starts_with(&prefix),
                    "{dir}/{name} of project {project} is left"
                );
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self
            .dockerd
            .compose(&self.file, &self.project)
            .args(["down", "--timeout", "10"])
            .output();
    }
}

/// conlink on the host (the test's namespace): `conlink --ovs no --project PROJECT
/// OPTION SOCKET ARGS` (`socket`: the option naming the engine's socket, and the
/// socket), with a clean environment (no `DOCKER_HOST`).
pub fn host_conlink(project: &str, socket: (&str, &Path), args: &[&str]) -> Command {
    let mut cmd = conlink_as(Command::new(env!("CARGO_BIN_EXE_conlink")), project);
    cmd.arg(socket.0).arg(socket.1).args(args);
    cmd
}

/// `conlink`, started by `cmd` (the binary, or a command that runs it, such as
/// `nsenter … -- conlink`), with `--ovs no --project PROJECT` and a clean
/// environment (no `DOCKER_HOST`); the caller adds the rest.
pub fn conlink_as(mut cmd: Command, project: &str) -> Command {
    cmd.args(["--ovs", "no", "--project", project])
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    cmd
}

/// A compose file: `network` as conlink's service (the lab's image, `pid: host`,
/// `network_mode: none`, the daemon's socket mounted, the project directory at /test,
/// `conlink run` with `run_args` after `--compose-file /test/compose.yaml`), the
/// `x-network` given (YAML, indented by two spaces), and busybox services that
/// sleep, each `name` or `name: EXTRA` (EXTRA: YAML lines of the service, indented
/// by four spaces).
pub fn compose_file(
    socket: &Path,
    x_network: &str,
    run_args: &[&str],
    services: &[(&str, &str)],
) -> String {
    compose_file_with(socket, x_network, run_args, "", services)
}

/// [`compose_file`] with `network_extra` (YAML lines of the `network` service, indented
/// by four spaces: a `healthcheck:`, …) after its command.
pub fn compose_file_with(
    socket: &Path,
    x_network: &str,
    run_args: &[&str],
    network_extra: &str,
    services: &[(&str, &str)],
) -> String {
    let mut command = vec!["--ovs", "no", "run", "--compose-file", "/test/compose.yaml"];
    command.extend_from_slice(run_args);
    let command: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
    let mut text = format!(
        "x-network:\n{x_network}\nservices:\n  network:\n    image: {CONLINK_IMAGE}\n    pid: host\n    network_mode: none\n    cap_add: [SYS_ADMIN, NET_ADMIN]\n    volumes:\n      - {}:/var/run/docker.sock\n      - ./:/test:ro\n    command: [{}]\n",
        socket.display(),
        command.join(", ")
    );
    text.push_str(network_extra);
    for (name, extra) in services {
        text.push_str(&format!(
            "  {name}:\n    image: {BUSYBOX_IMAGE}\n    network_mode: none\n    command: [sleep, \"86400\"]\n{extra}"
        ));
    }
    text
}

/// A `conlink run` started by a test, with its stderr collected as it comes.
pub struct Running {
    child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Spawns `cmd` (a `conlink … run …` command).
    pub fn spawn(mut cmd: Command) -> Running {
        use std::io::BufRead;
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn conlink run");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Running {
            child,
            log,
            reader: Some(reader),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// What it said so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until its log has `needle` `count` times; panics with the log after
    /// `timeout` or when it exits.
    pub fn wait_for(&mut self, needle: &str, count: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.matches(needle).count() >= count {
                return log;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "conlink run exited ({status}) before {count}× {needle:?}:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                panic!("no {count}× {needle:?} within {timeout:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it with SIGTERM, which must end it with exit code 0; its whole log.
    pub fn terminate(&mut self) -> String {
        let (code, _) = self.stop(nix::sys::signal::Signal::SIGTERM);
        let log = self.log();
        assert_eq!(code, Some(0), "{log}");
        log
    }

    /// Sends `signal` and waits for the exit (at most 20 s): its exit code and how
    /// long it took.
    pub fn stop(&mut self, signal: nix::sys::signal::Signal) -> (Option<i32>, Duration) {
        let began = Instant::now();
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal);
        let deadline = began + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                return (status.code(), began.elapsed());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "conlink run did not stop within 20 s of {signal}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.stop(nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// The interface names in conlink's namespace of `project` (`conlink.PROJECT`),
/// sorted.
pub fn conlink_links(project: &str) -> Vec<String> {
    let links = crate::e2e::must_in_ns(&format!("conlink.{project}"), &["ip", "-o", "link"]);
    link_names(&links)
}

/// The interface names `ip -o link` printed, sorted.
pub fn link_names(links: &str) -> Vec<String> {
    let mut names: Vec<String> = links
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect();
    names.sort();
    names
}

/// The outer end's name `conlink plan` (text form) gives the first veth of `unit`,
/// and its altname: from the step `UNIT/N conlink ip link add NAME … [altname FULL]
/// … type veth …`.
pub fn planned_outer(plan: &str, unit: &str) -> (String, Option<String>) {
    let prefix = format!("{unit}/");
    let line = plan
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(&prefix) && l.contains(" ip link add ") && l.contains(" type veth"))
        .unwrap_or_else(|| panic!("no veth of {unit} in the plan:\n{plan}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |w: &str| {
        let i = words.iter().position(|x| *x == w)?;
        words.get(i + 1).map(|s| s.to_string())
    };
    (after("add").expect("a name after `add`"), after("altname"))
}
