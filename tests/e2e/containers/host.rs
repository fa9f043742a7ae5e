//! conlink on the host wiring `docker run --network none` containers by name: `apply`
//! with a container that does not exist yet (exit 3, the unit waits), a container
//! that has an interface of its own with a planned name (refused, untouched), and
//! `conlink run -n` following a start and a restart, refusing `apply` from elsewhere,
//! adopting what is wired after `kill -9`, and removing everything on SIGTERM.

use super::lab::{Lab, Running};
use crate::e2e::{poll, show, text};
use nix::sys::signal::Signal;
use std::time::Duration;

const NETWORK: &str = "links:
  - {container: alpha, bridge: s1, ip: 10.9.0.1/24}
  - {container: beta, bridge: s1, ip: 10.9.0.2/24}
";

fn links_of(lab: &Lab, name: &str) -> String {
    text(&lab.docker_exec(name, &["ip", "-o", "link"]).stdout)
}

#[test]
fn apply_on_the_host_waits_for_absent_containers_and_refuses_an_occupied_dev() {
    let test = "e2e::containers::host::apply_on_the_host_waits_for_absent_containers_and_refuses_an_occupied_dev";
    let Some(lab) = Lab::without_conlink_image(test, "hostapply") else {
        return;
    };
    let net = lab.write_file("net.yaml", NETWORK);
    let net = net.to_str().unwrap();
    lab.run_container("alpha", &[], &[]);

    let out = lab.host_conlink(&["apply", "-n", net]).output().unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(
        said.contains(
            "unit container:beta not applied: waiting for container beta (no such container)"
        ),
        "{said}"
    );
    assert!(
        links_of(&lab, "alpha").contains("eth0@"),
        "{}",
        links_of(&lab, "alpha")
    );
    // status: healthy (waiting units do not count), one line per container.
    let status = lab.host_conlink(&["status", "-n", net]).output().unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
    let listed = text(&status.stdout);
    assert!(
        listed.contains("container  container:alpha: wired\n"),
        "{listed}"
    );
    assert!(
        listed.contains("container  container:beta: waiting\n"),
        "{listed}"
    );

    lab.run_container("beta", &[], &[]);
    let out = lab.host_conlink(&["apply", "-n", net]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    lab.docker_ping("alpha", "10.9.0.2").unwrap();
    lab.docker_ping("beta", "10.9.0.1").unwrap();
    let out = lab.host_conlink(&["destroy", "-n", net]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        !links_of(&lab, "alpha").contains("eth0"),
        "{}",
        links_of(&lab, "alpha")
    );
    lab.assert_nothing_left();

    // A container with an eth0 of its own (as Docker gives one with a network; a
    // veth here, which busybox's `ip` can make).
    lab.run_container(
        "gamma",
        &["--cap-add", "NET_ADMIN"],
        &["sh", "-c", "ip link add eth0 type veth && sleep 86400"],
    );
    poll(Duration::from_secs(10), || {
        links_of(&lab, "gamma").contains("eth0").then_some(())
    })
    .expect("c's own eth0");
    let occupied = lab.write_file(
        "occupied.yaml",
        "links:\n  - {container: alpha, bridge: s1, ip: 10.9.0.1/24}\n  - {container: gamma, bridge: s1, ip: 10.9.0.3/24}\n",
    );
    let out = lab
        .host_conlink(&["apply", "-n", occupied.to_str().unwrap()])
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("container gamma already has an interface eth0 that conlink did not create"),
        "{said}"
    );
    assert!(said.contains("`network_mode: none`"), "{said}");
    // Rolled back, and c's own interface untouched. Read at once, not polled: rollback
    // deletes alpha's veth itself rather than leaving it to the kernel's later removal
    // of conlink's unpinned namespace (runtime/tests/run_loop.rs checks this without
    // Docker).
    assert!(
        !links_of(&lab, "alpha").contains("eth0"),
        "{}",
        links_of(&lab, "alpha")
    );
    assert!(
        links_of(&lab, "gamma").contains(" eth0@"),
        "{}",
        links_of(&lab, "gamma")
    );
    let out = lab
        .host_conlink(&["destroy", "-n", occupied.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    lab.assert_nothing_left();
}

#[test]
fn run_on_the_host_follows_restarts_adopts_after_kill_and_cleans_up() {
    let test =
        "e2e::containers::host::run_on_the_host_follows_restarts_adopts_after_kill_and_cleans_up";
    let Some(lab) = Lab::without_conlink_image(test, "hostrun") else {
        return;
    };
    // A command in beta, through the engine: beta's own busybox, once per start.
    let with_command = format!(
        "{NETWORK}commands:\n  - {{container: beta, command: 'cat /etc/hostname; ip -o addr show dev eth0; exit 3'}}\n"
    );
    let net = lab.write_file("net.yaml", &with_command);
    let net = net.to_str().unwrap();
    lab.run_container("alpha", &[], &[]);

    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net]));
    run.wait_for(
        "container:beta: waiting for container beta",
        1,
        Duration::from_secs(30),
    );
    lab.run_container("beta", &[], &[]);
    let log = run.wait_for("All links connected", 1, Duration::from_secs(30));
    assert!(log.contains("wired container:beta (beta)"), "{log}");
    lab.docker_ping("alpha", "10.9.0.2").unwrap();
    let log = run.wait_for("ended: exit code 3 (failed)", 1, Duration::from_secs(30));
    let output = log
        .lines()
        .find_map(|l| l.split("its output is in ").nth(1))
        .expect("the log's path");
    let output = std::fs::read_to_string(output).unwrap();
    // Its own hostname (its id's first 12 digits) and its address: it ran in beta.
    let id = lab.docker(&["inspect", "-f", "{{.Id}}", "beta"]);
    assert!(output.contains(&id[..12]), "{output}");
    assert!(output.contains("10.9.0.2/24"), "{output}");

    // While the run holds the project: status works, apply says who manages it.
    // (Its one difference: the command that failed.)
    let status = lab.host_conlink(&["status", "-n", net]).output().unwrap();
    assert_eq!(status.status.code(), Some(1), "{}", show(&status));
    assert!(
        text(&status.stdout).contains("exit code 3"),
        "{}",
        show(&status)
    );
    assert!(
        text(&status.stdout).contains("container  container:beta: drifted\n"),
        "{}",
        show(&status)
    );
    let apply = lab.host_conlink(&["apply", "-n", net]).output().unwrap();
    let said = text(&apply.stderr);
    assert_eq!(apply.status.code(), Some(1), "{said}");
    assert!(said.contains("managed by `conlink run` (pid"), "{said}");
    let destroy = lab.host_conlink(&["destroy", "-n", net]).output().unwrap();
    assert_eq!(destroy.status.code(), Some(1), "{}", show(&destroy));

    // A restart: unwired on die, wired again on start, with the same MAC.
    let mac = |lab: &Lab| {
        text(
            &lab.docker_exec("beta", &["cat", "/sys/class/net/eth0/address"])
                .stdout,
        )
    };
    let before = mac(&lab);
    lab.docker(&["restart", "--time", "1", "beta"]);
    let log = run.wait_for("All links connected", 2, Duration::from_secs(30));
    assert!(log.contains("unwired container:beta"), "{log}");
    assert_eq!(
        log.matches("wired container:beta (beta)").count(),
        2,
        "{log}"
    );
    assert_eq!(mac(&lab), before);
    lab.docker_ping("alpha", "10.9.0.2").unwrap();
    // The command ran again for the new start.
    run.wait_for("ended: exit code 3 (failed)", 2, Duration::from_secs(30));

    // kill -9, and a new run adopts what is wired (its namespace is pinned).
    let (_, _) = run.stop(Signal::SIGKILL);
    drop(run);
    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net]));
    let log = run.wait_for("All links connected", 1, Duration::from_secs(30));
    assert!(log.contains("applied: 0 step(s) carried out"), "{log}");
    let conlink_ns = format!("conlink.{}", lab.project);
    let links = crate::e2e::must_in_ns(&conlink_ns, &["ip", "-o", "link"]);
    assert_eq!(
        links.lines().count(),
        4,
        "lo, s1 and two outer ends:\n{links}"
    );
    lab.docker_ping("beta", "10.9.0.1").unwrap();

    let (code, took) = run.stop(Signal::SIGTERM);
    let log = run.log();
    assert_eq!(code, Some(0), "{log}");
    eprintln!(
        "{test}: SIGTERM to exit: {:.3} s\n{log}",
        took.as_secs_f64()
    );
    assert!(
        !links_of(&lab, "alpha").contains("eth0"),
        "{}",
        links_of(&lab, "alpha")
    );
    lab.assert_nothing_left();
}
