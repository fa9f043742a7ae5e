//! conlink's requests, byte for byte, against what iproute2 6.1 sends for the same
//! command. The fixtures in `tests/fixtures/requests/` were captured with
//! `tests/fixtures/capture-requests.sh` (strace of `ip`/`tc`); each starts with the
//! command it is the request of. This is how requests the test kernel refuses (netem,
//! vlan, ipvlan, dummy, geneve) are checked at all.
//!
//! Both sides are compared as the socket sends them: header with
//! `NLM_F_REQUEST | NLM_F_ACK` and the builder's flags, then the payload. What is masked
//! or normalised, and why that is legitimate:
//!
//! 1. **`nlmsg_seq`** (header bytes 8..12) is zeroed on both sides: iproute2 numbers
//!    requests from the time of day, conlink's socket counts from 1; the kernel only
//!    echoes it in the ack.
//! 2. **`IFLA_NET_NS_FD` values** are zeroed on both sides: each is the number of the
//!    file descriptor the sending process opened on the target namespace.
//! 3. **Link requests only: attribute order** at each level of nesting. The kernel
//!    parses these attributes into a table indexed by type, so their order carries
//!    nothing; iproute2 and rtnetlink's builders write them in different orders. The
//!    set of attributes, their types (flags included), lengths and values must match.
//!    tc requests are compared in their exact order.
//! 4. **`IFLA_INFO_KIND`'s terminating NUL**: iproute2 writes the kind without one,
//!    rtnetlink with one; the kernel reads it as an `NLA_STRING`, which may or may not
//!    end in NUL, so both name the same kind.
//! 5. **Attributes iproute2 writes with the kernel's own default** (listed, with the
//!    reason, in `kernel_default`): dropped from both sides when they carry exactly
//!    that value, so a different value still shows.
//!
//! Not masked: ifindexes (the capture gives interfaces fixed ones with `index N` and
//! the builders here use the same numbers), `nlmsg_pid` (0 on both sides), flags,
//! lengths, padding, every value.
//!
//! Two netem requests differ from tc's on purpose (see `runtime::families::tc`), and
//! the test states the difference exactly: the expected bytes are the fixture with
//! one attribute added.

use compiler::plan::{
    IpvlanMode, LinkSpec, Mac, MacvlanMode, Netem, Ns, Percent, QdiscParent, VethPeer,
};
use compiler::strings::netem::parse_netem;
use rtnetlink::packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::packet_route::RouteNetlinkMessage;
use runtime::families::link::request::{self as link, NewLink, NewPeer};
use runtime::families::tc::{self, DistTable};
use runtime::netlink::encode;
use runtime::testing::skip;
use std::fmt::Write;
use std::path::Path;

/// The fixed ifindexes of the capture (see capture-requests.sh).
const VA: u32 = 10;
const VC: u32 = 12;
/// Any fd number: masked.
const SOME_FD: i32 = 99;

const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_NETEM_CORR: u16 = 1;
const TCA_NETEM_LATENCY64: u16 = 10;

struct Fixture {
    command: String,
    bytes: Vec<u8>,
}

fn fixture(name: &str) -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/requests")
        .join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut command = None;
    let mut bytes = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("# ") {
            Some(c) => command = command.or(Some(c.to_string())),
            None => bytes.extend(
                line.split_whitespace()
                    .map(|b| u8::from_str_radix(b, 16).expect("hex byte")),
            ),
        }
    }
    let f = Fixture {
        command: command.expect("a `# command` line"),
        bytes,
    };
    assert_eq!(
        u32_at(&f.bytes, 0) as usize,
        f.bytes.len(),
        "{name}: nlmsg_len"
    );
    f
}

/// The bytes conlink's socket sends for `msg` queued with `flags` (sequence 0).
fn wire(msg: RouteNetlinkMessage, flags: u16) -> Vec<u8> {
    encode(msg, flags | NLM_F_ACK, 0)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes(b[at..at + 2].try_into().unwrap())
}

/// Mask 1: the sequence number.
fn mask_seq(mut b: Vec<u8>) -> Vec<u8> {
    b[8..12].fill(0);
    b
}

/// One attribute, its value either bytes or, when nested, (fixed header, attributes).
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Bytes(Vec<u8>),
    Nested(Vec<u8>, Vec<Attr>),
}

