//! Commands of nodes: long-running processes started inside a node's namespace.
//!
//! A node's command outlives `conlink apply` and is stopped by `conlink destroy`, a
//! different process, so it is identified by what the state file can hold: its pid and
//! its start time (field 22 of `/proc/PID/stat`), which together never match a later
//! process that reuses the pid. It can also be found without the state file: it carries
//! the environment variable `CONLINK_COMMAND=PROJECT STEP` (`crate::names`) and leads
//! its own session ([`find_running`]).
//!
//! How a command is started, and why (the forked part is in `command/launch.rs`):
//! * `setns` into the node's namespace in the forked child, so conlink's own threads
//!   never change namespace for it.
//! * A supervisor process, not conlink, is the command's parent: it waits for the
//!   command and writes its *exit record* (exit code or signal) beside its log, so
//!   `status` can say how a command that is no longer running ended ([`read_exit`]).
//!   The supervisor is a fork of conlink that makes only raw system calls, rather than
//!   a program run for the purpose: there is no other program to find, and nothing is
//!   handed to a shell. conlink reaps the short-lived middle process right away and
//!   never waits for the command.
//! * `setsid` in the command, so it leads its own process group and session (no
//!   terminal, no signals meant for conlink's group) and [`stop`] can signal the whole
//!   group, children included.
//! * stdin is `/dev/null`; stdout and stderr are appended to a log file, private
//!   (`crate::files`).
//! * A [`CommandLine::Shell`] string runs as `sh -c STRING` (docs/configuration.md,
//!   "Commands": the one place a string reaches a shell, because the user asked for
//!   one); an [`CommandLine::Argv`] list runs as argv with no shell.

mod launch;

use crate::files::{self, Open};
use crate::netns;
use compiler::plan::CommandLine;
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
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
/// its output appended to `log_path` (created, with its directory, if missing); its
/// supervisor writes how it ended to `exit_path` (any earlier record there is removed
/// first). Returns once the command has been executed (or failed to be); does not wait
/// for it.
pub fn start(
    ns: &File,
    cmd: &CommandLine,
    log_path: &Path,
    exit_path: &Path,
    env: &[(&str, &str)],
) -> io::Result<Started> {
    let mut command = command(cmd)?;
    let log = open_log(log_path)?;
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    command.envs(env.iter().copied());
    match std::fs::remove_file(exit_path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }

    // The supervisor reports the command's pid and /proc stat line through this pipe.
    // Close-on-exec: the command does not keep it.
    let (report_read, report_write) = pipe()?;
    let launch = launch::Launch {
        ns_fd: ns.as_raw_fd(),
        report_fd: report_write.as_raw_fd(),
        exit_path: CString::new(exit_path.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
        ns: netns::identity(ns)?,
    };
    // SAFETY: the closure only makes async-signal-safe system calls and allocates
    // nothing (see `launch`).
    unsafe {
        command.pre_exec(move || launch::detach(&launch));
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
        files::private_dir(dir, true).map_err(with_path)?;
    }
    files::open(path, Open::Append).map_err(|e| {
        if files::is_symlink_error(&e) {
            e
        } else {
            with_path(e)
        }
    })
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

fn parse_report(report: &[u8]) -> io::Result<Started> {
    let Some((pid, stat)) = report.split_first_chunk::<4>() else {
        return Err(io::Error::other(
            "the command's supervisor exited without reporting a pid",
        ));
    };
    let pid = i32::from_ne_bytes(*pid);
    let start_time = launch::start_time_of(stat).ok_or_else(|| {
        io::Error::other(format!(
            "started pid {pid} but could not read its start time"
        ))
    })?;
    Ok(Started { pid, start_time })
}

// ---------------------------------------------------------------------------------
// How a command ended: its exit record.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl ExitStatus {
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit code {c}"),
            ExitStatus::Signal(s) => match nix::sys::signal::Signal::try_from(*s) {
                Ok(sig) => write!(f, "killed by {sig}"),
                Err(_) => write!(f, "killed by signal {s}"),
            },
        }
    }
}

/// What a command's supervisor wrote when the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub started: Started,
    /// Identity (device, inode) of the namespace it ran in.
    pub ns: (u64, u64),
    pub status: ExitStatus,
}

/// The exit record beside a command's log.
pub fn exit_path(log: &Path) -> PathBuf {
    log.with_extension("exit")
}

/// Reads an exit record; `None` when there is none (the command runs, was never
/// started, or its supervisor was killed) or it cannot be read.
pub fn read_exit(path: &Path) -> Option<Exit> {
    let mut text = String::new();
    files::open(path, Open::Read)
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    parse_exit(&text)
}

