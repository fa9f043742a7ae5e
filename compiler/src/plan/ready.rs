//! The ready marker (docs/plan.md, "Units"): the altname conlink gives the first
//! interface of a container's (or service replica's) unit once every link of that
//! unit is in place, so that a process inside the container can tell its links are
//! complete without naming them and without a shared volume (`conlink wait`).
//!
//! The marker names the project, so two projects wiring one container each leave
//! their own. It is an interface name property like any altname, so it must be a
//! valid interface name of at most 127 bytes: project names (at most 63 bytes of
//! lower-case letters, digits, `-` and `_`) keep it one.

/// What every ready marker starts with; the project name follows.
pub const READY_PREFIX: &str = "conlink-ready.";

/// The ready marker of `project`: `conlink-ready.PROJECT`.
pub fn ready_altname(project: &str) -> String {
    format!("{READY_PREFIX}{project}")
}

/// The project a ready marker names, if `altname` is one.
pub fn ready_project(altname: &str) -> Option<&str> {
    altname.strip_prefix(READY_PREFIX).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_names_its_project_and_nothing_else_is_a_marker() {
        assert_eq!(ready_altname("demo"), "conlink-ready.demo");
        assert_eq!(ready_project("conlink-ready.demo"), Some("demo"));
        assert_eq!(ready_project("conlink-ready."), None);
        assert_eq!(ready_project("conlink-ready"), None);
        assert_eq!(ready_project("web_1-eth0"), None);
        // The longest project name still gives a valid altname (ALTIFNAMSIZ is 128).
        assert!(ready_altname(&"p".repeat(63)).len() < 128);
    }
}
