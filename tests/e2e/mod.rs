//! End-to-end tests: the real `conlink` binary builds networks in the kernel and the
//! tests send traffic through them.
//!
//! A "host" is a network namespace a test creates ([`TestHost`]); conlink is started
//! inside it with `ip netns exec HOST conlink …`, which makes HOST conlink's host
//! namespace (docs/plan.md, "Namespaces"). Every test uses its own hosts, project names and
//! state directory, so tests can run in parallel threads and next to other users of
//! the machine. A [`Project`] destroys itself when dropped and then checks that
//! nothing of it is left in the kernel or the state directory.
//!
//! These tests need root (CAP_SYS_ADMIN, CAP_NET_ADMIN); without it each one records
//! a visible skip through `runtime::testing::skip` and returns.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod commands;
mod containers;
mod converge;
mod extras;
mod internet;
mod interrupt;
mod kill;
mod lock;
mod macvlan;
mod nat_forward;
mod nodad;
mod overlay;
mod ownership;
mod patch;
mod progress;
mod projects;
mod readback;
mod report;
mod router;
mod script;
mod state_files;
mod teardown;
mod wait;

/// Whether the test may touch the kernel; when not, the skip is recorded (visibly).
pub fn can_run(test: &str, tools: &[&str]) -> bool {
    if !runtime::testing::can_touch_kernel(test) {
        return false;
    }
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            runtime::testing::skip(test, &format!("needs `{tool}` on PATH"));
            return false;
        }
    }
    true
}

/// An example's file, by path relative to examples/.
pub fn example(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(rel)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// stdout and stderr of a command, for failure messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Runs a command and returns its output (stdin is empty).
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program} {args:?}: {e}"))
}

/// Runs a command and panics with its output when it fails; returns stdout.
pub fn must(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(out.status.success(), "{program} {args:?}: {}", show(&out));
    text(&out.stdout)
}

/// Runs `cmd` inside the named namespace (`ip netns exec NS CMD…`).
pub fn in_ns(ns: &str, cmd: &[&str]) -> Output {
    let mut args = vec!["netns", "exec", ns];
    args.extend_from_slice(cmd);
    run("ip", &args)
}

/// Like [`in_ns`], but panics when the command fails; returns stdout.
pub fn must_in_ns(ns: &str, cmd: &[&str]) -> String {
    let out = in_ns(ns, cmd);
    assert!(out.status.success(), "in {ns}: {cmd:?}: {}", show(&out));
    text(&out.stdout)
}

/// Calls `f` every 100 ms until it returns `Some` or `timeout` has passed.
pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A unique name: `prefix` + pid + counter (`runtime::testing::unique`). Project names
/// allow lower-case letters, digits, `-` and `_`.
pub fn unique(prefix: &str) -> String {
    runtime::testing::unique(prefix)
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(&format!("conlink-e2e-{prefix}-")));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes `content` to `name` in the directory; returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write config");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        runtime::testing::remove_dir_all_settled(&self.0);
    }
}

/// A test "host": a namespace created with `ip netns add`, removed on drop.
pub struct TestHost {
    pub name: String,
}

impl TestHost {
    pub fn new(prefix: &str) -> TestHost {
        let name = unique(&format!("e2e-{prefix}-"));
        must("ip", &["netns", "add", &name]);
        // Loopback up, as on a real machine (a new namespace has it down).
        must("ip", &["-n", &name, "link", "set", "lo", "up"]);
        TestHost { name }
    }

    /// `ip -n HOST ARGS…`, panicking on failure.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["-n", self.name.as_str()];
        a.extend_from_slice(args);
        must("ip", &a)
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

/// Creates a veth pair `a` (in host `ha`, with `addr_a`) — `b` (in `hb`, with
/// `addr_b`), both up. Either address may be empty.
pub fn wire(ha: &TestHost, a: &str, addr_a: &str, hb: &TestHost, b: &str, addr_b: &str) {
    must(
        "ip",
        &[
            "link", "add", a, "netns", &ha.name, "type", "veth", "peer", "name", b, "netns",
            &hb.name,
        ],
    );
    for (h, dev, addr) in [(ha, a, addr_a), (hb, b, addr_b)] {
        if !addr.is_empty() {
            h.ip(&["addr", "add", addr, "dev", dev]);
        }
        h.ip(&["link", "set", dev, "up"]);
    }
}

/// The path of the conlink binary under test.
pub fn conlink_bin() -> &'static str {
    env!("CARGO_BIN_EXE_conlink")
}

