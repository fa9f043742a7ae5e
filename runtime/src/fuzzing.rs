//! The way in for the fuzzing harness (`fuzz/fuzz_targets/netlink_reply.rs`) and for
//! the tests that check the readers against answers captured from a real kernel
//! (`runtime/tests/kernel_replies.rs`): every reader of bytes the kernel writes,
//! driven by one buffer as a read from a netlink socket returns it.
//!
//! The readers stay private to the crate; this one hidden function is the only door,
//! so the runtime's public interface does not grow for the fuzzer's sake. It lives
//! here rather than in the harness so that moving or renaming a reader breaks the
//! build, not the fuzzing silently.

use crate::families::tc::{self, FilterInfo, NetemParams, QdiscInfo};
use crate::netlink::{self, KernelError};
use crate::nft::{self, wire};
use crate::observe::{self, LinkRead, RouteRead};
use crate::{command, sysctl};
use compiler::plan::NftFamily;
use ipnet::IpNet;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::io;

const NLMSG_ERROR: u16 = 2;

/// The name of the nf_tables table whose chains and rules are read.
pub const NFT_TABLE: &str = "conlink";

/// What a request's answer says: done, or refused and why.
pub type Ack = Result<(), KernelError>;

/// Everything the readers made of one buffer.
#[derive(Clone, Debug)]
pub struct Replies {
    /// The buffer as the answers to a batch of requests 1 to 3, with 4 and 5 sent
    /// unacked (as nf_tables batch markers): each request's ack, if the buffer has it;
    /// an error if the buffer is no answer at all (the exchange fails).
    pub acks: Result<Vec<Option<Ack>>, io::ErrorKind>,
    /// The buffer as one read of the answer to dump request 1: `Some` if it ends the
    /// dump, with the kernel's error if it refused it.
    pub dump_end: Result<Option<Ack>, io::ErrorKind>,
    /// The contents of the error messages, whatever their sequence numbers.
    pub errors: Vec<Result<Ack, io::ErrorKind>>,
    pub links: Vec<LinkRead>,
    pub addrs: Vec<(u32, IpNet)>,
    pub routes: Vec<RouteRead>,
    pub qdiscs: Vec<QdiscInfo>,
    /// Each filter, with the interface it redirects to if it is conlink's redirect.
    pub filters: Vec<(FilterInfo, Option<u32>)>,
    pub tables: Vec<(NftFamily, String)>,
    /// Chains of [`NFT_TABLE`].
    pub chains: Vec<String>,
    /// The chain of each rule of [`NFT_TABLE`].
    pub rules: Vec<String>,
}

/// Reads `buf` as the kernel's answer in every way the runtime reads answers: as the
/// acks of a batch, as one read of a dump, and each message in it as every family
/// reads back its objects; and the same bytes as `/proc/PID/stat` and sysctl text.
/// Panics only where a reader would panic on such bytes, or if the framing of
/// messages breaks its own invariants.
#[doc(hidden)]
pub fn kernel_replies(buf: &[u8]) -> Replies {
    let mut acks = vec![None; 3];
    let mut out = Replies {
        acks: netlink::take_acks(buf, &[1, 2, 3], &[4, 5], &mut acks)
            .map(|()| acks)
            .map_err(|e| e.kind()),
        dump_end: netlink::dump_part(buf, 1, |_| {}).map_err(|e| e.kind()),
        errors: Vec::new(),
        links: Vec::new(),
        addrs: Vec::new(),
        routes: Vec::new(),
        qdiscs: Vec::new(),
        filters: Vec::new(),
        tables: Vec::new(),
        chains: Vec::new(),
        rules: Vec::new(),
    };

    let mut framed = 0;
    for m in netlink::received(buf) {
        assert!(m.message.len() >= 16, "a framed message holds its header");
        framed += m.message.len();
        assert!(framed <= buf.len(), "framed messages fit in the buffer");
        if m.ty == NLMSG_ERROR {
            let error = netlink::parse_error(m.body(), m.flags);
            out.errors.push(error.map_err(|e| e.kind()));
        }
        route_readers(m.message, &mut out);
        nft_readers(m.message, &mut out);
        std::hint::black_box(NetemParams::decode(m.body()));
    }

    // Text the kernel writes elsewhere: /proc/PID/stat and sysctl values.
    let text = String::from_utf8_lossy(buf);
    std::hint::black_box(command::parse_stat(&text));
    let mut half = text.len() / 2;
    while !text.is_char_boundary(half) {
        half -= 1;
    }
    let (a, b) = text.split_at(half);
    std::hint::black_box(sysctl::same_value(a, b));
    out
}

/// An rtnetlink message as the observers and the tc family read it back.
fn route_readers(message: &[u8], out: &mut Replies) {
    let Ok(NetlinkMessage {
        payload: NetlinkPayload::InnerMessage(m),
        ..
    }) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(message)
    else {
        return;
    };
    match &m {
        RouteNetlinkMessage::NewLink(l) => out.links.push(observe::read_link(l)),
        RouteNetlinkMessage::NewAddress(a) => out.addrs.extend(observe::read_addr(a)),
        RouteNetlinkMessage::NewRoute(r) => out.routes.extend(observe::read_route(r)),
        // The qdisc of the interface the message names, so it is not skipped.
        RouteNetlinkMessage::NewQueueDiscipline(q) => {
            out.qdiscs.extend(tc::read_qdisc(&m, q.header.index as u32))
        }
        RouteNetlinkMessage::NewTrafficFilter(_) => {
            out.filters.extend(tc::read_filter(&m).map(|f| {
                let target = f.redirect_target();
                (f, target)
            }))
        }
        _ => {}
    }
}

/// An nf_tables message as the table, chain and rule dumps read it.
fn nft_readers(message: &[u8], out: &mut Replies) {
    if let Some(reply) = nft::answer_of(message, wire::NFT_MSG_NEWTABLE) {
        out.tables.extend(nft::table_of(&reply));
    }
    if let Some(reply) = nft::answer_of(message, wire::NFT_MSG_NEWCHAIN) {
        out.chains.extend(nft::chain_of(&reply, NFT_TABLE));
    }
    if let Some(reply) = nft::answer_of(message, wire::NFT_MSG_NEWRULE) {
        out.rules.extend(nft::rule_chain_of(&reply, NFT_TABLE));
    }
}
