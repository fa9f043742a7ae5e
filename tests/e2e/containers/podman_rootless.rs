//! conlink in a rootless Podman container, as conlink 1.x's fourth scenario ran it: a
//! user of the test's own (`runtime::engine_harness::RootlessPodman`) runs a busybox
//! container `node-…` with a web server and no network, and conlink's container, which
//! makes a router and hosts (nodes) inside its own namespace and links the outside
//! container into a bridge there. The outside container pings a node behind the
//! router, a node fetches the outside container's page, and stopping conlink's
//! container takes the outside container's interface away again.
//!
//! The options conlink's container needs under rootless Podman, and why, are in
//! docs/security.md, "Rootless Podman"; this test uses exactly those.

use crate::e2e::{can_run, poll, show, text};
use runtime::engine_harness::RootlessPodman;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The conlink image's tag in the user's storage.
const IMAGE: &str = "localhost/conlink-test/conlink:rootless";

/// Where the user's Podman socket is mounted in conlink's container.
const SOCKET_INSIDE: &str = "/run/podman/podman.sock";

/// The seed's topology, reduced to what the test checks: router r0 between two
/// switches (s1 with h1, s3 with h3), and the outside container on s3.
const NETWORK: &str = "nodes:
  - name: r0
    sysctls: {net.ipv4.ip_forward: 1}
  - name: h1
  - name: h3
bridges:
  - {bridge: s1, mode: linux}
  - {bridge: s3, mode: linux}
links:
  - {container: '${NODE_NAME}', dev: ext-intf, bridge: s3, ip: 10.0.1.1/16,
     route: default via 10.0.0.1}
  - {node: r0, dev: eth1, bridge: s1, ip: 192.168.1.1/24}
  - {node: r0, dev: eth3, bridge: s3, ip: 10.0.0.1/8}
  - {node: h1, bridge: s1, ip: 192.168.1.100/24, route: default via 192.168.1.1}
  - {node: h3, bridge: s3, ip: 10.0.0.100/8, route: default via 10.0.0.1}
";

/// What the outside container's web server serves.
const PAGE: &str = "served by the outside container\n";

/// The conlink image in the user's storage: scripts/offline-image.sh writes the root
/// filesystem (this run's binary and busybox), which the user imports with the
/// script's image settings.
fn import_conlink_image(podman: &RootlessPodman) {
    let tar = podman.dir().join("conlink-rootfs.tar");
    let built = Command::new(crate::util::root().join("scripts/offline-image.sh"))
        .arg(IMAGE)
        .env("CONLINK_BINARY", env!("CARGO_BIN_EXE_conlink"))
        .env("ROOTFS_TAR", &tar)
        // Its scratch directory goes with the engine's.
        .env("TMPDIR", podman.dir())
        .output()
        .expect("run scripts/offline-image.sh");
    assert!(built.status.success(), "offline-image.sh: {}", show(&built));
    podman.share(&tar).unwrap();
    podman.run(&[
        "import",
        "--quiet",
        "--change",
        "ENTRYPOINT [\"/usr/local/bin/conlink\"]",
        "--change",
        "ENV PATH=/usr/local/bin:/bin",
        tar.to_str().unwrap(),
        IMAGE,
    ]);
}

/// The rootless user's engine with the busybox and conlink images, and the project
/// directory with `network` as `net.yaml`; `None` (a skip is recorded) where it
/// cannot run.
fn prepare(test: &str, network: &str) -> Option<(RootlessPodman, &'static str, String)> {
    if !can_run(test, &["podman"]) {
        return None;
    }
    let podman = RootlessPodman::start(test)?;
    let busybox = podman.busybox_image().unwrap();
    import_conlink_image(&podman);
    let project = user_dir(&podman, "project", &[("net.yaml", network)]);
    Some((podman, busybox, project))
}

/// Starts the outside container `name`: busybox with no network, `options`, running
/// `command`.
fn start_node(
    podman: &RootlessPodman,
    image: &str,
    name: &str,
    options: &[&str],
    command: &[&str],
) {
    let mut args = vec!["run", "--detach", "--name", name, "--network", "none"];
    args.extend_from_slice(options);
    args.push(image);
    args.extend_from_slice(command);
    podman.run(&args);
}

