//! The state file: what conlink created for a project, with the identities the
//! kernel gave it at run time (docs/plan.md, "What a plan is": what a plan does not
//! hold), and the lock that keeps two runs of one project apart.
//!
//! `STATE_DIR/PROJECT/state.json` is rewritten atomically (write, then rename) after
//! every apply. `destroy` uses it when present and the kernel's ownership marks when
//! it is not.

use crate::error::StateError;
use crate::ethtool::Saved;
use crate::resolve::ConlinkNs;
use compiler::plan::{Ns, Op};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Version of the state file's shape.
pub const STATE_FORMAT: u32 = 1;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format: u32,
    pub project: String,
    pub mark: String,
    pub group: u32,
    /// Whether conlink's namespace was its own (`own`) or the one it ran in.
    pub conlink_ns: Option<ConlinkNs>,
    /// Namespaces conlink created, by symbol.
    pub namespaces: BTreeMap<String, NsRecord>,
    /// Steps in effect, by step id, in the order they were first carried out.
    pub steps: Vec<StepRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NsRecord {
    /// Pinned name under the netns directory.
    pub pinned: String,
    /// Device and inode of the namespace when it was created.
    pub dev: u64,
    pub ino: u64,
}

/// One carried-out step: where it ran, what undoes it, and what the undo needs that
/// only the run knew.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    pub id: String,
    pub ns: Ns,
    pub undo: Op,
    #[serde(default, skip_serializing_if = "Extra::is_none")]
    pub extra: Extra,
}

/// Run-time values an undo needs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Extra {
    #[default]
    None,
    /// The value a sysctl had before conlink set it.
    Sysctl { previous: String },
    /// The feature values an ethtool step found.
    Ethtool { saved: Saved },
    /// A command conlink started.
    Command {
        pid: i32,
        start_time: u64,
        log: PathBuf,
    },
    /// Interfaces a link step created, with the ifindex conlink chose.
    Link { index: u32 },
}

impl Extra {
    pub fn is_none(&self) -> bool {
        matches!(self, Extra::None)
    }
}

impl State {
    pub fn new(project: &str, mark: &str, group: u32, conlink: ConlinkNs) -> State {
        State {
            format: STATE_FORMAT,
            project: project.into(),
            mark: mark.into(),
            group,
            conlink_ns: Some(conlink),
            ..State::default()
        }
    }

    pub fn step(&self, id: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Adds or replaces the record of a step.
    pub fn record(&mut self, rec: StepRecord) {
        match self.steps.iter_mut().find(|s| s.id == rec.id) {
            Some(old) => *old = rec,
            None => self.steps.push(rec),
        }
    }
}

/// The directory holding one project's state.
pub fn project_dir(state_dir: &Path, project: &str) -> PathBuf {
    state_dir.join(project)
}

fn state_path(state_dir: &Path, project: &str) -> PathBuf {
    project_dir(state_dir, project).join("state.json")
}

/// Reads the state of `project`; `None` when there is none.
pub fn load(state_dir: &Path, project: &str) -> Result<Option<State>, StateError> {
    let path = state_path(state_dir, project);
    let mut text = String::new();
    let read = match File::open(&path) {
        Ok(mut f) => f.read_to_string(&mut text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => Err(e),
    };
    if let Err(source) = read {
        return Err(StateError::Read { path, source });
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| StateError::Invalid { path, source })
}

/// Writes the state atomically.
pub fn save(state_dir: &Path, state: &State) -> Result<(), StateError> {
    let path = state_path(state_dir, &state.project);
    write(state_dir, state).map_err(|source| StateError::Write { path, source })
}

fn write(state_dir: &Path, state: &State) -> io::Result<()> {
    let dir = project_dir(state_dir, &state.project);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join("state.json.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(serde_json::to_string_pretty(state)?.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, state_path(state_dir, &state.project))
}

/// Removes the state of `project` (its logs stay for reading).
pub fn remove(state_dir: &Path, project: &str) -> Result<(), StateError> {
    let path = state_path(state_dir, project);
    match std::fs::remove_file(&path) {
        Err(source) if source.kind() != io::ErrorKind::NotFound => {
            Err(StateError::Remove { path, source })
        }
        _ => Ok(()),
    }
}

/// An exclusive lock on one project: one `apply`/`destroy` at a time.
pub struct ProjectLock {
    _file: File,
}

/// Takes the project's lock; when another run holds it, says so through `waiting`
/// (with that run's pid) and waits for it.
pub fn lock(
    state_dir: &Path,
    project: &str,
    waiting: impl FnOnce(&str),
) -> Result<ProjectLock, StateError> {
    take_lock(state_dir, project, waiting).map_err(|source| StateError::Lock {
        project: project.into(),
        source,
    })
}

fn take_lock(
    state_dir: &Path,
    project: &str,
    waiting: impl FnOnce(&str),
) -> io::Result<ProjectLock> {
    std::fs::create_dir_all(state_dir)?;
    let path = state_dir.join(format!("{project}.lock"));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    let fd = file.as_raw_fd();
    // SAFETY: flock on a file descriptor this function owns.
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        waiting(if holder.is_empty() {
            "another conlink"
        } else {
            holder
        });
        // SAFETY: as above.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    file.set_len(0)?;
    write!(file, "pid {}", std::process::id())?;
    Ok(ProjectLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn temp_dir(name: &str) -> crate::testing::TempDir {
        crate::testing::TempDir::new(&format!("conlink-state-{name}-"))
    }

    #[test]
    fn a_second_run_of_a_project_says_who_holds_it_and_waits() {
        let tmp = temp_dir("lock");
        let dir = tmp.path.clone();
        let first = lock(&dir, "p", |_| panic!("the first run must not wait")).expect("lock");
        let (said, heard) = mpsc::channel();
        let (got, done) = mpsc::channel();
        let d2 = dir.clone();
        let second = std::thread::spawn(move || {
            let l = lock(&d2, "p", |holder| {
                said.send(holder.to_string()).expect("send")
            });
            got.send(()).expect("send");
            l
        });
        let holder = heard
            .recv_timeout(Duration::from_secs(5))
            .expect("told to wait");
        assert_eq!(holder, format!("pid {}", std::process::id()));
        // Still waiting while the first holds the lock.
        assert!(done.recv_timeout(Duration::from_millis(200)).is_err());
        drop(first);
        done.recv_timeout(Duration::from_secs(5))
            .expect("second run proceeds");
        second.join().expect("thread").expect("lock");
        // Another project is never blocked by this one.
        let _other = lock(&dir, "q", |_| panic!("other projects do not wait")).expect("lock");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn state_round_trips_and_replaces_records_by_step_id() {
        let tmp = temp_dir("file");
        let dir = tmp.path.clone();
        assert!(load(&dir, "p").expect("load").is_none());
        let mut st = State::new("p", "conlink:p", 7, ConlinkNs::Own);
        let rec = |v: &str| StepRecord {
            id: "network/3".into(),
            ns: Ns::Node("r0".into()),
            undo: Op::SysctlRestore {
                key: "net.ipv4.ip_forward".into(),
            },
            extra: Extra::Sysctl { previous: v.into() },
        };
        st.record(rec("0"));
        st.record(rec("1"));
        assert_eq!(st.steps.len(), 1);
        save(&dir, &st).expect("save");
        assert_eq!(load(&dir, "p").expect("load"), Some(st));
        remove(&dir, "p").expect("remove");
        remove(&dir, "p").expect("removing twice is fine");
        assert!(load(&dir, "p").expect("load").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
