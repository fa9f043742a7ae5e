//! Lowering: a checked configuration becomes a [`Plan`] (docs/plan.md).
//!
//! This is whole-configuration work: replica counts multiply targets into instances,
//! generated names must be unique across everything, and bridge modes are decided. The
//! output order is the configuration's order, so the plan is deterministic.
//!
//! Unit layout (docs/plan.md, "Units"): one `network` unit (conlink's namespace, nodes,
//! bridges, tunnels), then one unit per target instance (a node, a container, one
//! replica of a service) with that instance's links and commands, then one
//! `patch:BRIDGE` unit per patch bridge, applied once both its ends exist.

mod context;
mod link;
pub mod names;
mod network;
mod target;
#[cfg(test)]
mod tests;
mod unit;

pub use context::LowerOptions;
pub use unit::target_ns;

use crate::check::Checked;
use crate::diag::Diagnostic;
use crate::plan::{Plan, PLAN_FORMAT};
use context::Lowering;

/// Lowers a checked configuration. The plan is complete only when no diagnostic came
/// with it (the lowering reports errors only).
pub fn lower(cfg: &Checked, opts: &LowerOptions) -> (Plan, Vec<Diagnostic>) {
    let mut cx = Lowering::new(cfg, opts);
    let network = network::network_unit(&mut cx);
    let mut units = vec![network];
    units.extend(target::target_units(&mut cx));
    units.extend(target::patch_units(&mut cx));
    let plan = Plan {
        format: PLAN_FORMAT,
        project: opts.project.clone(),
        group: names::project_group(&opts.project),
        mark: mark(&opts.project),
        bridges: cx.decisions.clone(),
        services: cfg.services.clone(),
        units,
    };
    (plan, cx.diags)
}

/// The ownership mark every interface conlink creates carries (as its alias).
pub fn mark(project: &str) -> String {
    format!("conlink:{project}")
}
