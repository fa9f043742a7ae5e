//! This test run's conlink linked statically, for the images the container tests
//! make: the Dockerfile's (crate::dockerfile_image) and the offline one
//! (tests/e2e/containers/lab.rs).
//!
//! `cargo test` links conlink against the host's shared glibc. That binary runs in an
//! image that has the same libraries, but `conlink copy` of it into a container that
//! lacks them (busybox, as docs/cli.md, "conlink copy", shows) does not run there.
//! What users get is static: the Dockerfile's build stage links glibc in
//! (`-C target-feature=+crt-static`). So the images are made from a binary built the
//! same way from the same checkout, once per test run, with the test build's profile.
//! As in the Dockerfile, the target is named explicitly (the host's): then RUSTFLAGS
//! applies to the target only, build scripts and proc-macros stay dynamic as they must,
//! and the build goes to `target/TRIPLE/PROFILE/`, leaving the test's own build alone.
//! A first build compiles every dependency again (about two minutes); later runs
//! rebuild only what changed.
//!
//! cargo holds the target directory's lock while it compiles, not while the tests
//! run, so this build in the same target directory waits for no one. Where the test
//! build is already static (a musl host), it is used as it is.

use crate::util::{root, text};
use runtime::engine_harness::is_static_elf;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The static binary, built on the first call of the process; the build's error on
/// every call if it failed.
pub fn path() -> Result<&'static Path, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build).as_deref().map_err(Clone::clone)
}

fn build() -> Result<PathBuf, String> {
    let tested = Path::new(env!("CARGO_BIN_EXE_conlink"));
    if is_static_elf(tested) {
        return Ok(tested.to_path_buf());
    }
    // The test's binary is TARGET_DIR/PROFILE_DIR/conlink; the profile `dev` has the
    // directory `debug`, every other profile its own name.
    let profile_dir = tested
        .parent()
        .ok_or_else(|| format!("{} has no directory", tested.display()))?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no target directory", tested.display()))?;
    let dir_name = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: no profile directory", tested.display()))?;
    let profile = if dir_name == "debug" { "dev" } else { dir_name };
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let built = Command::new(&cargo)
        .args([
            "build",
            "--locked",
            "--bin",
            "conlink",
            "--profile",
            profile,
        ])
        .args(["--target", &triple])
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        // RUSTFLAGS is read only when the encoded form is absent.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .output()
        .map_err(|e| format!("run {}: {e}", Path::new(&cargo).display()))?;
    if !built.status.success() {
        return Err(format!(
            "the static build of conlink (cargo build --target {triple} with \
             RUSTFLAGS='-C target-feature=+crt-static') failed ({}):\n{}",
            built.status,
            text(&built.stderr)
        ));
    }
    let binary = target_dir.join(&triple).join(dir_name).join("conlink");
    if !is_static_elf(&binary) {
        return Err(format!(
            "{} is not statically linked after a build with +crt-static",
            binary.display()
        ));
    }
    crate::util::say_once_per_run(&format!(
        "built conlink statically for the container images in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        binary.display()
    ));
    Ok(binary)
}
