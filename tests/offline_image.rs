//! scripts/offline-image.sh builds a working conlink image with no registry: built
//! with a private `dockerd` (runtime::engine_harness), then `conlink --version` and
//! `conlink plan -n …` run inside it and print what they print on the host, and
//! conlink 2.x's command and tool paths answer.
//!
//! The image is made from this test run's binary (`CONLINK_BINARY`), a dynamically
//! linked debug build, so the script's copying of the libraries `ldd` lists is what
//! is exercised here; its default static release build takes minutes and is checked
//! by hand (README, "Development").

use crate::util::{root, text};
use runtime::engine_harness::Dockerd;
use std::process::Command;

#[test]
fn offline_image_runs_conlink() {
    let test = "offline_image::offline_image_runs_conlink";
    let Some(dockerd) = Dockerd::start(test) else {
        return;
    };
    let tag = "conlink-test/conlink:offline";
    let built = Command::new(root().join("scripts/offline-image.sh"))
        .arg(tag)
        .env("CONLINK_BINARY", env!("CARGO_BIN_EXE_conlink"))
        .envs(dockerd.env())
        .output()
        .expect("run scripts/offline-image.sh");
    assert!(
        built.status.success(),
        "offline-image.sh failed:\n{}{}",
        text(&built.stdout),
        text(&built.stderr)
    );
    assert_eq!(text(&built.stdout).trim(), tag);

    // The entrypoint hands conlink its arguments.
    let version = dockerd.run(&["run", "--rm", "--network", "none", tag, "--version"]);
    assert!(version.starts_with("conlink "), "{version}");
    // conlink 2.x's paths, as in the Dockerfile's image: its command is `conlink
    // run`, its wait tool `conlink wait`.
    for (path, usage) in [
        ("/app/build/conlink.js", "Usage: conlink run"),
        ("/utils/wait", "Usage: conlink wait"),
        ("/utils/wait.sh", "Usage: conlink wait"),
    ] {
        let help = dockerd.run(&["run", "--rm", "--network", "none", tag, path, "--help"]);
        assert!(help.contains(usage), "{path}: {help}");
    }

    // The same plan inside as on the host: the examples are mounted at the same
    // path, and where conlink's namespace is is said explicitly (`auto` depends on
    // being in a container).
    let examples = root().join("examples");
    let network = examples.join("router/network.yaml");
    let args = [
        "--ovs",
        "no",
        "--project",
        "p",
        "--conlink-netns",
        "own",
        "plan",
        "-n",
        network.to_str().unwrap(),
    ];
    let host = Command::new(env!("CARGO_BIN_EXE_conlink"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(host.status.success(), "{}", text(&host.stderr));
    let volume = format!("{0}:{0}:ro", examples.display());
    let mut inside = vec!["run", "--rm", "--network", "none", "--volume", &volume, tag];
    inside.extend_from_slice(&args);
    let plan = dockerd.run(&inside);
    assert!(!plan.is_empty());
    assert_eq!(plan, text(&host.stdout));

    // busybox's applets are there for a person debugging the network.
    let tools = dockerd.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "/bin/sh",
        tag,
        "-c",
        "which ip ping nc wget && ip link show lo",
    ]);
    assert!(
        tools.starts_with("/bin/ip\n/bin/ping\n/bin/nc\n/bin/wget\n"),
        "{tools}"
    );
    assert!(tools.contains("1: lo: <LOOPBACK"), "{tools}");
}
