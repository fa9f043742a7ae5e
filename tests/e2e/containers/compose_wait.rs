//! Scenario 7 and the healthcheck: two ways for a compose service to start after its
//! network, with conlink as the `network` service.
//!
//! * `conlink wait` as the first word of a service's command, as docs/cli.md, "conlink
//!   copy", shows it: a one-shot `conlink copy /conlink` service of the lab's conlink
//!   image fills a named volume, and `app`, a busybox service with no conlink of its
//!   own, runs `/conlink/conlink wait -- sh -c …` from that volume. The image's binary
//!   is static (crate::static_binary), so the copy says nothing of shared libraries and
//!   runs where there are none. `app` records its addresses with busybox's `ip` as its
//!   command starts: all of its links are there, and none of conlink's addresses is
//!   still tentative.
//! * `conlink status` as the `network` service's `healthcheck:`, and a service with
//!   `depends_on: {network: {condition: service_healthy}}`: the engine's events show
//!   the network healthy before that service starts, and it is wired after. Scaled
//!   with `docker-compose up --scale` beyond the compose file's count, the healthcheck
//!   passes again once `conlink run` has wired the new replicas: `status` plans with
//!   the replica counts the containers show, as the run does, and lists them wired.
//!
//! `app` has an IPv6 address and no `sysctls:` turning IPv6 back on where Docker turned
//! it off: conlink switches it on for the interface it creates.

use super::lab::{compose_file_with, Lab, CONLINK_IMAGE};
use super::scenario::{assert_global_addrs_usable, conlink_in_network};
use crate::e2e::poll;
use runtime::engine_harness::BUSYBOX_IMAGE;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