/// Writes an exit record in the supervisor's format (for commands run another way:
/// through a container engine's exec).
pub fn write_exit(path: &Path, exit: &Exit) -> io::Result<()> {
    let (how, n) = match exit.status {
        ExitStatus::Code(c) => ("exit", c),
        ExitStatus::Signal(s) => ("signal", s),
    };
    let text = format!(
        "{} {} {} {} {how} {n}\n",
        exit.started.pid, exit.started.start_time, exit.ns.0, exit.ns.1
    );
    let _ = std::fs::remove_file(path);
    let mut f = files::open(path, Open::CreateNew)?;
    std::io::Write::write_all(&mut f, text.as_bytes())
}

fn parse_exit(text: &str) -> Option<Exit> {
    let w: Vec<&str> = text.split_whitespace().collect();
    let [pid, start_time, dev, ino, how, n] = w.as_slice() else {
        return None;
    };
    let n: i32 = n.parse().ok()?;
    Some(Exit {
        started: Started {
            pid: pid.parse().ok()?,
            start_time: start_time.parse().ok()?,
        },
        ns: (dev.parse().ok()?, ino.parse().ok()?),
        status: match *how {
            "exit" => ExitStatus::Code(n),
            "signal" => ExitStatus::Signal(n),
            _ => return None,
        },
    })
}

// ---------------------------------------------------------------------------------
// Reading processes in /proc.

/// The parts of `/proc/PID/stat` that identify a process.
pub(crate) struct Stat {
    state: char,
    session: i32,
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
        session: fields.get(6 - 3)?.parse().ok()?,
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

/// The value of `name` in the environment `pid` was started with.
fn environment_value(pid: i32, name: &str) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{name}=");
    env.split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(prefix.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Whether process `pid` was started by conlink for `project`: it carries the
/// project's `CONLINK_COMMAND` tag (`crate::names::command_tag`).
pub fn is_projects(pid: i32, project: &str) -> bool {
    environment_value(pid, crate::names::COMMAND_TAG)
        .is_some_and(|tag| tag.split_once(' ').is_some_and(|(p, _)| p == project))
}

/// A running command conlink started, found in `/proc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The step that started it.
    pub step: String,
    pub started: Started,
    /// Identity (device, inode) of the namespace it runs in.
    pub ns: (u64, u64),
}

/// The running commands of `project`, by their tag: processes that carry it and lead
/// their session (the processes a command forks inherit the tag, but not the session
/// leadership). One pass over `/proc`.
pub fn find_running(project: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Some(stat) = read_stat(pid) else { continue };
        if stat.session != pid || matches!(stat.state, 'Z' | 'X') {
            continue;
        }
        let Some(tag) = environment_value(pid, crate::names::COMMAND_TAG) else {
            continue;
        };
        let Some((p, step)) = tag.split_once(' ') else {
            continue;
        };
        let Ok(ns) = std::fs::metadata(entry.path().join("ns/net")) else {
            continue;
        };
        if p == project {
            out.push(Found {
                step: step.to_string(),
                started: Started {
                    pid,
                    start_time: stat.start_time,
                },
                ns: (ns.dev(), ns.ino()),
            });
        }
    }
    out
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
    use crate::testing::{can_touch_kernel, TempDir, TempNetns};

    /// A log (and its exit record) in a directory that does not exist yet.
    fn log_path(dir: &TempDir) -> PathBuf {
        dir.path().join("nested").join("cmd.log")
    }

