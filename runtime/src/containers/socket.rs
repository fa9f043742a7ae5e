//! Where the engines' sockets are: the settings the command line fills in, and the
//! order in which conlink looks.
//!
//! Docker: `--engine-socket PATH`, else `DOCKER_HOST` (only `unix://PATH`: conlink must
//! run on the engine's machine to reach its containers' namespaces), else
//! `/var/run/docker.sock`. Podman: `--podman-socket PATH`, else
//! `/run/podman/podman.sock`. A socket named explicitly (option or variable) must work;
//! a default one that does not exist just means that engine is not here.

use std::fmt;
use std::path::PathBuf;

pub const DOCKER_DEFAULT_SOCKET: &str = "/var/run/docker.sock";
pub const PODMAN_DEFAULT_SOCKET: &str = "/run/podman/podman.sock";

/// Which engine a socket belongs to. Both speak the Docker Engine API; the kind only
/// changes defaults and wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "Docker",
            EngineKind::Podman => "Podman",
        }
    }
}

/// How a socket path was chosen (said in errors, so the user knows what to change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line option, e.g. `--engine-socket`.
    Option(&'static str),
    /// The `DOCKER_HOST` environment variable.
    DockerHost,
    /// The engine's usual path.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Option(o) => write!(f, "from {o}"),
            Origin::DockerHost => f.write_str("from DOCKER_HOST"),
            Origin::Default => f.write_str("the default path"),
        }
    }
}

/// One socket to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketChoice {
    pub engine: EngineKind,
    pub path: PathBuf,
    pub origin: Origin,
}

impl SocketChoice {
    /// Whether the user named this socket (then it must work) rather than conlink
    /// guessing the usual path (then its absence means "no such engine here").
    pub fn is_explicit(&self) -> bool {
        self.origin != Origin::Default
    }
}

/// What the command line and environment say about engine sockets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineSettings {
    /// `--engine-socket PATH`.
    pub engine_socket: Option<PathBuf>,
    /// `--podman-socket PATH`.
    pub podman_socket: Option<PathBuf>,
    /// The value of `DOCKER_HOST`, if set.
    pub docker_host: Option<String>,
}

impl EngineSettings {
    /// Settings from the two options plus `DOCKER_HOST` read from the environment.
    pub fn from_env(engine_socket: Option<PathBuf>, podman_socket: Option<PathBuf>) -> Self {
        EngineSettings {
            engine_socket,
            podman_socket,
            docker_host: std::env::var("DOCKER_HOST").ok(),
        }
    }

    /// The Docker socket to use.
    pub fn docker(&self) -> Result<SocketChoice, UnsupportedHost> {
        let (path, origin) = if let Some(p) = &self.engine_socket {
            (p.clone(), Origin::Option("--engine-socket"))
        } else if let Some(host) = self.docker_host.as_deref().filter(|h| !h.is_empty()) {
            (unix_path(host)?, Origin::DockerHost)
        } else {
            (PathBuf::from(DOCKER_DEFAULT_SOCKET), Origin::Default)
        };
        Ok(SocketChoice {
            engine: EngineKind::Docker,
            path,
            origin,
        })
    }

    /// The Podman socket to use.
    pub fn podman(&self) -> SocketChoice {
        let (path, origin) = match &self.podman_socket {
            Some(p) => (p.clone(), Origin::Option("--podman-socket")),
            None => (PathBuf::from(PODMAN_DEFAULT_SOCKET), Origin::Default),
        };
        SocketChoice {
            engine: EngineKind::Podman,
            path,
            origin,
        }
    }

    /// The one socket to use: one the user named (`--engine-socket`, then
    /// `--podman-socket`, then `DOCKER_HOST`), else Docker's usual socket when it
    /// exists, else Podman's when that exists, else Docker's (whose absence the
    /// connection then reports). `exists` says whether a path is there.
    pub fn choose(
        &self,
        exists: impl Fn(&std::path::Path) -> bool,
    ) -> Result<SocketChoice, UnsupportedHost> {
        if self.engine_socket.is_some() {
            return self.docker();
        }
        if self.podman_socket.is_some() {
            return Ok(self.podman());
        }
        let docker = self.docker()?;
        if docker.is_explicit() || exists(&docker.path) {
            return Ok(docker);
        }
        let podman = self.podman();
        Ok(if exists(&podman.path) { podman } else { docker })
    }

    /// The sockets to try, Docker's first.
    pub fn candidates(&self) -> Result<Vec<SocketChoice>, UnsupportedHost> {
        Ok(vec![self.docker()?, self.podman()])
    }
}

/// `DOCKER_HOST` names something other than a local unix socket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "DOCKER_HOST={value} is not supported: conlink reaches the engine through a local \
     unix socket only (it must see the containers' processes anyway); set \
     DOCKER_HOST=unix:///path/to/docker.sock or use --engine-socket PATH"
)]
pub struct UnsupportedHost {
    pub value: String,
}

