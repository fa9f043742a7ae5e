//! conlink's runtime: executes a compiled [`compiler::plan::Plan`] against the kernel.
//!
//! The path from plan to kernel: [`resolve`] turns each step's symbolic namespace into
//! an open namespace ([`places`] keeps one socket per namespace per run); [`engine`]
//! turns netlink steps into batched requests ([`netlink`]), and [`host_ops`] the others
//! ([`nft`], [`ethtool`], [`sysctl`], [`command`]); [`apply`] runs a plan in order,
//! skipping what [`observe`] finds in place, with a journal for rollback; [`state`]
//! records what was done; [`destroy`] and [`status`] work from the state and the
//! kernel's ownership marks ([`names`]).

pub mod apply;
pub mod command;
pub mod containers;
pub mod destroy;
pub mod engine;
#[doc(hidden)]
pub mod engine_harness;
pub mod error;
pub mod ethtool;
pub mod exec;
pub mod features;
pub mod host_ops;
pub mod interrupt;
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