/// The command that runs conlink inside `host` (`ip netns exec HOST conlink --project P
/// --state-dir D ARGS…`) with a small, fixed environment (plus `env`), so the machine's
/// environment (e.g. COMPOSE_PROJECT_NAME) cannot change the result. `--ovs no` keeps
/// `auto` bridges Linux bridges whether or not Open vSwitch runs here. Its stdin is
/// empty.
pub fn conlink_command(
    host: &str,
    project: &str,
    state_dir: &Path,
    args: &[&str],
    env: &[(String, String)],
) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", host, conlink_bin()])
        .args(["--ovs", "no", "--project", project, "--state-dir"])
        .arg(state_dir)
        .args(args)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    cmd
}

/// Runs [`conlink_command`] and returns its output.
pub fn conlink_env(
    host: &str,
    project: &str,
    state_dir: &Path,
    args: &[&str],
    env: &[(String, String)],
) -> Output {
    conlink_command(host, project, state_dir, args, env)
        .output()
        .expect("run conlink")
}

/// [`conlink_env`] without extra environment.
pub fn conlink(host: &str, project: &str, state_dir: &Path, args: &[&str]) -> Output {
    conlink_env(host, project, state_dir, args, &[])
}

/// One conlink project applied from one test host. Dropping it runs `destroy` and then
/// checks that nothing of the project is left (see [`Project::assert_gone`]).
pub struct Project<'h> {
    pub name: String,
    pub host: &'h TestHost,
    pub state_dir: PathBuf,
    /// Global options given to every conlink command (e.g. `--conlink-netns current`).
    pub options: Vec<String>,
    /// Environment for every conlink command (e.g. REMOTE for the overlay).
    pub env: Vec<(String, String)>,
    _dir: TempDir,
    destroyed: bool,
}

