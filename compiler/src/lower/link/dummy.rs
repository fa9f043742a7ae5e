//! dummy links: an interface of the target's own, with nothing behind it.

use super::super::unit::UnitBuilder;
use super::instance::Instance;
use crate::plan::{LinkSpec, Op};

/// Creates the interface in the target.
pub(super) fn create(u: &mut UnitBuilder, it: &Instance) -> bool {
    u.step(
        it.ns,
        Op::LinkAdd {
            name: it.dev.to_string(),
            netns: None,
            mtu: it.mtu,
            mac: it.mac,
            altname: None,
            master: None,
            up: false,
            spec: Box::new(LinkSpec::Dummy),
        },
    );
    true
}