#[derive(Clone, Debug, PartialEq)]
struct Attr {
    kind: u16,
    value: Value,
}

/// Attributes in order, none nested.
fn parse_attrs(b: &[u8]) -> Vec<Attr> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= b.len() {
        let len = usize::from(u16_at(b, at));
        assert!(
            len >= 4 && at + len <= b.len(),
            "bad attribute at {at} in {b:02x?}"
        );
        out.push(Attr {
            kind: u16_at(b, at + 2),
            value: Value::Bytes(b[at + 4..at + len].to_vec()),
        });
        at += len.next_multiple_of(4);
    }
    assert!(at >= b.len(), "trailing bytes in {b:02x?}");
    out
}

fn bytes(a: &Attr) -> &[u8] {
    match &a.value {
        Value::Bytes(v) => v,
        Value::Nested(..) => panic!("nested"),
    }
}

/// Attributes of kind-specific link data that iproute2 writes with the very value the
/// kernel assumes when they are absent (normalisation 5), as (kind, type, value):
fn kernel_default(kind: &str, attr: u16, value: &[u8]) -> bool {
    matches!(
        (kind, attr, value),
        // IFLA_IPVLAN_FLAGS 0: neither private nor vepa, ipvlan's default (bridge).
        ("ipvlan" | "ipvtap", 2, [0, 0])
        // IFLA_VXLAN_LEARNING 1: a new vxlan device learns unless told not to.
        | ("vxlan", 7, [1])
        // IFLA_GENEVE_TTL 0, IFLA_GENEVE_TOS 0, IFLA_GENEVE_LABEL 0: a new geneve
        // device starts from zeroed settings.
        | ("geneve", 3 | 4, [0])
        | ("geneve", 11, [0, 0, 0, 0])
    )
}

/// Link attributes, normalised: nested where a plan's requests nest
/// (`IFLA_LINKINFO` → `IFLA_INFO_DATA`, and veth's `VETH_INFO_PEER`, an `ifinfomsg`
/// with link attributes again), with masks 2 and normalisations 4 and 5 applied.
fn link_attrs(b: &[u8]) -> Vec<Attr> {
    let mut attrs = parse_attrs(b);
    for a in &mut attrs {
        match a.kind & 0x3fff {
            // Mask 2: the namespace fd's number.
            IFLA_NET_NS_FD => a.value = Value::Bytes(vec![0; bytes(a).len()]),
            IFLA_LINKINFO => {
                let mut info = parse_attrs(bytes(a));
                let kind = info
                    .iter()
                    .find(|i| i.kind & 0x3fff == IFLA_INFO_KIND)
                    .map(|i| {
                        String::from_utf8_lossy(bytes(i))
                            .trim_end_matches('\0')
                            .to_string()
                    })
                    .unwrap_or_default();
                for i in &mut info {
                    match i.kind & 0x3fff {
                        // Normalisation 4: the kind with or without its NUL.
                        IFLA_INFO_KIND => i.value = Value::Bytes(kind.as_bytes().to_vec()),
                        IFLA_INFO_DATA => {
                            let mut data = parse_attrs(bytes(i));
                            data.retain(|d| !kernel_default(&kind, d.kind & 0x3fff, bytes(d)));
                            if kind == "veth" {
                                for d in &mut data {
                                    if d.kind & 0x3fff == VETH_INFO_PEER {
                                        let v = bytes(d).to_vec();
                                        d.value =
                                            Value::Nested(v[..16].to_vec(), link_attrs(&v[16..]));
                                    }
                                }
                            }
                            i.value = Value::Nested(Vec::new(), data);
                        }
                        _ => {}
                    }
                }
                a.value = Value::Nested(Vec::new(), info);
            }
            _ => {}
        }
    }
    attrs
}

/// Normalisation 3: attributes sorted by type at every level (stable).
fn sort(attrs: &mut [Attr]) {
    attrs.sort_by_key(|a| a.kind & 0x3fff);
    for a in attrs {
        if let Value::Nested(_, inner) = &mut a.value {
            sort(inner);
        }
    }
}

