//! The readers of the kernel's answers, checked against answers a real kernel gave
//! and against the inputs the fuzzer found troublesome. No kernel is needed: the
//! bytes are fixtures.
//!
//! * `tests/fixtures/replies/` holds reads from netlink sockets captured with
//!   `tests/fixtures/capture-replies.sh` (iproute2 and nft reading back a namespace
//!   with one of each object conlink reads, and a few refusals with extended-ack text).
//!   Each test checks that conlink reads what the capture set up.
//! * `tests/fixtures/requests/` (see `request_bytes.rs`) are iproute2's requests;
//!   a dump answers with messages of the same layout, so conlink must read back from
//!   each what the command asked for.
//! * The regression inputs of the fuzzing harness (docs/contributing.md, "Fuzzing")
//!   are at the end.
//!
//! Everything goes through `runtime::fuzzing::kernel_replies`, the harness's door to
//! the readers.

use runtime::fuzzing::{kernel_replies, Replies};
use runtime::KernelError;
use std::path::Path;

/// The bytes of a `.hex` fixture (a `# COMMAND` line, then bytes in hex).
fn fixture(dir: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}

fn reply(name: &str) -> Replies {
    kernel_replies(&fixture("replies", name))
}

/// The first message of `bytes` with its sequence number set to `seq`.
fn with_seq(mut bytes: Vec<u8>, seq: u32) -> Vec<u8> {
    bytes[8..12].copy_from_slice(&seq.to_ne_bytes());
    bytes
}

/// The kernel's ack of request `seq`, as a socket with `NETLINK_CAP_ACK` gets it: an
/// `NLMSG_ERROR` with errno 0 and the request's header only.
fn ack(seq: u32) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&36u32.to_ne_bytes());
    m.extend_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
    m.extend_from_slice(&0x100u16.to_ne_bytes()); // NLM_F_CAPPED
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&0i32.to_ne_bytes());
    m.extend_from_slice(&[0; 16]);
    m
}

fn kernel(errno: i32, ext_ack: Option<&str>) -> KernelError {
    KernelError {
        errno,
        ext_ack: ext_ack.map(str::to_string),
    }
}

#[test]
fn every_fixture_is_read_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut read = 0;
    for dir in ["replies", "requests", "fuzz"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixture dir") {
            let name = entry.expect("entry").file_name();
            let name = name.to_str().expect("UTF-8 name");
            if let Some(name) = name.strip_suffix(".hex") {
                kernel_replies(&fixture(dir, name));
                read += 1;
            }
        }
    }
    assert!(read >= 46, "only {read} fixtures found");
}

#[test]
fn links_dump() {
    let r = reply("links-2");
    let names: Vec<&str> = r.links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["lo", "vb", "va", "br0", "vx0", "mv0"]);
    let link = |name: &str| r.links.iter().find(|l| l.name == name).unwrap();
    let va = link("va");
    assert_eq!(va.alias.as_deref(), Some("conlink:fuzz"));
    assert_eq!((va.mtu, va.group, va.up), (Some(1400), Some(7), true));
    assert_eq!(va.mac.map(|m| m.0), Some([2, 0, 0, 0, 0, 0x0a]));
    assert_eq!(va.kind.as_deref(), Some("veth"));
    let vb = link("vb");
    assert_eq!(vb.altnames, ["vb-altname"]);
    assert_eq!(vb.master, Some(link("br0").index));
    assert_eq!(link("br0").kind.as_deref(), Some("bridge"));
    assert_eq!(link("vx0").kind.as_deref(), Some("vxlan"));
    assert_eq!(link("mv0").kind.as_deref(), Some("macvlan"));
    assert!(!link("vx0").up);
}

#[test]
fn addresses_dump() {
    let r = reply("addrs-5");
    let va = 3;
    assert!(r.addrs.contains(&(va, "10.0.0.1/24".parse().unwrap())));
    assert!(r.addrs.contains(&(va, "fd00::1/64".parse().unwrap())));
    assert!(r.addrs.contains(&(1, "127.0.0.1/8".parse().unwrap())));
}

#[test]
fn routes_dumps() {
    let v4 = reply("routes4-1").routes;
    let via = v4
        .iter()
        .find(|r| r.dst == "10.1.0.0/16".parse().unwrap())
        .unwrap();
    assert_eq!(via.via, Some("10.0.0.2".parse().unwrap()));
    assert_eq!((via.metric, via.table, via.oif), (Some(5), 254, Some(3)));
    let other_table = v4
        .iter()
        .find(|r| r.dst == "10.2.0.0/16".parse().unwrap())
        .unwrap();
    assert_eq!(other_table.table, 100);
    assert_eq!(other_table.src, Some("10.0.0.1".parse().unwrap()));

    let v6 = reply("routes6-1").routes;
    let via6 = v6
        .iter()
        .find(|r| r.dst == "fd01::/64".parse().unwrap())
        .unwrap();
    assert_eq!(via6.via, Some("fd00::2".parse().unwrap()));
}

#[test]
fn tc_dumps() {
    let qdiscs = reply("qdiscs-5").qdiscs;
    let kinds: Vec<&str> = qdiscs.iter().map(|q| q.kind.as_str()).collect();
    assert!(
        kinds.contains(&"ingress") && kinds.contains(&"tbf"),
        "{kinds:?}"
    );

    // The u32 dump lists two hash-table entries before the filter itself; only the
    // filter is conlink's redirect, to vb (ifindex 2).
    let filters = reply("filters-5").filters;
    let targets: Vec<Option<u32>> = filters.iter().map(|f| f.1).collect();
    assert_eq!(targets, [None, None, Some(2)]);
}

