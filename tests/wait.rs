//! `conlink wait` (docs/cli.md, "conlink wait"), for what needs no namespace of its own:
//! files, commands, the timeout, and the command it runs. The conditions on
//! interfaces, routes, TCP ports and the ready marker are in `e2e::wait`, each in a
//! namespace the test makes.
//!
//! A [`Waiter`] is one `conlink wait` running in the background; the tests change the
//! world under it and read what it says, line by line. It is never asked to be fast:
//! each expected line or exit may take up to [`PATIENCE`].

use crate::util::text;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long a test waits for something `conlink wait` must do.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// How long a test watches `conlink wait` do nothing before concluding that it is
/// still waiting (a check that it did not finish early, never of speed).
const QUIET: Duration = Duration::from_millis(300);

/// One `conlink wait` in the background; killed when dropped.
pub struct Waiter {
    child: Child,
    stderr: Receiver<String>,
    stdout: Option<std::thread::JoinHandle<String>>,
}

impl Waiter {
    /// `conlink wait ARGS…`, here or, with `netns`, inside that named namespace
    /// (`ip netns exec`, which becomes conlink). The environment is only `PATH`.
    pub fn start(netns: Option<&str>, args: &[&str]) -> Waiter {
        let bin = env!("CARGO_BIN_EXE_conlink");
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, bin]);
                c
            }
            None => Command::new(bin),
        };
        cmd.arg("wait")
            .args(args)
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start conlink wait");
        let (tx, stderr) = mpsc::channel();
        let err = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().expect("piped stdout");
        let stdout = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            text(&s)
        });
        Waiter {
            child,
            stderr,
            stdout: Some(stdout),
        }
    }

    /// The next line it writes on stderr.
    pub fn line(&mut self) -> String {
        match self.stderr.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(e) => panic!("no line from conlink wait within {PATIENCE:?} ({e})"),
        }
    }

    /// It is still waiting: it neither said anything nor exited for a while.
    pub fn assert_waiting(&mut self) {
        match self.stderr.recv_timeout(QUIET) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(line) => panic!("conlink wait said `{line}` while it should still wait"),
            Err(RecvTimeoutError::Disconnected) => {}
        }
        let status = self.child.try_wait().expect("try_wait");
        assert!(status.is_none(), "conlink wait exited early: {status:?}");
    }

    /// Waits for it to exit: its status, its stdout, and the lines on stderr not read
    /// yet.
    pub fn finish(mut self) -> (ExitStatus, String, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "conlink wait did not exit within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let rest = self.stderr.try_iter().collect();
        (status, stdout, rest)
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("conlink-wait-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Scratch(d)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn touch(path: &str) {
    std::fs::write(Path::new(path), "").expect("create file");
}

/// `-f` then `-c`, in that order: each is met when it holds and said in one line;
/// the command is split at whitespace and run without a shell.
#[test]
fn files_and_commands_are_waited_for_in_order() {
    let d = Scratch::new("fc");
    let (file, flag) = (d.path("file"), d.path("flag"));
    let check = format!("test  -e {flag}");
    let mut w = Waiter::start(None, &["-s", "0.05", "-f", &file, "-c", &check]);
    w.assert_waiting();
    // The command's condition first: nothing happens while the file is missing.
    touch(&flag);
    w.assert_waiting();
    touch(&file);
    assert_eq!(w.line(), format!("conlink wait: file {file} exists"));
    assert_eq!(
        w.line(),
        format!("conlink wait: command `test -e {flag}` succeeded")
    );
    let (status, stdout, rest) = w.finish();
    assert!(status.success(), "{status:?} {rest:?}");
    assert_eq!((stdout.as_str(), rest.len()), ("", 0), "{rest:?}");
}

/// The command after `--` gets its arguments exactly as given: no shell in between,
/// no splitting, no quoting.
#[test]
fn the_command_runs_with_its_arguments_untouched() {
    let args = ["a b", "it's", "\"q\"", "", "$HOME", "*", "--", "-i"];
    let mut all = vec!["-f", "/", "--", "sh", "-c", "printf '[%s]' \"$@\"", "sh"];
    all.extend_from_slice(&args);
    let w = Waiter::start(None, &all);
    let (status, stdout, rest) = w.finish();
    assert!(status.success(), "{status:?} {rest:?}");
    assert_eq!(stdout, "[a b][it's][\"q\"][][$HOME][*][--][-i]");
}

/// With `--timeout`, a condition that never holds ends the wait with exit code 1 and
/// a message naming it; a command still running is not left behind.
#[test]
fn a_timeout_names_the_condition_and_exits_1() {
    let d = Scratch::new("to");
    let never = d.path("never");
    let w = Waiter::start(None, &["--timeout", "0.3", "-f", "/", "-f", &never]);
    let (status, _, rest) = w.finish();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    assert_eq!(
        rest,
        [
            "conlink wait: file / exists".to_string(),
            format!("conlink wait: timed out after 0.3 s: -f {never} does not hold"),
        ]
    );

    // A `-c` command that outlives the deadline is stopped with the wait.
    let unique = format!("{}.{}", 30, std::process::id());
    let sleep = format!("sleep {unique}");
    let w = Waiter::start(None, &["--timeout", "0.3", "-c", &sleep]);
    let (status, _, rest) = w.finish();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    assert!(
        rest.last()
            .is_some_and(|l| l.contains("timed out after 0.3 s: -c 'sleep")),
        "{rest:?}"
    );
    let left: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| text(&c).replace('\0', " "))
        .filter(|c| c.contains(&sleep))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

/// A program that cannot be run is exit code 1, saying why; a bad option is a usage
/// error (2), like every command's.
#[test]
fn failures_have_the_usual_exit_codes() {
    let w = Waiter::start(None, &["-f", "/", "--", "/nonexistent/program"]);
    let (status, _, rest) = w.finish();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("cannot run `/nonexistent/program`")),
        "{rest:?}"
    );
    for bad in [
        &["-t", "no-port"][..],
        &["-s", "soon"],
        &["--timeout"],
        &["eth0"],
    ] {
        let (status, _, rest) = Waiter::start(None, bad).finish();
        assert_eq!(status.code(), Some(2), "{bad:?}: {rest:?}");
    }
}
