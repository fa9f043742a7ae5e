//! Project names (docs/configuration.md, "Sources and merging"): network files in two
//! directories are two projects, and `destroy` finds a project from the same sources
//! `apply` was given (issue 8, item 13: every network-file project was called
//! `conlink`, so applying a second one tore the first down and called it "repaired").

use super::*;

/// Runs conlink inside `host` without `--project`, so the project comes from the
/// sources (or from what the machine has).
fn conlink_here(host: &TestHost, dir: &TempDir, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", &host.name, conlink_bin()])
        .args(["--ovs", "no", "--state-dir"])
        .arg(dir.0.join("state"))
        .args(args)
        .current_dir(&dir.0)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run conlink")
}

/// Destroys the projects of the given sources when dropped (after a failed test too).
struct DestroyOnDrop<'a> {
    host: &'a TestHost,
    dir: &'a TempDir,
    files: Vec<String>,
}

impl Drop for DestroyOnDrop<'_> {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = conlink_here(self.host, self.dir, &["destroy", "-n", f]);
        }
    }
}

#[test]
fn network_files_in_two_directories_are_two_projects() {
    if !can_run("e2e::projects", &["busybox"]) {
        return;
    }
    let host = TestHost::new("proj");
    let dir = TempDir::new("proj");
    // The directories name the projects; unique names keep tests running in parallel
    // (and other projects on the machine) apart.
    let (a, b) = (unique("router-"), unique("patch-"));
    for (project, example_dir) in [(&a, "router"), (&b, "patch")] {
        std::fs::create_dir(dir.0.join(project)).expect("project dir");
        let yaml = std::fs::read_to_string(example(&format!("{example_dir}/network.yaml")))
            .expect("example");
        dir.write(&format!("{project}/network.yaml"), &yaml);
    }
    let (file_a, file_b) = (format!("{a}/network.yaml"), format!("{b}/network.yaml"));
    let _cleanup = DestroyOnDrop {
        host: &host,
        dir: &dir,
        files: vec![file_a.clone(), file_b.clone()],
    };

    for (project, file) in [(&a, &file_a), (&b, &file_b)] {
        let out = conlink_here(&host, &dir, &["apply", "-n", file]);
        assert!(out.status.success(), "apply {file}: {}", show(&out));
        let report = text(&out.stderr);
        assert!(report.contains(&format!("project {project}:")), "{report}");
        assert!(
            !report.contains("repaired") && !report.contains("removed"),
            "the second project changed the first: {report}"
        );
    }
    // Both are there: the router's nodes survived the patch's apply.
    for ns in [format!("conlink.{a}.r0"), format!("conlink.{b}.sw1")] {
        assert!(Path::new("/run/netns").join(&ns).exists(), "{ns} is gone");
    }
    assert_ping(&format!("conlink.{a}.h1"), "10.0.0.100");

    // Without sources or --project, destroy cannot tell which one: it lists them.
    let out = conlink_here(&host, &dir, &["destroy"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let said = text(&out.stderr);
    assert!(
        said.contains(&a) && said.contains(&b) && said.contains("--project"),
        "{said}"
    );

    // With the sources `apply` had, it finds each project.
    for (project, file) in [(&a, &file_a), (&b, &file_b)] {
        let out = conlink_here(&host, &dir, &["destroy", "-n", file]);
        assert!(out.status.success(), "destroy -n {file}: {}", show(&out));
        let left = leftovers(project, &[&host.name]);
        assert!(left.is_empty(), "{project} left {left:?}");
    }
}
