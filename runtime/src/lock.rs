//! The project lock: one `apply` or `destroy` of a project at a time on the machine,
//! whatever `--state-dir` each was given (docs/decisions.md, "The project lock").
//!
//! Namespaces, marks and interfaces are machine-wide, so the lock is too: an `flock(2)`
//! on `/run/lock/conlink/PROJECT.lock` (the directory of lock files the filesystem
//! hierarchy provides; the state directory would give each `--state-dir` its own lock,
//! and the project's pinned namespace does not exist before the first run). The holder
//! writes its pid and command line into the file, so a second run can name it; the
//! file is removed when the lock is let go, so nothing is left behind. Because a run
//! waiting on the file may get the lock on a file its holder just removed, a run that
//! gets the lock checks that the file is still the one at the path, and otherwise tries
//! again.

use crate::files::{self, Open};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the lock files are.
pub const LOCK_DIR: &str = "/run/lock/conlink";

/// The run holding a project's lock, as it described itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    /// Its command line.
    pub command: String,
    /// Whether it is a `conlink run`, which holds the project for as long as it runs
    /// (then other runs do not wait for it: they would wait forever).
    pub run: bool,
    /// The container it runs in, when it knows (a `conlink run` as a compose service).
    pub container: Option<String>,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.pid, self.command.is_empty()) {
            (Some(pid), false) => write!(f, "pid {pid} ({})", self.command),
            (Some(pid), true) => write!(f, "pid {pid}"),
            (None, _) => f.write_str("another conlink run (it has not said who it is yet)"),
        }?;
        if let Some(c) = &self.container {
            write!(f, " in container {}", c.get(..12).unwrap_or(c))?;
        }
        Ok(())
    }
}

impl Holder {
    fn me(role: &Role) -> Holder {
        let (run, container) = match role {
            Role::Change => (false, None),
            Role::Run { container } => (true, container.clone()),
        };
        Holder {
            pid: Some(std::process::id()),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            run,
            container,
        }
    }

    /// What the holder wrote: `pid N` on the first line, its command on the second,
    /// then `run` for a `conlink run` and `container ID` when it knows its container.
    fn parse(text: &str) -> Holder {
        let mut lines = text.lines();
        let pid = lines
            .next()
            .and_then(|l| l.strip_prefix("pid "))
            .and_then(|p| p.trim().parse().ok());
        let command = lines.next().unwrap_or("").trim().to_string();
        let mut holder = Holder {
            pid,
            command,
            run: false,
            container: None,
        };
        for line in lines {
            if line == "run" {
                holder.run = true;
            } else if let Some(id) = line.strip_prefix("container ") {
                holder.container = Some(id.trim().to_string());
            }
        }
        holder
    }
}

/// What the lock is taken for.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Role {
    /// One change (`apply`, `destroy`), over when it is done.
    #[default]
    Change,
    /// `conlink run`: the project is managed until it stops. `container` is the id of
    /// the container it runs in, if any.
    Run { container: Option<String> },
}

/// Whether a run waits for the lock when another run holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Wait {
    #[default]
    Yes,
    /// Fail at once (`--no-wait`).
    No,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it and the caller would not wait.
    #[error("project {project} is being changed by {holder}; run again when it is done (without --no-wait, conlink waits for it)")]
    Busy { project: String, holder: Holder },
    /// A `conlink run` manages the project: waiting for it would be waiting forever.
    #[error("project {project} is managed by `conlink run` ({holder}); it applies the configuration itself and removes everything when it stops (SIGTERM, `docker compose down`): stop it first to apply or destroy from here")]
    ManagedByRun { project: String, holder: Holder },
    #[error("cannot lock project {project} ({}): {source}", path.display())]
    Io {
        project: String,
        path: PathBuf,
        source: io::Error,
    },
}

/// A project's lock, held until dropped.
#[derive(Debug)]
pub struct ProjectLock {
    /// Open for as long as the lock is held (the lock is on it).
    _file: File,
    path: PathBuf,
}

