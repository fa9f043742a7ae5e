//! conlink with a real container engine: compose projects with conlink as the
//! `network` service, `conlink run` on the host wiring `docker run` containers, and
//! conlink in a rootless Podman container. Each test starts its own private `dockerd`
//! (see [`lab`]) or Podman service; run them under the kernel-test lock.

mod bench;
mod compose_router;
mod compose_scale;
mod host;
mod podman_rootless;
// The harness serves later scenarios too (some of its helpers are theirs).
#[allow(dead_code)]
pub mod lab;