#[test]
fn nft_dumps() {
    let tables = reply("nft-2").tables;
    let names: Vec<&str> = tables.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(names, ["conlink", "other"]);
    assert_eq!(reply("nft-4").chains, ["postrouting", "forward"]);
    assert_eq!(reply("nft-9").rules, ["postrouting", "forward"]);
}

#[test]
fn refusals_carry_the_kernels_text() {
    let refusal = |name: &str| reply(name).errors;
    assert_eq!(refusal("error-nexthop-1"), [Ok(Err(nexthop_refused()))]);
    assert_eq!(
        refusal("error-netem-5"),
        [Ok(Err(kernel(
            libc::ENOENT,
            Some("Specified qdisc kind is unknown")
        )))]
    );
    assert_eq!(
        refusal("error-exists-2"),
        [Ok(Err(kernel(libc::EEXIST, None)))]
    );
}

fn nexthop_refused() -> KernelError {
    kernel(libc::ENETUNREACH, Some("Nexthop has invalid gateway"))
}

#[test]
fn acks_are_matched_to_their_requests() {
    let refused = fixture("replies", "error-nexthop-1");
    let error = Some(Err(nexthop_refused()));
    // The answer to request 2 of three: only its ack is filed.
    let r = kernel_replies(&with_seq(refused.clone(), 2));
    assert_eq!(r.acks, Ok(vec![None, error.clone(), None]));
    // An error answering an unacked batch marker refuses every request of the batch.
    let r = kernel_replies(&with_seq(refused.clone(), 4));
    assert_eq!(r.acks, Ok(vec![error.clone(); 3]));
    // Two answers in one read, the second one an ack.
    let mut two = with_seq(refused, 1);
    two.extend_from_slice(&ack(3));
    let r = kernel_replies(&two);
    assert_eq!(r.acks, Ok(vec![error, None, Some(Ok(()))]));
}

#[test]
fn dumps_end_on_done_or_error_of_their_own_request() {
    // addrs-4 is the NLMSG_DONE that ends the address dump.
    let done = fixture("replies", "addrs-4");
    let dump_end = |bytes: Vec<u8>| kernel_replies(&bytes).dump_end;
    assert_eq!(dump_end(with_seq(done.clone(), 1)), Ok(Some(Ok(()))));
    assert_eq!(dump_end(with_seq(done, 9)), Ok(None));
    assert_eq!(
        dump_end(with_seq(fixture("replies", "error-nexthop-1"), 1)),
        Ok(Some(Err(nexthop_refused())))
    );
    // Messages of the dump itself do not end it.
    assert_eq!(
        dump_end(with_seq(fixture("replies", "links-2"), 1)),
        Ok(None)
    );
}

#[test]
fn requests_read_back_as_asked() {
    let r = kernel_replies(&fixture("requests", "link-veth"));
    let l = &r.links[0];
    assert_eq!(
        (l.index, l.name.as_str(), l.mtu, l.group),
        (31, "vp0", Some(1400), Some(1234))
    );
    assert_eq!(l.mac.map(|m| m.0), Some([2, 0, 0, 0, 0, 0x31]));

    let r = kernel_replies(&fixture("requests", "filter-redirect-add"));
    assert_eq!(r.filters[0].1, Some(12), "redirect to vc");

    // tc qdisc add dev va root netem delay 10ms 5ms 10% distribution pareto loss 1% 2%
    //   duplicate 3% 4% corrupt 5% 6% reorder 7% 8% gap 9 rate 1mbit limit 100
    let r = kernel_replies(&fixture("requests", "netem-everything"));
    let netem = r.qdiscs[0].netem.expect("netem options read");
    assert_eq!((netem.latency_ns, netem.jitter_ns), (10_000_000, 5_000_000));
    assert_eq!((netem.limit, netem.gap, netem.rate), (100, 9, 125_000));
    // Percentages are fractions of u32::MAX, rounded as tc does.
    assert_eq!((netem.loss, netem.loss_corr), (42_949_673, 85_899_346));
}

// ---------------------------------------------------------------------------------
// What the fuzzer found (tests/fixtures/fuzz/, each file's first line says what).

/// An `NLMSG_ERROR` whose code is `i32::MIN`: negating it overflowed (a panic in
/// debug builds, a negative errno in release builds). No errno can be that code, so
/// the answer is unreadable: the exchange fails, as for a message too short to hold
/// a code.
#[test]
fn fuzz_error_code_without_negation() {
    let bytes = fixture("fuzz", "error-code-min");
    let r = kernel_replies(&bytes);
    assert_eq!(r.errors, [Err(std::io::ErrorKind::InvalidData)]);
    // As the answer to request 1 of a batch and as the end of dump 1.
    let bytes = with_seq(bytes, 1);
    let r = kernel_replies(&bytes);
    assert_eq!(r.acks, Err(std::io::ErrorKind::InvalidData));
    assert_eq!(r.dump_end, Err(std::io::ErrorKind::InvalidData));
    // A positive code is no negated errno either.
    let mut positive = bytes;
    positive[16..20].copy_from_slice(&5i32.to_ne_bytes());
    assert_eq!(
        kernel_replies(&positive).errors,
        [Err(std::io::ErrorKind::InvalidData)]
    );
}
