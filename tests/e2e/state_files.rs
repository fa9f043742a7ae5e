//! The state directory is private and trusted only so far (docs/decisions.md, "State
//! files"): directories 0700 and files 0600 whatever the umask, no symbolic link
//! followed, a forged record never reaches what is not conlink's, and a damaged state
//! file has a way out.

use super::*;
use std::os::unix::fs::PermissionsExt;

const CONFIG: &str = r#"
nodes:
  - name: h0
  - name: h1
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: h0, bridge: s1, ip: 10.0.0.1/24}
  - {node: h1, bridge: s1, ip: 10.0.0.2/24}
commands:
  - {node: h0, command: "echo started; while :; do sleep 1; done"}
"#;

/// `conlink ARGS…` for `p` under umask 000 (set by a shell that then runs conlink;
/// the arguments reach it as positional parameters).
fn conlink_umask_000(p: &Project, args: &[&str]) -> Output {
    let inner = p.command(args);
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "umask 000 && exec \"$@\"", "sh"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdin(Stdio::null());
    cmd.output().expect("run conlink")
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Every directory and file under `dir`, recursively.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).expect("read dir").flatten() {
            out.extend(tree(&e.path()));
        }
    }
    out
}

#[test]
fn state_directories_are_0700_and_files_0600_under_umask_000() {
    if !can_run("e2e::state_files::modes", &[]) {
        return;
    }
    let dir = TempDir::new("mode");
    let file = dir.write("net.yaml", CONFIG);
    let host = TestHost::new("mode");
    let mut p = Project::new(&host, "mode");
    let out = conlink_umask_000(&p, &["apply", "-n", file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", show(&out));
    // The command's exit record is written when it exits; the log at once.
    let paths = tree(&p.state_dir);
    assert!(paths.iter().any(|p| p.ends_with("state.json")), "{paths:?}");
    assert!(
        paths
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "log")),
        "{paths:?}"
    );
    for path in &paths {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(
            mode(path),
            want,
            "{} has mode {:o}",
            path.display(),
            mode(path)
        );
    }
    p.destroy();
}

/// Symbolic links planted where conlink writes: the lock, the temporary state file,
/// the state file, a command's log and exit record. None is followed.
#[test]
fn planted_symbolic_links_are_never_followed() {
    if !can_run("e2e::state_files::symlinks", &[]) {
        return;
    }
    let dir = TempDir::new("sym");
    let file = dir.write("net.yaml", CONFIG);
    let host = TestHost::new("sym");
    let mut p = Project::new(&host, "sym");
    let plan = p.plan_json(&file);
    let exec_id = plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .flat_map(|u| u["steps"].as_array().expect("steps"))
        .find(|s| s["op"]["op"] == "exec")
        .and_then(|s| s["id"].as_str())
        .expect("a command step")
        .replace([':', '/'], "_");
    let project_dir = p.state_dir.join(&p.name);
    let logs = project_dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let victim = |name: &str| {
        let path = dir.0.join(format!("victim-{name}"));
        std::fs::write(&path, "precious\n").expect("victim");
        path
    };
    let planted = [
        (
            p.state_dir.join(format!("{}.lock", p.name)),
            victim("old-lock"),
        ),
        (
            PathBuf::from(format!("/run/lock/conlink/{}.lock", p.name)),
            victim("lock"),
        ),
        (project_dir.join("state.json.tmp"), victim("tmp")),
        (logs.join(format!("{exec_id}.log")), victim("log")),
        (logs.join(format!("{exec_id}.exit")), victim("exit")),
    ];
    std::fs::create_dir_all("/run/lock/conlink").expect("lock dir");
    // Removed however the test ends: the lock's link lives outside the test's
    // directories, where nothing else would clean it up.
    let _planted = Planted(planted.iter().map(|(link, _)| link.clone()).collect());
    for (link, target) in &planted {
        std::os::unix::fs::symlink(target, link)
            .unwrap_or_else(|e| panic!("plant {}: {e}", link.display()));
    }
    let out = p.conlink(&["apply", "-n", file.to_str().expect("utf-8")]);
    let said = text(&out.stderr);
    for (link, target) in &planted {
        assert_eq!(
            std::fs::read_to_string(target).expect("victim"),
            "precious\n",
            "conlink followed {} (apply said: {said})",
            link.display()
        );
        let _ = std::fs::remove_file(link);
    }
    // A refused link is named; nothing is left half-built either way.
    if !out.status.success() {
        assert!(said.contains("symbolic link"), "{}", show(&out));
    }
    // The state file itself as a link: read as damaged, never followed.
    let out = p.conlink(&["apply", "-n", file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", show(&out));
    let state = p.state_file();
    let real = dir.0.join("real-state.json");
    std::fs::rename(&state, &real).expect("move the state file");
    std::os::unix::fs::symlink(&real, &state).expect("plant state link");
    let out = p.status(&file);
    assert!(
        text(&out.stderr).contains("symbolic link"),
        "status should refuse the link: {}",
        show(&out)
    );
    p.destroy();
    assert!(real.exists(), "destroy removed the file behind the link");
}

/// Planted links, removed when dropped.
struct Planted(Vec<PathBuf>);

impl Drop for Planted {
    fn drop(&mut self) {
        for link in &self.0 {
            let _ = std::fs::remove_file(link);
        }
    }
}

/// The start time (field 22 of /proc/PID/stat) of `pid`.
fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    stat.rsplit_once(')')
        .expect("stat")
        .1
        .split_whitespace()
        .nth(19)
        .expect("field 22")
        .parse()
        .expect("number")
}

/// A hand-edited state file names a veth, a sysctl, a process and an nft table that
/// are not conlink's: destroy touches none of them.
#[test]
fn a_forged_state_file_never_reaches_what_is_not_conlinks() {
    if !can_run("e2e::state_files::forged", &["nft", "sleep"]) {
        return;
    }
    let host = TestHost::new("forge");
    let mut p = Project::new(&host, "forge");
    host.ip(&["link", "add", "fv0", "type", "veth", "peer", "name", "fv1"]);
    must_in_ns(&host.name, &["nft", "add", "table", "inet", "foreign"]);
    let sleeper = Background::in_ns(&host.name, &["sleep", "600"]);
    let pid = sleeper.0.id();
    let forwarding = sysctl(&host.name, "net.ipv4.ip_forward");
    let state = serde_json::json!({
        "format": 1,
        "project": p.name,
        "mark": p.mark(),
        "group": 7,
        "conlink_ns": "own",
        "namespaces": {},
        "steps": [
            {"id": "network/1", "ns": "host",
             "undo": {"op": "link_del", "name": "fv0", "netns": "host"}},
            {"id": "network/2", "ns": "host",
             "undo": {"op": "sysctl_restore", "key": "net.ipv4.ip_forward"},
             "extra": {"kind": "sysctl", "previous": if forwarding == "0" { "1" } else { "0" }}},
            {"id": "node:x/3", "ns": "host",
             "undo": {"op": "exec_stop", "command": "sleep 600"},
             "extra": {"kind": "command", "pid": pid, "start_time": start_time(pid),
                       "log": "/dev/null"}},
            {"id": "network/4", "ns": "host",
             "undo": {"op": "nft_table_del", "family": "inet", "table": "foreign"}}
        ]
    });
    let path = p.state_file();
    std::fs::create_dir_all(path.parent().expect("dir")).expect("state dir");
    std::fs::write(&path, serde_json::to_string_pretty(&state).expect("json")).expect("write");
    let out = p.conlink(&["destroy"]);
    assert!(
        in_ns(&host.name, &["ip", "link", "show", "fv0"])
            .status
            .success(),
        "destroy deleted the foreign veth: {}",
        show(&out)
    );
    assert_eq!(
        sysctl(&host.name, "net.ipv4.ip_forward"),
        forwarding,
        "destroy changed a sysctl of the host: {}",
        show(&out)
    );
    assert!(
        Path::new(&format!("/proc/{pid}")).exists()
            && std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !s.contains(") Z")),
        "destroy stopped a foreign process: {}",
        show(&out)
    );
    assert!(
        in_ns(&host.name, &["nft", "list", "table", "inet", "foreign"])
            .status
            .success(),
        "destroy deleted a foreign nft table: {}",
        show(&out)
    );
    p.destroy_quietly();
    let _ = std::fs::remove_file(&path);
}