fn describe(attrs: &[Attr], depth: usize, out: &mut String) {
    for a in attrs {
        let pad = "  ".repeat(depth);
        match &a.value {
            Value::Bytes(v) => {
                let _ = writeln!(
                    out,
                    "{pad}attr {:#06x} len {}: {v:02x?}",
                    a.kind,
                    v.len() + 4
                );
            }
            Value::Nested(fixed, inner) => {
                let _ = writeln!(
                    out,
                    "{pad}attr {:#06x} nested, fixed part {fixed:02x?}",
                    a.kind
                );
                describe(inner, depth + 1, out);
            }
        }
    }
}

/// A link request as readable text, normalised: header (sequence masked) and payload.
fn link_text(b: &[u8]) -> String {
    let mut attrs = link_attrs(&b[32..]);
    sort(&mut attrs);
    // No nlmsg_len: it differs exactly by what normalisations 4 and 5 remove, and every
    // remaining attribute's own length is compared.
    let mut out = format!(
        "type {} flags {:#06x} pid {}\nifinfomsg {:02x?}\n",
        u16_at(b, 4),
        u16_at(b, 6),
        u32_at(b, 12),
        &b[16..32]
    );
    describe(&attrs, 0, &mut out);
    out
}

/// A tc request as readable text, attributes in their order.
fn tc_text(b: &[u8]) -> String {
    let mut attrs = parse_attrs(&b[36..]);
    for a in &mut attrs {
        // netem's options: tc_netem_qopt, then attributes.
        if let (TCA_OPTIONS, Value::Bytes(v)) = (a.kind, &a.value) {
            if b.windows(6).any(|w| w == b"netem\0") {
                let inner = parse_attrs(&v[24..]);
                a.value = Value::Nested(v[..24].to_vec(), inner);
            }
        }
    }
    let mut out = format!(
        "len {} type {} flags {:#06x} pid {}\ntcmsg {:02x?}\n",
        u32_at(b, 0),
        u16_at(b, 4),
        u16_at(b, 6),
        u32_at(b, 12),
        &b[16..36]
    );
    describe(&attrs, 0, &mut out);
    out
}

/// tc requests: readable diff first, then the exact bytes (sequence masked).
fn assert_tc_same(name: &str, ours: Vec<u8>, theirs: Vec<u8>) {
    let (ours, theirs) = (mask_seq(ours), mask_seq(theirs));
    assert_eq!(tc_text(&ours), tc_text(&theirs), "{name}");
    assert_eq!(ours, theirs, "{name}");
}

fn netem_of(f: &Fixture) -> Netem {
    let options = f
        .command
        .strip_prefix("tc qdisc add dev va root netem ")
        .expect("a netem command");
    parse_netem(options).unwrap_or_else(|e| panic!("{options}: {e:?}"))
}

/// The fixture with one attribute of `kind` and `value` inserted into netem's options
/// at byte offset `at` (relative to the options' start), lengths fixed up.
fn with_netem_attr(mut b: Vec<u8>, at: usize, kind: u16, value: &[u8]) -> Vec<u8> {
    let mut attr = Vec::new();
    attr.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    attr.extend_from_slice(&kind.to_ne_bytes());
    attr.extend_from_slice(value);
    attr.resize(attr.len().next_multiple_of(4), 0);
    // TCA_KIND "netem" is 12 bytes from 36; TCA_OPTIONS starts at 48, its value at 52.
    assert_eq!(u16_at(&b, 50), TCA_OPTIONS);
    let options_len = u16_at(&b, 48) as usize + attr.len();
    b[48..50].copy_from_slice(&(options_len as u16).to_ne_bytes());
    let pos = 52 + at;
    b.splice(pos..pos, attr);
    let total = b.len() as u32;
    b[0..4].copy_from_slice(&total.to_ne_bytes());
    b
}

#[test]
fn netem_requests_are_tcs() {
    for name in [
        "netem-delay",
        "netem-delay-jitter-correlation",
        "netem-loss",
        "netem-loss-correlation",
        "netem-duplicate",
        "netem-corrupt",
        "netem-reorder",
        "netem-reorder-gap",
        "netem-rate",
        "netem-rate64",
        "netem-limit",
    ] {
        let f = fixture(name);
        let ours = tc::netem_qdisc_add_with(VA, &netem_of(&f), None).unwrap();
        assert_tc_same(name, wire(ours, tc::ADD), f.bytes);
    }
}

