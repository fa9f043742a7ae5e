//! conlink's runtime: executes a compiled [`compiler::plan::Plan`] against the kernel.
//!
//! The path from plan to kernel, bottom up:
//!
//! * Kernel interfaces: [`netns`] (create, pin, enter namespaces), [`netlink`] (a
//!   batched netlink socket), [`nft`] (nf_tables batches), [`ethtool`] (offload
//!   features), [`sysctl`], [`command`] (processes of nodes, their supervisors and
//!   exit records, finding them by their tag), [`changes`] (waiting for the kernel to
//!   announce a change, for `conlink wait`).
//! * conlink's own files: [`files`] (private, never through a symbolic link), [`lock`]
//!   (one run per project per machine), [`state`] (what was done, read back only as
//!   far as it can be trusted).
//! * What one command works with ([`context::Context`]): [`resolve`] turns a step's
//!   symbolic namespace into an open one, [`places`] keeps it with its sockets for the
//!   run; the [`engine`] sends rtnetlink requests in batches per namespace, matches
//!   the kernel's acks to steps, acts only on interfaces the kernel created for it, and
//!   keeps the journal; [`observe`] reads namespaces back; [`planned`] is what the plan
//!   creates, [`differences`] what differs from it. Errors are [`error`]'s.
//! * The [`families`] of kernel objects, each owning its steps' requests, "already in
//!   place?" checks, repairs and undos through one trait ([`action::Action`]);
//!   [`families::action`] routes each plan operation to its family.
//! * [`steps`]: one step the same way for every command (namespaces, check, carry out,
//!   undo); [`owned`] says whether an undo the state file records may be carried out.
//!   [`features`] names the kernel feature a refused step lacks.
//! * The commands, peers over all of that: [`apply`] (one unit at a time, with
//!   rollback), [`status`], [`destroy`] (and removing one unit), [`exec`]; each reports
//!   what it does to a [`progress::Progress`] the caller gives; [`report`] is the JSON
//!   form of what `apply` and `status` report.
//!
//! The ownership marks conlink leaves on the system are named in [`names`]. The
//! fuzzing harness reaches every reader of the kernel's answers through `fuzzing`.

pub mod action;
pub mod apply;
pub mod changes;
pub mod command;
pub mod containers;
pub mod context;
pub mod destroy;
pub mod differences;
pub mod engine;
#[doc(hidden)]
pub mod engine_harness;
pub mod error;
pub mod ethtool;
pub mod exec;
pub mod families;
pub mod features;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod interrupt;
pub mod lock;
pub mod names;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod observe;
pub mod owned;
pub mod places;
pub mod planned;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod run;
pub mod state;
pub mod status;
pub mod steps;
pub mod sysctl;
#[doc(hidden)]
pub mod testing;

pub use netlink::KernelError;