/// Damaged state files: garbage and a truncated file make `destroy` fall back to the
/// ownership marks (and say so) while `apply` and `status` say how to recover; another
/// project's file and an unknown format are refused with that reason.
#[test]
fn a_damaged_state_file_has_a_way_out() {
    if !can_run("e2e::state_files::damaged", &[]) {
        return;
    }
    let dir = TempDir::new("dmg");
    let file = dir.write("net.yaml", CONFIG);
    let f = file.to_str().expect("utf-8");
    let host = TestHost::new("dmg");
    let mut p = Project::new(&host, "dmg");
    p.apply(&file);
    let good = std::fs::read_to_string(p.state_file()).expect("state");
    let damaged = [
        ("garbage", "\u{1}\u{2}not json at all".to_string()),
        ("truncated", good[..good.len() / 2].to_string()),
    ];
    for (what, content) in &damaged {
        std::fs::write(p.state_file(), content).expect("damage");
        for cmd in [vec!["apply", "-n", f], vec!["status", "-n", f]] {
            let out = p.conlink(&cmd);
            let said = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what}: {cmd:?}: {}",
                show(&out)
            );
            assert!(
                said.contains("not a conlink state file") && said.contains("conlink destroy"),
                "{what}: {cmd:?} should say how to recover: {said}"
            );
        }
        let out = p.conlink(&["destroy"]);
        assert!(out.status.success(), "{what}: destroy: {}", show(&out));
        assert!(
            text(&out.stderr).contains("ownership marks"),
            "{what}: destroy should say it used the marks: {}",
            show(&out)
        );
        let left = leftovers(&p.name, &[&host.name]);
        assert!(left.is_empty(), "{what}: destroy left {left:?}");
        assert!(
            !p.state_file().exists(),
            "{what}: the damaged file is still there"
        );
        p.apply(&file);
    }

    let refused = [
        (
            "another project",
            good.replace(
                &format!("\"project\": \"{}\"", p.name),
                "\"project\": \"someone-else\"",
            ),
            "someone-else",
        ),
        (
            "a future format",
            good.replacen("\"format\": 1", "\"format\": 99", 1),
            "format 99",
        ),
    ];
    for (what, content, reason) in &refused {
        assert_ne!(content, &good, "{what}: the test did not change the file");
        std::fs::write(p.state_file(), content).expect("write");
        for cmd in [
            vec!["apply", "-n", f],
            vec!["status", "-n", f],
            vec!["destroy"],
        ] {
            let out = p.conlink(&cmd);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what}: {cmd:?}: {}",
                show(&out)
            );
            assert!(
                text(&out.stderr).contains(reason),
                "{what}: {cmd:?} should give the reason ({reason}): {}",
                show(&out)
            );
        }
        // Nothing was removed meanwhile.
        assert!(
            Path::new("/run/netns").join(p.node("h0")).exists(),
            "{what}: a refused state file still removed the project"
        );
    }
    std::fs::write(p.state_file(), &good).expect("restore");
    p.destroy();
}
