//! vlan links: an 802.1Q interface on a parent in the host namespace, in the target.

use super::super::unit::UnitBuilder;
use super::instance::{on_parent, Instance};
use crate::plan::LinkSpec;

/// Creates the VLAN interface on its parent, straight into the target.
pub(super) fn create(u: &mut UnitBuilder, it: &Instance) -> bool {
    // The checks made sure a vlan link has its id.
    let id = it.link.vlanid.unwrap_or(1);
    on_parent(
        u,
        it,
        LinkSpec::Vlan {
            parent: it.parent(),
            id,
        },
    )
}
