//! Recovery of `conlink run -n` on the host when the containers or the engine go away
//! under it: a wired container killed with SIGKILL and started again (the container
//! half of the container issue's scenario 6; conlink's own `kill -9` alone is covered
//! by host.rs on the host and compose_router.rs as the `network` service), both
//! killed together with the container started again before conlink is, and a restart
//! of the engine itself while conlink follows its events.
//!
//! For the restart, two containers run with `--restart always`: a daemon without
//! live-restore stops every container when it stops and starts these again when it
//! is back, each in a new namespace with a new pid, so conlink must see that what it
//! wired is gone and wire the new runs (with live-restore the containers would keep
//! their namespaces and there would be nothing to re-wire). A third container has no
//! restart policy: it is stopped while the engine is away and stays stopped, so its
//! links must go and the unit waits until it is started again.

use super::lab::{conlink_links, Lab, Running};
use crate::e2e::{poll, text};
use nix::sys::signal::Signal;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// `eth0`'s MAC and addresses (`ip -o addr` without the interface index) in `name`.
fn identity(lab: &Lab, name: &str) -> (String, Vec<String>) {
    let mac = text(
        &lab.docker_exec(name, &["cat", "/sys/class/net/eth0/address"])
            .stdout,
    );
    let addrs = text(
        &lab.docker_exec(name, &["ip", "-o", "addr", "show", "dev", "eth0"])
            .stdout,
    );
    let addrs = addrs
        .lines()
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(4)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    (mac.trim().to_string(), addrs)
}

/// Containers `names` (with `extra` arguments to `docker run`) on bridge s1 at
/// 10.9.`subnet`.1, .2, …, and a `conlink run -n` that has wired them all.
fn wired(lab: &Lab, subnet: u8, names: &[&str], extra: &[&str]) -> Running {
    let mut net = String::from("links:\n");
    for (i, name) in names.iter().enumerate() {
        net.push_str(&format!(
            "  - {{container: {name}, bridge: s1, ip: 10.9.{subnet}.{}/24}}\n",
            i + 1
        ));
        lab.run_container(name, extra, &[]);
    }
    let net = lab.write_file("net.yaml", &net);
    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net.to_str().unwrap()]));
    run.wait_for("All links connected", 1, WAIT);
    run
}

#[test]
fn a_killed_container_started_again_is_wired_again_the_same() {
    let test = "e2e::containers::recover::a_killed_container_started_again_is_wired_again_the_same";
    let Some(lab) = Lab::without_conlink_image(test, "recoverkill") else {
        return;
    };
    let mut run = wired(&lab, 4, &["alpha", "beta"], &[]);
    let before = identity(&lab, "beta");
    assert!(
        before.1.iter().any(|a| a.contains("inet 10.9.4.2/24")),
        "{before:?}"
    );
    let wired = conlink_links(&lab.project);
    assert_eq!(wired, ["alpha-eth0", "beta-eth0", "lo", "s1"]);
    let pid_before = lab.docker(&["inspect", "-f", "{{.State.Pid}}", "beta"]);

    lab.docker(&["kill", "--signal", "KILL", "beta"]);
    let log = run.wait_for("unwired container:beta", 1, WAIT);
    // Its outer end went with it (the kernel, or conlink's unwiring).
    poll(Duration::from_secs(10), || {
        (!conlink_links(&lab.project).iter().any(|n| n == "beta-eth0")).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "beta-eth0 stays after the kill: {:?}\n{log}",
            conlink_links(&lab.project)
        )
    });
    assert_eq!(
        lab.docker(&["inspect", "-f", "{{.State.ExitCode}}", "beta"])
            .trim(),
        "137"
    );

    lab.docker(&["start", "beta"]);
    let log = run.wait_for("All links connected", 2, WAIT);
    assert_eq!(
        log.matches("wired container:beta (beta)").count(),
        1,
        "{log}"
    );
    assert_ne!(
        lab.docker(&["inspect", "-f", "{{.State.Pid}}", "beta"]),
        pid_before,
        "a new run of beta"
    );
    // The same MAC and addresses, one outer end per container, pings pass.
    assert_eq!(identity(&lab, "beta"), before);
    assert_eq!(conlink_links(&lab.project), wired, "{log}");
    lab.docker_ping("alpha", "10.9.4.2").unwrap();
    lab.docker_ping("beta", "10.9.4.1").unwrap();

    let log = run.terminate();
    eprintln!("{test}: conlink run's log:\n{log}");
    lab.assert_nothing_left();
}

