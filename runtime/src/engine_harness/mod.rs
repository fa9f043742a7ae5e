//! Real container engines for tests: a private `dockerd` or Podman API service that a
//! test starts, uses and removes again, with a local busybox image (no registry is
//! reachable on the test machines). Used by this crate's tests of the engine client
//! and by the binary's end-to-end tests; not part of conlink's behaviour.
//!
//! Everything an engine keeps lives in one temporary directory: its state, its
//! socket, its containers' files and mounts. Its containers' cgroups go under a
//! cgroup parent named for the test. Dropping the engine (also when the test fails)
//! removes the containers, stops the daemon, ends whatever it left running (its
//! containerd, shims, conmon), unmounts what is still mounted under the directory,
//! removes the directory and the cgroup parent. Left behind are only the empty
//! directories every daemon on the machine shares (`/run/docker/plugins`,
//! `/run/containerd/s`), which another daemon may be using.
//!
//! [`Dockerd::start_at_usual_paths`] also gives the daemon Docker's usual socket and
//! data paths, in a mount namespace of its own, for compose files that mount them;
//! [`PodmanService::start_at_usual_paths`] gives the Podman service its usual socket
//! the same way, for a conlink given no socket.
//!
//! When the engine is not installed or cannot start here, [`Dockerd::start`] and
//! [`PodmanService::start`] and [`RootlessPodman::start`] record a visible skip (`testing::skip`) and return `None`.
//!
//! The daemon's process does not inherit the test's open files (so a `flock` held by
//! the test runner is not held on by a daemon), and it gets SIGTERM if the thread
//! that started it ends without stopping it (the test process was killed): an
//! engine belongs to the test function that started it.

mod base;
mod busybox;
mod cleanup;
mod commands;
mod dockerd;
mod podman;
mod rootless;

pub use busybox::{is_static_elf, BUSYBOX_IMAGE};
pub use dockerd::Dockerd;
pub use podman::{PodmanService, PODMAN_USUAL_SOCKET};
pub use rootless::RootlessPodman;
