//! A benchmark, not a test (ignored by default; it prints figures and asserts none):
//! `conlink run -n` on the host with 50 `docker run --network none` containers of a
//! private dockerd.
//!
//! ```sh
//! sudo flock /work/.kernel-tests.lock \
//!   cargo test --test integration e2e::containers::bench -- --ignored --nocapture
//! ```
//!
//! It prints: (1) for 50 containers started one after the other, the time from the
//! start event reaching conlink to the container's links being up (conlink's share,
//! from its log), p50 and p95, beside how long `docker start` took for each (the
//! engine's share); (2) 50 stopped containers started by one `docker start`: when the
//! engine's command returned and when conlink logged `All links connected`; (3) the
//! SIGTERM to exit of `conlink run` with 50 containers wired; (4) a compose service
//! scaled from 0 to 50 replicas by `docker-compose up --scale`, with `conlink run -c`
//! on the host: when compose returned (the engine's time to create and start them)
//! and when conlink logged `All links connected` for all 50 (once: see
//! docs/decisions.md, "conlink run").

use super::lab::{Lab, Running};
use nix::sys::signal::Signal;
use std::fmt::Write;
use std::time::{Duration, Instant};

const N: usize = 50;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn containers_start_to_links_up() {
    let test = "e2e::containers::bench::containers_start_to_links_up";
    let Some(lab) = Lab::without_conlink_image(test, "benchrun") else {
        return;
    };
    let mut net = String::from("links:\n");
    for i in 1..=N {
        writeln!(
            net,
            "  - {{container: b{i}, bridge: s1, ip: 10.50.{}.{}/16}}",
            i / 200,
            i % 200 + 1
        )
        .unwrap();
    }
    let net = lab.write_file("net.yaml", &net);
    let net = net.to_str().unwrap();
    let image = runtime::engine_harness::BUSYBOX_IMAGE;
    for i in 1..=N {
        lab.docker(&[
            "create",
            "--network",
            "none",
            "--name",
            &format!("b{i}"),
            image,
            "sleep",
            "86400",
        ]);
    }

    // (1) One after the other.
    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net]));
    run.wait_for("applied:", 1, Duration::from_secs(30));
    let mut engine_ms = Vec::new();
    for i in 1..=N {
        let began = Instant::now();
        lab.docker(&["start", &format!("b{i}")]);
        engine_ms.push(began.elapsed().as_secs_f64() * 1e3);
        run.wait_for(
            &format!("wired container:b{i} "),
            1,
            Duration::from_secs(30),
        );
    }
    run.wait_for("All links connected", 1, Duration::from_secs(30));
    let log = run.log();
    let mut conlink_ms: Vec<f64> = log
        .lines()
        .filter(|l| l.contains("wired container:b") && !l.contains("unwired"))
        .filter_map(|l| l.split(", ").last())
        .filter_map(|t| t.split(" ms after").next())
        .filter_map(|t| t.parse().ok())
        .collect();
    conlink_ms.sort_by(f64::total_cmp);
    engine_ms.sort_by(f64::total_cmp);

    // (3) SIGTERM with 50 wired.
    let (code, stop) = run.stop(Signal::SIGTERM);
    assert_eq!(code, Some(0), "{}", run.log());
    drop(run);

    // (2) All at once: stopped, then one `docker start` of all 50.
    let names: Vec<String> = (1..=N).map(|i| format!("b{i}")).collect();
    let mut args = vec!["stop", "--time", "0"];
    args.extend(names.iter().map(String::as_str));
    lab.docker(&args);
    let mut run = Running::spawn(lab.host_conlink(&["run", "-n", net]));
    run.wait_for("applied:", 1, Duration::from_secs(30));
    let began = Instant::now();
    let mut args = vec!["start"];
    args.extend(names.iter().map(String::as_str));
    lab.docker(&args);
    let engine_done = began.elapsed();
    run.wait_for("All links connected", 1, Duration::from_secs(60));
    let wired = began.elapsed();
    let (code, stop_again) = run.stop(Signal::SIGTERM);
    assert_eq!(code, Some(0), "{}", run.log());
    drop(run);

    // (4) A compose service scaled to 50.
    lab.write(&format!(
        "x-network:\n  links:\n    - {{service: node, bridge: s2, ip: 10.60.0.1/16}}\nservices:\n  node:\n    image: {image}\n    network_mode: none\n    command: [sleep, \"86400\"]\n"
    ));
    let compose_file = lab.file.to_str().unwrap().to_string();
    let mut run = Running::spawn(lab.host_conlink(&["run", "-c", &compose_file]));
    run.wait_for("applied:", 1, Duration::from_secs(30));
    let scale = format!("node={N}");
    let began = Instant::now();
    lab.must(&["up", "-d", "--scale", &scale]);
    let compose_done = began.elapsed();
    let all = format!("All links connected: {} unit(s), {N} container(s)", N + 1);
    run.wait_for(&all, 1, Duration::from_secs(120));
    let service_wired = began.elapsed();
    let ready_lines = run.log().matches("All links connected").count();
    let (code, _) = run.stop(Signal::SIGTERM);
    assert_eq!(code, Some(0), "{}", run.log());
    lab.must(&["down", "--timeout", "1"]);

    eprintln!(
        "\n{test}: {N} containers, conlink run -n on the host, private dockerd\n\
         | measure | p50 | p95 |\n|---|---|---|\n\
         | start event -> links up (conlink) | {:.1} ms | {:.1} ms |\n\
         | `docker start` of one container (engine) | {:.1} ms | {:.1} ms |\n\n\
         | {N} at once | time |\n|---|---|\n\
         | `docker start` of all returned | {:.3} s |\n\
         | `All links connected` | {:.3} s |\n\
         | SIGTERM to exit, {N} wired | {:.3} s / {:.3} s |\n\n\
         | a service scaled to {N} (compose, conlink run -c on the host) | time |\n|---|---|\n\
         | `docker-compose up --scale node={N}` returned (engine) | {:.3} s |\n\
         | `All links connected` for all {N} (logged {ready_lines} time(s)) | {:.3} s |\n",
        percentile(&conlink_ms, 0.5),
        percentile(&conlink_ms, 0.95),
        percentile(&engine_ms, 0.5),
        percentile(&engine_ms, 0.95),
        engine_done.as_secs_f64(),
        wired.as_secs_f64(),
        stop.as_secs_f64(),
        stop_again.as_secs_f64(),
        compose_done.as_secs_f64(),
        service_wired.as_secs_f64(),
    );
    assert_eq!(conlink_ms.len(), N, "{log}");
    lab.assert_nothing_left();
}
