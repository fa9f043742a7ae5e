//! The conlink image (`Dockerfile`), built here without a registry by
//! scripts/image.sh (once per test run, shared with the container scenarios:
//! crate::dockerfile_image) and loaded into a private `dockerd`
//! (runtime::engine_harness), then checked:
//! its entrypoint, the debugging tools in it, conlink 2.x's command and tool paths,
//! and conlink applying a network as a compose `network` service.
//!
//! The image is built from this test run's binary (`CONLINK_BINARY`), a dynamically
//! linked debug build: the image's Debian is the host's release, so it runs there.
//! The default static release build takes minutes and is checked by hand (README,
//! "The image"). The script's Debian base is kept in its cache directory
//! (`/var/cache/conlink-image`) for the next run; making it takes one to three
//! minutes and needs `debootstrap` and Debian's package mirror.
//!
//! The compose service applies a network of nodes inside its own container: wiring
//! other services needs `conlink run`, and that scenario comes with it.

use crate::dockerfile_image;
use crate::util::text;
use runtime::engine_harness::Dockerd;
use runtime::testing::skip;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

const TAG: &str = "conlink-test/conlink:image";

#[test]
fn image_builds_runs_tools_2x_paths_and_a_compose_network() {
    let test = "image::image_builds_runs_tools_2x_paths_and_a_compose_network";
    if let Err(why) = dockerfile_image::can_build() {
        skip(test, &why);
        return;
    }
    let Some(dockerd) = Dockerd::start(test) else {
        return;
    };
    build(&dockerd);
    entrypoint(&dockerd);
    tools(&dockerd);
    entries_of_2x(&dockerd);
    compose_network_service(&dockerd);
}

/// scripts/image.sh builds the image (or has built it for an earlier test of this
/// run) and it loads into this test's daemon.
fn build(dockerd: &Dockerd) {
    if let Err(e) = dockerfile_image::load(dockerd, TAG) {
        panic!("the Dockerfile's image: {e}");
    }
}

/// The entrypoint hands conlink its arguments, and runs a command given as a path.
fn entrypoint(dockerd: &Dockerd) {
    let entry = dockerd.run(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Entrypoint}}",
        TAG,
    ]);
    assert_eq!(entry.trim(), r#"["/usr/local/bin/conlink-entrypoint"]"#);
    let version = dockerd.run(&["run", "--rm", "--network", "none", TAG, "--version"]);
    assert!(version.starts_with("conlink "), "{version}");
    let installed = dockerd.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        TAG,
        "/bin/sh",
        "-c",
        "command -v conlink",
    ]);
    assert_eq!(installed, "/usr/local/bin/conlink\n");
    // The completions and manual pages the binary wrote (image/extras.sh).
    let extras = dockerd.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        TAG,
        "/bin/sh",
        "-c",
        "grep -l conlink /usr/share/bash-completion/completions/conlink \
         /usr/share/zsh/vendor-completions/_conlink \
         /usr/share/fish/vendor_completions.d/conlink.fish /usr/share/man/man1/conlink.1",
    ]);
    assert_eq!(extras.lines().count(), 4, "{extras}");
}

/// The tools a person debugging the network expects are there and run.
fn tools(dockerd: &Dockerd) {
    let versions = [
        ("ip -V", "ip utility, iproute2-"),
        ("tcpdump --version", "tcpdump version "),
        ("nft --version", "nftables v"),
        ("ping -V", "ping from iputils "),
    ];
    for (command, expected) in versions {
        let out = dockerd
            .docker()
            .args(["run", "--rm", "--network", "none", TAG, "/bin/sh", "-c"])
            .arg(command)
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}: {}", both(&out));
        assert!(
            both(&out).starts_with(expected),
            "{command}: {}",
            both(&out)
        );
    }
}