/// The path of a `unix://PATH` engine address. Anything else (tcp://, ssh://, a bare
/// path) is refused with a sentence saying what to write instead.
fn unix_path(host: &str) -> Result<PathBuf, UnsupportedHost> {
    match host.strip_prefix("unix://") {
        Some(path) if path.starts_with('/') => Ok(PathBuf::from(path)),
        _ => Err(UnsupportedHost {
            value: host.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::error::EngineError;

    #[test]
    fn the_socket_chosen_is_the_named_one_else_the_engine_that_is_there() {
        let there = |paths: &'static [&'static str]| {
            move |p: &std::path::Path| paths.iter().any(|q| p == std::path::Path::new(q))
        };
        let both = there(&[DOCKER_DEFAULT_SOCKET, PODMAN_DEFAULT_SOCKET]);
        let chosen = |s: EngineSettings, exists: &dyn Fn(&std::path::Path) -> bool| {
            let c = s.choose(exists).unwrap();
            (c.engine, c.path.display().to_string(), c.origin)
        };
        // Named: used whether or not it exists.
        assert_eq!(
            chosen(
                settings(Some("/e.sock"), Some("/p.sock"), Some("unix:///h.sock")),
                &both
            ),
            (
                EngineKind::Docker,
                "/e.sock".into(),
                Origin::Option("--engine-socket")
            )
        );
        assert_eq!(
            chosen(
                settings(None, Some("/p.sock"), Some("unix:///h.sock")),
                &both
            ),
            (
                EngineKind::Podman,
                "/p.sock".into(),
                Origin::Option("--podman-socket")
            )
        );
        assert_eq!(
            chosen(settings(None, None, Some("unix:///h.sock")), &there(&[])),
            (EngineKind::Docker, "/h.sock".into(), Origin::DockerHost)
        );
        // Usual paths: Docker's when it is there, else Podman's, else Docker's.
        assert_eq!(
            chosen(settings(None, None, None), &both).0,
            EngineKind::Docker
        );
        assert_eq!(
            chosen(settings(None, None, None), &there(&[PODMAN_DEFAULT_SOCKET])),
            (
                EngineKind::Podman,
                PODMAN_DEFAULT_SOCKET.into(),
                Origin::Default
            )
        );
        assert_eq!(
            chosen(settings(None, None, None), &there(&[])),
            (
                EngineKind::Docker,
                DOCKER_DEFAULT_SOCKET.into(),
                Origin::Default
            )
        );
    }

    fn settings(engine: Option<&str>, podman: Option<&str>, host: Option<&str>) -> EngineSettings {
        EngineSettings {
            engine_socket: engine.map(PathBuf::from),
            podman_socket: podman.map(PathBuf::from),
            docker_host: host.map(String::from),
        }
    }

    #[test]
    fn the_option_wins_over_docker_host_and_the_default() {
        let s = settings(Some("/a.sock"), None, Some("unix:///b.sock"));
        let c = s.docker().unwrap();
        assert_eq!(c.path, PathBuf::from("/a.sock"));
        assert_eq!(c.origin, Origin::Option("--engine-socket"));
        assert!(c.is_explicit());
    }

    #[test]
    fn docker_host_unix_is_used_when_there_is_no_option() {
        let c = settings(None, None, Some("unix:///run/user/1000/docker.sock"))
            .docker()
            .unwrap();
        assert_eq!(c.path, PathBuf::from("/run/user/1000/docker.sock"));
        assert_eq!(c.origin, Origin::DockerHost);
    }

    #[test]
    fn empty_docker_host_means_unset() {
        let c = settings(None, None, Some("")).docker().unwrap();
        assert_eq!(c.path, PathBuf::from(DOCKER_DEFAULT_SOCKET));
        assert_eq!(c.origin, Origin::Default);
        assert!(!c.is_explicit());
    }

    #[test]
    fn docker_host_other_than_unix_is_a_clear_error() {
        for host in [
            "tcp://10.0.0.1:2375",
            "ssh://me@box",
            "/var/run/docker.sock",
            "unix://rel",
        ] {
            let err = settings(None, None, Some(host)).docker().unwrap_err();
            let text = err.to_string();
            assert_eq!(err.value, host);
            assert!(text.contains(host), "{text}");
            assert!(text.contains("--engine-socket"), "{text}");
        }
    }

    #[test]
    fn podman_has_its_own_option_and_default() {
        let d = settings(None, None, None).podman();
        assert_eq!(d.path, PathBuf::from(PODMAN_DEFAULT_SOCKET));
        assert_eq!(d.engine, EngineKind::Podman);
        let o = settings(None, Some("/p.sock"), Some("unix:///d.sock")).podman();
        assert_eq!(o.path, PathBuf::from("/p.sock"));
        assert_eq!(o.origin, Origin::Option("--podman-socket"));
    }

    #[test]
    fn missing_sockets_error_lists_every_path_and_how_to_set_one() {
        let s = settings(None, None, None);
        let err = EngineError::SocketMissing {
            tried: s.candidates().unwrap(),
        };
        let text = err.to_string();
        assert!(
            text.contains("/var/run/docker.sock (Docker, the default path)"),
            "{text}"
        );
        assert!(
            text.contains("/run/podman/podman.sock (Podman, the default path)"),
            "{text}"
        );
        assert!(
            text.contains("--engine-socket") && text.contains("--podman-socket"),
            "{text}"
        );
    }
}
