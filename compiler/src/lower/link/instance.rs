//! What every kind's creation gets: one link of one target instance with the values
//! derived alike for all kinds, and the creation shared by the kinds that sit on a
//! parent interface.

use super::super::unit::UnitBuilder;
use crate::check::CheckedLink;
use crate::plan::{LinkSpec, Mac, Ns, Op};

/// One link of one target instance, with what every kind's creation needs.
pub(super) struct Instance<'a> {
    pub link: &'a CheckedLink,
    /// The target instance's namespace.
    pub ns: &'a Ns,
    /// The replica (1-based) when the target is a service.
    pub replica: Option<u32>,
    /// The interface's name inside the target.
    pub dev: &'a str,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
}

impl Instance<'_> {
    /// The parent interface (`outer-dev`) of a kind created on one; the checks made
    /// sure such kinds have it.
    pub(super) fn parent(&self) -> String {
        self.link
            .outer_dev
            .as_ref()
            .map(|o| o.value.clone())
            .unwrap_or_default()
    }
}

/// Creates an interface of a kind that sits on a parent interface in the host
/// namespace, straight into the target (never moved afterwards).
pub(super) fn on_parent(u: &mut UnitBuilder, it: &Instance, spec: LinkSpec) -> bool {
    u.step(
        &Ns::Host,
        Op::LinkAdd {
            name: it.dev.to_string(),
            netns: Some(it.ns.clone()),
            mtu: it.mtu,
            mac: it.mac,
            altname: None,
            master: None,
            up: false,
            spec: Box::new(spec),
        },
    );
    true
}