/// A directory of the test's under the engine's, made the user's (its containers
/// mount it).
fn user_dir(podman: &RootlessPodman, name: &str, files: &[(&str, &str)]) -> String {
    let dir = podman.dir().join(name);
    std::fs::create_dir(&dir).unwrap();
    for (file, content) in files {
        let path = dir.join(file);
        std::fs::write(&path, content).unwrap();
        podman.share(&path).unwrap();
    }
    podman.share(&dir).unwrap();
    dir.to_str().unwrap().to_string()
}

fn exec(podman: &RootlessPodman, container: &str, cmd: &[&str]) -> Output {
    podman
        .podman()
        .args(["exec", container])
        .args(cmd)
        .output()
        .unwrap()
}

/// A container's log so far (conlink's is its standard error).
fn logs(podman: &RootlessPodman, container: &str) -> String {
    let out = podman.podman().args(["logs", container]).output().unwrap();
    text(&out.stdout) + &text(&out.stderr)
}

/// Runs `cmd` in `container` until it succeeds (ARP and the first packets may take a
/// moment); its output, or the last failure.
fn retried(podman: &RootlessPodman, container: &str, cmd: &[&str]) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..5 {
        let out = exec(podman, container, cmd);
        if out.status.success() {
            return Ok(text(&out.stdout));
        }
        last = show(&out);
    }
    Err(last)
}

/// What conlink's container needs under rootless Podman besides the socket
/// (docs/security.md, "Rootless Podman"): the host's process ids, two capabilities
/// and a writable /proc/sys.
const NEEDS: [&str; 6] = [
    "--pid",
    "host",
    "--cap-add",
    "SYS_ADMIN,NET_ADMIN",
    "--security-opt",
    "unmask=/proc/sys",
];

/// Starts conlink's container (`conlink run` with network file `file` of directory
/// `project`): the user's Podman socket, and `options`. Its name.
fn start_conlink(
    podman: &RootlessPodman,
    options: &[&str],
    (project, file): (&str, &str),
    node: &str,
) -> String {
    let name = runtime::testing::unique("conlink-");
    let socket_volume = format!("{}:{SOCKET_INSIDE}", podman.socket().display());
    let project_volume = format!("{project}:/test:ro");
    let node_name = format!("NODE_NAME={node}");
    let file = format!("/test/{file}");
    let mut args = vec!["run", "--detach", "--name", &name, "--network", "none"];
    args.extend_from_slice(options);
    args.extend_from_slice(&[
        "--volume",
        &socket_volume,
        "--volume",
        &project_volume,
        "--env",
        &node_name,
        IMAGE,
        "--ovs",
        "no",
        "--project",
        "rootless",
        "run",
        "--network-file",
        &file,
        "--podman-socket",
        SOCKET_INSIDE,
    ]);
    podman.run(&args);
    name
}

/// How conlink's container came out of its first apply.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// "All links connected".
    Connected,
    /// The outside container could not be wired: conlink left it out, applied the
    /// rest, and keeps running to wire it at its next start.
    LeftOut,
    /// conlink ended, with this exit code.
    Ended(Option<i32>),
}

/// Waits until conlink's container `name` is connected, has left a container out, or
/// has ended; with its log.
fn wait_for_conlink(podman: &RootlessPodman, name: &str) -> (Outcome, String) {
    let ended = poll(Duration::from_secs(60), || {
        let log = logs(podman, name);
        if log.contains("All links connected") {
            return Some((Outcome::Connected, log));
        }
        if log.contains("applying the rest without it") {
            return Some((Outcome::LeftOut, log));
        }
        let state = podman.run(&[
            "inspect",
            "--format",
            "{{.State.Running}} {{.State.ExitCode}}",
            name,
        ]);
        match state.split_whitespace().collect::<Vec<_>>()[..] {
            ["false", code] => Some((Outcome::Ended(code.parse().ok()), logs(podman, name))),
            _ => None,
        }
    });
    ended.unwrap_or_else(|| {
        panic!(
            "conlink's container neither connected nor ended within 60 s:\n{}",
            logs(podman, name)
        )
    })
}

