//! What the Podman scenarios do inside their containers, through the test's own
//! Podman service (`runtime::engine_harness::PodmanService`).

use crate::e2e::show;
use runtime::engine_harness::PodmanService;
use std::process::Output;

/// `podman exec NAME CMD…` through the service.
pub fn exec(podman: &PodmanService, name: &str, cmd: &[&str]) -> Output {
    podman
        .podman()
        .args(["exec", name])
        .args(cmd)
        .output()
        .unwrap()
}

/// Pings `addr` from container `name`, a few tries (ARP may take a moment).
pub fn ping(podman: &PodmanService, name: &str, addr: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..5 {
        let out = exec(podman, name, &["ping", "-c", "1", "-W", "2", addr]);
        if out.status.success() {
            return Ok(());
        }
        last = show(&out);
    }
    Err(format!("{name} → {addr}: {last}"))
}