const X_NETWORK: &str = "  links:
    - {service: app, bridge: s1, ip: [10.0.3.1/24, \"fd00:3::1/64\"]}
    - {service: app, dev: eth1, bridge: s2, ip: 10.0.4.1/24}
    - {service: late, bridge: s1, ip: 10.0.3.10/24}";

const HEALTHCHECK: &str = "    healthcheck:
      test: [CMD, /usr/local/bin/conlink, --ovs, 'no', status, --compose-file, /test/compose.yaml]
      interval: 1s
      timeout: 10s
      retries: 60
";

#[test]
fn wait_in_a_command_and_status_as_healthcheck() {
    let test = "e2e::containers::compose_wait::wait_in_a_command_and_status_as_healthcheck";
    let Some(lab) = Lab::start(test, "waitlab") else {
        return;
    };
    let out = lab.dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut file = compose_file_with(
        lab.dockerd.socket(),
        X_NETWORK,
        &[],
        HEALTHCHECK,
        &[(
            "late",
            "    depends_on: {network: {condition: service_healthy}}\n",
        )],
    );
    file.push_str(&format!(
        "  conlink-copy:
    image: {CONLINK_IMAGE}
    network_mode: none
    volumes: ['conlink-bin:/conlink']
    command: [copy, /conlink]
  app:
    image: {BUSYBOX_IMAGE}
    network_mode: none
    depends_on: {{conlink-copy: {{condition: service_completed_successfully}}}}
    volumes: ['conlink-bin:/conlink:ro', './out:/out']
    command: [/conlink/conlink, wait, --, sh, -c, 'ip -o addr > /out/app.txt; exec sleep 86400']
volumes:
  conlink-bin: {{}}
"
    ));
    lab.write(&file);
    let began = now_secs() - 1;
    // `up` returns once `late` started, which waits for the network to be healthy.
    let up = lab.compose(&["up", "-d"]);
    if !up.status.success() {
        let network = lab.container_id("network", 1);
        panic!(
            "up: {}\nthe network's health: {}\nits log:\n{}",
            crate::e2e::show(&up),
            lab.docker(&["inspect", "-f", "{{json .State.Health}}", &network]),
            lab.logs("network")
        );
    }
    // conlink copy (done before app started): the image's binary is static, so the
    // copy comes without the warning that it needs shared libraries. Checked first: a
    // copy that cannot run in busybox would leave app unstarted and the network
    // waiting for it.
    let copy_log = lab.logs("conlink-copy");
    assert!(
        copy_log.contains("conlink copy: copied conlink") && !copy_log.contains("warning"),
        "{copy_log}"
    );
    let log = lab.wait_log(
        "network",
        "All links connected: 3 unit(s), 2 container(s)",
        1,
        WAIT,
    );

    // conlink wait, run from the copy in busybox: the command started with every
    // link of app in place.
    let app = lab.container_id("app", 1);
    let app_log = lab.docker_logs(&app);
    assert!(app_log.contains("conlink wait: links are up"), "{app_log}");
    let recorded = std::fs::read_to_string(out.join("app.txt"))
        .unwrap_or_else(|e| panic!("app recorded nothing ({e}):\n{app_log}\n{log}"));
    for addr in ["10.0.3.1/24", "fd00:3::1/64", "10.0.4.1/24"] {
        assert!(
            recorded.contains(addr),
            "{addr} missing from\n{recorded}\n{log}"
        );
    }
    assert_global_addrs_usable(&recorded, "app#1 as its command started");
    lab.ping("late", 1, "10.0.3.1").unwrap();

    // The healthcheck: the network was healthy before `late` started.
    let events = lab.docker(&[
        "events",
        "--since",
        &began.to_string(),
        "--until",
        &now_secs().to_string(),
        "--filter",
        "type=container",
        "--format",
        "{{.Action}} {{index .Actor.Attributes \"com.docker.compose.service\"}}",
    ]);
    let lines: Vec<&str> = events.lines().map(str::trim).collect();
    let healthy = lines
        .iter()
        .position(|l| *l == "health_status: healthy network")
        .unwrap_or_else(|| panic!("the network never became healthy:\n{events}"));
    let late = lines
        .iter()
        .position(|l| *l == "start late")
        .unwrap_or_else(|| panic!("late never started:\n{events}"));
    assert!(
        healthy < late,
        "late started before the network was healthy:\n{events}"
    );
    let (code, status) = conlink_in_network(&lab, &["status"]);
    assert_eq!(code, Some(0), "{status}");
    assert!(
        status.contains("container  service:late#1: wired"),
        "{status}"
    );
    let health = lab.docker(&[
        "inspect",
        "-f",
        "{{.State.Health.Status}}",
        &lab.container_id("network", 1),
    ]);
    assert_eq!(health.trim(), "healthy");

    // Scaled beyond the compose file's one replica: once the run has wired the four
    // new ones, the healthcheck's `conlink status` (the compose file's counts, no
    // `--scale`) passes, listing all five wired.
    lab.must(&["up", "-d", "--scale", "late=5", "late"]);
    lab.wait_log(
        "network",
        "All links connected: 7 unit(s), 6 container(s)",
        1,
        WAIT,
    );
    lab.ping("late", 5, "10.0.3.1").unwrap();
    let (code, status) = conlink_in_network(&lab, &["status"]);
    assert_eq!(code, Some(0), "{status}");
    let wired: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("container  service:late#") && l.ends_with(": wired"))
        .collect();
    assert_eq!(wired.len(), 5, "{status}");
    assert!(!status.contains("extra"), "{status}");
    // The engine's own healthcheck: its newest run passes and lists replica 5 (before
    // the new replicas were wired a run may have failed; 60 failures in a row would be
    // needed to turn the service unhealthy, so the newest run is what says).
    let network = lab.container_id("network", 1);
    let health = || -> serde_json::Value {
        let json = lab.docker(&["inspect", "-f", "{{json .State.Health}}", &network]);
        serde_json::from_str(json.trim()).expect("the health is JSON")
    };
    let newest_passes = |h: &serde_json::Value| {
        let last = h["Log"].as_array()?.last()?;
        let output = last["Output"].as_str()?;
        (last["ExitCode"] == 0 && output.contains("container  service:late#5: wired")).then_some(())
    };
    let passed = poll(WAIT, || newest_passes(&health()));
    let h = health();
    assert!(passed.is_some(), "{h:#}\n{}", lab.logs("network"));
    assert_eq!(h["Status"], "healthy", "{h:#}");
    assert_eq!(h["FailingStreak"], 0, "{h:#}");

    eprintln!(
        "{test}: the engine's events:\n{events}\nthe network service's log:\n{}",
        lab.logs("network")
    );
    lab.must(&["down", "--volumes", "--timeout", "1"]);
    lab.assert_nothing_left();
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
