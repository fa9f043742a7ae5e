//! Names conlink gives to what it creates on the system.
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
