//! conlink with a real container engine: compose projects with conlink as the
//! `network` service, `conlink run` on the host wiring `docker run` containers, and
//! conlink in a rootless Podman container. Each test starts its own private `dockerd`
//! (see [`lab`]) or Podman service (for [`podman_default`], at Podman's usual socket
//! in a mount namespace of its own); run them under the kernel-test lock.

mod bench;
mod compose_modes;
mod compose_readback;
mod compose_router;
mod compose_scale;
mod compose_wait;
// A conlink 2.x compose file with only its `image:` changed.
mod dropin_2x;
mod host;
mod host_names;
// conlink given no socket finds Podman at its usual path.
mod podman_default;
mod podman_host;
mod podman_lab;
mod podman_rootless;
mod recover;
// conlink through a proxy that allows only the calls docs/security.md lists.
mod socket_proxy;
// The harness serves later scenarios too (some of its helpers are theirs).
#[allow(dead_code)]
pub mod lab;
// Helpers of the scenarios of bridge modes, read-back, wait and health.
mod scenario;
