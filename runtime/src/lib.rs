//! conlink's runtime: executes a compiled [`compiler::plan::Plan`] against the kernel.
//!
//! Not implemented yet: the compiler issue delivers `validate`, `schema` and `plan`;
//! `apply`, `destroy`, `exec` and `status` come with the runtime issue. This crate
//! exists now so that the dependency direction (binary -> runtime -> compiler) is
//! fixed from the start.

/// Why a runtime command cannot run in this build.
pub const NOT_IMPLEMENTED: &str =
    "the runtime (apply, destroy, run, exec, status) is not implemented yet";