impl<'h> Project<'h> {
    pub fn new(host: &'h TestHost, prefix: &str) -> Project<'h> {
        let dir = TempDir::new(prefix);
        Project {
            name: unique(&format!("e2e-{prefix}-")),
            host,
            state_dir: dir.0.join("state"),
            options: Vec::new(),
            env: Vec::new(),
            _dir: dir,
            destroyed: false,
        }
    }

    /// The same project under another host: `name` instead of a fresh unique one (two
    /// builds of one project, one after the other, compare equal only with one name).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn option(mut self, opt: &str) -> Self {
        self.options.push(opt.to_string());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs conlink with this project's options and environment.
    pub fn conlink(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run conlink")
    }

    /// The command that runs conlink with this project's options and environment (to
    /// start it in the background, or change how it runs).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut all: Vec<&str> = self.options.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        conlink_command(
            &self.host.name,
            &self.name,
            &self.state_dir,
            &all,
            &self.env,
        )
    }

    /// `conlink apply -n FILE`; panics unless it succeeds. Returns stderr (the report).
    pub fn apply(&self, file: &Path) -> String {
        let f = file.to_str().expect("utf-8 path");
        let out = self.conlink(&["apply", "-n", f]);
        assert!(out.status.success(), "conlink apply -n {f}: {}", show(&out));
        text(&out.stderr)
    }

    /// `conlink status -n FILE`: exit 0 when the system matches the plan, 1 and one
    /// line per difference on stdout otherwise.
    pub fn status(&self, file: &Path) -> Output {
        self.conlink(&["status", "-n", file.to_str().expect("utf-8 path")])
    }

    /// `status` finds the system in sync with the plan, and applying again changes
    /// nothing (docs/cli.md, "conlink apply": again is safe).
    pub fn assert_in_sync(&self, file: &Path) {
        let report = self.apply(file);
        assert!(
            report.contains("nothing to do"),
            "a second apply on an unchanged system did something: {report}"
        );
        let out = self.status(file);
        assert!(
            out.status.success() && text(&out.stderr).contains("in sync"),
            "status after apply: {}",
            show(&out)
        );
    }

    /// `conlink plan -n FILE --format json` for this project (same options and
    /// environment as apply, so derived values such as MACs are the same).
    pub fn plan_json(&self, file: &Path) -> Value {
        let f = file.to_str().expect("utf-8 path");
        let out = self.conlink(&["plan", "-n", f, "--format", "json"]);
        assert!(out.status.success(), "conlink plan: {}", show(&out));
        serde_json::from_slice(&out.stdout).expect("plan JSON")
    }

    /// `conlink exec NODE -- CMD…`.
    pub fn exec(&self, node: &str, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", node, "--"];
        args.extend_from_slice(cmd);
        self.conlink(&args)
    }

    /// The pinned namespace of a node.
    pub fn node(&self, node: &str) -> String {
        format!("conlink.{}.{}", self.name, node)
    }

    /// conlink's own namespace: the project's one, or the host with
    /// `--conlink-netns current`.
    pub fn own_ns(&self) -> String {
        if self.options.iter().any(|o| o == "current") {
            self.host.name.clone()
        } else {
            format!("conlink.{}", self.name)
        }
    }

    pub fn mark(&self) -> String {
        format!("conlink:{}", self.name)
    }

    /// The project's temporary directory (removed with the project).
    pub fn dir(&self) -> &Path {
        &self._dir.0
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir.join(&self.name).join("state.json")
    }

    /// `destroy`, checked: exits 0 and leaves nothing; a second `destroy` exits 0 and
    /// says there is nothing to remove (docs/cli.md, "conlink destroy").
    pub fn destroy(&mut self) {
        let out = self.conlink(&["destroy"]);
        assert!(out.status.success(), "destroy: {}", show(&out));
        self.destroyed = true;
        self.assert_gone();
        let again = self.conlink(&["destroy"]);
        assert!(again.status.success(), "second destroy: {}", show(&again));
        assert!(
            text(&again.stderr).contains("nothing to remove"),
            "second destroy should say there is nothing to remove: {}",
            show(&again)
        );
    }

    /// Counts the project as removed without checking: the test removed it itself, or
    /// reported why it could not.
    pub fn destroy_quietly(&mut self) {
        self.destroyed = true;
    }

    /// `destroy` after the state file is lost: conlink must find everything through
    /// the kernel's ownership marks (docs/plan.md, "Ownership").
    pub fn destroy_without_state(&mut self) {
        let state = self.state_file();
        assert!(
            state.exists(),
            "apply left no state file {}",
            state.display()
        );
        std::fs::remove_file(&state).expect("remove state file");
        self.destroy();
    }

    /// Nothing of the project is left: no pinned namespace `conlink.P` or
    /// `conlink.P.*`, no interface marked `conlink:P` in the test host (nor in the
    /// machine's own namespace), no state file, and no conlink nft table in the host
    /// (each test host belongs to one project).
    pub fn assert_gone(&self) {
        let mut left = leftovers(&self.name, &[&self.host.name]);
        if self.state_file().exists() {
            left.push(format!("state file {}", self.state_file().display()));
        }
        assert!(
            left.is_empty(),
            "project {} not fully removed:\n  {}",
            self.name,
            left.join("\n  ")
        );
    }
}

impl Drop for Project<'_> {
    fn drop(&mut self) {
        if !self.destroyed {
            let out = self.conlink(&["destroy"]);
            if !out.status.success() {
                eprintln!("cleanup: destroy of {} failed: {}", self.name, show(&out));
            }
        }
        if std::thread::panicking() {
            // Cleaning up after a failed test: report, never panic twice.
            let left = leftovers(&self.name, &[&self.host.name]);
            if !left.is_empty() {
                eprintln!("cleanup: project {} left {left:?}", self.name);
            }
        } else {
            self.assert_gone();
        }
    }
}

