//! conlink with a real container engine: compose projects with conlink as the
//! `network` service, and `conlink run` on the host wiring `docker run` containers.
//! Each test starts its own private `dockerd` (see [`lab`]); run them under the
//! kernel-test lock.

mod bench;
mod compose_modes;
mod compose_readback;
mod compose_router;
mod compose_scale;
mod compose_wait;
mod host;
// The harness serves later scenarios too (some of its helpers are theirs).
#[allow(dead_code)]
pub mod lab;
// Helpers of the scenarios of bridge modes, read-back, wait and health.
mod scenario;