/// conlink killed, then a container it wired killed and started again while no
/// conlink runs (its old outer end went with its old namespace, its records remain):
/// a new `conlink run` wires it again, with nothing stale.
#[test]
fn conlink_and_a_container_killed_together_recover() {
    let test = "e2e::containers::recover::conlink_and_a_container_killed_together_recover";
    let Some(lab) = Lab::without_conlink_image(test, "recoverboth") else {
        return;
    };
    let mut run = wired(&lab, 7, &["alpha", "beta"], &[]);
    let before = identity(&lab, "beta");
    run.stop(Signal::SIGKILL);
    drop(run);

    lab.docker(&["kill", "--signal", "KILL", "beta"]);
    lab.docker(&["start", "beta"]);
    assert!(
        !text(&lab.docker_exec("beta", &["ip", "-o", "link"]).stdout).contains("eth0"),
        "beta started again without its link"
    );
    poll(Duration::from_secs(10), || {
        (conlink_links(&lab.project) == ["alpha-eth0", "lo", "s1"]).then_some(())
    })
    .unwrap_or_else(|| panic!("{:?}", conlink_links(&lab.project)));

    let net = lab.dir.join("net.yaml");
    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net.to_str().unwrap()]));
    // Adopted: the network's 3 steps and alpha's 5 in place, beta's 5 made again.
    let log = run.wait_for("All links connected", 1, WAIT);
    assert!(
        log.contains("5 step(s) carried out, 8 in place; 3 unit(s) wired, 0 waiting"),
        "{log}"
    );
    assert_eq!(identity(&lab, "beta"), before);
    assert_eq!(
        conlink_links(&lab.project),
        ["alpha-eth0", "beta-eth0", "lo", "s1"]
    );
    lab.docker_ping("alpha", "10.9.7.2").unwrap();
    lab.docker_ping("beta", "10.9.7.1").unwrap();

    let log = run.terminate();
    eprintln!("{test}: the second conlink run's log:\n{log}");
    lab.assert_nothing_left();
}

#[test]
fn an_engine_restart_is_followed_by_a_reconciliation() {
    let test = "e2e::containers::recover::an_engine_restart_is_followed_by_a_reconciliation";
    let Some(mut lab) = Lab::without_conlink_image(test, "recoverengine") else {
        return;
    };
    let net = lab.write_file(
        "net.yaml",
        "links:
  - {container: alpha, bridge: s1, ip: 10.9.5.1/24}
  - {container: beta, bridge: s1, ip: 10.9.5.2/24}
  - {container: gamma, bridge: s1, ip: 10.9.5.3/24}
",
    );
    let net = net.to_str().unwrap();
    lab.run_container("alpha", &["--restart", "always"], &[]);
    lab.run_container("beta", &["--restart", "always"], &[]);
    lab.run_container("gamma", &[], &[]);
    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net]));
    run.wait_for("All links connected", 1, WAIT);
    let before = identity(&lab, "alpha");
    let pid = |lab: &Lab, name: &str| lab.docker(&["inspect", "-f", "{{.State.Pid}}", name]);
    let alpha_pid = pid(&lab, "alpha");

    // The engine goes away (and gamma stops with it, for good) and comes back.
    lab.dockerd.restart().expect("the daemon starts again");
    let log = run.wait_for(
        "following the engine's events again; comparing with its containers",
        1,
        WAIT,
    );
    assert!(
        log.contains("lost the engine's events") || log.contains("closed its event stream"),
        "{log}"
    );
    poll(WAIT, || {
        let log = run.log();
        (log.matches("wired container:alpha (alpha)").count() == 1
            && log.matches("wired container:beta (beta)").count() == 1
            && log.contains("unwired container:gamma"))
        .then_some(())
    })
    .unwrap_or_else(|| panic!("alpha and beta not wired again:\n{}", run.log()));
    assert_ne!(pid(&lab, "alpha"), alpha_pid, "a new run of alpha");
    assert_eq!(
        lab.docker(&["inspect", "-f", "{{.State.Running}}", "gamma"])
            .trim(),
        "false"
    );
    assert_eq!(identity(&lab, "alpha"), before);
    assert_eq!(
        conlink_links(&lab.project),
        ["alpha-eth0", "beta-eth0", "lo", "s1"]
    );
    lab.docker_ping("alpha", "10.9.5.2").unwrap();
    lab.docker_ping("beta", "10.9.5.1").unwrap();

    // gamma, started again, is wired from the events of the new connection.
    lab.docker(&["start", "gamma"]);
    let log = run.wait_for("All links connected", 2, WAIT);
    assert_eq!(
        log.matches("wired container:gamma (gamma)").count(),
        1,
        "{log}"
    );
    lab.docker_ping("gamma", "10.9.5.1").unwrap();

    let log = run.terminate();
    eprintln!("{test}: conlink run's log:\n{log}");
    for name in ["alpha", "beta", "gamma"] {
        let links = text(&lab.docker_exec(name, &["ip", "-o", "link"]).stdout);
        assert!(!links.contains("eth0"), "{name}: {links}");
    }
    lab.assert_nothing_left();
}