/// What of `project` is still in the kernel: its namespaces, interfaces carrying its
/// mark in `hosts` and in the machine's namespace, and conlink nft tables in `hosts`.
pub fn leftovers(project: &str, hosts: &[&str]) -> Vec<String> {
    let mut left = Vec::new();
    let own = format!("conlink.{project}");
    if let Ok(dir) = std::fs::read_dir("/run/netns") {
        for e in dir.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n == own || n.starts_with(&format!("{own}.")) {
                left.push(format!("namespace /run/netns/{n}"));
            }
        }
    }
    let mark = format!("conlink:{project}");
    let mut places: Vec<Option<&str>> = hosts.iter().map(|h| Some(*h)).collect();
    places.push(None);
    for place in places {
        let out = match place {
            Some(h) => run("ip", &["-n", h, "-j", "-d", "link", "show"]),
            None => run("ip", &["-j", "-d", "link", "show"]),
        };
        let links: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        for l in links.as_array().into_iter().flatten() {
            if l["ifalias"].as_str() == Some(mark.as_str()) {
                left.push(format!(
                    "interface {} in {} marked {mark}",
                    l["ifname"],
                    place.unwrap_or("the machine's namespace")
                ));
            }
        }
    }
    for h in hosts {
        let out = run("ip", &["netns", "exec", h, "nft", "-j", "list", "tables"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        for item in v["nftables"].as_array().into_iter().flatten() {
            if let Some(name) = item["table"]["name"].as_str() {
                if name.starts_with("conlink") {
                    left.push(format!("nft table {name} in {h}"));
                }
            }
        }
    }
    left
}

// ----- traffic -----

/// One `ping -c 1 -W 2` from `ns`.
pub fn ping_once(ns: &str, addr: &str) -> Output {
    in_ns(ns, &["ping", "-n", "-c", "1", "-W", "2", addr])
}

/// `ns` reaches `addr` within 10 s (links, ARP and IPv6 DAD may need a moment).
pub fn assert_ping(ns: &str, addr: &str) {
    let mut last = None;
    let ok = poll(Duration::from_secs(10), || {
        let out = ping_once(ns, addr);
        let ok = out.status.success();
        last = Some(out);
        ok.then_some(())
    });
    if ok.is_none() {
        panic!(
            "ping {addr} from {ns} failed: {}\n--- addresses in {ns}\n{}--- routes\n{}",
            show(last.as_ref().expect("ran")),
            text(&in_ns(ns, &["ip", "addr"]).stdout),
            text(&in_ns(ns, &["ip", "route"]).stdout),
        );
    }
}

/// `ns` does not reach `addr` (two probes, one second each).
pub fn assert_no_ping(ns: &str, addr: &str) {
    let out = in_ns(ns, &["ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", addr]);
    assert!(
        !out.status.success(),
        "ping {addr} from {ns} should fail: {}",
        show(&out)
    );
}

/// Connects from `ns` to `addr:port`, sends nothing and returns what the server
/// said, when the connection worked.
pub fn tcp_request(ns: &str, addr: &str, port: u16) -> Option<String> {
    let target = format!("TCP:{addr}:{port},connect-timeout=2");
    let out = in_ns(ns, &["timeout", "5", "socat", "-t", "2", "-", &target]);
    let said = text(&out.stdout);
    (out.status.success() && !said.is_empty()).then_some(said)
}

/// Within 10 s, a TCP request from `ns` to `addr:port` gets an answer containing
/// `expect` (the server may still be starting). Returns the answer.
pub fn assert_tcp_answer(ns: &str, addr: &str, port: u16, expect: &str) -> String {
    let mut last = None;
    let got = poll(Duration::from_secs(10), || {
        let r = tcp_request(ns, addr, port);
        last.clone_from(&r);
        r.filter(|s| s.contains(expect))
    });
    got.unwrap_or_else(|| {
        panic!("TCP {addr}:{port} from {ns}: expected an answer with {expect:?}, last got {last:?}")
    })
}

/// A process the test started in the background; killed (by its pid) on drop.
pub struct Background(pub Child);

impl Background {
    /// Starts `cmd` in `ns`.
    pub fn in_ns(ns: &str, cmd: &[&str]) -> Background {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn background command");
        Background(child)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Captures at most one frame matching `filter` on `dev` in `ns` while `send` is
/// called every 200 ms; returns tcpdump's line for it, or `None` after `timeout`.
pub fn capture_one(
    ns: &str,
    dev: &str,
    filter: &str,
    timeout: Duration,
    send: impl Fn(),
) -> Option<String> {
    let secs = format!("{}", timeout.as_secs_f64());
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "timeout", &secs])
        .args(["tcpdump", "-l", "-c", "1", "-eni", dev, filter])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcpdump");
    // Send only once tcpdump listens, or an early frame would be missed.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
        if line.contains("listening on") {
            break;
        }
        line.clear();
    }
    while child.try_wait().expect("tcpdump status").is_none() {
        send();
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().expect("tcpdump output");
    let captured = text(&out.stdout);
    (!captured.trim().is_empty()).then_some(captured)
}

/// Sends one raw Ethernet frame out of `dev` in `ns` (socat's PF_PACKET interface).
pub fn send_frame(ns: &str, dev: &str, frame: &[u8]) {
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "socat", "-u", "STDIN"])
        .arg(format!("INTERFACE:{dev}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn socat");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(frame)
        .expect("write frame");
    let _ = child.wait();
}

