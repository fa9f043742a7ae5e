//! Commands of nodes: long-running processes started inside a node's namespace.
//!
//! A node's command outlives `conlink apply` and is stopped by `conlink destroy`, a
//! different process, so it is identified by what the state file can hold: its pid and
//! its start time (field 22 of `/proc/PID/stat`), which together never match a later
//! process that reuses the pid.
//!
//! How a command is started, and why:
//! * `setns` into the node's namespace in the forked child, so conlink's own threads
//!   never change namespace for it.
//! * A second fork ("double fork"): the command is a grandchild whose parent exits at
//!   once, so it is never conlink's child. conlink reaps the short-lived middle process
//!   right away and never waits for the command; the command's exit is collected by
//!   init (or the nearest subreaper), not left as a zombie of a long-running conlink.
//! * `setsid` in the command, so it leads its own process group and session (no
//!   terminal, no signals meant for conlink's group) and [`stop`] can signal the whole
//!   group, children included.
//! * stdin is `/dev/null`; stdout and stderr are appended to a log file.
//! * A [`CommandLine::Shell`] string runs as `sh -c STRING` (docs/configuration.md,
//!   "Commands": the one place a string reaches a shell, because the user asked for
//!   one); an [`CommandLine::Argv`] list runs as argv with no shell.

use compiler::plan::CommandLine;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A started command, as the state file records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Started {
    pub pid: i32,
    /// Field 22 of `/proc/PID/stat`: clock ticks after boot when the process started.
    pub start_time: u64,
}

/// How long [`stop`] waits for a process to vanish after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Starts `cmd` inside the namespace `ns`, with `env` added to conlink's environment,
/// its output appended to `log_path` (created, with its directories, if missing).
/// Returns once the command has been executed (or failed to be); does not wait for it.
pub fn start(
    ns: &File,
    cmd: &CommandLine,
    log_path: &Path,
    env: &[(&str, &str)],
) -> io::Result<Started> {
    let mut command = command(cmd)?;
    let log = open_log(log_path)?;
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    command.envs(env.iter().copied());

    // The middle process reports the command's pid and /proc stat line through this
    // pipe. Close-on-exec: only the middle process (which never execs) keeps it open.
    let (report_read, report_write) = pipe()?;
    let ns_fd = ns.as_raw_fd();
    let report_fd = report_write.as_raw_fd();
    // SAFETY: the closure only makes async-signal-safe system calls (setns, fork,
    // setsid, open, read, write, close, _exit) and allocates nothing.
    unsafe {
        command.pre_exec(move || detach(ns_fd, report_fd));
    }
    let spawned = command.spawn();
    drop(report_write);
    let mut middle = spawned
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start `{}`: {e}", describe(cmd))))?;
    // The middle process exits right after forking: reap it now.
    middle.wait()?;
    let mut report = Vec::new();
    File::from(report_read).read_to_end(&mut report)?;
    parse_report(&report)
}

/// The std Command for a command line: `sh -c STRING`, or the argv as given.
fn command(cmd: &CommandLine) -> io::Result<Command> {
    match cmd {
        CommandLine::Shell(script) => {
            let mut command = Command::new("sh");
            command.arg("-c").arg(script);
            Ok(command)
        }
        CommandLine::Argv(argv) => {
            let Some((program, args)) = argv.split_first() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "empty command: a command list needs at least the program",
                ));
            };
            let mut command = Command::new(program);
            command.args(args);
            Ok(command)
        }
    }
}

/// A command line for messages.
fn describe(cmd: &CommandLine) -> String {
    match cmd {
        CommandLine::Shell(script) => format!("sh -c {script:?}"),
        CommandLine::Argv(argv) => argv.join(" "),
    }
}

/// Opens the log for appending, so restarts add to it and stdout and stderr (one
/// shared open file) interleave without overwriting each other.
fn open_log(path: &Path) -> io::Result<File> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("log {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(with_path)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(with_path)
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-int array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned here only.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Runs in the forked child before exec. Enters the namespace, forks again; the
/// grandchild starts a session and goes on to exec the command, while this (middle)
/// process reports the grandchild's pid and stat line and exits. Only async-signal-safe
/// calls: this runs in a copy of a multi-threaded process.
fn detach(ns_fd: RawFd, report_fd: RawFd) -> io::Result<()> {
    // SAFETY: raw system calls on descriptors this process holds.
    unsafe {
        if libc::setns(ns_fd, libc::CLONE_NEWNET) != 0 {
            return Err(io::Error::last_os_error());
        }
        match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            }
            pid => {
                report(report_fd, pid);
                libc::_exit(0)
            }
        }
    }
}

