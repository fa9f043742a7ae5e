//! What runs between `fork(2)` and `exec(2)` when conlink starts a command (see
//! `crate::command`): three processes, each doing only async-signal-safe system calls
//! and never allocating, since each is a copy of a possibly multi-threaded conlink.
//!
//! * The *middle* process (std's child) enters the node's namespace, forks the
//!   supervisor and exits at once, so neither the supervisor nor the command is ever
//!   conlink's child.
//! * The *supervisor* starts a session of its own (no terminal, no signal meant for
//!   conlink), forks the command, reports the command's pid and `/proc` stat line to
//!   conlink through a pipe, closes every descriptor, waits for the command and writes
//!   its *exit record* (pid, start time, namespace, exit code or signal) beside its
//!   log, then exits.
//! * The *command* starts a session of its own too, so stopping it signals its group
//!   and not the supervisor, and goes on to exec.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

/// What the forked processes need, prepared before forking.
pub(super) struct Launch {
    /// The namespace to run in.
    pub ns_fd: RawFd,
    /// The pipe the supervisor reports the command's pid and stat line on.
    pub report_fd: RawFd,
    /// Where the supervisor writes the exit record.
    pub exit_path: CString,
    /// The namespace's identity (device, inode), written into the exit record.
    pub ns: (u64, u64),
}

/// Runs in std's child before exec; returns only in the command, which then execs.
pub(super) fn detach(l: &Launch) -> io::Result<()> {
    // SAFETY: raw system calls on descriptors this process holds; `supervise` never
    // returns.
    unsafe {
        if libc::setns(l.ns_fd, libc::CLONE_NEWNET) != 0 {
            return Err(io::Error::last_os_error());
        }
        match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            // The supervisor.
            0 => {
                libc::setsid();
                // conlink's handlers (which only note a signal) must not keep the
                // supervisor alive: back to the defaults.
                for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    libc::signal(s, libc::SIG_DFL);
                }
                match libc::fork() {
                    -1 => libc::_exit(1),
                    // The command.
                    0 => {
                        if libc::setsid() == -1 {
                            return Err(io::Error::last_os_error());
                        }
                        Ok(())
                    }
                    command => supervise(l, command),
                }
            }
            // The middle process.
            _ => libc::_exit(0),
        }
    }
}

/// Reports the command, waits for it and records how it ended; never returns.
///
/// # Safety
/// Called only in the supervisor; async-signal-safe calls, no allocation.
unsafe fn supervise(l: &Launch, command: libc::pid_t) -> ! {
    // Until this process reaps the command, its stat is there, even if it has already
    // exited.
    let mut stat = [0u8; 1024];
    let len = read_stat(command, &mut stat);
    report(l.report_fd, command, &stat[..len]);
    let start_time = start_time_of(&stat[..len]).unwrap_or(0);
    // conlink reads the report until every copy of the pipe is closed, and std waits
    // for its own pipe the same way: keep no descriptor of conlink's.
    close_all();
    let mut status = 0;
    loop {
        let r = libc::waitpid(command, &mut status, 0);
        if r == command {
            break;
        }
        if r == -1 && *libc::__errno_location() == libc::EINTR {
            continue;
        }
        libc::_exit(1);
    }
    let mut line = Line::default();
    line.number(command as u64)
        .text(b" ")
        .number(start_time)
        .text(b" ")
        .number(l.ns.0)
        .text(b" ")
        .number(l.ns.1);
    if libc::WIFEXITED(status) {
        line.text(b" exit ")
            .number(libc::WEXITSTATUS(status) as u64);
    } else if libc::WIFSIGNALED(status) {
        line.text(b" signal ").number(libc::WTERMSIG(status) as u64);
    }
    line.text(b"\n");
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let fd = libc::open(l.exit_path.as_ptr(), flags, 0o600);
    if fd >= 0 {
        libc::write(fd, line.buf.as_ptr().cast(), line.len);
        libc::close(fd);
    }
    libc::_exit(0)
}

