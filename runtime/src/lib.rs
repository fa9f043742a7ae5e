//! conlink's runtime: executes a compiled [`compiler::plan::Plan`] against the kernel.
//!
//! The path from plan to kernel: [`resolve`] turns each step's symbolic namespace into
//! an open namespace, [`netlink`] (and [`nft`], [`ethtool`], [`sysctl`], [`command`])
//! turn each step into kernel requests, [`apply`] runs them in plan order with a
//! journal for rollback, and [`state`] records what was done.

pub mod error;
pub mod netlink;
pub mod netns;
pub mod nft;
#[doc(hidden)]
pub mod testing;

pub use error::KernelError;