/// Writes `pid` and the raw `/proc/PID/stat` line of the command to the report pipe.
/// Read here, by the command's parent: until this process exits, the command cannot be
/// reaped, so its stat is there even if it has already finished.
///
/// # Safety
/// Called only in the middle process; async-signal-safe calls, no allocation.
unsafe fn report(fd: RawFd, pid: libc::pid_t) {
    let mut path = [0u8; 32];
    let len = stat_path(pid, &mut path);
    let mut message = [0u8; 4 + 1024];
    message[..4].copy_from_slice(&pid.to_ne_bytes());
    let mut used = 4;
    let stat = libc::open(
        path[..len].as_ptr().cast(),
        libc::O_RDONLY | libc::O_CLOEXEC,
    );
    if stat >= 0 {
        let n = libc::read(stat, message[4..].as_mut_ptr().cast(), message.len() - 4);
        if n > 0 {
            used += n as usize;
        }
        libc::close(stat);
    }
    // Fewer than PIPE_BUF bytes into an empty pipe: one write, never short.
    libc::write(fd, message.as_ptr().cast(), used);
}

/// Writes "/proc/PID/stat\0" into `buf` without allocating; returns its length with
/// the NUL.
fn stat_path(pid: libc::pid_t, buf: &mut [u8; 32]) -> usize {
    let mut digits = [0u8; 12];
    let mut n = 0;
    let mut rest = pid.unsigned_abs();
    loop {
        digits[n] = b'0' + (rest % 10) as u8;
        n += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut len = 0;
    let mut put = |b: u8| {
        buf[len] = b;
        len += 1;
    };
    b"/proc/".iter().for_each(|&b| put(b));
    digits[..n].iter().rev().for_each(|&b| put(b));
    b"/stat\0".iter().for_each(|&b| put(b));
    len
}

fn parse_report(report: &[u8]) -> io::Result<Started> {
    let Some((pid, stat)) = report.split_first_chunk::<4>() else {
        return Err(io::Error::other(
            "the command's launcher exited without reporting a pid",
        ));
    };
    let pid = i32::from_ne_bytes(*pid);
    let stat = String::from_utf8_lossy(stat);
    let start_time = parse_stat(&stat).map(|s| s.start_time).ok_or_else(|| {
        io::Error::other(format!(
            "started pid {pid} but could not read its start time"
        ))
    })?;
    Ok(Started { pid, start_time })
}

/// The parts of `/proc/PID/stat` that identify a process.
pub(crate) struct Stat {
    state: char,
    start_time: u64,
}

/// Parses a stat line. The command name (field 2) is in parentheses and may itself
/// hold spaces and parentheses, so fields are counted after its last `)`.
pub(crate) fn parse_stat(line: &str) -> Option<Stat> {
    let (_, after) = line.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `fields[0]` is field 3 (state), so field N is `fields[N - 3]`.
    Some(Stat {
        state: fields.first()?.chars().next()?,
        start_time: fields.get(22 - 3)?.parse().ok()?,
    })
}

fn read_stat(pid: i32) -> Option<Stat> {
    if pid <= 0 {
        return None;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .as_deref()
        .and_then(parse_stat)
}

/// Whether `pid` is the process that was started: same start time (a reused pid has a
/// later one) and not yet exited.
fn is_same(started: &Started) -> bool {
    read_stat(started.pid).is_some_and(|s| s.start_time == started.start_time)
}

/// Whether the started process still runs: the pid exists with the same start time
/// and has not exited (a zombie no longer runs).
pub fn is_running(started: &Started) -> bool {
    read_stat(started.pid)
        .is_some_and(|s| s.start_time == started.start_time && !matches!(s.state, 'Z' | 'X'))
}

/// Stops a started command: SIGTERM to its process group, up to `grace` for it to
/// exit, then SIGKILL. A process that is gone (or whose pid now belongs to another
/// process) counts as stopped, and such a pid is never signalled.
pub fn stop(started: &Started, grace: Duration) -> io::Result<()> {
    // Hold the process by a pidfd first, then check its start time: if the start time
    // matches, the pidfd is that process (it was running, with that pid, before the
    // pidfd was opened), and the pidfd tells when it exits.
    let Some(pidfd) = pidfd_open(started.pid)? else {
        return Ok(());
    };
    if !is_same(started) {
        return Ok(());
    }
    if exited(&pidfd, Duration::ZERO)? {
        return Ok(());
    }
    // The leader has not exited, so its pid (and with it the group id) is still its.
    signal_group(started.pid, libc::SIGTERM)?;
    if exited(&pidfd, grace)? {
        return Ok(());
    }
    signal_group(started.pid, libc::SIGKILL)?;
    if exited(&pidfd, KILL_WAIT)? {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "process {} did not exit within {KILL_WAIT:?} of SIGKILL",
            started.pid
        ),
    ))
}

