//! conlink's runtime: executes a compiled [`compiler::plan::Plan`] against the kernel.
//!
//! The path from plan to kernel: [`resolve`] turns each step's symbolic namespace into
//! an open namespace, [`netlink`] (and [`nft`], [`ethtool`], [`sysctl`], [`command`])
//! turn each step into kernel requests, [`apply`] runs them in plan order with a
//! journal for rollback, and [`state`] records what was done.

pub mod apply;
pub mod command;
pub mod destroy;
pub mod engine;
pub mod error;
pub mod ethtool;
pub mod exec;
pub mod features;
pub mod host_ops;
pub mod names;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod observe;
pub mod places;
pub mod resolve;
pub mod state;
pub mod status;
pub mod sysctl;
#[doc(hidden)]
pub mod testing;

pub use error::KernelError;
