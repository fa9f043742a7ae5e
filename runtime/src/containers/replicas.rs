//! The replica counts a plan of compose services follows when conlink can see the
//! containers (docs/decisions.md, "conlink run"): a service has as many replicas as
//! the configuration asks for, or as the engine shows (its highest replica number),
//! whichever is more, and at least one. `conlink run` plans again with these counts
//! when its containers change, and `conlink status` plans with them before it compares,
//! so both see a `docker compose up --scale` the same way. One function for both, so
//! they cannot come to disagree.

use compiler::plan::ServiceScale;
use std::collections::BTreeMap;

/// The counts to plan with, when they differ from `planned` (the plan's own); `None`
/// when the plan already has them. `floor`: the count below which a service does not
/// go (the configuration's; `conlink run` lowers a service's to 0 once one of its
/// replicas was removed); `observed`: the engine's counts
/// ([`View::replica_counts`](super::resolver::View::replica_counts)).
pub fn follow(
    planned: &[ServiceScale],
    floor: &BTreeMap<String, u32>,
    observed: &BTreeMap<String, u32>,
) -> Option<BTreeMap<String, u32>> {
    let mut want = BTreeMap::new();
    for s in planned {
        let floor = floor.get(&s.service).copied().unwrap_or(0);
        let seen = observed.get(&s.service).copied().unwrap_or(0);
        want.insert(s.service.clone(), floor.max(seen).max(1));
    }
    let same = planned
        .iter()
        .all(|s| want.get(&s.service) == Some(&s.replicas));
    (!same).then_some(want)
}

/// The counts `planned` has, as the floor a one-shot command (`status`) follows from.
pub fn counts_of(planned: &[ServiceScale]) -> BTreeMap<String, u32> {
    planned
        .iter()
        .map(|s| (s.service.clone(), s.replicas))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use compiler::plan::ScaleSource;

    fn scale(service: &str, replicas: u32) -> ServiceScale {
        ServiceScale {
            service: service.into(),
            replicas,
            source: ScaleSource::Compose,
        }
    }

    fn counts(list: &[(&str, u32)]) -> BTreeMap<String, u32> {
        list.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn more_replicas_than_configured_are_followed() {
        let planned = [scale("node", 2), scale("internet", 1)];
        let want = follow(
            &planned,
            &counts_of(&planned),
            &counts(&[("node", 5), ("internet", 1)]),
        );
        assert_eq!(want, Some(counts(&[("node", 5), ("internet", 1)])));
    }

    #[test]
    fn fewer_replicas_than_the_floor_keep_the_floor() {
        let planned = [scale("node", 2)];
        assert_eq!(
            follow(&planned, &counts_of(&planned), &counts(&[("node", 1)])),
            None
        );
        // Without a floor (a run after a scale-down), the containers decide, down to 1.
        assert_eq!(
            follow(&planned, &counts(&[("node", 0)]), &BTreeMap::new()),
            Some(counts(&[("node", 1)]))
        );
    }
}
