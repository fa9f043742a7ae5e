//! `conlink wait` inside a "container": a namespace the test makes, where the test
//! does what conlink would (adds interfaces, addresses, the ready marker) while
//! `conlink wait` runs there (see `crate::wait::Waiter`).

use super::*;
use crate::wait::Waiter;
use std::net::TcpListener;

/// A veth pair `a` — `b` inside `host`, both down.
fn pair(host: &TestHost, a: &str, b: &str) {
    host.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
}

/// `ip link property add dev DEV altname NAME` inside `host`: what conlink's last
/// step in a container does.
fn add_altname(host: &TestHost, dev: &str, name: &str) {
    host.ip(&["link", "property", "add", "dev", dev, "altname", name]);
}

/// Without conditions, `wait` waits for this project's ready marker (a marker of
/// another project does not count), then runs its command.
#[test]
fn wait_returns_when_the_ready_marker_appears_and_runs_the_command() {
    if !can_run("e2e::wait::marker", &["ip"]) {
        return;
    }
    let host = TestHost::new("wm");
    pair(&host, "eth0", "eth1");
    let mut w = Waiter::start(
        Some(&host.name),
        &["--project", "demo", "--", "echo", "started"],
    );
    w.assert_waiting();
    add_altname(&host, "eth1", "conlink-ready.other");
    w.assert_waiting();
    add_altname(&host, "eth0", "conlink-ready.demo");
    assert_eq!(
        w.line(),
        "conlink wait: links are up (conlink-ready.demo on eth0)"
    );
    let (status, stdout, rest) = w.finish();
    assert!(status.success(), "{status:?} {rest:?}");
    assert_eq!(stdout, "started\n");

    // Without --project, any project's marker will do; here one is there already.
    let w = Waiter::start(Some(&host.name), &["--", "true"]);
    let (status, _, rest) = w.finish();
    assert!(status.success(), "{status:?} {rest:?}");
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert!(
        rest[0].starts_with("conlink wait: links are up (conlink-ready."),
        "{rest:?}"
    );
}

/// `-i` holds once the interface exists, `-I` once it has an IPv4 route in the main
/// table (which an address gives it when it is up), each said in one line.
#[test]
fn interfaces_and_their_routes_are_waited_for() {
    if !can_run("e2e::wait::interfaces", &["ip"]) {
        return;
    }
    let host = TestHost::new("wi");
    let mut w = Waiter::start(Some(&host.name), &["-i", "eth5", "-I", "eth5"]);
    w.assert_waiting();
    pair(&host, "eth5", "peer5");
    assert_eq!(w.line(), "conlink wait: interface eth5 exists");
    w.assert_waiting();
    // A route in another table is not what 2.x looked for (the main table's).
    host.ip(&["link", "set", "eth5", "up"]);
    host.ip(&["route", "add", "10.9.9.0/24", "dev", "eth5", "table", "100"]);
    w.assert_waiting();
    host.ip(&["addr", "add", "10.9.0.1/24", "dev", "eth5"]);
    assert_eq!(w.line(), "conlink wait: interface eth5 has an IPv4 route");
    let (status, _, rest) = w.finish();
    assert!(status.success(), "{status:?} {rest:?}");
}

/// `-t` holds once something accepts connections on the port (a listener opened in
/// the namespace by the test).
#[test]
fn a_tcp_port_is_waited_for() {
    if !can_run("e2e::wait::tcp", &["ip"]) {
        return;
    }
    let host = TestHost::new("wt");
    let ns = runtime::netns::open(&Path::new("/run/netns").join(&host.name))
        .expect("open the test namespace");
    let listen = |port: u16| {
        runtime::netns::enter(&ns, || TcpListener::bind(("127.0.0.1", port)))
            .expect("enter the test namespace")
            .expect("listen")
    };
    // A free port of the namespace, closed again before `wait` starts.
    let port = listen(0).local_addr().expect("address").port();
    let target = format!("127.0.0.1:{port}");
    let mut w = Waiter::start(Some(&host.name), &["-s", "0.1", "-t", &target]);
    w.assert_waiting();
    let _listener = listen(port);
    let line = w.line();
    assert!(
        line.starts_with(&format!("conlink wait: TCP connection to {target} ")),
        "{line}"
    );
    let (status, _, rest) = w.finish();
    assert!(status.success(), "{status:?} {rest:?}");
}