    fn run(ns: &TempNetns, cmd: &CommandLine, log: &Path) -> io::Result<Started> {
        start(&ns.file, cmd, log, &exit_path(log), &[])
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
        assert_eq!(
            (stat.state, stat.session, stat.start_time),
            ('S', 6, 123456)
        );
        assert!(parse_stat("42 (x) S 1 2").is_none());
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn exit_records_read_back() {
        let e = parse_exit("123 456 7 8 exit 3\n").unwrap();
        assert_eq!(
            e.started,
            Started {
                pid: 123,
                start_time: 456
            }
        );
        assert_eq!(e.ns, (7, 8));
        assert_eq!(e.status, ExitStatus::Code(3));
        assert!(!e.status.success());
        let e = parse_exit("1 2 3 4 signal 15").unwrap();
        assert_eq!(e.status.to_string(), "killed by SIGTERM");
        assert!(ExitStatus::Code(0).success());
        assert_eq!(ExitStatus::Code(0).to_string(), "exit code 0");
        for bad in ["", "1 2 3 4 exit", "1 2 3 4 quit 0", "x 2 3 4 exit 0"] {
            assert!(parse_exit(bad).is_none(), "{bad:?}");
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
        let dir = TempDir::new("conlink-command-");
        let log = log_path(&dir);
        let started = run(&ns, &shell("echo hi; sleep 30"), &log).unwrap();
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
        // Its supervisor recorded how it ended, in that namespace.
        eventually("exit record", || read_exit(&exit_path(&log)).is_some());
        let exit = read_exit(&exit_path(&log)).unwrap();
        assert_eq!(exit.started, started);
        assert_eq!(exit.ns, netns::identity(&ns.file).unwrap());
        assert_eq!(exit.status, ExitStatus::Signal(libc::SIGTERM));
        // Stopping again: already gone is success.
        stop(&started, Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn the_supervisor_records_exit_codes_privately() {
        if !can_touch_kernel("command::the_supervisor_records_exit_codes_privately") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let dir = TempDir::new("conlink-command-");
        let log = log_path(&dir);
        let started = run(&ns, &shell("exit 3"), &log).unwrap();
        eventually("exit record", || read_exit(&exit_path(&log)).is_some());
        let exit = read_exit(&exit_path(&log)).unwrap();
        assert_eq!((exit.started, exit.status), (started, ExitStatus::Code(3)));
        use std::os::unix::fs::PermissionsExt;
        for path in [log.clone(), exit_path(&log), log.parent().unwrap().into()] {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            let want = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode, want, "{}", path.display());
        }
        // Starting again replaces the old record, which a running command has none of.
        let again = run(&ns, &shell("sleep 30"), &log).unwrap();
        assert!(read_exit(&exit_path(&log)).is_none());
        stop(&again, Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn running_commands_are_found_by_their_tag() {
        if !can_touch_kernel("command::running_commands_are_found_by_their_tag") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let dir = TempDir::new("conlink-command-");
        let log = log_path(&dir);
        let project = crate::testing::unique("tagp");
        let tag = crate::names::command_tag(&project, "node:h1/3");
        // The command forks a child: only the session leader is the command.
        let env = [(crate::names::COMMAND_TAG, tag.as_str())];
        let started = start(
            &ns.file,
            &shell("sleep 30 & wait"),
            &log,
            &exit_path(&log),
            &env,
        )
        .unwrap();
        eventually("the command found", || !find_running(&project).is_empty());
        let found = find_running(&project);
        assert_eq!(
            found,
            vec![Found {
                step: "node:h1/3".into(),
                started,
                ns: netns::identity(&ns.file).unwrap(),
            }]
        );
        assert!(is_projects(started.pid, &project));
        assert!(!is_projects(started.pid, "another"));
        assert!(!is_projects(std::process::id() as i32, &project));
        assert!(find_running("another-project")
            .iter()
            .all(|f| f.started != started));
        stop(&started, Duration::from_secs(5)).unwrap();
        assert!(find_running(&project).is_empty());
    }

    #[test]
    fn a_wrong_start_time_is_not_running_and_not_signalled() {
        if !can_touch_kernel("command::a_wrong_start_time_is_not_running_and_not_signalled") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let dir = TempDir::new("conlink-command-");
        let log = log_path(&dir);
        let started = run(&ns, &shell("sleep 30"), &log).unwrap();
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
    }

    #[test]
    fn argv_runs_without_a_shell_with_env_and_stderr() {
        if !can_touch_kernel("command::argv_runs_without_a_shell_with_env_and_stderr") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let dir = TempDir::new("conlink-command-");
        let log = log_path(&dir);
        let exit = exit_path(&log);
        let argv = |args: &[&str]| CommandLine::Argv(args.iter().map(|s| s.to_string()).collect());
        // Words with spaces and `$` reach the program unchanged.
        let started = run(
            &ns,
            &argv(&["printf", "%s|", "a b", "$HOME", ";true"]),
            &log,
        )
        .unwrap();
        eventually("printf output", || log_text(&log) == "a b|$HOME|;true|");
        eventually("printf exited", || !is_running(&started));
        // A string is a shell script; env reaches it; stderr goes to the same log.
        start(
            &ns.file,
            &shell("echo \"$CONLINK_NODE\" >&2"),
            &log,
            &exit,
            &[("CONLINK_NODE", "r0")],
        )
        .unwrap();
        eventually("stderr appended", || {
            log_text(&log) == "a b|$HOME|;true|r0\n"
        });
        // Does a program that does not exist fail clearly?
        let e = run(&ns, &argv(&["no-such-program-xyz"]), &log).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(
            e.to_string()
                .starts_with("cannot start `no-such-program-xyz`"),
            "{e}"
        );
        let e = run(&ns, &argv(&[]), &log).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_command_that_ignores_sigterm_is_killed_with_its_group() {
        if !can_touch_kernel("command::a_command_that_ignores_sigterm_is_killed_with_its_group") {
            return;
        }
        let ns = TempNetns::new("cl-command-").unwrap();
        let dir = TempDir::new("conlink-command-");
        let log = log_path(&dir);
        // The shell ignores TERM and so does its child (ignored signals survive exec).
        let script = "trap '' TERM; sleep 30 & echo $!; wait";
        let started = run(&ns, &shell(script), &log).unwrap();
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
    }
}
