//! One run per project per machine, whatever `--state-dir` says (docs/decisions.md,
//! "The project lock"): a second run waits, naming the first, or with `--no-wait`
//! fails at once.

use super::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fmt::Write as _;

/// 30 nodes × 4 links: an apply that takes a while.
fn topology() -> String {
    let mut y = String::from("nodes:\n");
    for i in 0..30 {
        let _ = writeln!(y, "  - name: n{i}");
    }
    y.push_str("bridges:\n");
    for j in 0..4 {
        let _ = writeln!(y, "  - {{bridge: s{j}, mode: linux}}");
    }
    y.push_str("links:\n");
    for i in 0..30 {
        for j in 0..4 {
            let _ = writeln!(
                y,
                "  - {{node: n{i}, dev: eth{j}, bridge: s{j}, ip: 10.{j}.0.{}/16}}",
                i + 1
            );
        }
    }
    y
}

/// Starts `conlink apply` of `p` in the background and stops it (SIGSTOP) as soon as
/// it holds the lock (its first namespace exists), so that it holds the lock for as
/// long as the test needs, whatever the machine's load: [`resume`] lets it finish.
/// (Polled every millisecond: the apply takes a fraction of a second.)
fn start_first(p: &Project, file: &Path) -> Child {
    let child = p
        .command(&["apply", "-n", file.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the first apply");
    let own = Path::new("/run/netns").join(format!("conlink.{}", p.name));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !own.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first apply never started"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    signal(&child, Signal::SIGSTOP);
    child
}

fn resume(first: &Child) {
    signal(first, Signal::SIGCONT);
}

fn signal(child: &Child, sig: Signal) {
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    kill(pid, sig).expect("signal the first apply");
}

/// Whether some process waits in `flock` for the project's lock file (the kernel lists
/// waiters in /proc/locks with `->`, by device and inode).
fn someone_waits_for_lock(project: &str) -> bool {
    let lock = Path::new("/run/lock/conlink").join(format!("{project}.lock"));
    let Ok(meta) = std::fs::metadata(&lock) else {
        return false;
    };
    let inode = format!(":{} ", std::os::unix::fs::MetadataExt::ino(&meta));
    std::fs::read_to_string("/proc/locks")
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains("->") && l.contains(&inode))
}

#[test]
fn a_second_run_with_another_state_dir_waits_for_the_first_or_fails_with_no_wait() {
    if !can_run("e2e::lock", &[]) {
        return;
    }
    let dir = TempDir::new("lock");
    let file = dir.write("net.yaml", &topology());
    let host = TestHost::new("lock");
    let mut p = Project::new(&host, "lock");
    let other_state = dir.0.join("other-state");
    let second = |args: &[&str]| conlink(&host.name, &p.name, &other_state, args);

    // --no-wait: fails at once, naming the holder.
    let first = start_first(&p, &file);
    let holder = first.id();
    let out = second(&["--no-wait", "apply", "-n", file.to_str().expect("utf-8")]);
    resume(&first);
    let first_out = first.wait_with_output().expect("first apply");
    assert!(first_out.status.success(), "first: {}", show(&first_out));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let said = text(&out.stderr);
    assert!(
        said.contains(&format!("pid {holder}")) && said.contains("conlink"),
        "the message should name the holder (pid {holder} and its command): {said}"
    );
    assert!(
        !other_state.join(&p.name).join("state.json").exists(),
        "the refused run wrote a state file"
    );

    // Without --no-wait: the second run (a destroy from the other state dir) waits,
    // says for whom, and then runs. (The first run starts from nothing again, so that
    // its namespace appearing says it holds the lock.)
    let out = p.conlink(&["destroy"]);
    assert!(out.status.success(), "{}", show(&out));
    let first = start_first(&p, &file);
    let holder = first.id();
    let waiting = conlink_command(&host.name, &p.name, &other_state, &["destroy"], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the second run");
    let waits = poll(Duration::from_secs(20), || {
        someone_waits_for_lock(&p.name).then_some(())
    });
    resume(&first);
    assert!(waits.is_some(), "the second run never waited for the lock");
    let out = waiting.wait_with_output().expect("the second run");
    let first_out = first.wait_with_output().expect("first apply");
    assert!(first_out.status.success(), "first: {}", show(&first_out));
    assert!(out.status.success(), "{}", show(&out));
    let said = text(&out.stderr);
    assert!(
        said.contains("waiting") && said.contains(&format!("pid {holder}")),
        "the waiting run should name the holder: {said}"
    );
    // It ran after the first finished: the network the first built is gone.
    let left = leftovers(&p.name, &[&host.name]);
    assert!(
        left.is_empty(),
        "the waiting destroy ran too early: {left:?}"
    );
    std::fs::remove_file(p.state_file()).expect("the first run's state file");
    p.destroy();
}
