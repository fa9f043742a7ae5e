//! `conlink run`'s event loop against the fake engine (`runtime::containers::fake`),
//! with real namespaces: each fake container "runs" as a `sleep` in a network
//! namespace of its own (`unshare --net`), so wiring is real and read back with `ip`.
//!
//! What is checked: a container that starts while the run runs is wired; a die
//! followed at once by a start (a restart) ends wired into the new namespace (one
//! container's events in order); a change the run never hears of (a container
//! replaced while the event stream is down) is found by the reconciliation after the
//! reconnection, also when the first list after it fails; a container whose process
//! ended without a die event is noticed and unwired; the readiness line comes once per settled change; stopping removes
//! everything. Needs root; records a skip otherwise.

use compiler::source::{SourceFile, SourceKind};
use runtime::containers::fake::{container, FakeEngine};
use runtime::containers::resolver::{Containers, View};
use runtime::containers::ContainerEngine;
use runtime::context::Settings;
use runtime::lock::Wait;
use runtime::progress::Quiet;
use runtime::resolve::ConlinkNs;
use runtime::run::{run, Options, READY_LINE};
use runtime::testing::{can_touch_kernel, unique, TempDir};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONFIG: &str = "
bridges:
  - {bridge: s1, mode: linux}
links:
  - {container: one, bridge: s1, ip: 10.41.0.1/24}
  - {container: two, bridge: s1, ip: 10.41.0.2/24}
";

/// A process in a network namespace of its own, killed when dropped.
struct Proc(Child);

impl Proc {
    fn new() -> Proc {
        let child = Command::new("unshare")
            .args(["--net", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare");
        let pid = child.id();
        let mine = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        // Until unshare made the namespace and became sleep.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .map(|m| m.ino())
            .ok()
            == Some(mine)
        {
            assert!(
                Instant::now() < deadline,
                "unshare did not make a namespace"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Proc(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// `ip -o link` inside its namespace.
    fn links(&self) -> String {
        let out = Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", self.pid()))
            .args(["ip", "-o", "link"])
            .output()
            .expect("nsenter");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn count(&self, needle: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// Waits until `needle` was logged `n` times (at most 20 s).
    fn wait(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.count(needle) < n {
            assert!(
                Instant::now() < deadline,
                "no {n}× {needle:?}; the run said:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn starts_restarts_missed_changes_and_stop() {
    let test = "run_loop::starts_restarts_missed_changes_and_stop";
    if !can_touch_kernel(test) {
        return;
    }
    let project = unique("rl");
    let files = vec![SourceFile::new("net.yaml", CONFIG, SourceKind::Network)];
    let opts = compiler::Options {
        project: Some(project.clone()),
        ..Default::default()
    };
    let plan = compiler::compile(files, &Default::default(), &opts)
        .plan
        .expect("compiles");

    let engine = Arc::new(FakeEngine::new());
    engine.add(container("one"));
    engine.add(container("two"));
    let p1 = Proc::new();
    engine.start("one", p1.pid());

    let state = TempDir::new("conlink-run-loop-");
    let containers = Containers::new(View::new(&project)).with_engine(engine.clone());
    let settings = Settings {
        state_dir: state.path().to_path_buf(),
        netns_dir: runtime::netns::netns_dir(),
        conlink_ns: ConlinkNs::Own,
        wait: Wait::Yes,
        containers: Some(containers),
    };
    let said = Arc::new(Mutex::new(Vec::new()));
    let lines = Lines(said.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let options = Options {
        settings,
        engine: engine.clone(),
        replan: None,
        log: Arc::new(move |l: &str| said.lock().unwrap().push(l.to_string())),
        own_container: None,
        stop: stop.clone(),
        reconcile_every: Duration::from_millis(300),
    };
    let runner = std::thread::spawn(move || run(plan, options, &mut Quiet));

    // The first apply wires one; two waits; no readiness line yet.
    lines.wait("container:two: waiting for container two", 1);
    assert!(p1.links().contains("eth0@"), "{}", p1.links());
    assert_eq!(lines.count(READY_LINE), 0, "{}", lines.text());

    // two starts: wired, and everything is.
    let p2 = Proc::new();
    engine.start("two", p2.pid());
    lines.wait("wired container:two (two)", 1);
    lines.wait(READY_LINE, 1);
    assert!(p2.links().contains("eth0@"), "{}", p2.links());

    // one restarts at once: its die and its start are handled in that order, so it
    // ends wired into its new namespace.
    let p1b = Proc::new();
    engine.die("one", 0);
    engine.start("one", p1b.pid());
    lines.wait(READY_LINE, 2);
    assert_eq!(lines.count("unwired container:one"), 1, "{}", lines.text());
    assert!(p1b.links().contains("eth0@"), "{}", p1b.links());
    drop(p1);

    // The stream goes down and two is replaced silently meanwhile: the
    // reconciliation after the reconnection finds it, although the engine could not
    // list its containers at first (it is tried again).
    let p2b = Proc::new();
    engine.remove("two");
    let mut two = container("two");
    two.state = runtime::containers::ContainerState::Running;
    two.pid = Some(p2b.pid());
    engine.add(two);
    engine.fail_lists(1);
    engine.disconnect();
    lines.wait("following the engine's events again", 1);
    assert_eq!(
        lines.count("cannot list the containers"),
        1,
        "{}",
        lines.text()
    );
    lines.wait("wired container:two (two)", 2);
    lines.wait(READY_LINE, 3);
    assert!(p2b.links().contains("eth0@"), "{}", p2b.links());

    // A die that never comes: one's process ends and the engine knows, but sends no
    // event. The run notices the process is gone (on two looks in a row) and
    // compares with the engine.
    let mut stopped = engine.inspect("one").unwrap();
    stopped.state = runtime::containers::ContainerState::Exited;
    stopped.pid = None;
    engine.remove("one");
    engine.add(stopped);
    drop(p1b);
    lines.wait("is gone but no die event came", 1);
    lines.wait("unwired container:one", 2);

    // Stop: everything goes.
    stop.store(true, Ordering::SeqCst);
    let ended = runner.join().expect("run thread").expect("run");
    assert!(
        ended.removed.problems.is_empty(),
        "{:?}",
        ended.removed.problems
    );
    // The containers' ends go with the outer ends, when the kernel has torn down
    // conlink's namespace (it does so a moment after its last reference goes).
    let deadline = Instant::now() + Duration::from_secs(10);
    while p2b.links().contains("eth0") {
        assert!(Instant::now() < deadline, "{}", p2b.links());
        std::thread::sleep(Duration::from_millis(20));
    }
    let pinned = runtime::netns::netns_dir().join(format!("conlink.{project}"));
    assert!(!pinned.exists(), "{} is left", pinned.display());
    eprintln!(
        "{test}: stop removed everything in {:?}\n{}",
        ended.cleanup,
        lines.text()
    );
}
