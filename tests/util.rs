//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `conlink` command with an empty environment (plus what the test adds), so results
/// do not depend on the machine; `--ovs no` keeps `auto` bridges from depending on
/// whether Open vSwitch runs here.
pub fn conlink(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conlink"));
    cmd.current_dir(dir).env_clear().env("NO_COLOR", "1");
    cmd
}

/// A test case's settings, read from `args:` and `env:` lines (in a `conlink.test` file
/// or in `# args:`/`# env:` comments at the top of a fixture).
#[derive(Default, Debug)]
pub struct CaseSpec {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

pub fn parse_spec(text: &str, comment: bool) -> CaseSpec {
    let mut spec = CaseSpec::default();
    for line in text.lines() {
        let line = line.trim();
        let line = if comment {
            match line.strip_prefix('#') {
                Some(l) => l.trim(),
                None => continue,
            }
        } else {
            line
        };
        if let Some(a) = line.strip_prefix("args:") {
            spec.args.extend(a.split_whitespace().map(String::from));
        } else if let Some(e) = line.strip_prefix("env:") {
            let (k, v) = e.trim().split_once('=').expect("env: NAME=VALUE");
            spec.env.push((k.to_string(), v.to_string()));
        }
    }
    spec
}

pub fn text(out: &[u8]) -> String {
    String::from_utf8(out.to_vec()).expect("utf-8 output")
}

/// Panics with the command's output when it did not exit with `code`.
pub fn expect_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit code {code}\n--- stdout\n{}\n--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// insta settings that put snapshots in the top-level `snapshots/` directory.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Sorted entries of a directory.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    v.sort();
    v
}

/// A directory under the system's temporary directory, removed with everything in it
/// when dropped: when the test ends, passed or failed (a panicking test unwinds).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "conlink-test-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        TempDir(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` to `name` in the directory; returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write fixture");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        runtime::testing::remove_dir_all_settled(&self.0);
    }
}

/// Writes `line` to standard error past the test harness's capture (which keeps only
/// a failing test's output): for work done once per run that is no one test's, such
/// as a build the tests share.
pub fn say_once_per_run(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}