// ----- reading the kernel back -----

/// `ip -j -d link show DEV` in `ns`.
pub fn link_info(ns: &str, dev: &str) -> Value {
    let out = in_ns(ns, &["ip", "-j", "-d", "link", "show", "dev", dev]);
    assert!(out.status.success(), "no {dev} in {ns}: {}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("ip -j link");
    v[0].clone()
}

/// The value of a sysctl in `ns`.
pub fn sysctl(ns: &str, key: &str) -> String {
    must_in_ns(ns, &["sysctl", "-n", key]).trim().to_string()
}

/// The inode of a pinned namespace (`/run/netns/NAME`), which identifies it.
pub fn ns_inode(ns: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(Path::new("/run/netns").join(ns))
        .unwrap_or_else(|e| panic!("namespace {ns}: {e}"))
        .ino()
}

/// The processes (pids) whose network namespace is the one with `inode`.
pub fn pids_in_netns(inode: u64) -> Vec<u32> {
    let want = format!("net:[{inode}]");
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // Fails for zombies and processes that exited meanwhile: neither counts.
        if let Ok(link) = std::fs::read_link(e.path().join("ns/net")) {
            if link.to_string_lossy() == want {
                pids.push(pid);
            }
        }
    }
    pids
}

/// The processes in the namespace with `inode` whose parent is outside it: the
/// commands conlink started there (not the processes those commands forked).
pub fn command_roots(inode: u64) -> Vec<u32> {
    let pids = pids_in_netns(inode);
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // "PID (COMM) STATE PPID …"; COMM may contain spaces, so split after ')'.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    pids.iter()
        .copied()
        .filter(|p| parent(*p).is_some_and(|pp| !pids.contains(&pp)))
        .collect()
}

/// What `compare_with_plan` checked.
#[derive(Debug, Default)]
pub struct Checked {
    pub mtus: usize,
    pub macs: usize,
    pub routes: usize,
    pub features: usize,
}

/// Compares the kernel with a plan (`conlink plan --format json`) applied by `p`:
/// the MTU and MAC of every interface the plan creates (both veth ends), every route
/// it adds, and the final state of every ethtool feature it sets. Panics on the first
/// difference; returns what was compared.
pub fn compare_with_plan(p: &Project, plan: &Value) -> Checked {
    let ns_of = |sym: &str| -> String {
        match sym {
            "conlink" => p.own_ns(),
            "host" => p.host.name.clone(),
            s => match s.strip_prefix("node:") {
                Some(node) => p.node(node),
                None => panic!("readback knows no namespace {s}"),
            },
        }
    };
    let mut checked = Checked::default();
    // Later ethtool steps override earlier ones for the same feature.
    let mut features: Vec<((String, String, String), bool)> = Vec::new();
    let steps = plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .flat_map(|u| u["steps"].as_array().expect("steps"));
    for step in steps {
        let op = &step["op"];
        let ns = ns_of(step["ns"].as_str().expect("ns"));
        match op["op"].as_str().expect("op") {
            "link_add" => {
                let name = op["name"].as_str().expect("name");
                let at = op["netns"].as_str().map_or(ns.clone(), ns_of);
                check_link(&at, name, op, &mut checked);
                let peer = &op["spec"]["peer"];
                if peer.is_object() {
                    let pname = peer["name"].as_str().expect("peer name");
                    let pns = peer["netns"].as_str().map_or(ns.clone(), ns_of);
                    check_link(&pns, pname, peer, &mut checked);
                }
            }
            "route_add" => {
                let dev = op["dev"].as_str().expect("dev");
                check_route(&ns, dev, &op["route"]);
                checked.routes += 1;
            }
            "ethtool" => {
                let dev = op["dev"].as_str().expect("dev");
                for f in op["settings"]["features"].as_array().expect("features") {
                    let key = (
                        ns.clone(),
                        dev.to_string(),
                        f["feature"].as_str().expect("feature").to_string(),
                    );
                    let on = f["enabled"].as_bool().expect("enabled");
                    features.retain(|(k, _)| *k != key);
                    features.push((key, on));
                }
            }
            _ => {}
        }
    }
    for ((ns, dev, feature), on) in features {
        let out = must_in_ns(&ns, &["ethtool", "--json", "-k", &dev]);
        let v: Value = serde_json::from_str(&out).expect("ethtool --json");
        let long = ethtool_long_name(&feature);
        let active = &v[0][long]["active"];
        assert_eq!(
            active.as_bool(),
            Some(on),
            "ethtool feature {feature} ({long}) of {dev} in {ns}: plan says {on}, kernel {active}"
        );
        checked.features += 1;
    }
    checked
}

