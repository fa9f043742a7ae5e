//! A container's network namespace: the one its process is in, `/proc/PID/ns/net`
//! with PID the engine's `State.Pid`.
//!
//! That pid is a pid of the host's process namespace. conlink on the host sees it as
//! is; conlink in a container sees it only with `pid: host`. Without that, the
//! number is either no process at all in conlink's `/proc`, or — worse — some other
//! process of conlink's own container with the same number. The second case is
//! caught by checking whose container the process is in (its hostname mount, as in
//! [`own`](super::own)) before its namespace is used.
//!
//! Opening the namespace file is a ptrace read check of the kernel's; when it is
//! refused, `access` says what conlink's container lacks.

use super::access;
use super::error::EngineError;
use super::model::Container;
use super::own::id_from_mountinfo;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// `PROC/PID/ns/net` of a running container (`proc` is normally `/proc`).
pub fn netns_path(container: &Container, proc: &Path) -> Result<PathBuf, EngineError> {
    Ok(proc
        .join(running_pid(container)?.to_string())
        .join("ns/net"))
}

/// Opens the network namespace of a running container, after checking that the
/// process behind the pid is the container's.
pub fn open_netns(container: &Container, proc: &Path) -> Result<File, EngineError> {
    let pid = running_pid(container)?;
    let dir = proc.join(pid.to_string());
    let not_visible = |reason: String| EngineError::PidNotVisible {
        name: container.name.clone(),
        pid,
        reason,
    };
    let file = File::open(dir.join("ns/net")).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => not_visible(format!(
            "its process {pid} does not exist in {}",
            proc.display()
        )),
        io::ErrorKind::PermissionDenied => EngineError::NamespaceRefused {
            name: container.name.clone(),
            path: dir.join("ns/net"),
            why: access::explain(
                &container.name,
                &access::Seen::read(&dir),
                &access::Seen::read(Path::new("/proc/self")),
            ),
            source: e,
        },
        _ => EngineError::io(format!("opening {}", dir.join("ns/net").display()), e),
    })?;
    // Checked after opening: if the pid is reused from here on, the file still
    // holds the namespace that was checked.
    match fs::read_to_string(dir.join("mountinfo")) {
        Ok(text) => match id_from_mountinfo(&text) {
            Some(id) if id != container.id => Err(not_visible(format!(
                "process {pid} in {} belongs to container {}, not to it",
                proc.display(),
                short(&id)
            ))),
            // Its own id, or no container id to be seen: nothing says it is wrong.
            _ => Ok(file),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(EngineError::NotRunning {
            name: container.name.clone(),
            state: "its process just ended".into(),
        }),
        Err(_) => Ok(file),
    }
}

fn running_pid(container: &Container) -> Result<u32, EngineError> {
    match container.pid {
        Some(pid) if container.is_running() => Ok(pid),
        _ => Err(EngineError::NotRunning {
            name: container.name.clone(),
            state: container.state.to_string(),
        }),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::model::ContainerState;
    use std::collections::BTreeMap;

    const ID: &str = "3f1c0a7be2d94c58a6e1b0f27d4c9e8a5b3d2c1f0e9d8c7b6a5f4e3d2c1b0a99";
    const OTHER: &str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";

    fn container(state: ContainerState, pid: Option<u32>) -> Container {
        Container {
            id: ID.into(),
            name: "web".into(),
            state,
            pid,
            labels: BTreeMap::new(),
            network_mode: "none".into(),
            image: String::new(),
            created: None,
            started: None,
        }
    }

    /// A fake /proc with one process: a `ns/net` file and a mountinfo naming `owner`.
    fn fake_proc(pid: u32, owner: Option<&str>) -> PathBuf {
        let dir = std::env::temp_dir().join(crate::testing::unique("conlink-proc-"));
        let p = dir.join(pid.to_string());
        fs::create_dir_all(p.join("ns")).unwrap();
        fs::write(p.join("ns/net"), "").unwrap();
        let mountinfo = match owner {
            Some(id) => format!(
                "620 612 254:1 /var/lib/docker/containers/{id}/hostname /etc/hostname rw - ext4 /dev/vda1 rw\n"
            ),
            None => "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n".to_string(),
        };
        fs::write(p.join("mountinfo"), mountinfo).unwrap();
        dir
    }

    #[test]
    fn a_container_without_a_process_is_not_running() {
        for (state, pid) in [
            (ContainerState::Exited, None),
            (ContainerState::Created, None),
            (ContainerState::Running, None),
        ] {
            let err = open_netns(&container(state.clone(), pid), Path::new("/proc")).unwrap_err();
            assert!(
                matches!(err, EngineError::NotRunning { .. }),
                "{state}: {err}"
            );
            assert!(
                err.to_string().contains("container web is not running"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_running_process_of_this_very_test_is_found() {
        // On a host (or in this test's container) our own pid's mountinfo names no
        // other container, so its namespace opens.
        let me = container(ContainerState::Running, Some(std::process::id()));
        assert!(open_netns(&me, Path::new("/proc")).is_ok());
        assert_eq!(
            netns_path(&me, Path::new("/proc")).unwrap(),
            PathBuf::from(format!("/proc/{}/ns/net", std::process::id()))
        );
    }

    #[test]
    fn a_pid_missing_from_proc_asks_for_pid_host() {
        let proc = fake_proc(100, None);
        let err = open_netns(&container(ContainerState::Running, Some(4242)), &proc).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, EngineError::PidNotVisible { pid: 4242, .. }),
            "{text}"
        );
        assert!(text.contains("`pid: host`"), "{text}");
        fs::remove_dir_all(&proc).unwrap();
    }

    #[test]
    fn a_pid_of_another_container_is_refused() {
        let proc = fake_proc(7, Some(OTHER));
        let err = open_netns(&container(ContainerState::Running, Some(7)), &proc).unwrap_err();
        assert!(
            err.to_string()
                .contains("belongs to container 9e8d7c6b5a4f"),
            "{err}"
        );
        fs::remove_dir_all(&proc).unwrap();

        let proc = fake_proc(7, Some(ID));
        assert!(open_netns(&container(ContainerState::Running, Some(7)), &proc).is_ok());
        fs::remove_dir_all(&proc).unwrap();
    }
}
