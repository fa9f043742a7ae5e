//! `conlink run`'s event loop against the fake engine (`runtime::containers::fake`),
//! with real namespaces: each fake container "runs" as a `sleep` in a network
//! namespace of its own (`unshare --net`), so wiring is real and read back with `ip`.
//!
//! What is checked: a container that starts while the run runs is wired; a die
//! followed at once by a start (a restart) ends wired into the new namespace (one
//! container's events in order); a change the run never hears of (a container
//! replaced while the event stream is down) is found by the reconciliation after the
//! reconnection, also when the first list after it fails; a container whose process
//! ended without a die event is noticed and unwired; the readiness line comes once per
//! settled change (also for a scale-up whose replicas the engine starts one after the
//! other); a unit that cannot be wired is tried again when its container runs again,
//! not at every comparison with the container list, and at the first apply it does not
//! stop the run; an engine that stops answering is said once per error, not once per
//! retry (every retry with `-v`), and its return once, with the outage's length;
//! stopping removes everything. With the same fake containers, outside
//! the loop: a failed apply and a destroy leave no conlink interface in a container
//! when they return. Needs root; records a skip otherwise.

use compiler::plan::Plan;
use compiler::source::{SourceFile, SourceKind};
use runtime::apply::{apply, ApplyError, Hooks};
use runtime::containers::fake::{compose_container, container, FakeEngine};
use runtime::containers::resolver::{Containers, View};
use runtime::containers::ContainerEngine;
use runtime::context::Settings;
use runtime::destroy::destroy;
use runtime::error::StepError;
use runtime::lock::Wait;
use runtime::progress::Quiet;
use runtime::resolve::ConlinkNs;
use runtime::run::{run, Ended, Options, Replan, RunError, READY_LINE, SETTLE};
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
        Proc::running(&["sleep", "600"])
    }

    /// A process whose namespace already has an `eth0` (a veth), which conlink
    /// refuses to wire over.
    fn with_eth0() -> Proc {
        let p = Proc::running(&["sleep", "600"]);
        let out = Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", p.pid()))
            .args([
                "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
            ])
            .output()
            .expect("nsenter");
        assert!(out.status.success(), "{out:?}");
        p
    }

    fn running(cmd: &[&str]) -> Proc {
        let child = Command::new("unshare")
            .arg("--net")
            .args(cmd)
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

/// The plan of `config` for `project`, with `scale` as `--scale`.
fn plan_of(config: &str, project: &str, scale: &[(&str, u32)]) -> Result<Plan, String> {
    let files = vec![SourceFile::new("net.yaml", config, SourceKind::Network)];
    let opts = compiler::Options {
        project: Some(project.to_string()),
        scale: scale.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        ..Default::default()
    };
    compiler::compile(files, &Default::default(), &opts)
        .plan
        .ok_or_else(|| "does not compile".to_string())
}

/// A `conlink run` of a plan against the fake engine, on a thread of its own, with its
/// lines collected and its state in a temporary directory. Dropped without
/// [`Run::finish`] (a test that failed), it is stopped all the same, so that it
/// removes what it made.
struct Run {
    lines: Lines,
    stop: Arc<AtomicBool>,
    runner: Option<std::thread::JoinHandle<Result<Ended, RunError>>>,
    project: String,
    _state: TempDir,
}

impl Run {
    fn start(
        plan: Plan,
        engine: &Arc<FakeEngine>,
        replan: Option<Replan>,
        reconcile_every: Duration,
    ) -> Run {
        Run::start_with(plan, engine, replan, reconcile_every, false)
    }

    /// [`Run::start`], with `-v` or not.
    fn start_with(
        plan: Plan,
        engine: &Arc<FakeEngine>,
        replan: Option<Replan>,
        reconcile_every: Duration,
        verbose: bool,
    ) -> Run {
        let project = plan.project.clone();
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
            replan,
            log: Arc::new(move |l: &str| said.lock().unwrap().push(l.to_string())),
            own_container: None,
            stop: stop.clone(),
            reconcile_every,
            verbose,
        };
        let runner = std::thread::spawn(move || run(plan, options, &mut Quiet));
        Run {
            lines,
            stop,
            runner: Some(runner),
            project,
            _state: state,
        }
    }

    /// Stops the run as a signal would: it removed everything without a problem and
    /// its pinned namespace is gone. How long the removal took.
    fn finish(mut self) -> Duration {
        self.stop.store(true, Ordering::SeqCst);
        let runner = self.runner.take().expect("not finished yet");
        let ended = runner.join().expect("run thread").expect("run");
        assert!(
            ended.removed.problems.is_empty(),
            "{:?}",
            ended.removed.problems
        );
        let pinned = runtime::netns::netns_dir().join(format!("conlink.{}", self.project));
        assert!(!pinned.exists(), "{} is left", pinned.display());
        ended.cleanup
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(runner) = self.runner.take() {
            self.stop.store(true, Ordering::SeqCst);
            let _ = runner.join();
        }
    }
}