/// `pidfd_open(2)`; `None` when no such process.
fn pidfd_open(pid: i32) -> io::Result<Option<OwnedFd>> {
    if pid <= 0 {
        return Ok(None);
    }
    // SAFETY: a plain system call; the result is owned right away.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ESRCH) => Ok(None),
            _ => Err(io::Error::new(e.kind(), format!("pidfd_open {pid}: {e}"))),
        };
    }
    // SAFETY: fd is a fresh descriptor owned here only.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
}

/// Waits up to `timeout` for the process behind `pidfd` to exit (a pidfd becomes
/// readable then, whether or not we are its parent).
fn exited(pidfd: &OwnedFd, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Rounded up, so a timeout never ends before the deadline.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut poll, 1, ms) } {
            n if n > 0 => return Ok(true),
            0 if Instant::now() >= deadline => return Ok(false),
            0 => {}
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Signals the process group led by `pid`; an empty group is not an error.
fn signal_group(pid: i32, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill(2) with a negative pid signals that process group.
    if unsafe { libc::kill(-pid, signal) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ESRCH) => Ok(()),
        _ => Err(io::Error::new(
            e.kind(),
            format!("signalling process group {pid}: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netns;
    use crate::testing::{can_touch_kernel, unique, TempNetns};
    use std::path::PathBuf;

    fn log_path() -> PathBuf {
        std::env::temp_dir()
            .join(unique("conlink-command-"))
            .join("nested")
            .join("cmd.log")
    }

    fn shell(script: &str) -> CommandLine {
        CommandLine::Shell(script.to_string())
    }

    /// Polls until `f` holds, up to five seconds.
    fn eventually(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_text(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// Gone: no such process, or a zombie (the test machine's pid 1 does not reap).
    fn gone(pid: i32) -> bool {
        read_stat(pid).is_none_or(|s| s.state == 'Z')
    }

    fn stat_field(pid: i32, field: usize) -> String {
        let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let (_, after) = line.rsplit_once(')').unwrap();
        after.split_whitespace().nth(field - 3).unwrap().to_string()
    }

    #[test]
    fn stat_lines_with_odd_names() {
        let mut fields: Vec<String> = (3..=30).map(|n| n.to_string()).collect();
        fields[0] = "S".into();
        fields[22 - 3] = "123456".into();
        let line = format!("42 (a) b (c)) {}\n", fields.join(" "));
        let stat = parse_stat(&line).unwrap();
        assert_eq!((stat.state, stat.start_time), ('S', 123456));
        assert!(parse_stat("42 (x) S 1 2").is_none());
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn stat_paths_without_allocation() {
        let mut buf = [0u8; 32];
        for pid in [1, 9, 10, 32768, i32::MAX] {
            let len = stat_path(pid, &mut buf);
            assert_eq!(&buf[..len], format!("/proc/{pid}/stat\0").as_bytes());
        }
    }

    #[test]
    fn started_round_trips_through_json() {
        let started = Started {
            pid: 1234,
            start_time: 987654,
        };
        let json = serde_json::to_string(&started).unwrap();
        assert_eq!(json, r#"{"pid":1234,"start_time":987654}"#);
        assert_eq!(serde_json::from_str::<Started>(&json).unwrap(), started);
    }

    #[test]
    fn runs_in_the_namespace_and_stops() {
        if !can_touch_kernel("command::runs_in_the_namespace_and_stops") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let log = log_path();
        let started = start(&ns.file, &shell("echo hi; sleep 30"), &log, &[]).unwrap();
        assert!(is_running(&started));
        eventually("hi in the log", || log_text(&log) == "hi\n");

        // In the node's namespace (the test thread itself never left its own).
        let inside = File::open(format!("/proc/{}/ns/net", started.pid)).unwrap();
        assert_eq!(
            netns::identity(&inside).unwrap(),
            netns::identity(&ns.file).unwrap()
        );
        assert_ne!(
            netns::identity(&inside).unwrap(),
            netns::identity(&netns::current().unwrap()).unwrap()
        );
        // Its own session and group, and not conlink's child.
        let pid = started.pid.to_string();
        assert_eq!(stat_field(started.pid, 5), pid, "process group");
        assert_eq!(stat_field(started.pid, 6), pid, "session");
        assert_ne!(stat_field(started.pid, 4), std::process::id().to_string());

        let t = Instant::now();
        stop(&started, Duration::from_secs(5)).unwrap();
        assert!(t.elapsed() < Duration::from_secs(2), "SIGTERM was enough");
        assert!(!is_running(&started));
        eventually("process gone", || gone(started.pid));
        // Stopping again: already gone is success.
        stop(&started, Duration::from_secs(1)).unwrap();
        let _ = std::fs::remove_dir_all(log.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_wrong_start_time_is_not_running_and_not_signalled() {
        if !can_touch_kernel("command::a_wrong_start_time_is_not_running_and_not_signalled") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let log = log_path();
        let started = start(&ns.file, &shell("sleep 30"), &log, &[]).unwrap();
        // The same pid with another start time: a process that reused the pid.
        let other = Started {
            start_time: started.start_time + 1,
            ..started
        };
        assert!(!is_running(&other));
        stop(&other, Duration::from_millis(100)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(is_running(&started), "the real process was signalled");
        stop(&started, Duration::from_secs(5)).unwrap();
        assert!(!is_running(&started));
        let _ = std::fs::remove_dir_all(log.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn argv_runs_without_a_shell_with_env_and_stderr() {
        if !can_touch_kernel("command::argv_runs_without_a_shell_with_env_and_stderr") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let log = log_path();
        let argv = |args: &[&str]| CommandLine::Argv(args.iter().map(|s| s.to_string()).collect());
        // Words with spaces and `$` reach the program unchanged.
        let started = start(
            &ns.file,
            &argv(&["printf", "%s|", "a b", "$HOME", ";true"]),
            &log,
            &[],
        )
        .unwrap();
        eventually("printf output", || log_text(&log) == "a b|$HOME|;true|");
        eventually("printf exited", || !is_running(&started));
        // A string is a shell script; env reaches it; stderr goes to the same log.
        start(
            &ns.file,
            &shell("echo \"$CONLINK_NODE\" >&2"),
            &log,
            &[("CONLINK_NODE", "r0")],
        )
        .unwrap();
        eventually("stderr appended", || {
            log_text(&log) == "a b|$HOME|;true|r0\n"
        });
        // Does a program that does not exist fail clearly?
        let e = start(&ns.file, &argv(&["no-such-program-xyz"]), &log, &[]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(
            e.to_string()
                .starts_with("cannot start `no-such-program-xyz`"),
            "{e}"
        );
        let e = start(&ns.file, &argv(&[]), &log, &[]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let _ = std::fs::remove_dir_all(log.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_command_that_ignores_sigterm_is_killed_with_its_group() {
        if !can_touch_kernel("command::a_command_that_ignores_sigterm_is_killed_with_its_group") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let log = log_path();
        // The shell ignores TERM and so does its child (ignored signals survive exec).
        let script = "trap '' TERM; sleep 30 & echo $!; wait";
        let started = start(&ns.file, &shell(script), &log, &[]).unwrap();
        eventually("child pid in the log", || log_text(&log).ends_with('\n'));
        let child: i32 = log_text(&log).trim().parse().unwrap();
        assert_eq!(stat_field(child, 5), started.pid.to_string());

        let grace = Duration::from_millis(300);
        let t = Instant::now();
        stop(&started, grace).unwrap();
        assert!(
            t.elapsed() >= grace,
            "stopped before the grace period ended"
        );
        assert!(!is_running(&started));
        eventually("group member gone", || gone(child));
        let _ = std::fs::remove_dir_all(log.parent().unwrap().parent().unwrap());
    }
}