/// conlink 2.x's `/app/build/conlink.js` is `conlink run`, and `/utils/wait` is
/// `conlink wait`, each with its arguments exactly as given: with a script that
/// prints its arguments mounted in conlink's place, every argument comes out as one,
/// unchanged (spaces, quotes, `$`, globs and empty ones included).
fn entries_of_2x(dockerd: &Dockerd) {
    let printer = dockerd.dir().join("print-args");
    fs::write(
        &printer,
        "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\n",
    )
    .unwrap();
    set_executable(&printer);
    let mount = format!("{}:/usr/local/bin/conlink:ro", printer.display());
    let args = [
        "--compose-file",
        "/test/a b.yaml",
        "$HOME",
        "*",
        "'q'",
        ";",
        "",
    ];
    let expected: String = args.iter().map(|a| format!("<{a}>\n")).collect();
    for (path, command) in [
        ("/app/build/conlink.js", "run"),
        ("/utils/wait", "wait"),
        ("/utils/wait.sh", "wait"),
    ] {
        let mut run = vec![
            "run",
            "--rm",
            "--network",
            "none",
            "--volume",
            &mount,
            TAG,
            path,
        ];
        run.extend_from_slice(&args);
        assert_eq!(
            dockerd.run(&run),
            format!("<{command}>\n{expected}"),
            "{path}"
        );
    }
    // With the real conlink: 2.x's command reaches `conlink run`.
    let help = dockerd.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        TAG,
        "/app/build/conlink.js",
        "--help",
    ]);
    assert!(help.contains("Usage: conlink run"), "{help}");
}

/// As a compose `network` service (no network of its own, SYS_ADMIN and NET_ADMIN,
/// the project directory mounted), the image's conlink applies a network of two
/// nodes on a bridge in its own container, and they ping each other there. A node's
/// sysctl is set although Docker mounts /proc/sys read-only in the container.
fn compose_network_service(dockerd: &Dockerd) {
    let project = dockerd.dir().join("project");
    fs::create_dir(&project).unwrap();
    fs::write(
        project.join("network.yaml"),
        "nodes:\n  - {name: h1, sysctls: {net.ipv4.ip_forward: 1}}\n  - name: h2\nlinks:\n  \
         - {node: h1, bridge: s1, ip: 10.0.0.1/24}\n  \
         - {node: h2, bridge: s1, ip: 10.0.0.2/24}\n",
    )
    .unwrap();
    let compose = project.join("compose.yaml");
    fs::write(
        &compose,
        format!(
            "services:\n  network:\n    image: {TAG}\n    network_mode: none\n    \
             cap_add: [SYS_ADMIN, NET_ADMIN]\n    volumes: ['./:/test:ro']\n    \
             command: ['/bin/sh', '-c', 'conlink --project imgtest --conlink-netns current \
             apply -n /test/network.yaml && touch /run/applied && exec sleep 600']\n"
        ),
    )
    .unwrap();
    let name = "imgtest";
    let up = dockerd
        .compose(&compose, name)
        .args(["up", "-d"])
        .output()
        .unwrap();
    assert!(up.status.success(), "docker-compose up: {}", both(&up));
    let down = Down {
        dockerd,
        compose: &compose,
        name,
    };

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let applied = exec(&down, &["test", "-e", "/run/applied"]);
        if applied.status.success() {
            break;
        }
        if Instant::now() > deadline {
            let logs = dockerd
                .compose(&compose, name)
                .args(["logs", "network"])
                .output()
                .unwrap();
            panic!(
                "the network service did not apply within 30 s:\n{}",
                both(&logs)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = dockerd
        .compose(&compose, name)
        .args(["logs", "network"])
        .output()
        .unwrap();
    assert!(
        both(&logs).contains("conlink apply: project imgtest: "),
        "{}",
        both(&logs)
    );
    let ping = exec(
        &down,
        &[
            "conlink",
            "--project",
            "imgtest",
            "exec",
            "h1",
            "--",
            "ping",
            "-c",
            "1",
            "-W",
            "5",
            "10.0.0.2",
        ],
    );
    assert!(ping.status.success(), "ping h1 → h2: {}", both(&ping));
    assert!(text(&ping.stdout).contains("1 received"), "{}", both(&ping));
    let read_only = exec(
        &down,
        &["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
    );
    assert!(
        !read_only.status.success(),
        "/proc/sys is writable in this container: the test shows nothing"
    );
    let forward = exec(
        &down,
        &[
            "conlink",
            "--project",
            "imgtest",
            "exec",
            "h1",
            "--",
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    );
    assert_eq!(text(&forward.stdout).trim(), "1", "{}", both(&forward));
    drop(down);
}

/// `docker-compose down` of the project when the test ends, also when it fails.
struct Down<'a> {
    dockerd: &'a Dockerd,
    compose: &'a Path,
    name: &'a str,
}

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = self
            .dockerd
            .compose(self.compose, self.name)
            .args(["down", "--timeout", "1"])
            .output();
    }
}

/// `docker-compose exec -T network ARGS`.
fn exec(down: &Down, args: &[&str]) -> Output {
    down.dockerd
        .compose(down.compose, down.name)
        .args(["exec", "-T", "network"])
        .args(args)
        .output()
        .unwrap()
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}
