//! `conlink copy DIR` (docs/cli.md, "conlink copy"): the running binary lands at
//! `DIR/conlink`, executable, and the copy runs.

use crate::util::{conlink, expect_code, text};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A fresh directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("conlink-copy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    Scratch(d)
}

fn version(program: &std::path::Path) -> String {
    let out = std::process::Command::new(program)
        .arg("--version")
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    expect_code(&out, 0, "--version");
    text(&out.stdout)
}

#[test]
fn the_copy_is_executable_and_runs() {
    let d = scratch("runs");
    let out = conlink(&d.0).args(["copy", "."]).output().expect("run");
    expect_code(&out, 0, "conlink copy");
    assert!(
        text(&out.stderr).contains("copied conlink"),
        "{}",
        text(&out.stderr)
    );
    let copy = d.0.join("conlink");
    let mode = std::fs::metadata(&copy)
        .expect("the copy")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        version(&copy),
        version(std::path::Path::new(env!("CARGO_BIN_EXE_conlink")))
    );
    // Again, over the copy (which is what a restarted `network` service does): it is
    // replaced, and no temporary file is left beside it.
    let out = conlink(&d.0).args(["copy", "."]).output().expect("run");
    expect_code(&out, 0, "conlink copy again");
    let names: Vec<String> = std::fs::read_dir(&d.0)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["conlink"]);
    assert!(version(&copy).starts_with("conlink "));
}

#[test]
fn a_missing_directory_is_an_error() {
    let d = scratch("missing");
    let out = conlink(&d.0)
        .args(["copy", "nowhere"])
        .output()
        .expect("run");
    expect_code(&out, 1, "conlink copy nowhere");
    let err = text(&out.stderr);
    assert!(err.contains("nowhere: no such directory"), "{err}");
    let out = conlink(&d.0).arg("copy").output().expect("run");
    expect_code(&out, 2, "conlink copy without DIR");
}
