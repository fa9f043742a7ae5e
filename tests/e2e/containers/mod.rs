//! conlink with a real container engine: compose projects with conlink as the
//! `network` service, and `conlink run` on the host wiring `docker run` containers.
//! Each test starts its own private `dockerd` (see [`lab`]); run them under the
//! kernel-test lock.

mod bench;
mod compose_router;
mod compose_scale;
mod host;
mod host_names;
mod podman_host;
mod recover;
// The harness serves later scenarios too (some of its helpers are theirs).
#[allow(dead_code)]
pub mod lab;