#[test]
fn netem_with_a_distribution_table_is_tcs() {
    let test = "request_bytes::netem_with_a_distribution_table_is_tcs";
    for name in ["netem-distribution-normal", "netem-everything"] {
        let f = fixture(name);
        let netem = netem_of(&f);
        let dist = netem.delay.as_ref().and_then(|d| d.distribution).unwrap();
        let table = match DistTable::load(dist) {
            Ok(table) => table,
            Err(e) => {
                // The table is iproute2's data; without it, conlink refuses the step
                // with this message, and there is nothing to compare.
                skip(test, &format!("no netem distribution tables here: {e}"));
                return;
            }
        };
        let ours = tc::netem_qdisc_add_with(VA, &netem, table.as_ref()).unwrap();
        assert_tc_same(name, wire(ours, tc::ADD), f.bytes);
        // And the convenience form finds the same table.
        let ours = tc::netem_qdisc_add(VA, &netem).unwrap();
        assert_tc_same(name, wire(ours, tc::ADD), fixture(name).bytes);
    }
}

/// `delay 1500us` is 23437.5 ticks: tc sends 23437 ticks (1.499968 ms) and stops;
/// conlink sends the same and the exact time as TCA_NETEM_LATENCY64 after everything.
#[test]
fn netem_times_beyond_ticks_add_latency64_to_tcs_request() {
    let f = fixture("netem-delay-not-whole-ticks");
    let ours = tc::netem_qdisc_add_with(VA, &netem_of(&f), None).unwrap();
    let options_len = u16_at(&f.bytes, 48) as usize - 4;
    let expected = with_netem_attr(
        f.bytes,
        options_len,
        TCA_NETEM_LATENCY64,
        &1_500_000i64.to_ne_bytes(),
    );
    assert_tc_same("netem-delay-not-whole-ticks", wire(ours, tc::ADD), expected);
}

/// tc 6.1 drops a duplicate correlation written alone (no TCA_NETEM_CORR); conlink
/// sends it, right after tc_netem_qopt where tc puts it when it does send it.
#[test]
fn netem_duplicate_correlation_adds_corr_to_tcs_request() {
    let f = fixture("netem-duplicate-correlation");
    let ours = tc::netem_qdisc_add_with(VA, &netem_of(&f), None).unwrap();
    let four = Percent::from_ppb(40_000_000).unwrap().to_kernel();
    let corr: Vec<u8> = [0, 0, four]
        .iter()
        .flat_map(|v: &u32| v.to_ne_bytes())
        .collect();
    let expected = with_netem_attr(f.bytes, 24, TCA_NETEM_CORR, &corr);
    assert_tc_same("netem-duplicate-correlation", wire(ours, tc::ADD), expected);
}

#[test]
fn ingress_redirect_and_deletions_are_tcs() {
    for (name, ours) in [
        (
            "qdisc-ingress-add",
            wire(tc::ingress_qdisc_add(VA), tc::ADD),
        ),
        (
            "qdisc-ingress-del",
            wire(tc::qdisc_del(VA, QdiscParent::Ingress), tc::DEL),
        ),
        (
            "qdisc-root-del",
            wire(tc::qdisc_del(VA, QdiscParent::Root), tc::DEL),
        ),
        (
            "filter-redirect-add",
            wire(tc::redirect_filter_add(VA, VC), tc::ADD),
        ),
        (
            "filter-redirect-del",
            wire(tc::redirect_filter_del(VA), tc::DEL),
        ),
    ] {
        assert_tc_same(name, ours, fixture(name).bytes);
    }
}

// ---------------------------------------------------------------------------------
// Interfaces: runtime::families::link::request::add_message.

const GROUP: u32 = 1234;

fn mac(last: u8) -> Mac {
    Mac([2, 0, 0, 0, 0, last])
}

fn new_link<'a>(name: &'a str, index: u32, spec: &'a LinkSpec) -> NewLink<'a> {
    let parent = match spec {
        LinkSpec::Vlan { .. }
        | LinkSpec::Macvlan { .. }
        | LinkSpec::Macvtap { .. }
        | LinkSpec::Ipvlan { .. }
        | LinkSpec::Ipvtap { .. } => Some(VA),
        _ => None,
    };
    NewLink {
        name,
        index,
        netns_fd: None,
        mtu: None,
        mac: None,
        group: GROUP,
        spec,
        parent,
        peer: None,
        master: None,
        up: false,
    }
}