/// A run of [`CONFIG`] (project named from `prefix`) whose containers `one` runs (in
/// the process returned) and `two` is created, comparing with the container list
/// every 300 ms while a unit waits.
fn one_runs_two_is_created(prefix: &str) -> (Arc<FakeEngine>, Proc, Run) {
    let plan = plan_of(CONFIG, &unique(prefix), &[]).expect("compiles");
    let engine = Arc::new(FakeEngine::new());
    engine.add(container("one"));
    engine.add(container("two"));
    let p1 = Proc::new();
    engine.start("one", p1.pid());
    let run = Run::start(plan, &engine, None, Duration::from_millis(300));
    (engine, p1, run)
}

#[test]
fn starts_restarts_missed_changes_and_stop() {
    let test = "run_loop::starts_restarts_missed_changes_and_stop";
    if !can_touch_kernel(test) {
        return;
    }
    let (engine, p1, run) = one_runs_two_is_created("rl");
    let lines = &run.lines;

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
    let text = lines.text();
    let cleanup = run.finish();
    // The containers' ends go with the outer ends, when the kernel has torn down
    // conlink's namespace (it does so a moment after its last reference goes).
    let deadline = Instant::now() + Duration::from_secs(10);
    while p2b.links().contains("eth0") {
        assert!(Instant::now() < deadline, "{}", p2b.links());
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{test}: stop removed everything in {cleanup:?}\n{text}");
}

/// A run of [`CONFIG`] (project named from `prefix`, `-v` or not) whose containers
/// both run (in the processes returned), wired and ready: nothing waits, so the run
/// asks the engine for nothing but its events until a reconnection.
fn both_run(prefix: &str, verbose: bool) -> (Arc<FakeEngine>, [Proc; 2], Run) {
    let plan = plan_of(CONFIG, &unique(prefix), &[]).expect("compiles");
    let engine = Arc::new(FakeEngine::new());
    let procs = [Proc::new(), Proc::new()];
    for (name, p) in ["one", "two"].iter().zip(&procs) {
        engine.add(container(name));
        engine.start(name, p.pid());
    }
    let run = Run::start_with(plan, &engine, None, Duration::from_millis(300), verbose);
    run.lines.wait(READY_LINE, 1);
    (engine, procs, run)
}

/// Waits until the fake engine has refused `n` requests in all (at most 20 s).
fn wait_refused(engine: &FakeEngine, n: usize, lines: &Lines) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while engine.refused() < n {
        assert!(
            Instant::now() < deadline,
            "the run asked the engine {} time(s), not {n}; it said:\n{}",
            engine.refused(),
            lines.text()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The engine stops answering: the lost stream is said once, however many times the
/// run tries again (with backoff); a new error is said once more; the container list
/// that fails after the reconnection is said once although it is tried again; and the
/// engine's return is one line with how long the run was out of touch and how many
/// attempts failed.
#[test]
fn an_engine_outage_is_said_once_per_error_and_its_end_once() {
    let test = "run_loop::an_engine_outage_is_said_once_per_error_and_its_end_once";
    if !can_touch_kernel(test) {
        return;
    }
    let (engine, _procs, run) = both_run("ro", false);
    let lines = &run.lines;

    engine.go_away("stopped for maintenance");
    wait_refused(&engine, 3, lines);
    assert_eq!(
        lines.count("lost the engine's events (the fake engine: stopped for maintenance)"),
        1,
        "{}",
        lines.text()
    );
    assert_eq!(
        lines.count("stopped for maintenance"),
        1,
        "{}",
        lines.text()
    );

    // Another error: said once, then the same again is not.
    engine.go_away("its socket is gone");
    lines.wait(
        "cannot follow the engine's events (the fake engine: its socket is gone)",
        1,
    );
    let refused = engine.refused();
    wait_refused(&engine, refused + 1, lines);
    assert_eq!(lines.count("its socket is gone"), 1, "{}", lines.text());
    assert_eq!(
        lines.count("stopped for maintenance"),
        1,
        "{}",
        lines.text()
    );

    // Back, but the first two lists after the reconnection fail: said once.
    engine.fail_lists(2);
    engine.come_back();
    let refused = engine.refused();
    lines.wait("following the engine's events again", 1);
    assert_eq!(
        lines.count("cannot list the containers"),
        1,
        "{}",
        lines.text()
    );
    // The lost stream, each refused request, the two lists.
    let failures = 1 + refused + 2;
    let back = "following the engine's events again; comparing with its containers \
                (out of touch with the engine for ";
    let text = lines.text();
    let line = text
        .lines()
        .find(|l| l.starts_with(back))
        .unwrap_or_else(|| panic!("no {back:?}:\n{text}"));
    assert!(
        line.ends_with(&format!(", {failures} failed attempts)")),
        "{line}\n{text}"
    );
    assert_eq!(lines.count("out of touch"), 1, "{text}");
    run.finish();
    eprintln!("{test}:\n{text}");
}

/// With `-v`, every failed attempt to reach the engine is logged.
#[test]
fn with_verbose_every_failed_attempt_is_said() {
    let test = "run_loop::with_verbose_every_failed_attempt_is_said";
    if !can_touch_kernel(test) {
        return;
    }
    let (engine, _procs, run) = both_run("rv", true);
    let lines = &run.lines;
    engine.go_away("stopped");
    wait_refused(&engine, 3, lines);
    // The lost stream and three refused reconnections.
    lines.wait("the fake engine: stopped", 4);
    engine.come_back();
    lines.wait("following the engine's events again", 1);
    let text = lines.text();
    run.finish();
    eprintln!("{test}:\n{text}");
}

const SCALED: &str = "
bridges:
  - {bridge: s1, mode: linux}
links:
  - {service: node, bridge: s1, ip: 10.42.0.1/24}
";

/// A scale-up from 2 to 5 whose replicas compose created at once and the engine
/// starts one after the other, each a while after the last was wired (longer than
/// [`SETTLE`]): the readiness line comes once, when all five are wired, not once per
/// replica (the replicas created but not started are seen before the line).
#[test]
fn readiness_once_per_scale_up() {
    let test = "run_loop::readiness_once_per_scale_up";
    if !can_touch_kernel(test) {
        return;
    }
    let project = unique("rs");
    let plan = plan_of(SCALED, &project, &[("node", 2)]).expect("compiles");
    let engine = Arc::new(FakeEngine::new());
    let mut procs = Vec::new();
    for i in 1..=2 {
        engine.add(compose_container(&project, "node", i));
        let p = Proc::new();
        engine.start(&format!("{project}-node-{i}"), p.pid());
        procs.push(p);
    }
    let replan_project = project.clone();
    let replan: Replan = Box::new(move |counts| {
        let n = counts.get("node").copied().unwrap_or(1);
        plan_of(SCALED, &replan_project, &[("node", n)])
    });
    let run = Run::start(plan, &engine, Some(replan), Duration::from_secs(2));
    let lines = &run.lines;
    lines.wait(READY_LINE, 1);
    assert!(
        lines
            .text()
            .contains("All links connected: 3 unit(s), 2 container(s)"),
        "{}",
        lines.text()
    );

    // Scaled to 5: compose creates the three new replicas, then starts them.
    for i in 3..=5 {
        engine.add(compose_container(&project, "node", i));
    }
    for i in 3..=5 {
        let p = Proc::new();
        engine.start(&format!("{project}-node-{i}"), p.pid());
        procs.push(p);
        lines.wait(&format!("wired service:node#{i} "), 1);
        std::thread::sleep(SETTLE * 3);
        if i < 5 {
            assert_eq!(lines.count(READY_LINE), 1, "{}", lines.text());
        }
    }
    lines.wait(READY_LINE, 2);
    std::thread::sleep(SETTLE * 3);
    assert_eq!(lines.count(READY_LINE), 2, "{}", lines.text());
    assert!(
        lines
            .text()
            .contains("All links connected: 6 unit(s), 5 container(s)"),
        "{}",
        lines.text()
    );
    for p in &procs {
        assert!(p.links().contains("eth0@"), "{}", p.links());
    }
    let text = lines.text();
    run.finish();
    eprintln!("{test}:\n{text}");
}

/// A container that cannot be wired (its namespace has an `eth0` already) is tried
/// once per run of it: the comparisons with the container list (every 300 ms here,
/// while its unit waits) do not try it again; its restart does, and wires it.
#[test]
fn a_failed_unit_waits_for_its_next_start() {
    let test = "run_loop::a_failed_unit_waits_for_its_next_start";
    if !can_touch_kernel(test) {
        return;
    }
    // `one` runs in `_p1` until the end.
    let (engine, _p1, run) = one_runs_two_is_created("rf");
    let lines = &run.lines;
    lines.wait("container:two: waiting for container two", 1);

    let bad = Proc::with_eth0();
    engine.start("two", bad.pid());
    lines.wait("cannot wire container:two", 1);
    tried_once_then_wired_at_restart(&engine, lines, "two", bad);
    let text = lines.text();
    run.finish();
    eprintln!("{test}:\n{text}");
}

/// A running container that cannot be wired at the run's first apply: the apply is
/// rolled back and made again without it, so the other container is wired and the run
/// goes on; the container is wired when it runs again.
#[test]
fn a_container_failing_at_the_first_apply_is_left_out() {
    let test = "run_loop::a_container_failing_at_the_first_apply_is_left_out";
    if !can_touch_kernel(test) {
        return;
    }
    let plan = plan_of(CONFIG, &unique("ra"), &[]).expect("compiles");
    let engine = Arc::new(FakeEngine::new());
    engine.add(container("one"));
    engine.add(container("two"));
    let bad = Proc::with_eth0();
    engine.start("one", bad.pid());
    let p2 = Proc::new();
    engine.start("two", p2.pid());
    let run = Run::start(plan, &engine, None, Duration::from_millis(300));
    let lines = &run.lines;
    lines.wait("applied:", 1);
    assert_eq!(
        lines.count("cannot wire container:one"),
        1,
        "{}",
        lines.text()
    );
    assert!(
        lines.text().contains("2 unit(s) wired, 1 waiting"),
        "{}",
        lines.text()
    );
    assert!(p2.links().contains("eth0@"), "{}", p2.links());
    tried_once_then_wired_at_restart(&engine, lines, "one", bad);
    let text = lines.text();
    run.finish();
    eprintln!("{test}:\n{text}");
}

/// After container `name` failed to be wired once in the namespace of `bad` (a stray
/// eth0 in the way): it is not tried again while it runs there (for longer than the
/// comparisons' period), no readiness line comes, and its restart in a clean namespace
/// wires it and brings the line.
fn tried_once_then_wired_at_restart(engine: &FakeEngine, lines: &Lines, name: &str, bad: Proc) {
    let failed = format!("cannot wire container:{name}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(lines.count(&failed), 1, "{}", lines.text());
    assert_eq!(lines.count(READY_LINE), 0, "{}", lines.text());

    let good = Proc::new();
    engine.die(name, 0);
    engine.start(name, good.pid());
    lines.wait(&format!("wired container:{name} ({name})"), 1);
    lines.wait(READY_LINE, 1);
    assert!(good.links().contains("eth0@"), "{}", good.links());
    drop(bad);
}

/// When a failed `apply` or a `destroy` returns, no container has conlink's interface
/// any more. The veths' outer ends are in conlink's own namespace, and the kernel
/// deletes a removed namespace's interfaces (and with them their peers in the
/// containers) only some time after its pin and its last socket are gone, so rollback
/// and destroy delete them themselves. The containers are read at once, never waited
/// for: a wait would hide exactly this.
#[test]
fn a_rollback_and_a_destroy_leave_no_interface_in_containers_when_they_return() {
    let test =
        "run_loop::a_rollback_and_a_destroy_leave_no_interface_in_containers_when_they_return";
    if !can_touch_kernel(test) {
        return;
    }
    let project = unique("rd");
    let engine = Arc::new(FakeEngine::new());
    engine.add(container("one"));
    engine.add(container("two"));
    let one = Proc::new();
    engine.start("one", one.pid());
    // two has an eth0 of its own: its unit is refused after one's is wired.
    let two = Proc::with_eth0();
    engine.start("two", two.pid());
    let state = TempDir::new("conlink-container-ends-");
    let settings = |plan: &Plan| {
        let named = runtime::containers::resolver::named_containers(plan);
        let view = View::load(&*engine, &plan.project, &named).expect("the fake engine lists");
        Settings {
            state_dir: state.path().to_path_buf(),
            netns_dir: runtime::netns::netns_dir(),
            conlink_ns: ConlinkNs::Own,
            wait: Wait::Yes,
            containers: Some(Containers::new(view)),
        }
    };

    let plan = plan_of(CONFIG, &project, &[]).expect("compiles");
    let failed = apply(&plan, &settings(&plan), &Hooks::default(), &mut Quiet);
    let Err(ApplyError::Failed(f)) = failed else {
        panic!("two's eth0 is refused: {failed:?}");
    };
    assert!(matches!(f.error, StepError::Occupied { .. }), "{f}");
    assert!(f.rollback_errors.is_empty(), "{:?}", f.rollback_errors);
    assert!(!one.links().contains("eth0"), "{}", one.links());
    assert!(two.links().contains("eth0@"), "{}", two.links());

    // Only one, applied; then destroyed as the command line does, without containers.
    let only_one = "bridges: [{bridge: s1, mode: linux}]\nlinks: [{container: one, bridge: s1}]\n";
    let plan = plan_of(only_one, &project, &[]).expect("compiles");
    apply(&plan, &settings(&plan), &Hooks::default(), &mut Quiet).expect("one is wired");
    assert!(one.links().contains("eth0@"), "{}", one.links());
    let without_containers = Settings {
        containers: None,
        ..settings(&plan)
    };
    let removed = destroy(&project, &without_containers, &mut Quiet).expect("destroy");
    assert!(removed.problems.is_empty(), "{:?}", removed.problems);
    assert!(!one.links().contains("eth0"), "{}", one.links());
    assert!(two.links().contains("eth0@"), "{}", two.links());
    let pinned = runtime::netns::netns_dir().join(format!("conlink.{project}"));
    assert!(!pinned.exists(), "{} is left", pinned.display());
}
