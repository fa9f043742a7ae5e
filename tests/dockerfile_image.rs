//! The Dockerfile's image, built once per test run and shared: the image test
//! (tests/image.rs) and the container scenarios (tests/e2e/containers/lab.rs) each
//! start their own private `dockerd`, and building the image in each would cost a
//! `docker build` with `apt-get` per daemon. So the first test that needs it builds it
//! with scripts/image.sh (from this run's binary linked statically, as the Dockerfile
//! links it: crate::static_binary, given as `CONLINK_BINARY`) in a private
//! daemon of its own, saves it with `docker save` to [`saved_tar`] and stops that
//! daemon; every test then `docker load`s the tar into its own daemon ([`load`]).
//!
//! All of these tests are in the one `integration` binary, so a process-wide
//! `OnceLock` is the "once": tests that ask while the build runs wait for it, and a
//! failed build is remembered and reported to each of them.
//!
//! The tar is kept in the cargo target directory (`CARGO_TARGET_TMPDIR`, i.e.
//! `target/tmp/`), never in /tmp: the test harness has no hook that runs when the
//! last test ends, and target/ is the build's own scratch space. Each run writes it
//! anew (the binary in it is this run's), to a file of its own process renamed into
//! place, so another run in the same target directory never reads half a tar.

use crate::util::{root, text};
use runtime::engine_harness::Dockerd;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The tag the image is built and saved under; [`load`] tags it as its caller asks.
const BUILT_TAG: &str = "conlink-test/conlink:dockerfile";

/// Where scripts/image.sh keeps its Debian base by default.
const BASE_CACHE: &str = "/var/cache/conlink-image";

/// Whether the image can be built here: scripts/image.sh needs a cached Debian base
/// or `debootstrap` to make one. The reason when it cannot.
pub fn can_build() -> Result<(), String> {
    if base_cached() || on_path("debootstrap") {
        Ok(())
    } else {
        Err(format!(
            "no Debian base in {BASE_CACHE} and no `debootstrap` to make one \
             (apt-get install debootstrap; see .ci/run)"
        ))
    }
}

/// The path of the saved image, built on the first call of the process; the build's
/// error (scripts/image.sh's output) on every call if it failed.
pub fn saved_tar() -> Result<&'static Path, String> {
    static SAVED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SAVED
        .get_or_init(build_and_save)
        .as_deref()
        .map_err(Clone::clone)
}

/// `docker load`s the saved image into `dockerd` and tags it `tag`.
pub fn load(dockerd: &Dockerd, tag: &str) -> Result<(), String> {
    let tar = saved_tar()?;
    let started = Instant::now();
    let loaded = dockerd
        .docker()
        .arg("load")
        .arg("--quiet")
        .arg("--input")
        .arg(tar)
        .output()
        .map_err(|e| format!("docker load: {e}"))?;
    if !loaded.status.success() {
        return Err(format!(
            "docker load --input {}: {}{}",
            tar.display(),
            text(&loaded.stdout),
            text(&loaded.stderr)
        ));
    }
    if tag != BUILT_TAG {
        let tagged = dockerd
            .docker()
            .args(["tag", BUILT_TAG, tag])
            .output()
            .map_err(|e| format!("docker tag: {e}"))?;
        if !tagged.status.success() {
            return Err(format!(
                "docker tag {BUILT_TAG} {tag}: {}",
                text(&tagged.stderr)
            ));
        }
    }
    eprintln!(
        "loaded the Dockerfile's image as {tag} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// scripts/image.sh in a private daemon, then `docker save` to the target directory.
fn build_and_save() -> Result<PathBuf, String> {
    can_build()?;
    // Built before the daemon starts, which would wait idle for it.
    let binary = crate::static_binary::path()?;
    let name = "dockerfile_image::build";
    let dockerd = Dockerd::start(name)
        .ok_or_else(|| "no private dockerd to build the image in (see the skip log)".to_string())?;
    let started = Instant::now();
    let built = Command::new(root().join("scripts/image.sh"))
        .arg(BUILT_TAG)
        .env("CONLINK_BINARY", binary)
        .envs(dockerd.env())
        .output()
        .map_err(|e| format!("run scripts/image.sh: {e}"))?;
    if !built.status.success() || text(&built.stdout).trim() != BUILT_TAG {
        return Err(format!(
            "scripts/image.sh {BUILT_TAG} failed ({}):\n{}{}",
            built.status,
            text(&built.stdout),
            text(&built.stderr)
        ));
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let tar = dir.join("conlink-dockerfile-image.tar");
    let part = dir.join(format!(
        "conlink-dockerfile-image.tar.{}",
        std::process::id()
    ));
    let saved = dockerd
        .docker()
        .arg("save")
        .arg("--output")
        .arg(&part)
        .arg(BUILT_TAG)
        .output()
        .map_err(|e| format!("docker save: {e}"))?;
    if !saved.status.success() {
        let _ = fs::remove_file(&part);
        return Err(format!("docker save {BUILT_TAG}: {}", text(&saved.stderr)));
    }
    fs::rename(&part, &tar).map_err(|e| {
        let _ = fs::remove_file(&part);
        format!("rename {} to {}: {e}", part.display(), tar.display())
    })?;
    crate::util::say_once_per_run(&format!(
        "scripts/image.sh built and saved the Dockerfile's image in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        tar.display()
    ));
    Ok(tar)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// Whether scripts/image.sh has a Debian base in its default cache (then it needs
/// no debootstrap).
fn base_cached() -> bool {
    fs::read_dir(BASE_CACHE).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with("-minbase.tar"))
    })
}