/// The differences between conlink's request and the fixture, if any.
fn link_diff(name: &str, l: &NewLink) -> Option<String> {
    link_diff_but(name, l, |_| {})
}

/// [`link_diff`] against the fixture changed by `known` (a stated difference).
fn link_diff_but(name: &str, l: &NewLink, known: impl FnOnce(&mut Vec<u8>)) -> Option<String> {
    let msg = link::add_message(l).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ours = link_text(&mask_seq(wire(
        RouteNetlinkMessage::NewLink(msg),
        NLM_F_CREATE | NLM_F_EXCL,
    )));
    let mut expected = fixture(name).bytes;
    known(&mut expected);
    let theirs = link_text(&mask_seq(expected));
    (ours != theirs).then(|| {
        let mut out = format!("{name} ({}):\n", fixture(name).command);
        for (o, t) in ours.lines().zip(theirs.lines()).filter(|(o, t)| o != t) {
            let _ = writeln!(out, "  conlink: {o}\n  ip:      {t}");
        }
        if ours.lines().count() != theirs.lines().count() {
            let _ = writeln!(out, "  conlink:\n{ours}  ip:\n{theirs}");
        }
        out
    })
}

#[test]
fn link_requests_are_ips() {
    let parent = || "va".to_string();
    let cases: Vec<(&str, &str, u32, LinkSpec)> = vec![
        (
            "link-vlan",
            "va.5",
            22,
            LinkSpec::Vlan {
                parent: parent(),
                id: 5,
            },
        ),
        (
            "link-macvtap",
            "mt0",
            24,
            LinkSpec::Macvtap {
                parent: parent(),
                mode: Some(MacvlanMode::Vepa),
            },
        ),
        (
            "link-ipvlan-l2",
            "iv0",
            25,
            LinkSpec::Ipvlan {
                parent: parent(),
                mode: Some(IpvlanMode::L2),
            },
        ),
        (
            "link-ipvlan-l3",
            "iv1",
            26,
            LinkSpec::Ipvlan {
                parent: parent(),
                mode: Some(IpvlanMode::L3),
            },
        ),
        (
            "link-ipvtap",
            "it0",
            27,
            LinkSpec::Ipvtap {
                parent: parent(),
                mode: Some(IpvlanMode::L3),
            },
        ),
        (
            "link-vxlan",
            "vx0",
            28,
            LinkSpec::Vxlan {
                vni: 42,
                remote: "192.0.2.2".parse().unwrap(),
                dstport: 4789,
            },
        ),
        (
            "link-geneve",
            "gn0",
            30,
            LinkSpec::Geneve {
                vni: 42,
                remote: "192.0.2.2".parse().unwrap(),
                dstport: 6081,
            },
        ),
    ];
    let mut diffs = Vec::new();
    for (name, dev, index, spec) in &cases {
        diffs.extend(link_diff(name, &new_link(dev, *index, spec)));
    }

    // A bridge is created down, as `ip link add … type bridge` creates it.
    let spec = LinkSpec::Bridge;
    diffs.extend(link_diff("link-bridge", &new_link("br0", 21, &spec)));

    let spec = LinkSpec::Dummy;
    let mut l = new_link("dm0", 20, &spec);
    (l.mtu, l.mac) = (Some(1400), Some(mac(0x20)));
    diffs.extend(link_diff("link-dummy", &l));

    let spec = LinkSpec::Macvlan {
        parent: parent(),
        mode: Some(MacvlanMode::Bridge),
    };
    let mut l = new_link("mv0", 23, &spec);
    l.mac = Some(mac(0x23));
    diffs.extend(link_diff("link-macvlan", &l));

    // A tunnel created from the underlay into another namespace.
    let spec = LinkSpec::Vxlan {
        vni: 43,
        remote: "2001:db8::2".parse().unwrap(),
        dstport: 4790,
    };
    let mut l = new_link("vx1", 29, &spec);
    l.netns_fd = Some(SOME_FD);
    diffs.extend(link_diff("link-vxlan-v6-netns", &l));

    // A veth pair with the peer created in another namespace.
    let spec = LinkSpec::Veth {
        peer: VethPeer {
            name: "eth0".into(),
            netns: Ns::Node("h1".into()),
            mtu: Some(1400),
            mac: Some(mac(0x32)),
            queues: None,
        },
    };
    let mut l = new_link("vp0", 31, &spec);
    (l.mtu, l.mac) = (Some(1400), Some(mac(0x31)));
    l.peer = Some(NewPeer {
        name: "eth0",
        index: 32,
        netns_fd: Some(SOME_FD),
        mtu: Some(1400),
        mac: Some(mac(0x32)),
        queues: None,
    });
    diffs.extend(link_diff("link-veth", &l));

    // The same with one queue each way on both ends, as conlink plans veths.
    let spec = LinkSpec::Veth {
        peer: VethPeer {
            name: "eth1".into(),
            netns: Ns::Node("h1".into()),
            mtu: Some(1400),
            mac: Some(mac(0x34)),
            queues: Some(1),
        },
    };
    let mut l = new_link("vq0", 33, &spec);
    (l.mtu, l.mac) = (Some(1400), Some(mac(0x33)));
    l.peer = Some(NewPeer {
        name: "eth1",
        index: 34,
        netns_fd: Some(SOME_FD),
        mtu: Some(1400),
        mac: Some(mac(0x34)),
        queues: Some(1),
    });
    diffs.extend(link_diff("link-veth-queues", &l));
    assert!(
        diffs.is_empty(),
        "requests unlike ip's:\n{}",
        diffs.join("\n")
    );
}

