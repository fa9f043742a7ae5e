//! The conlink image (`Dockerfile`), built here without a registry by
//! scripts/image.sh (once per test run, shared with the container scenarios:
//! crate::dockerfile_image) and loaded into a private `dockerd`
//! (runtime::engine_harness), then checked:
//! its entrypoint, the debugging tools in it, conlink 2.x's command and tool paths,
//! and conlink applying a network as a compose `network` service.
//!
//! The image is built from this checkout's statically linked debug build
//! (crate::static_binary, given as `CONLINK_BINARY`), as the Dockerfile's own build
//! links it; the Dockerfile's release build from the Rust image takes minutes and a
//! registry, and is checked by hand (README, "The image"). The script's Debian base is kept in its cache directory
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
    let version = dockerd.run(&run_image_args(&[], &["--version"]));
    assert!(version.starts_with("conlink "), "{version}");
    let installed = dockerd.run(&run_image_args(
        &[],
        &["/bin/sh", "-c", "command -v conlink"],
    ));
    assert_eq!(installed, "/usr/local/bin/conlink\n");
    // The completions and manual pages the binary wrote (image/extras.sh).
    let extras = dockerd.run(&run_image_args(
        &[],
        &[
            "/bin/sh",
            "-c",
            "grep -l conlink /usr/share/bash-completion/completions/conlink \
             /usr/share/zsh/vendor-completions/_conlink \
             /usr/share/fish/vendor_completions.d/conlink.fish /usr/share/man/man1/conlink.1",
        ],
    ));
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
            .args(run_image_args(&[], &["/bin/sh", "-c", command]))
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
        let mut run = run_image_args(&["--volume", &mount], &[path]);
        run.extend_from_slice(&args);
        assert_eq!(
            dockerd.run(&run),
            format!("<{command}>\n{expected}"),
            "{path}"
        );
    }
    // With the real conlink: 2.x's command reaches `conlink run`.
    let help = dockerd.run(&run_image_args(&[], &["/app/build/conlink.js", "--help"]));
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
    let service = NetworkService::up(dockerd, &compose, "imgtest");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let applied = service.exec(&["test", "-e", "/run/applied"]);
        if applied.status.success() {
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "the network service did not apply within 30 s:\n{}",
                both(&service.logs())
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = service.logs();
    assert!(
        both(&logs).contains("conlink apply: project imgtest: "),
        "{}",
        both(&logs)
    );
    let ping = service.exec_in_h1(&["ping", "-c", "1", "-W", "5", "10.0.0.2"]);
    assert!(ping.status.success(), "ping h1 → h2: {}", both(&ping));
    assert!(text(&ping.stdout).contains("1 received"), "{}", both(&ping));
    let read_only = service.exec(&["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    assert!(
        !read_only.status.success(),
        "/proc/sys is writable in this container: the test shows nothing"
    );
    let forward = service.exec_in_h1(&["cat", "/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(text(&forward.stdout).trim(), "1", "{}", both(&forward));
    drop(service);
}

/// The arguments of `docker run --rm --network none OPTIONS TAG ARGS…`: the image
/// run once, with no network, `options` for `docker run` and `args` for the image.
fn run_image_args<'a>(options: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["run", "--rm", "--network", "none"];
    all.extend_from_slice(options);
    all.push(TAG);
    all.extend_from_slice(args);
    all
}

/// The compose project's `network` service, started; `docker-compose down` of the
/// project when this is dropped, when the test ends and also when it fails.
struct NetworkService<'a> {
    dockerd: &'a Dockerd,
    compose: &'a Path,
    name: &'a str,
}

impl<'a> NetworkService<'a> {
    /// `docker-compose up -d` of project `name` from the file `compose`, which must
    /// succeed.
    fn up(dockerd: &'a Dockerd, compose: &'a Path, name: &'a str) -> NetworkService<'a> {
        let up = dockerd
            .compose(compose, name)
            .args(["up", "-d"])
            .output()
            .unwrap();
        assert!(up.status.success(), "docker-compose up: {}", both(&up));
        NetworkService {
            dockerd,
            compose,
            name,
        }
    }

    /// `docker-compose ARGS` of the project.
    fn compose(&self, args: &[&str]) -> Output {
        self.dockerd
            .compose(self.compose, self.name)
            .args(args)
            .output()
            .unwrap()
    }

    /// `docker-compose logs network`.
    fn logs(&self) -> Output {
        self.compose(&["logs", "network"])
    }

    /// `docker-compose exec -T network ARGS`.
    fn exec(&self, args: &[&str]) -> Output {
        self.compose(&[&["exec", "-T", "network"][..], args].concat())
    }

    /// `ARGS` in node h1 of the network the service applied (conlink project
    /// `imgtest`), by the service's conlink: `conlink --project imgtest exec h1 -- ARGS`.
    fn exec_in_h1(&self, args: &[&str]) -> Output {
        let conlink = ["conlink", "--project", "imgtest", "exec", "h1", "--"];
        self.exec(&[&conlink[..], args].concat())
    }
}

impl Drop for NetworkService<'_> {
    fn drop(&mut self) {
        let _ = self
            .dockerd
            .compose(self.compose, self.name)
            .args(["down", "--timeout", "1"])
            .output();
    }
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}
