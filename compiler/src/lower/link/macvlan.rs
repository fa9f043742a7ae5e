//! macvlan and macvtap links: interfaces with a MAC of their own on a parent in the
//! host namespace, in the target.

use super::super::unit::UnitBuilder;
use super::instance::{on_parent, Instance};
use crate::plan::{LinkSpec, MacvlanMode};

/// The link's mode (checked to be a macvlan mode).
fn mode(it: &Instance) -> Option<MacvlanMode> {
    it.link.mode.as_deref().and_then(MacvlanMode::from_name)
}

/// Creates a macvlan on its parent, straight into the target.
pub(super) fn create(u: &mut UnitBuilder, it: &Instance) -> bool {
    let spec = LinkSpec::Macvlan {
        parent: it.parent(),
        mode: mode(it),
    };
    on_parent(u, it, spec)
}

/// Creates a macvtap on its parent, straight into the target.
pub(super) fn create_tap(u: &mut UnitBuilder, it: &Instance) -> bool {
    let spec = LinkSpec::Macvtap {
        parent: it.parent(),
        mode: mode(it),
    };
    on_parent(u, it, spec)
}
