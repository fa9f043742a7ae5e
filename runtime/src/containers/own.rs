//! conlink's own container: whether conlink runs inside one, which one, and so which
//! compose project it serves.
//!
//! A container cannot ask the engine "who am I", so the id comes from what the engine
//! leaves in the container's view of the system. First `/proc/self/mountinfo`: Docker
//! and Podman bind-mount the container's own `hostname`, `hosts` and `resolv.conf`
//! from a directory named by its id (`…/containers/ID/hostname`,
//! `…/overlay-containers/ID/userdata/hostname`); this works with any cgroup setup.
//! Then `/proc/self/cgroup`, whose path names the id with cgroup v1 (`/docker/ID`,
//! `/libpod_parent/libpod-ID`) and with v2 when the container has no cgroup namespace
//! of its own (`/system.slice/docker-ID.scope`, `/machine.slice/libpod-ID.scope`).

use super::error::EngineError;
use super::model::Container;
use super::ContainerEngine;
use std::fs;
use std::path::Path;

/// What conlink found out about its own container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnContainer {
    /// No sign of a container: conlink runs on a host.
    NotInContainer,
    /// conlink runs in container `id`, but this engine does not know it (it belongs
    /// to another engine, or the id was misread).
    Unknown { id: String },
    /// conlink's container, as the engine describes it.
    Found(Container),
}

impl OwnContainer {
    /// The compose project conlink's container belongs to, if any.
    pub fn compose_project(&self) -> Option<String> {
        match self {
            OwnContainer::Found(c) => c.compose().map(|c| c.project),
            _ => None,
        }
    }
}

/// Looks up conlink's own container through `engine` (`proc` is normally `/proc`).
pub fn own_container(
    engine: &dyn ContainerEngine,
    proc: &Path,
) -> Result<OwnContainer, EngineError> {
    let Some(id) = own_container_id(proc) else {
        return Ok(OwnContainer::NotInContainer);
    };
    match engine.inspect(&id) {
        Ok(c) => Ok(OwnContainer::Found(c)),
        Err(EngineError::NotFound(_)) => Ok(OwnContainer::Unknown { id }),
        Err(e) => Err(e),
    }
}

/// The id of the container this process runs in, from `PROC/self/mountinfo`, else
/// `PROC/self/cgroup`.
pub fn own_container_id(proc: &Path) -> Option<String> {
    let read = |name: &str| fs::read_to_string(proc.join("self").join(name)).ok();
    read("mountinfo")
        .and_then(|t| id_from_mountinfo(&t))
        .or_else(|| read("cgroup").and_then(|t| id_from_cgroup(&t)))
}

/// The container id in the source path of the `/etc/hostname`, `/etc/hosts` or
/// `/etc/resolv.conf` mount (mountinfo(5): field 4 is the root of the mount within
/// its filesystem, field 5 the mount point).
pub fn id_from_mountinfo(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut fields = line.split(' ');
        let root = fields.nth(3)?;
        let mount_point = fields.next()?;
        if !matches!(
            mount_point,
            "/etc/hostname" | "/etc/hosts" | "/etc/resolv.conf"
        ) {
            return None;
        }
        id_in_path(root)
    })
}

/// The id in a path of the form `…/containers/ID/…` or `…/X-containers/ID/…`.
fn id_in_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .windows(2)
        .find(|w| (w[0] == "containers" || w[0].ends_with("-containers")) && is_id(w[1]))
        .map(|w| w[1].to_string())
}

/// The container id in a cgroup path: a segment that is an id, or `docker-ID.scope`,
/// `libpod-ID.scope`, `libpod-ID` (never `libpod-conmon-ID.scope`, Podman's monitor).
pub fn id_from_cgroup(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        // hierarchy-ID:controllers:path
        let path = line.splitn(3, ':').nth(2)?;
        path.split('/').rev().find_map(|segment| {
            let name = segment.strip_suffix(".scope").unwrap_or(segment);
            let id = name
                .strip_prefix("docker-")
                .or_else(|| name.strip_prefix("libpod-"))
                .unwrap_or(name);
            is_id(id).then(|| id.to_string())
        })
    })
}

/// Docker and Podman ids: 64 lowercase hex digits.
fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f1c0a7be2d94c58a6e1b0f27d4c9e8a5b3d2c1f0e9d8c7b6a5f4e3d2c1b0a99";

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/containers/own")
            .join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn mountinfo_of_docker_and_podman_containers() {
        assert_eq!(
            id_from_mountinfo(&fixture("mountinfo-docker")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            id_from_mountinfo(&fixture("mountinfo-docker-data-root")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            id_from_mountinfo(&fixture("mountinfo-podman")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            id_from_mountinfo(&fixture("mountinfo-podman-rootless")).as_deref(),
            Some(ID)
        );
    }

    #[test]
    fn mountinfo_of_a_host_or_a_volume_names_no_container() {
        assert_eq!(id_from_mountinfo(&fixture("mountinfo-host")), None);
        // A volume whose source path looks like a container directory, mounted
        // elsewhere than /etc/host*: not conlink's own container.
        assert_eq!(id_from_mountinfo(&fixture("mountinfo-volume-only")), None);
    }

    #[test]
    fn cgroup_paths_of_each_engine_and_version() {
        for name in [
            "cgroup-v1-docker",
            "cgroup-v1-docker-systemd",
            "cgroup-v2-docker",
            "cgroup-v1-podman",
            "cgroup-v2-podman",
        ] {
            assert_eq!(
                id_from_cgroup(&fixture(name)).as_deref(),
                Some(ID),
                "{name}"
            );
        }
    }

    #[test]
    fn cgroup_paths_without_an_id() {
        // cgroup v2 with a private cgroup namespace (Docker's default there) shows "/".
        assert_eq!(id_from_cgroup(&fixture("cgroup-v2-namespaced")), None);
        assert_eq!(id_from_cgroup(&fixture("cgroup-v1-host")), None);
        assert_eq!(
            id_from_cgroup("0::/machine.slice/libpod-conmon-abc.scope\n"),
            None
        );
    }

    #[test]
    fn mountinfo_first_then_cgroup() {
        let dir = std::env::temp_dir().join(crate::testing::unique("conlink-own-"));
        fs::create_dir_all(dir.join("self")).unwrap();
        fs::write(dir.join("self/mountinfo"), fixture("mountinfo-host")).unwrap();
        fs::write(dir.join("self/cgroup"), fixture("cgroup-v1-docker")).unwrap();
        assert_eq!(own_container_id(&dir).as_deref(), Some(ID));
        fs::write(dir.join("self/cgroup"), fixture("cgroup-v2-namespaced")).unwrap();
        assert_eq!(own_container_id(&dir), None);
        fs::write(dir.join("self/mountinfo"), fixture("mountinfo-podman")).unwrap();
        assert_eq!(own_container_id(&dir).as_deref(), Some(ID));
        fs::remove_dir_all(&dir).unwrap();
    }
}
