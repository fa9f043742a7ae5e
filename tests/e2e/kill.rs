//! `conlink apply` killed with SIGKILL at any moment (no chance to roll back): `destroy`
//! then leaves nothing, and `apply` converges to exactly the plan — each command
//! running once (docs/decisions.md, "Surviving SIGKILL").

use super::*;
use std::fmt::Write as _;

/// Three nodes on two bridges, a sysctl, and a command on each node whose argv ends
/// with `MARKER-NODE`, so the test can count its processes.
fn topology(marker: &str) -> String {
    let mut y = String::from("nodes:\n");
    for i in 0..3 {
        let _ = writeln!(y, "  - {{name: h{i}, sysctls: {{net.ipv4.ip_forward: 1}}}}");
    }
    y.push_str("bridges:\n  - {bridge: s0, mode: linux}\n  - {bridge: s1, mode: linux}\n");
    y.push_str("links:\n");
    for i in 0..3 {
        for j in 0..2 {
            let _ = writeln!(
                y,
                "  - {{node: h{i}, dev: eth{j}, bridge: s{j}, ip: 10.{j}.0.{}/24}}",
                i + 1
            );
        }
    }
    y.push_str("commands:\n");
    for i in 0..3 {
        let _ = writeln!(
            y,
            "  - {{node: h{i}, command: [sh, -c, 'while :; do sleep 1; done', {marker}-h{i}]}}"
        );
    }
    y
}

/// Pids of the processes whose argv holds `arg`, except those whose parent's does too
/// (a shell's child between its fork and its exec still shows the shell's argv).
fn processes_with_arg(arg: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        if !cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes()) {
            continue;
        }
        let parent = std::fs::read_to_string(e.path().join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            });
        found.push((pid, parent));
    }
    let pids: Vec<u32> = found.iter().map(|(p, _)| *p).collect();
    found
        .into_iter()
        .filter(|(_, parent)| !parent.is_some_and(|pp: u32| pids.contains(&pp)))
        .map(|(p, _)| p)
        .collect()
}

/// The interfaces of `ns` in interface group `group`.
fn in_group(ns: &str, group: u64) -> Vec<String> {
    let out = must("ip", &["-n", ns, "-j", "-d", "link", "show"]);
    let v: Value = serde_json::from_str(&out).expect("ip -j link");
    v.as_array()
        .expect("links")
        .iter()
        .filter(|l| {
            // `ip -j` names the group, or gives its number.
            l["group"].as_u64() == Some(group) || l["group"].as_str() == Some(&group.to_string())
        })
        .map(|l| l["ifname"].as_str().expect("ifname").to_string())
        .collect()
}

/// Starts `conlink apply` for `p` and kills it with SIGKILL `delay` after the start;
/// returns whether it had finished before.
fn kill_apply_after(p: &Project, file: &Path, delay: Duration) -> bool {
    let mut cmd = p.command(&["apply", "-n", file.to_str().expect("utf-8")]);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start conlink apply");
    std::thread::sleep(delay);
    // `ip netns exec` replaced itself with conlink: the child's pid is conlink's.
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let finished = child.try_wait().expect("status").is_some();
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    finished
}

/// Everything of the project still on the system: namespaces (and half-made pins),
/// marked interfaces, interfaces of its group in the host, its commands' processes.
fn everything_left(p: &Project, group: u64, marker: &str) -> Vec<String> {
    let mut left = leftovers(&p.name, &[&p.host.name]);
    for name in in_group(&p.host.name, group) {
        left.push(format!(
            "interface {name} of the project's group in the host"
        ));
    }
    for i in 0..3 {
        for pid in processes_with_arg(&format!("{marker}-h{i}")) {
            left.push(format!("command of h{i} (pid {pid})"));
        }
    }
    left
}

fn killed_at_any_moment(test: &str, options: &[&str]) {
    if !can_run(test, &[]) {
        return;
    }
    let dir = TempDir::new("kill");
    let marker = unique("kill-marker-");
    let file = dir.write("net.yaml", &topology(&marker));
    // How long a whole run takes here, from the start of the process: the kills are
    // spread over that, and a little beyond.
    let whole = {
        let host = TestHost::new("kill");
        let mut p = Project::new(&host, "kill");
        for o in options {
            p = p.option(o);
        }
        let t = Instant::now();
        p.apply(&file);
        let whole = t.elapsed();
        p.destroy();
        whole
    };
    let delays: Vec<u64> = (0..=36)
        .map(|k| (whole.as_millis() as u64 * k / 30).max(k))
        .collect();
    let mut failures = Vec::new();
    for (k, ms) in delays.iter().enumerate() {
        let host = TestHost::new("kill");
        let mut p = Project::new(&host, "kill");
        for o in options {
            p = p.option(o);
        }
        let group = p.plan_json(&file)["group"].as_u64().expect("group");
        let delay = Duration::from_millis(*ms);
        let finished = kill_apply_after(&p, &file, delay);
        // Odd rounds: destroy at once. Even rounds: apply, which must converge, then
        // destroy.
        let what = if k % 2 == 1 {
            "destroy"
        } else {
            let out = p.conlink(&["apply", "-n", file.to_str().expect("utf-8")]);
            if !out.status.success() {
                failures.push(format!(
                    "{ms} ms: apply after the kill failed: {}",
                    show(&out)
                ));
            } else {
                for i in 0..3 {
                    let n = processes_with_arg(&format!("{marker}-h{i}")).len();
                    if n != 1 {
                        failures.push(format!(
                            "{ms} ms: {n} copies of h{i}'s command after kill + apply"
                        ));
                    }
                }
                let status = p.status(&file);
                if !status.status.success() {
                    failures.push(format!(
                        "{ms} ms: status after kill + apply: {}",
                        show(&status)
                    ));
                }
            }
            "apply + destroy"
        };
        let out = p.conlink(&["destroy"]);
        if !out.status.success() {
            failures.push(format!("{ms} ms: destroy failed: {}", show(&out)));
        }
        // Killed processes and removed namespaces may take a moment to go.
        let left = poll(Duration::from_secs(5), || {
            let left = everything_left(&p, group, &marker);
            left.is_empty().then_some(())
        });
        if left.is_none() {
            failures.push(format!(
                "{ms} ms ({what}{}): left {:?}",
                if finished { ", apply had finished" } else { "" },
                everything_left(&p, group, &marker)
            ));
            // Clean up by hand so the next round starts afresh.
            for pid in (0..3).flat_map(|i| processes_with_arg(&format!("{marker}-h{i}"))) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            for e in std::fs::read_dir("/run/netns")
                .expect("/run/netns")
                .flatten()
            {
                let n = e.file_name().to_string_lossy().into_owned();
                if n == format!("conlink.{}", p.name)
                    || n.starts_with(&format!("conlink.{}.", p.name))
                {
                    let _ = run("ip", &["netns", "del", &n]);
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        // The project is gone either way: the drop's destroy must find nothing.
        p.destroy_quietly();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn apply_killed_at_any_moment_leaves_nothing_after_destroy_and_converges() {
    killed_at_any_moment("e2e::kill::own", &[]);
}

#[test]
fn apply_killed_at_any_moment_with_conlink_in_the_host() {
    killed_at_any_moment("e2e::kill::current", &["--conlink-netns", "current"]);
}