impl ProjectLock {
    /// Takes `project`'s lock. When another run holds it: with [`Wait::No`], fails at
    /// once naming the holder; else tells `waiting` who holds it and waits.
    pub fn take(
        project: &str,
        wait: Wait,
        waiting: impl FnOnce(&Holder),
    ) -> Result<ProjectLock, LockError> {
        ProjectLock::take_in(Path::new(LOCK_DIR), project, wait, waiting)
    }

    /// The lock for a `conlink run`, held until it stops; the holder line says so.
    pub fn take_for_run(
        project: &str,
        wait: Wait,
        container: Option<String>,
        waiting: impl FnOnce(&Holder),
    ) -> Result<ProjectLock, LockError> {
        ProjectLock::take_as(
            Path::new(LOCK_DIR),
            project,
            wait,
            &Role::Run { container },
            waiting,
        )
    }

    /// [`ProjectLock::take`] with the lock files in `dir` (for tests).
    pub fn take_in(
        dir: &Path,
        project: &str,
        wait: Wait,
        waiting: impl FnOnce(&Holder),
    ) -> Result<ProjectLock, LockError> {
        ProjectLock::take_as(dir, project, wait, &Role::Change, waiting)
    }

    /// Takes the lock in `dir` for `role`. A holder that is a `conlink run` is not
    /// waited for.
    pub fn take_as(
        dir: &Path,
        project: &str,
        wait: Wait,
        role: &Role,
        waiting: impl FnOnce(&Holder),
    ) -> Result<ProjectLock, LockError> {
        let path = dir.join(format!("{project}.lock"));
        let io_error = |source| LockError::Io {
            project: project.into(),
            path: path.clone(),
            source,
        };
        files::private_dir(dir, true).map_err(io_error)?;
        let mut waiting = Some(waiting);
        loop {
            let mut file = files::open(&path, Open::ReadWrite).map_err(io_error)?;
            if !flock(&file, false).map_err(io_error)? {
                let holder = read_holder(&mut file);
                if holder.run {
                    return Err(LockError::ManagedByRun {
                        project: project.into(),
                        holder,
                    });
                }
                if wait == Wait::No {
                    return Err(LockError::Busy {
                        project: project.into(),
                        holder,
                    });
                }
                if let Some(tell) = waiting.take() {
                    tell(&holder);
                }
                flock(&file, true).map_err(io_error)?;
            }
            // The holder we waited for removed the file when it let go: lock the one
            // at the path now, which a third run may already hold.
            if !still_at(&file, &path).map_err(io_error)? {
                continue;
            }
            write_holder(&mut file, role).map_err(io_error)?;
            return Ok(ProjectLock { _file: file, path });
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Removed while still held, so no run can lock this file after it is gone
        // from the path (see `still_at`).
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `flock(LOCK_EX)`, blocking or not; `false` when another holds it (non-blocking).
fn flock(file: &File, block: bool) -> io::Result<bool> {
    let op = if block {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock on a descriptor `file` owns.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) if !block => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// Whether `path` still names the open `file`.
fn still_at(file: &File, path: &Path) -> io::Result<bool> {
    let open = file.metadata()?;
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(m.ino() == open.ino() && m.dev() == open.dev()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn read_holder(file: &mut File) -> Holder {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    Holder::parse(&text)
}

fn write_holder(file: &mut File, role: &Role) -> io::Result<()> {
    let me = Holder::me(role);
    file.set_len(0)?;
    file.rewind()?;
    // One line each: a newline in an argument must not make a second line.
    let command = me.command.replace('\n', " ");
    let mut text = format!("pid {}\n{command}\n", std::process::id());
    if me.run {
        text.push_str("run\n");
    }
    if let Some(c) = &me.container {
        text.push_str(&format!("container {c}\n"));
    }
    // Written at once, so a reader sees the run's line with its pid.
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_second_run_of_a_project_says_who_holds_it_and_waits() {
        let dir = TempDir::new("conlink-lock-");
        let first = ProjectLock::take_in(dir.path(), "p", Wait::Yes, |_| {
            panic!("the first run must not wait")
        })
        .expect("lock");
        let (said, heard) = mpsc::channel();
        let (got, done) = mpsc::channel();
        let d2 = dir.path().to_path_buf();
        let second = std::thread::spawn(move || {
            let l = ProjectLock::take_in(&d2, "p", Wait::Yes, |holder| {
                said.send(holder.clone()).expect("send")
            });
            got.send(()).expect("send");
            l
        });
        let holder = heard
            .recv_timeout(Duration::from_secs(5))
            .expect("told to wait");
        assert_eq!(holder.pid, Some(std::process::id()));
        assert!(!holder.command.is_empty());
        assert!(holder
            .to_string()
            .starts_with(&format!("pid {} (", std::process::id())));
        // Still waiting while the first holds the lock.
        assert!(done.recv_timeout(Duration::from_millis(200)).is_err());
        drop(first);
        done.recv_timeout(Duration::from_secs(5))
            .expect("second run proceeds");
        let second = second.join().expect("thread").expect("lock");
        // Another project is never blocked by this one.
        let _other = ProjectLock::take_in(dir.path(), "q", Wait::Yes, |_| {
            panic!("other projects do not wait")
        })
        .expect("lock");
        drop(second);
        // Nothing is left once every lock is let go.
        drop(_other);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn with_no_wait_a_held_lock_fails_at_once_naming_the_holder() {
        let dir = TempDir::new("conlink-lock-");
        let _first = ProjectLock::take_in(dir.path(), "p", Wait::Yes, |_| {}).expect("lock");
        let d2 = dir.path().to_path_buf();
        let e = std::thread::spawn(move || {
            ProjectLock::take_in(&d2, "p", Wait::No, |_| panic!("must not wait"))
        })
        .join()
        .expect("thread")
        .expect_err("busy");
        match e {
            LockError::Busy { project, holder } => {
                assert_eq!(project, "p");
                assert_eq!(holder.pid, Some(std::process::id()));
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_planted_link_at_the_lock_path_is_refused() {
        let dir = TempDir::new("conlink-lock-");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        std::os::unix::fs::symlink(&victim, dir.path().join("p.lock")).expect("symlink");
        let e = ProjectLock::take_in(dir.path(), "p", Wait::Yes, |_| {}).expect_err("refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious"
        );
    }

    #[test]
    fn holders_read_back_as_written() {
        let h = Holder::parse("pid 42\nconlink apply -n x.yaml\n");
        assert_eq!(h.pid, Some(42));
        assert_eq!(h.command, "conlink apply -n x.yaml");
        assert_eq!(
            Holder::parse(""),
            Holder {
                pid: None,
                command: String::new(),
                run: false,
                container: None,
            }
        );
        let run = Holder::parse("pid 7\nconlink run\nrun\ncontainer 0123456789abcdef\n");
        assert!(run.run);
        assert_eq!(
            run.to_string(),
            "pid 7 (conlink run) in container 0123456789ab"
        );
    }

    #[test]
    fn a_run_holding_the_project_is_not_waited_for() {
        let dir = TempDir::new("conlink-lock-");
        let role = Role::Run {
            container: Some("c0ffee".into()),
        };
        let _run = ProjectLock::take_as(dir.path(), "p", Wait::Yes, &role, |_| {}).expect("lock");
        let d2 = dir.path().to_path_buf();
        // Wait::Yes, yet it fails at once (a thread: flock is per open file, so this
        // process's second open of the file does conflict).
        let e = std::thread::spawn(move || {
            ProjectLock::take_in(&d2, "p", Wait::Yes, |_| panic!("must not wait"))
        })
        .join()
        .expect("thread")
        .expect_err("managed by run");
        let text = e.to_string();
        assert!(matches!(e, LockError::ManagedByRun { .. }), "{text}");
        assert!(text.contains("managed by `conlink run`"), "{text}");
        assert!(text.contains("in container c0ffee"), "{text}");
    }
}