/// Stops conlink's container `name` (SIGTERM) and checks it exited 0.
fn stop_conlink(podman: &RootlessPodman, name: &str) {
    podman.run(&["stop", "--time", "20", name]);
    let code = podman.run(&["inspect", "--format", "{{.State.ExitCode}}", name]);
    assert_eq!(code.trim(), "0", "{}", logs(podman, name));
}

fn links_of(podman: &RootlessPodman, container: &str) -> String {
    text(&exec(podman, container, &["ip", "-o", "link"]).stdout)
}

#[test]
fn rootless_podman_container_wires_a_container_of_the_same_user_and_its_own_nodes() {
    let test = "e2e::containers::podman_rootless::rootless_podman_container_wires_a_container_of_the_same_user_and_its_own_nodes";
    let Some((podman, busybox, project)) = prepare(test, NETWORK) else {
        return;
    };
    let www = user_dir(&podman, "www", &[("index.html", PAGE)]);
    let node = runtime::testing::unique("node-");

    // The outside container: no network, a web server on port 84, and NET_RAW for
    // ping (Podman's default capabilities leave it out).
    let www_volume = format!("{www}:/www:ro");
    let node_options = ["--cap-add", "NET_RAW", "--volume", &www_volume];
    let httpd = ["httpd", "-f", "-p", "84", "-h", "/www"];
    start_node(&podman, busybox, &node, &node_options, &httpd);

    // Each option conlink's container needs under rootless Podman, left out in turn:
    // the exact refusal, and everything of the refused part rolled back. A refusal in
    // conlink's own namespace ends the run (exit 1); one of the outside container's
    // namespace leaves that container out, and conlink goes on with the rest (its
    // nodes) until stopped.
    let refused = |options: &[&str], said: &str, expected: Outcome| {
        let name = start_conlink(&podman, options, (&project, "net.yaml"), &node);
        let (outcome, log) = wait_for_conlink(&podman, &name);
        assert_eq!(outcome, expected, "{log}");
        assert!(log.contains(said), "{log}");
        eprintln!("refused as expected ({}):\n{log}", options.join(" "));
        let links = links_of(&podman, &node);
        assert!(!links.contains("ext-intf"), "{links}");
        if expected == Outcome::LeftOut {
            assert!(!log.contains("All links connected"), "{log}");
            stop_conlink(&podman, &name);
        }
        podman.run(&["rm", &name]);
    };
    // Without a writable /proc/sys, the first sysctl (IPv6 off for new interfaces in
    // conlink's namespace; r0's would come later): the private proc conlink mounts
    // instead is refused too, as the host's process id namespace is not the user's.
    refused(
        &["--pid", "host", "--cap-add", "SYS_ADMIN,NET_ADMIN,NET_RAW"],
        "step network/1 failed in namespace conlink: cannot set sysctl \
         net.ipv6.conf.default.disable_ipv6 to \"1\": /proc/sys is read-only here, as in a \
         container, and the kernel refused conlink a proc of its own (Operation not \
         permitted (os error 1);",
        Outcome::Ended(Some(1)),
    );
    // Without the host's process ids, the outside container's pid is none of
    // conlink's.
    refused(
        &[
            "--cap-add",
            "SYS_ADMIN,NET_ADMIN,NET_RAW",
            "--security-opt",
            "unmask=/proc/sys",
        ],
        &format!("cannot reach the network namespace of container {node}: "),
        Outcome::LeftOut,
    );
    // Without NET_RAW, which the outside container has: the kernel's ptrace check
    // refuses its namespace, and conlink names the capability.
    refused(
        &NEEDS,
        &format!(
            "Permission denied (os error 13); container {node}'s process holds capabilities \
             conlink's process lacks (NET_RAW)"
        ),
        Outcome::LeftOut,
    );

    // With all of them, and the outside container's NET_RAW.
    let mut options = NEEDS.to_vec();
    options.extend_from_slice(&["--cap-add", "NET_RAW"]);
    let began = Instant::now();
    let network = start_conlink(&podman, &options, (&project, "net.yaml"), &node);
    let (outcome, log) = wait_for_conlink(&podman, &network);
    let connected = began.elapsed();
    assert_eq!(outcome, Outcome::Connected, "{log}");
    assert!(
        log.contains("All links connected: 5 unit(s), 1 container(s) wired"),
        "{log}"
    );

    // The outside container reaches a node on its bridge, and one behind the router.
    let links = links_of(&podman, &node);
    assert!(links.contains(" ext-intf@"), "{links}");
    retried(
        &podman,
        &node,
        &["ping", "-c", "1", "-W", "2", "10.0.0.100"],
    )
    .unwrap();
    retried(
        &podman,
        &node,
        &["ping", "-c", "1", "-W", "2", "192.168.1.100"],
    )
    .unwrap();

    // A node behind the router fetches the outside container's page.
    let page = retried(
        &podman,
        &network,
        &[
            "conlink",
            "exec",
            "h1",
            "--",
            "wget",
            "-q",
            "-O",
            "-",
            "http://10.0.1.1:84/",
        ],
    )
    .unwrap();
    assert_eq!(page, PAGE);

    // SIGTERM (podman stop): conlink removes what it made and exits 0; the outside
    // container's interface is gone.
    let began = Instant::now();
    podman.run(&["stop", "--time", "20", &network]);
    let stopped = began.elapsed();
    let code = podman.run(&["inspect", "--format", "{{.State.ExitCode}}", &network]);
    let log = logs(&podman, &network);
    eprintln!(
        "{test}: `podman run` of conlink's container to \"All links connected\" seen: \
         {:.2} s (its log polled); `podman stop`: {:.2} s",
        connected.as_secs_f64(),
        stopped.as_secs_f64()
    );
    assert_eq!(code.trim(), "0", "{log}");
    let links = poll(Duration::from_secs(10), || {
        let links = links_of(&podman, &node);
        (!links.contains("ext-intf")).then_some(links)
    });
    assert!(links.is_some(), "{}\n{log}", links_of(&podman, &node));

    // Dropping the engine removes the user, its containers, processes and files.
    let left = podman.remove();
    assert!(left.is_empty(), "left: {left:?}");
}