/// The MTU and MAC an op (or a veth peer) asks for, against the kernel's.
fn check_link(ns: &str, dev: &str, want: &Value, checked: &mut Checked) {
    let got = link_info(ns, dev);
    if let Some(mtu) = want["mtu"].as_u64() {
        assert_eq!(got["mtu"].as_u64(), Some(mtu), "MTU of {dev} in {ns}");
        checked.mtus += 1;
    }
    if let Some(mac) = want["mac"].as_str() {
        assert_eq!(
            got["address"].as_str().map(str::to_lowercase),
            Some(mac.to_lowercase()),
            "MAC of {dev} in {ns}"
        );
        checked.macs += 1;
    }
}

/// The kernel has the plan's route (destination, gateway, device, metric, table).
fn check_route(ns: &str, dev: &str, want: &Value) {
    let dst = want["dst"].as_str().expect("dst");
    let (addr, len) = dst.split_once('/').expect("dst is a CIDR");
    let addr: IpAddr = addr.parse().expect("dst address");
    let len: u8 = len.parse().expect("prefix length");
    // `ip -j route` writes 0.0.0.0/0 as "default" and host routes without a length.
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let kernel_dst = match len {
        0 => "default".to_string(),
        l if l == full => addr.to_string(),
        _ => format!("{addr}/{len}"),
    };
    let family = if addr.is_ipv4() { "-4" } else { "-6" };
    let out = must_in_ns(ns, &["ip", "-j", family, "route", "show", "table", "all"]);
    let routes: Value = serde_json::from_str(&out).expect("ip -j route");
    let via: Option<IpAddr> = want["via"].as_str().map(|s| s.parse().expect("via"));
    // Unset metric: the kernel's default (0 for IPv4, 1024 for IPv6).
    let metric = want["metric"]
        .as_u64()
        .unwrap_or(if addr.is_ipv4() { 0 } else { 1024 });
    let table = want["table"]
        .as_u64()
        .map_or("main".to_string(), |t| t.to_string());
    let found = routes.as_array().expect("routes").iter().any(|r| {
        r["dst"].as_str() == Some(kernel_dst.as_str())
            && r["dev"].as_str() == Some(dev)
            && r["gateway"]
                .as_str()
                .map(|g| g.parse::<IpAddr>().expect("gw"))
                == via
            && r["metric"].as_u64().unwrap_or(0) == metric
            && r["table"].as_str().unwrap_or("main") == table
    });
    assert!(
        found,
        "route {want} on {dev} not in {ns}; the kernel has:\n{}",
        serde_json::to_string_pretty(&routes).expect("json")
    );
}

/// `ethtool -K` accepts short feature names; `ethtool -k` reports the long ones.
fn ethtool_long_name(short: &str) -> &str {
    match short {
        "rx" => "rx-checksumming",
        "tx" => "tx-checksumming",
        "sg" => "scatter-gather",
        "tso" => "tcp-segmentation-offload",
        "ufo" => "udp-fragmentation-offload",
        "gso" => "generic-segmentation-offload",
        "gro" => "generic-receive-offload",
        "lro" => "large-receive-offload",
        "rxvlan" => "rx-vlan-offload",
        "txvlan" => "tx-vlan-offload",
        "ntuple" => "ntuple-filters",
        "rxhash" => "receive-hashing",
        long => long,
    }
}
