//! The tc requests against the kernel (ingress qdisc, u32 + mirred redirect filters,
//! deletion and readback). Interfaces and addresses for the test are set up with
//! `ip`; everything under test goes through conlink's own requests.

use compiler::plan::QdiscParent;
use runtime::families::tc::{self, INGRESS_HANDLE, INGRESS_PARENT};
use runtime::netlink::{self, first_error, KernelError, Socket};
use runtime::testing::{can_touch_kernel, TempNetns};
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ifindex(ns: &TempNetns, name: &str) -> u32 {
    ns.run(|| nix::net::if_::if_nametoindex(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ping_once(from: &TempNetns, to: &str) -> bool {
    Command::new("ip")
        .args([
            "netns", "exec", &from.name, "ping", "-c", "1", "-W", "1", to,
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Whether `to` answers within a few tries: an earlier failed ping leaves an
/// unresolved neighbour entry whose next ARP retry may come after one ping's wait.
fn pings(from: &TempNetns, to: &str) -> bool {
    (0..5).any(|_| ping_once(from, to))
}

/// Host A ── pa [patch namespace] pb ── host B, with pa and pb joined only by two
/// redirects: frames entering pa leave through pb and the other way round.
#[test]
fn a_patch_of_two_redirects_carries_traffic_and_reads_back() {
    if !can_touch_kernel("tc_live::a_patch_of_two_redirects_carries_traffic_and_reads_back") {
        return;
    }
    let patch = TempNetns::new("cl-tc-p").unwrap();
    let a = TempNetns::new("cl-tc-a").unwrap();
    let b = TempNetns::new("cl-tc-b").unwrap();
    for (end, host, addr) in [("pa", &a, "10.9.0.1/24"), ("pb", &b, "10.9.0.2/24")] {
        run(&[
            "ip",
            "-n",
            &patch.name,
            "link",
            "add",
            end,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &host.name,
        ]);
        run(&["ip", "-n", &patch.name, "link", "set", end, "up"]);
        run(&["ip", "-n", &host.name, "addr", "add", addr, "dev", "eth0"]);
        run(&["ip", "-n", &host.name, "link", "set", "eth0", "up"]);
    }
    assert!(!ping_once(&a, "10.9.0.2"), "no path yet");

    let (pa, pb) = (ifindex(&patch, "pa"), ifindex(&patch, "pb"));
    let mut sock = patch.run(Socket::route).unwrap();
    assert_eq!(tc::redirect_of(&mut sock, pa).unwrap(), None);
    sock.queue(tc::ingress_qdisc_add(pa), tc::ADD);
    sock.queue(tc::ingress_qdisc_add(pb), tc::ADD);
    sock.queue(tc::redirect_filter_add(pa, pb), tc::ADD);
    sock.queue(tc::redirect_filter_add(pb, pa), tc::ADD);
    first_error(sock.flush().unwrap()).unwrap();

    // Readback through conlink's dumps.
    let qdiscs = tc::qdiscs(&mut sock, pa).unwrap();
    assert!(
        qdiscs.iter().any(|q| q.kind == "ingress"
            && q.handle == INGRESS_HANDLE
            && q.parent == INGRESS_PARENT),
        "{qdiscs:?}"
    );
    let filters = tc::filters(&mut sock, pa, INGRESS_HANDLE).unwrap();
    let redirect = filters
        .iter()
        .find(|f| f.redirect_target().is_some())
        .unwrap_or_else(|| panic!("{filters:?}"));
    assert_eq!((redirect.kind.as_str(), redirect.protocol), ("u32", 3));
    assert_eq!(redirect.u32_keys, Some(vec![(0, 0, 0)]));
    assert_eq!(tc::redirect_of(&mut sock, pa).unwrap(), Some(pb));
    assert_eq!(tc::redirect_of(&mut sock, pb).unwrap(), Some(pa));
    // And as tc sees it.
    let shown = run(&[
        "tc",
        "-n",
        &patch.name,
        "-s",
        "filter",
        "show",
        "dev",
        "pa",
        "parent",
        "ffff:",
    ]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("match 00000000/00000000 at 0"), "{shown}");
    assert!(
        shown.contains("mirred (Egress Redirect to device pb) stolen"),
        "{shown}"
    );

    // Traffic crosses the patch, and the filters count it.
    assert!(pings(&a, "10.9.0.2"), "ping across the patch");
    let shown = run(&[
        "tc",
        "-n",
        &patch.name,
        "-s",
        "filter",
        "show",
        "dev",
        "pa",
        "parent",
        "ffff:",
    ]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(!shown.contains("Sent 0 bytes 0 pkt"), "{shown}");

    // Adding again is refused: `add` never replaces.
    let again = refusal(sock.request(tc::ingress_qdisc_add(pa), tc::ADD));
    assert!(again.is_exists(), "{again}");

    // The undo steps: filter, then qdisc; repeating them counts as gone.
    sock.request(tc::redirect_filter_del(pa), tc::DEL).unwrap();
    assert_eq!(tc::filters(&mut sock, pa, INGRESS_HANDLE).unwrap(), vec![]);
    assert!(
        !ping_once(&a, "10.9.0.2"),
        "one redirect removed: no path back"
    );
    sock.request(tc::qdisc_del(pa, QdiscParent::Ingress), tc::DEL)
        .unwrap();
    assert_eq!(tc::redirect_of(&mut sock, pa).unwrap(), None);
    let gone = refusal(sock.request(tc::qdisc_del(pa, QdiscParent::Ingress), tc::DEL));
    assert!(tc::is_gone(&gone), "{gone:?}");
    // Deleting the ingress qdisc takes its filters with it.
    sock.request(tc::qdisc_del(pb, QdiscParent::Ingress), tc::DEL)
        .unwrap();
    assert_eq!(tc::redirect_of(&mut sock, pb).unwrap(), None);
    // A root qdisc that is not there (a veth's default) is gone as well.
    let gone = refusal(sock.request(tc::qdisc_del(pa, QdiscParent::Root), tc::DEL));
    assert!(gone.is_gone(), "{gone:?}");
    // So is the filter of a device whose ingress qdisc is gone.
    let gone = refusal(sock.request(tc::redirect_filter_del(pa), tc::DEL));
    assert!(tc::is_gone(&gone), "{gone:?}");
    // With the ingress qdisc there and no filter, deleting the filters succeeds.
    sock.request(tc::ingress_qdisc_add(pa), tc::ADD).unwrap();
    sock.request(tc::redirect_filter_del(pa), tc::DEL).unwrap();
    // Errors that are not "gone" stay errors.
    let wrong = refusal(sock.request(tc::ingress_qdisc_add(pa), tc::ADD));
    assert!(!tc::is_gone(&wrong), "{wrong:?}");
}

/// The kernel's refusal of a request; any other failure fails the test.
fn refusal(r: Result<(), netlink::Error>) -> KernelError {
    match r {
        Err(netlink::Error::Kernel(k)) => k,
        other => panic!("expected the kernel to refuse the request, got {other:?}"),
    }
}