/// User namespaces of their own (Podman's `--userns=keep-id`): a container in one is
/// wired as any other (conlink's user namespace made it, so conlink holds every
/// capability over it); conlink's container in one is refused the user's other
/// containers, and says why.
#[test]
fn rootless_podman_user_namespaces_of_their_own() {
    let test = "e2e::containers::podman_rootless::rootless_podman_user_namespaces_of_their_own";
    let network =
        "links:\n  - {container: '${NODE_NAME}', dev: ext-intf, bridge: s3, ip: 10.0.1.1/16}\n";
    let Some((podman, busybox, project)) = prepare(test, network) else {
        return;
    };
    let node = runtime::testing::unique("node-");
    start_node(
        &podman,
        busybox,
        &node,
        &["--userns", "keep-id"],
        &["sleep", "86400"],
    );

    // The container in a user namespace of its own, conlink's in the user's.
    let name = start_conlink(&podman, &NEEDS, (&project, "net.yaml"), &node);
    let (outcome, log) = wait_for_conlink(&podman, &name);
    assert_eq!(outcome, Outcome::Connected, "{log}");
    let links = links_of(&podman, &node);
    assert!(links.contains(" ext-intf@"), "{links}");
    stop_conlink(&podman, &name);
    let gone = poll(Duration::from_secs(10), || {
        (!links_of(&podman, &node).contains("ext-intf")).then_some(())
    });
    assert!(gone.is_some(), "{}", links_of(&podman, &node));
    podman.run(&["rm", &name]);

    // conlink's container in a user namespace of its own too (as root there): it
    // holds no capability over the container's, and is refused.
    let mut options = NEEDS.to_vec();
    options.extend_from_slice(&["--userns", "keep-id", "--user", "0"]);
    let name = start_conlink(&podman, &options, (&project, "net.yaml"), &node);
    let (outcome, log) = wait_for_conlink(&podman, &name);
    assert_eq!(outcome, Outcome::LeftOut, "{log}");
    assert!(
        log.contains(&format!(
            "Permission denied (os error 13); container {node} runs in another user \
             namespace than conlink's (their uid maps differ)"
        )),
        "{log}"
    );
    eprintln!("conlink in a user namespace of its own, refused as expected:\n{log}");
    let links = links_of(&podman, &node);
    assert!(!links.contains("ext-intf"), "{links}");
    stop_conlink(&podman, &name);
}
