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

/// `podman run -d --network none` busybox containers that sleep, named `names`.
pub fn start_containers(podman: &PodmanService, image: &str, names: &[&str]) {
    let cgroup = podman.cgroup_parent_arg();
    for name in names {
        // busybox's ping needs a raw socket, which Podman does not give by default.
        podman.run(&[
            "run",
            "-d",
            "--network",
            "none",
            "--cap-add",
            "NET_RAW",
            &cgroup,
            "--name",
            name,
            image,
            "sleep",
            "86400",
        ]);
    }
}
