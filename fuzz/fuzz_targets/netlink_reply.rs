//! Fuzz target `netlink_reply`: bytes as one read from a netlink socket, through
//! every reader of the kernel's answers (`runtime::fuzzing::kernel_replies`): batch
//! acks with extended-ack text, dump framing, links, addresses, routes, qdiscs (netem
//! options), filters, nf_tables tables, chains and rules; and the same bytes as the
//! text of `/proc/PID/stat` and of sysctl values.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(runtime::fuzzing::kernel_replies(data));
});
