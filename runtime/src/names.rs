//! Names conlink gives to what it creates on the system, and the marks it leaves on it.
//!
//! Namespaces are pinned as `conlink.PROJECT` (conlink's own) and
//! `conlink.PROJECT.NODE` (nodes). Project names never contain `.` (the compiler
//! checks), so a pinned name always tells its project and node apart, and two
//! projects on one machine never collide.

/// Pinned name of conlink's own namespace for `project`.
pub fn conlink_ns(project: &str) -> String {
    format!("conlink.{project}")
}

/// Pinned name of node `node`'s namespace.
pub fn node_ns(project: &str, node: &str) -> String {
    format!("conlink.{project}.{node}")
}

/// Prefix shared by all node namespaces of `project`.
pub fn node_ns_prefix(project: &str) -> String {
    format!("conlink.{project}.")
}

/// The ownership mark: the alias every interface conlink creates carries, and the
/// alias of the loopback of every namespace it creates (docs/plan.md, "Ownership").
pub fn mark(project: &str) -> String {
    format!("conlink:{project}")
}

/// How the names of the project's nftables tables start (`conlink.PROJECT.nat_DEV`,
/// `conlink.PROJECT.fwd_TARGET_DEV`; docs/decisions.md, "nft tables").
pub fn nft_table_prefix(project: &str) -> String {
    format!("conlink.{project}.")
}

/// The interface group of the project's interfaces, as the compiler derives it (the
/// plan carries it; `destroy` without a state file has no plan).
pub fn group(project: &str) -> u32 {
    compiler::lower::names::project_group(project)
}

/// The environment variable every command conlink starts carries: `PROJECT STEP`, so
/// that it can be found (`crate::command::find_running`) and told apart from processes
/// that are not conlink's without the state file.
pub const COMMAND_TAG: &str = "CONLINK_COMMAND";

/// The value of [`COMMAND_TAG`] for the command of step `step`.
pub fn command_tag(project: &str, step: &str) -> String {
    format!("{project} {step}")
}