/// Writes `pid` and the raw stat line of the command to the report pipe.
///
/// # Safety
/// Async-signal-safe calls only.
unsafe fn report(fd: RawFd, pid: libc::pid_t, stat: &[u8]) {
    let mut message = [0u8; 4 + 1024];
    message[..4].copy_from_slice(&pid.to_ne_bytes());
    let n = stat.len().min(message.len() - 4);
    message[4..4 + n].copy_from_slice(&stat[..n]);
    // Fewer than PIPE_BUF bytes into an empty pipe: one write, never short.
    libc::write(fd, message.as_ptr().cast(), 4 + n);
}

/// Reads `/proc/PID/stat` into `buf`; returns how many bytes.
///
/// # Safety
/// Async-signal-safe calls only.
unsafe fn read_stat(pid: libc::pid_t, buf: &mut [u8]) -> usize {
    let mut path = Line::default();
    path.text(b"/proc/").number(pid as u64).text(b"/stat\0");
    let fd = libc::open(path.buf.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return 0;
    }
    let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
    libc::close(fd);
    n.max(0) as usize
}

/// Closes every descriptor of the process.
///
/// # Safety
/// Async-signal-safe calls only.
unsafe fn close_all() {
    if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
        // Kernels before 5.9.
        for fd in 0..4096 {
            libc::close(fd);
        }
    }
}

/// Field 22 of a stat line (the start time), without allocating. The command name
/// (field 2) is in parentheses and may itself hold spaces and parentheses, so fields
/// are counted after its last `)`.
pub(super) fn start_time_of(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|b| *b == b')')?;
    // Field 3 is the first after the name.
    let mut field = 2;
    let mut value: Option<u64> = None;
    let mut in_word = false;
    for &b in &stat[close + 1..] {
        if b.is_ascii_whitespace() {
            if in_word && field == 22 {
                return value;
            }
            in_word = false;
            continue;
        }
        if !in_word {
            in_word = true;
            field += 1;
            value = Some(0);
        }
        if field == 22 {
            let digit = u64::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
            value = value.and_then(|v| v.checked_mul(10)?.checked_add(digit));
        }
    }
    if in_word && field == 22 {
        value
    } else {
        None
    }
}

/// A line built without allocating.
struct Line {
    buf: [u8; 160],
    len: usize,
}

impl Default for Line {
    fn default() -> Line {
        Line {
            buf: [0; 160],
            len: 0,
        }
    }
}

impl Line {
    fn text(&mut self, bytes: &[u8]) -> &mut Line {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        self
    }

    fn number(&mut self, mut n: u64) -> &mut Line {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.text(&digits[i..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_of_stat_lines_with_odd_names() {
        let mut fields: Vec<String> = (3..=30).map(|n| n.to_string()).collect();
        fields[0] = "S".into();
        fields[22 - 3] = "123456".into();
        let line = format!("42 (a) b (c)) {}\n", fields.join(" "));
        assert_eq!(start_time_of(line.as_bytes()), Some(123456));
        // The last field, without a newline after it.
        let short = format!("42 (x) {}", fields[..20].join(" "));
        assert_eq!(start_time_of(short.as_bytes()), Some(123456));
        assert_eq!(start_time_of(b"42 (x) S 1 2"), None);
        assert_eq!(start_time_of(b"garbage"), None);
        let bad = line.replace("123456", "12x456");
        assert_eq!(start_time_of(bad.as_bytes()), None);
    }

    #[test]
    fn lines_are_written_without_allocating() {
        let mut l = Line::default();
        l.text(b"/proc/").number(0).text(b" ").number(u64::MAX);
        assert_eq!(&l.buf[..l.len], format!("/proc/0 {}", u64::MAX).as_bytes());
        // Never past its end.
        for _ in 0..20 {
            l.number(1234567890);
        }
        assert_eq!(l.len, l.buf.len());
    }
}
