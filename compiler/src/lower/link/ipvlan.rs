//! ipvlan and ipvtap links: interfaces sharing their parent's MAC on a parent in the
//! host namespace, in the target.

use super::super::unit::UnitBuilder;
use super::instance::{on_parent, Instance};
use crate::plan::{IpvlanMode, LinkSpec};

/// The link's mode (checked to be an ipvlan mode).
fn mode(it: &Instance) -> Option<IpvlanMode> {
    it.link.mode.as_deref().and_then(IpvlanMode::from_name)
}

/// Creates an ipvlan on its parent, straight into the target.
pub(super) fn create(u: &mut UnitBuilder, it: &Instance) -> bool {
    let spec = LinkSpec::Ipvlan {
        parent: it.parent(),
        mode: mode(it),
    };
    on_parent(u, it, spec)
}

/// Creates an ipvtap on its parent, straight into the target.
pub(super) fn create_tap(u: &mut UnitBuilder, it: &Instance) -> bool {
    let spec = LinkSpec::Ipvtap {
        parent: it.parent(),
        mode: mode(it),
    };
    on_parent(u, it, spec)
}
