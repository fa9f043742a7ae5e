//! Compose identity: which project, service and replica a container is, read from
//! the labels compose puts on every container it makes.
//!
//! Names are never parsed: compose v1 names replicas `project_service_1`, v2
//! `project-service-1`, and users may set `container_name`. The labels are the same
//! in both versions (docs/configuration.md, "Replicas, names and derived values").

use std::collections::BTreeMap;

pub const PROJECT_LABEL: &str = "com.docker.compose.project";
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
pub const NUMBER_LABEL: &str = "com.docker.compose.container-number";
pub const ONEOFF_LABEL: &str = "com.docker.compose.oneoff";

/// A container's place in a compose project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeIdentity {
    pub project: String,
    pub service: String,
    /// The replica number (1-based); `None` when the label is missing or not a
    /// positive number.
    pub replica: Option<u32>,
    /// A one-off container (`docker compose run`), not one of the service's replicas.
    pub oneoff: bool,
}

impl ComposeIdentity {
    /// The identity the labels give, if the container belongs to a compose project
    /// and service at all.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Option<ComposeIdentity> {
        let project = labels.get(PROJECT_LABEL).filter(|p| !p.is_empty())?;
        let service = labels.get(SERVICE_LABEL).filter(|s| !s.is_empty())?;
        let replica = labels
            .get(NUMBER_LABEL)
            .and_then(|n| n.trim().parse::<u32>().ok())
            .filter(|n| *n > 0);
        // Compose writes "True"/"False" (Python's spelling, kept by v2).
        let oneoff = labels
            .get(ONEOFF_LABEL)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Some(ComposeIdentity {
            project: project.clone(),
            service: service.clone(),
            replica,
            oneoff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn project_service_replica_and_oneoff() {
        let id = ComposeIdentity::from_labels(&labels(&[
            (PROJECT_LABEL, "lab"),
            (SERVICE_LABEL, "web"),
            (NUMBER_LABEL, "3"),
            (ONEOFF_LABEL, "False"),
        ]))
        .unwrap();
        assert_eq!(
            id,
            ComposeIdentity {
                project: "lab".into(),
                service: "web".into(),
                replica: Some(3),
                oneoff: false
            }
        );
        let run = ComposeIdentity::from_labels(&labels(&[
            (PROJECT_LABEL, "lab"),
            (SERVICE_LABEL, "web"),
            (NUMBER_LABEL, "1"),
            (ONEOFF_LABEL, "True"),
        ]))
        .unwrap();
        assert!(run.oneoff);
    }

    #[test]
    fn no_project_or_service_means_not_compose() {
        assert_eq!(ComposeIdentity::from_labels(&labels(&[])), None);
        assert_eq!(
            ComposeIdentity::from_labels(&labels(&[(PROJECT_LABEL, "lab")])),
            None
        );
        assert_eq!(
            ComposeIdentity::from_labels(&labels(&[(PROJECT_LABEL, ""), (SERVICE_LABEL, "w")])),
            None
        );
    }

    #[test]
    fn a_bad_number_is_no_replica_rather_than_a_guess() {
        for n in ["", "x", "0", "-1"] {
            let id = ComposeIdentity::from_labels(&labels(&[
                (PROJECT_LABEL, "lab"),
                (SERVICE_LABEL, "web"),
                (NUMBER_LABEL, n),
            ]))
            .unwrap();
            assert_eq!(id.replica, None, "{n:?}");
        }
    }
}