/// The masks hide only what they claim to: a different fd or sequence number
/// compares equal, a different ifindex or value does not.
#[test]
fn the_masks_are_narrow() {
    let f = fixture("link-veth");
    let mut other_fd = f.bytes.clone();
    // The peer's IFLA_NET_NS_FD value: find `08 00 1c 00` and change what follows.
    let at = other_fd
        .windows(4)
        .position(|w| w == [8, 0, IFLA_NET_NS_FD as u8, 0])
        .unwrap();
    other_fd[at + 4] ^= 0x55;
    other_fd[9] ^= 0x55; // sequence number
    assert_eq!(
        link_text(&mask_seq(other_fd)),
        link_text(&mask_seq(f.bytes.clone()))
    );
    let mut other_index = f.bytes.clone();
    other_index[20] ^= 1; // ifi_index of the new interface
    assert_ne!(link_text(&other_index), link_text(&f.bytes));
    let mut other_group = f.bytes.clone();
    let at = other_group
        .windows(8)
        .position(|w| w == [8, 0, 27, 0, 0xd2, 4, 0, 0])
        .unwrap();
    other_group[at + 4] ^= 1;
    assert_ne!(link_text(&other_group), link_text(&f.bytes));
}

// ---------------------------------------------------------------------------------
// Addresses and altnames: compared exactly, attributes in their order (sequence
// masked), since conlink writes them as iproute2 does.

fn assert_same_bytes(name: &str, ours: Vec<u8>) {
    let theirs = fixture(name);
    assert_eq!(
        mask_seq(ours),
        mask_seq(theirs.bytes),
        "{name} ({})",
        theirs.command
    );
}

#[test]
fn address_requests_are_ips() {
    use runtime::families::addr;
    let add = NLM_F_CREATE | NLM_F_EXCL;
    let v4 = "10.0.0.1/24".parse().unwrap();
    assert_same_bytes("addr-add-v4", wire(addr::add(VA, v4, false), add));
    // `nodad`: IFA_F_NODAD in the header's flags.
    let v6 = "fd00::1/64".parse().unwrap();
    assert_same_bytes("addr-add-v6-nodad", wire(addr::add(VA, v6, true), add));
}

#[test]
fn altname_requests_are_ips() {
    let name = "conlink-ready.demo";
    assert_same_bytes(
        "link-property-add-altname",
        wire(link::add_altname(VA, name), link::ADD_PROPERTY),
    );
    assert_same_bytes(
        "link-property-del-altname",
        wire(link::del_altname(VA, name), 0),
    );
}
