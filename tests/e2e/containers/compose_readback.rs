//! Scenario 5 and the readiness count, with conlink as the compose `network` service:
//!
//! * what the containers' own `ip` shows (interfaces with their MTU and MAC, global
//!   addresses, routes through a gateway, IPv4 and IPv6) equals what
//!   `conlink plan --format json` says for their units: the plan is the truth the
//!   test reads, nothing is written twice;
//! * a ping over IPv6 right after the `All links connected` line (the network
//!   service started last, its log followed as it comes) passes on its first try:
//!   conlink adds IPv6 addresses without duplicate address detection
//!   (docs/decisions.md), so none is still tentative;
//! * a scale from 2 to 5 replicas gives exactly one new readiness line, once the last
//!   replica is wired (not one per replica);
//! * the services set no `sysctls:`, so Docker turned IPv6 off in them
//!   (`net.ipv6.conf.{all,default}.disable_ipv6=1`): IPv6 works on conlink's
//!   interfaces because the plan switches it on for each of them, and for them only.

use super::lab::{compose_file, Lab, Running};
use super::scenario::{assert_global_addrs_usable, ops, plan_json, unit};
use crate::e2e::{show, text};
use runtime::run::READY_LINE;
use std::collections::BTreeSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

const X_NETWORK: &str = "  links:
    - service: node
      bridge: s1
      ip: [10.0.1.1/24, \"fd00:1::1/64\"]
      mtu: 9000
      mac: \"02:00:00:00:01:01\"
      route: [10.9.0.0/16 via 10.0.1.100, \"fd00:9::/48 via fd00:1::100\"]
    - {service: node, dev: eth1, bridge: s2, ip: 10.0.2.1/24}
    - service: other
      bridge: s1
      mtu: 9000
      ip: [10.0.1.100/24, \"fd00:1::100/64\"]
      route: [default via 10.0.1.1, \"default via fd00:1::1\"]";

/// What a container has, or what its unit plans: interfaces (name, MTU, MAC),
/// global addresses (device, address/prefix), routes through a gateway
/// (destination, gateway, device).
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    links: BTreeSet<(String, u64, String)>,
    addrs: BTreeSet<(String, String)>,
    routes: BTreeSet<(String, String, String)>,
}

/// What unit `id` of a JSON plan gives its container.
fn planned(plan: &serde_json::Value, id: &str) -> Seen {
    let u = unit(plan, id);
    let s = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
    Seen {
        links: ops(u, "link_add")
            .iter()
            .filter(|op| op["spec"]["type"] == "veth")
            .map(|op| {
                let peer = &op["spec"]["peer"];
                (
                    s(&peer["name"]),
                    peer["mtu"].as_u64().expect("an MTU"),
                    s(&peer["mac"]),
                )
            })
            .collect(),
        addrs: ops(u, "addr_add")
            .iter()
            .map(|op| (s(&op["dev"]), s(&op["addr"])))
            .collect(),
        routes: ops(u, "route_add")
            .iter()
            .map(|op| {
                (
                    s(&op["route"]["dst"]),
                    s(&op["route"]["via"]),
                    s(&op["dev"]),
                )
            })
            .collect(),
    }
}

/// The word after `key` in `line`.
fn after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == key)?;
    words.next()
}

/// What replica `index` of `service` has, read by its own (busybox) `ip`; also
/// checks that none of its global addresses is tentative or failed its detection.
fn read_back(lab: &Lab, service: &str, index: u32) -> Seen {
    let run = |cmd: &[&str]| {
        let out = lab.exec(service, index, cmd);
        assert!(
            out.status.success(),
            "{service}#{index}: {cmd:?}: {}",
            show(&out)
        );
        text(&out.stdout)
    };
    let links = run(&["ip", "-o", "link"])
        .lines()
        .filter_map(|l| {
            let name = l.split(": ").nth(1)?;
            let name = name.split('@').next()?.to_string();
            let mtu = after(l, "mtu")?.parse().ok()?;
            let mac = after(l, "link/ether")?.to_string();
            Some((name, mtu, mac))
        })
        .collect();
    let addr_text = run(&["ip", "-o", "addr"]);
    assert_global_addrs_usable(&addr_text, &format!("{service}#{index}"));
    let addrs = addr_text
        .lines()
        .filter(|l| l.contains("scope global"))
        .filter_map(|l| {
            let mut words = l.split_whitespace().skip(1);
            let dev = words.next()?.to_string();
            let _family = words.next()?;
            Some((dev, words.next()?.to_string()))
        })
        .collect();
    let routes = (run(&["ip", "route"]) + &run(&["ip", "-6", "route"]))
        .lines()
        .filter_map(|l| {
            let via = after(l, "via")?.to_string();
            let dev = after(l, "dev")?.to_string();
            let dst = match l.split_whitespace().next()? {
                "default" if via.contains(':') => "::/0".to_string(),
                "default" => "0.0.0.0/0".to_string(),
                d => d.to_string(),
            };
            Some((dst, via, dev))
        })
        .collect();
    Seen {
        links,
        addrs,
        routes,
    }
}

#[test]
fn containers_show_the_plan_and_ipv6_works_at_readiness() {
    let test =
        "e2e::containers::compose_readback::containers_show_the_plan_and_ipv6_works_at_readiness";
    let Some(lab) = Lab::start(test, "readlab") else {
        return;
    };
    lab.write(&compose_file(
        lab.dockerd.socket(),
        X_NETWORK,
        &[],
        // No `sysctls:` turning IPv6 back on: Docker turns it off in these
        // containers, and conlink switches it on for the interfaces it creates.
        &[("node", ""), ("other", "")],
    ));
    let plan = plan_json(&lab, &["--scale", "node=2"]);

    // The containers first, unwired; then conlink, its log followed from its start.
    lab.must(&["up", "-d", "--scale", "node=2", "node", "other"]);
    lab.must(&["up", "-d", "network"]);
    let network = lab.container_id("network", 1);
    let mut follow = lab.dockerd.docker();
    follow.args(["logs", "--follow", &network]);
    let mut log = Running::spawn(follow);
    log.wait_for(READY_LINE, 1, WAIT);
    // At once, no retry: node#1 to other, other to node#2, over IPv6.
    let node1 = lab.container_id("node", 1);
    let other = lab.container_id("other", 1);
    let first = lab.docker_exec(&node1, &["ping", "-c", "1", "-W", "5", "fd00:1::100"]);
    let second = lab.docker_exec(&other, &["ping", "-c", "1", "-W", "5", "fd00:1::2"]);
    let said = log.log();
    assert!(first.status.success(), "{}\n{said}", show(&first));
    assert!(second.status.success(), "{}\n{said}", show(&second));
    drop(log);
    assert!(
        said.contains("All links connected: 4 unit(s), 3 container(s)"),
        "{said}"
    );

    // What the containers show is what the plan says.
    for (service, index) in [("node", 1), ("node", 2), ("other", 1)] {
        let want = planned(&plan, &format!("service:{service}#{index}"));
        assert!(!want.links.is_empty() && !want.addrs.is_empty(), "{want:?}");
        let seen = read_back(&lab, service, index);
        assert_eq!(seen, want, "{service}#{index}");
    }
    // The configuration's own values came through (the plan is not empty of them).
    let node2 = planned(&plan, "service:node#2");
    assert!(
        node2
            .links
            .contains(&("eth0".into(), 9000, "02:00:00:00:01:02".into())),
        "{node2:?}"
    );
    assert!(
        node2
            .addrs
            .contains(&("eth0".into(), "fd00:1::2/64".into())),
        "{node2:?}"
    );
    lab.ping("node", 2, "10.0.2.1").unwrap();
    // IPv6 is on for conlink's interfaces, and still off for the container as a whole.
    for (key, want) in [
        ("net.ipv6.conf.all.disable_ipv6", "1"),
        ("net.ipv6.conf.default.disable_ipv6", "1"),
        ("net.ipv6.conf.eth0.disable_ipv6", "0"),
        ("net.ipv6.conf.eth1.disable_ipv6", "1"),
    ] {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let out = lab.exec("node", 2, &["cat", &path]);
        assert_eq!(text(&out.stdout).trim(), want, "{key}: {}", show(&out));
    }

    // Scaled from 2 to 5: one new readiness line, when all five are wired.
    let before = lab.logs("network").matches(READY_LINE).count();
    assert_eq!(before, 1, "{}", lab.logs("network"));
    lab.must(&["up", "-d", "--scale", "node=5", "node"]);
    lab.wait_log(
        "network",
        "All links connected: 7 unit(s), 6 container(s)",
        1,
        WAIT,
    );
    lab.ping("other", 1, "fd00:1::5").unwrap();
    // A line per replica would have come by now (the run logs it 0.2 s after the
    // events pause).
    std::thread::sleep(Duration::from_secs(2));
    let after_scale = lab.logs("network");
    assert_eq!(
        after_scale.matches(READY_LINE).count(),
        before + 1,
        "{after_scale}"
    );
    let plan5 = plan_json(&lab, &["--scale", "node=5"]);
    assert_eq!(
        read_back(&lab, "node", 5),
        planned(&plan5, "service:node#5")
    );

    eprintln!("{test}: the network service's log:\n{after_scale}");
    lab.must(&["down", "--timeout", "1"]);
    lab.assert_nothing_left();
}
