//! The state file: what conlink created for a project, with the identities the
//! kernel gave it at run time (docs/plan.md, "What a plan is": what a plan does not
//! hold).
//!
//! `STATE_DIR/PROJECT/state.json` is rewritten atomically (write, then rename) after
//! every apply, under the project's lock (`crate::lock`), in conlink's private
//! directory (`crate::files`: 0700, files 0600, no symbolic link followed). `destroy`
//! uses it when present and the kernel's ownership marks when it is not, or when it is
//! damaged.
//!
//! What the file says is trusted only so far: it is read back as this project's, in
//! this format, or refused ([`load`]); and an undo it records is carried out only on
//! what is conlink's (`crate::steps::undo_recorded`).

use crate::error::{Damage, StateError};
use crate::ethtool::Saved;
use crate::files::{self, Open};
use crate::resolve::ConlinkNs;
use compiler::plan::{Ns, Op};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Read};
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
    /// What earlier versions recorded for a link step (the ifindex they chose): read
    /// from their state files, never written.
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

const STATE_FILE: &str = "state.json";

fn state_path(state_dir: &Path, project: &str) -> PathBuf {
    project_dir(state_dir, project).join(STATE_FILE)
}

/// Reads the state of `project`; `None` when there is none. A file that is not a
/// conlink state file (damaged, or a symbolic link), another project's, or in a format
/// this conlink does not read is an error saying which.
pub fn load(state_dir: &Path, project: &str) -> Result<Option<State>, StateError> {
    let path = state_path(state_dir, project);
    let mut text = String::new();
    let read = match files::open(&path, Open::Read) {
        Ok(mut f) => f.read_to_string(&mut text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if files::is_symlink_error(&e) => {
            return Err(StateError::Damaged {
                path,
                why: Damage::Link,
            })
        }
        Err(e) => Err(e),
    };
    match read {
        Ok(_) => parse(&path, &text, project).map(Some),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => Err(StateError::Damaged {
            path,
            why: Damage::NotText,
        }),
        Err(source) => Err(StateError::Read { path, source }),
    }
}

/// Reads a state file's text: its format and project first, so that a file of another
/// version or project is named as such rather than as damaged. (Read twice rather than
/// through a `serde_json::Value`, which would hold a large state file several times
/// over.)
fn parse(path: &Path, text: &str, project: &str) -> Result<State, StateError> {
    /// The fields every version of the state file has.
    #[derive(Deserialize)]
    struct Header {
        format: Option<u64>,
        project: Option<String>,
    }
    let damaged = |why| StateError::Damaged {
        path: path.to_path_buf(),
        why,
    };
    let header: Header =
        serde_json::from_str(text).map_err(|e| damaged(Damage::Json(e.to_string())))?;
    let (Some(format), Some(found)) = (header.format, header.project) else {
        return Err(damaged(Damage::Shape(
            "it has no `format` and `project`".into(),
        )));
    };
    if format != u64::from(STATE_FORMAT) {
        return Err(StateError::Format {
            path: path.to_path_buf(),
            found: format,
            reads: STATE_FORMAT,
        });
    }
    if found != project {
        return Err(StateError::OtherProject {
            path: path.to_path_buf(),
            found,
        });
    }
    serde_json::from_str(text).map_err(|e| damaged(Damage::Shape(e.to_string())))
}

/// Writes the state atomically.
pub fn save(state_dir: &Path, state: &State) -> Result<(), StateError> {
    let path = state_path(state_dir, &state.project);
    write(state_dir, state).map_err(|source| StateError::Write { path, source })
}

fn write(state_dir: &Path, state: &State) -> io::Result<()> {
    let dir = project_dir(state_dir, &state.project);
    private_dirs(state_dir, &state.project)?;
    let mut text = serde_json::to_string_pretty(state)?;
    text.push('\n');
    files::replace(&dir, STATE_FILE, text.as_bytes())
}

/// Makes the state directory (when missing) and the project's directory private.
pub fn private_dirs(state_dir: &Path, project: &str) -> io::Result<()> {
    files::private_dir(state_dir, false)?;
    files::private_dir(&project_dir(state_dir, project), true)
}

/// Removes the state of `project` (logs with output stay for reading; empty ones go).
/// A symbolic link there is removed itself, never what it points to.
pub fn remove(state_dir: &Path, project: &str) -> Result<(), StateError> {
    let path = state_path(state_dir, project);
    match std::fs::remove_file(&path) {
        Err(source) if source.kind() != io::ErrorKind::NotFound => {
            Err(StateError::Remove { path, source })
        }
        _ => {
            // The project's directory goes with its last file: empty command logs
            // (commands that printed nothing) go, and the logs directory with them
            // unless a log with output keeps it.
            if let Some(dir) = path.parent() {
                let logs = dir.join("logs");
                remove_empty_logs(&logs);
                let _ = std::fs::remove_dir(&logs);
                let _ = std::fs::remove_dir(dir);
            }
            Ok(())
        }
    }
}

/// Removes the empty regular `*.log` files in `logs` (never following a link: the
/// entry's own metadata decides, and a link is not a regular file).
fn remove_empty_logs(logs: &Path) {
    let Ok(entries) = std::fs::read_dir(logs) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let empty_log = path.extension().is_some_and(|e| e == "log")
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0);
        if empty_log {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;

    fn record(v: &str) -> StepRecord {
        StepRecord {
            id: "network/3".into(),
            ns: Ns::Node("r0".into()),
            undo: Op::SysctlRestore {
                key: "net.ipv4.ip_forward".into(),
            },
            extra: Extra::Sysctl { previous: v.into() },
        }
    }

    #[test]
    fn state_round_trips_and_replaces_records_by_step_id() {
        let dir = TempDir::new("conlink-state-");
        let dir = dir.path();
        assert!(load(dir, "p").expect("load").is_none());
        let mut st = State::new("p", "conlink:p", 7, ConlinkNs::Own);
        st.record(record("0"));
        st.record(record("1"));
        assert_eq!(st.steps.len(), 1);
        save(dir, &st).expect("save");
        assert_eq!(load(dir, "p").expect("load"), Some(st));
        remove(dir, "p").expect("remove");
        remove(dir, "p").expect("removing twice is fine");
        assert!(load(dir, "p").expect("load").is_none());
    }

    #[test]
    fn removal_takes_empty_logs_and_keeps_those_with_output() {
        let dir = TempDir::new("conlink-state-");
        let dir = dir.path();
        let st = State::new("p", "conlink:p", 7, ConlinkNs::Own);
        let logs = project_dir(dir, "p").join("logs");
        std::fs::create_dir_all(&logs).expect("logs");
        save(dir, &st).expect("save");
        remove(dir, "p").expect("remove");
        assert!(!project_dir(dir, "p").exists(), "nothing of p is left");

        // Logs of commands that printed nothing go too.
        std::fs::create_dir_all(&logs).expect("logs");
        std::fs::write(logs.join("node_h1_3.log"), "").expect("log");
        save(dir, &st).expect("save");
        remove(dir, "p").expect("remove");
        assert!(!project_dir(dir, "p").exists(), "nothing of p is left");

        std::fs::create_dir_all(&logs).expect("logs");
        std::fs::write(logs.join("node_h1_3.log"), "output\n").expect("log");
        std::fs::write(logs.join("node_h2_3.log"), "").expect("log");
        save(dir, &st).expect("save");
        remove(dir, "p").expect("remove");
        assert!(
            logs.join("node_h1_3.log").exists(),
            "a log with output stays"
        );
        assert!(!logs.join("node_h2_3.log").exists(), "an empty log goes");
        assert!(!state_path(dir, "p").exists());
    }

    #[test]
    fn damaged_foreign_and_future_state_files_are_named_as_such() {
        let dir = TempDir::new("conlink-state-");
        let dir = dir.path();
        let mut st = State::new("p", "conlink:p", 7, ConlinkNs::Own);
        st.record(record("0"));
        save(dir, &st).expect("save");
        let path = state_path(dir, "p");
        let good = std::fs::read_to_string(&path).expect("read");
        let cases = [
            ("garbage".to_string(), "not a conlink state file"),
            (
                good[..good.len() / 2].to_string(),
                "not a conlink state file",
            ),
            ("{}".to_string(), "not a conlink state file"),
            (
                good.replace("\"steps\": [", "\"steps\": 3, \"x\": ["),
                "not a conlink state file",
            ),
            (
                good.replace("\"project\": \"p\"", "\"project\": \"q\""),
                "project q",
            ),
            (
                good.replacen("\"format\": 1", "\"format\": 2", 1),
                "format 2",
            ),
        ];
        for (text, says) in cases {
            std::fs::write(&path, &text).expect("write");
            let e = load(dir, "p").expect_err(&text);
            assert!(e.to_string().contains(says), "{text}: {e}");
            assert_eq!(
                e.is_damaged(),
                says == "not a conlink state file",
                "{text}: {e}"
            );
        }
        std::fs::write(&path, [0xff, 0xfe, b'{']).expect("write");
        assert!(load(dir, "p").expect_err("not text").is_damaged());
    }
}
