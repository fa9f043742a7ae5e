//! nftables: conlink's NAT tables, programmed directly over netlink.
//!
//! A plan's `NftTableAdd` step becomes **one nfnetlink batch**: `BATCH_BEGIN`,
//! `NEWTABLE`, a `NEWCHAIN` per chain, a `NEWRULE` per rule, `BATCH_END`, all in one
//! `sendmsg(2)`. The kernel runs the batch as a transaction: if any message fails it
//! aborts the whole batch, so a table is either there with all its chains and rules or
//! not there at all — a failed step needs no rollback of its own. Its inverse,
//! `NftTableDel`, is a batch of one `DELTABLE` (deleting a table deletes its chains
//! and rules).
//!
//! Why not run `nft -f`: conlink executes its plan through kernel interfaces, not
//! processes (docs/plan.md, "Properties"), and it is cheaper: on the test machine one batch for a table
//! with two chains and five rules took ~0.17 ms, one `nft add table` process ~17 ms.
//! Why not libnftnl or a crate around it: licences (GPL) and a C dependency, for the
//! five expression types conlink needs. The messages are built here from the kernel's
//! uapi definitions (`nft/wire.rs`); the expressions of each rule are the ones nft
//! generates for the same rule (`nft/expr.rs`), so `nft list table` reads conlink's
//! tables back in nft's own syntax.
//!
//! Each namespace's socket is opened with [`socket`] inside it, once per run (a netlink
//! socket stays bound to the namespace it was opened in: `crate::places::Place::nft`);
//! the nft family (`crate::families::nft`) calls [`add_table`] / [`del_table`], and
//! [`list_tables`] to tell whether a table is in place; [`table_rule_counts`] reads a
//! table back.

mod expr;
pub(crate) mod wire;

#[cfg(test)]
mod tests;

use crate::netlink::{self, first_error, KernelError, Socket};
use compiler::plan::{NftChain, NftFamily, NftHook};
use rtnetlink::sys::protocols::NETLINK_NETFILTER;
use std::net::Ipv4Addr;
use wire::*;

/// conlink's external interface and IPv4 address in its namespace, resolved at run
/// time: what the plan's `$CONLINK_EXTERNAL_IF` and `$CONLINK_EXTERNAL` placeholders
/// stand for in forward rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    pub ifname: String,
    pub addr: Ipv4Addr,
}

/// Why a table could not be added. Nothing of the table is left behind in any case.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    /// The kernel refused the batch; `at` names the first message it refused, e.g.
    /// `add chain prerouting` or `add rule 2 of chain postrouting`. nf_tables rarely
    /// sends extended-ack text, so `hint` says what the errno means at that message.
    #[error("nft table {table}: {at}: {error}{}", fmt_hint(.hint))]
    Kernel {
        table: String,
        at: String,
        error: KernelError,
        hint: Option<String>,
    },
    /// The batch could not be sent, or its answers not read.
    #[error("nft table {table}: {at}: {error}")]
    Socket {
        table: String,
        at: String,
        error: netlink::Error,
    },
    /// A rule refers to conlink's external interface or address, but none is known
    /// (conlink has no external interface here, or the caller did not resolve it).
    #[error(
        "nft table {table}: {at} needs conlink's external {what} ({placeholder}), but none is known"
    )]
    NoExternal {
        table: String,
        at: String,
        what: &'static str,
        placeholder: &'static str,
    },
    /// A chain or rule cannot be expressed (wrong address family for the table, an
    /// interface name the kernel cannot have, …); found before sending.
    #[error("nft table {table}: {at}: {reason}")]
    Unsupported {
        table: String,
        at: String,
        reason: String,
    },
}

impl NftError {
    /// The kernel's error, if the kernel refused the batch.
    pub fn kernel_error(&self) -> Option<&KernelError> {
        match self {
            NftError::Kernel { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A `NETLINK_NETFILTER` socket in the calling thread's network namespace.
pub fn socket() -> std::io::Result<Socket> {
    Socket::open(NETLINK_NETFILTER)
}

/// Adds `table` with all its chains and their rules in one atomic batch: all or
/// nothing. Fails with `EEXIST` if the table exists (conlink never adopts a table it
/// did not create). Rules are checked before anything is sent.
pub fn add_table(
    sock: &mut Socket,
    family: NftFamily,
    table: &str,
    chains: &[NftChain],
    external: Option<&External>,
) -> Result<(), NftError> {
    let batch = table_batch(family, table, chains, external)?;
    send_batch(sock, &batch).map_err(|(i, error)| kernel_error(family, table, &batch, i, error))
}

/// Deletes `table` with its chains and rules. A missing table is `ENOENT`; the
/// caller decides whether that counts as done ([`KernelError::is_gone`]).
pub fn del_table(sock: &mut Socket, family: NftFamily, table: &str) -> Result<(), netlink::Error> {
    let mut body = Body::new(nfproto(family));
    body.str(NFTA_TABLE_NAME, table);
    let msg = Message {
        msg_type: msg_type(NFT_MSG_DELTABLE),
        flags: 0,
        body,
        at: "delete table".into(),
        what: What::Other,
    };
    send_batch(sock, &[msg]).map_err(|(_, e)| e)
}

/// The tables of the namespace in the `ip`, `ip6` and `inet` families, in the
/// kernel's order (other families, e.g. `netdev` or `bridge`, are left out).
pub fn list_tables(sock: &mut Socket) -> Result<Vec<(NftFamily, String)>, netlink::Error> {
    let mut tables = Vec::new();
    dump(
        sock,
        NFT_MSG_GETTABLE,
        Body::new(0),
        NFT_MSG_NEWTABLE,
        |reply| tables.extend(table_of(reply)),
    )?;
    Ok(tables)
}

/// The family and name of a table in a table dump, unless its family is not one
/// conlink uses.
pub(crate) fn table_of(reply: &Reply) -> Option<(NftFamily, String)> {
    Some((family_of(reply.family)?, reply.string(NFTA_TABLE_NAME)?))
}

/// Each chain of `table` with its number of rules, in the kernel's chain order: enough
/// to tell "the table conlink made is there with N rules". `ENOENT` if the table is
/// missing.
pub fn table_rule_counts(
    sock: &mut Socket,
    family: NftFamily,
    table: &str,
) -> Result<Vec<(String, usize)>, netlink::Error> {
    get_table(sock, family, table)?;
    let mut counts: Vec<(String, usize)> = Vec::new();
    dump(
        sock,
        NFT_MSG_GETCHAIN,
        Body::new(nfproto(family)),
        NFT_MSG_NEWCHAIN,
        |reply| counts.extend(chain_of(reply, table).map(|name| (name, 0))),
    )?;
    // The kernel filters a rule dump by the table named in the request.
    let mut body = Body::new(nfproto(family));
    body.str(NFTA_RULE_TABLE, table);
    dump(sock, NFT_MSG_GETRULE, body, NFT_MSG_NEWRULE, |reply| {
        let chain = rule_chain_of(reply, table);
        if let Some(entry) = counts.iter_mut().find(|(c, _)| Some(c) == chain.as_ref()) {
            entry.1 += 1;
        }
    })?;
    Ok(counts)
}

/// The name of a chain of `table` in a chain dump.
pub(crate) fn chain_of(reply: &Reply, table: &str) -> Option<String> {
    (reply.string(NFTA_CHAIN_TABLE)? == table)
        .then(|| reply.string(NFTA_CHAIN_NAME))
        .flatten()
}

/// The chain of a rule of `table` in a rule dump.
pub(crate) fn rule_chain_of(reply: &Reply, table: &str) -> Option<String> {
    (reply.string(NFTA_RULE_TABLE)? == table)
        .then(|| reply.string(NFTA_RULE_CHAIN))
        .flatten()
}

/// One message of a batch, with what it does in words for error messages.
struct Message {
    msg_type: u16,
    flags: u16,
    body: Body,
    at: String,
    what: What,
}

/// What a message creates, to explain the kernel's errno for it.
enum What {
    Table,
    Chain {
        kind: String,
        hook: String,
        priority: i32,
    },
    Rule,
    Other,
}

/// The messages that create `table`, its chains and their rules, in that order (later
/// messages refer to earlier objects by name, which the kernel resolves within the
/// transaction). Fails, before anything is sent, on a chain or rule that cannot be
/// expressed.
fn table_batch(
    family: NftFamily,
    table: &str,
    chains: &[NftChain],
    external: Option<&External>,
) -> Result<Vec<Message>, NftError> {
    let mut body = Body::new(nfproto(family));
    body.str(NFTA_TABLE_NAME, table);
    // NLM_F_EXCL: an existing table is an error, not something to add to.
    let mut batch = vec![Message {
        msg_type: msg_type(NFT_MSG_NEWTABLE),
        flags: NLM_F_CREATE | NLM_F_EXCL,
        body,
        at: "add table".into(),
        what: What::Table,
    }];
    for chain in chains {
        batch.push(chain_message(family, table, chain)?);
    }
    for chain in chains {
        for (i, rule) in chain.rules.iter().enumerate() {
            let at = format!("add rule {} of chain {}", i + 1, chain.name);
            let exprs = expr::rule_exprs(rule, family, external)
                .map_err(|e| rule_error(family, table, &at, e))?;
            batch.push(rule_message(family, table, &chain.name, &exprs, at));
        }
    }
    Ok(batch)
}

/// `NEWCHAIN` for a base chain: its hook and priority, and its type (`nat`). The
/// kernel checks that the type suits the hook and the priority (nat chains must run
/// after conntrack, priority > -200).
fn chain_message(family: NftFamily, table: &str, chain: &NftChain) -> Result<Message, NftError> {
    let at = format!("add chain {}", chain.name);
    let hooknum = hook_number(chain.hook);
    let mut body = Body::new(nfproto(family));
    body.str(NFTA_CHAIN_TABLE, table)
        .str(NFTA_CHAIN_NAME, &chain.name)
        .nest(NFTA_CHAIN_HOOK, |b| {
            // The priority is a signed 32-bit number sent as its big-endian bits.
            b.be32(NFTA_HOOK_HOOKNUM, hooknum)
                .be32(NFTA_HOOK_PRIORITY, chain.priority as u32);
        })
        .str(NFTA_CHAIN_TYPE, chain.kind.as_str());
    Ok(Message {
        msg_type: msg_type(NFT_MSG_NEWCHAIN),
        flags: NLM_F_CREATE | NLM_F_EXCL,
        body,
        at,
        what: What::Chain {
            kind: chain.kind.as_str().into(),
            hook: chain.hook.as_str().into(),
            priority: chain.priority,
        },
    })
}

/// `NEWRULE` appending one rule to `chain`.
fn rule_message(
    family: NftFamily,
    table: &str,
    chain: &str,
    exprs: &[expr::Expr],
    at: String,
) -> Message {
    let mut body = Body::new(nfproto(family));
    body.str(NFTA_RULE_TABLE, table)
        .str(NFTA_RULE_CHAIN, chain)
        .nest(NFTA_RULE_EXPRESSIONS, |b| {
            for e in exprs {
                e.encode(b);
            }
        });
    Message {
        msg_type: msg_type(NFT_MSG_NEWRULE),
        flags: NLM_F_CREATE | NLM_F_APPEND,
        body,
        at,
        what: What::Rule,
    }
}

/// Sends `msgs` as one nfnetlink batch in one `sendmsg(2)` and waits for their acks.
/// On failure, returns the index of the first refused message (`None` if the batch
/// could not be sent) and the kernel's error; the kernel has then applied none of it.
///
/// The begin and end markers get no ack: the kernel only answers them when it
/// refuses the batch as a whole (e.g. `EPERM` without `CAP_NET_ADMIN`), and then
/// answers nothing else; [`Socket::flush`] gives that error to every message. Every
/// other message is sent with `NLM_F_ACK`, and the kernel acks all of them after
/// the batch ran, even those it carried out before a later one failed and the whole
/// batch was undone: only "every ack is success" means the batch was applied.
fn send_batch(sock: &mut Socket, msgs: &[Message]) -> Result<(), (Option<usize>, netlink::Error)> {
    // Anything queued before goes on its own, so the batch is alone in its sendmsg.
    first_error(sock.flush().map_err(|e| (None, e.into()))?).map_err(|e| (None, e.into()))?;
    let marker = Body::batch_marker();
    sock.queue_unacked(NFNL_MSG_BATCH_BEGIN, 0, marker.as_bytes());
    let seqs: Vec<u32> = msgs
        .iter()
        .map(|m| sock.queue_raw(m.msg_type, m.flags, m.body.as_bytes()))
        .collect();
    sock.queue_unacked(NFNL_MSG_BATCH_END, 0, marker.as_bytes());
    let acks = sock.flush().map_err(|e| (None, e.into()))?;
    for (seq, result) in acks {
        if let Err(e) = result {
            return Err((seqs.iter().position(|s| *s == seq), e.into()));
        }
    }
    Ok(())
}

/// The error for a refused `add_table` batch: which message, and what its errno
/// means there.
fn kernel_error(
    family: NftFamily,
    table: &str,
    batch: &[Message],
    failed: Option<usize>,
    error: netlink::Error,
) -> NftError {
    let msg = failed.and_then(|i| batch.get(i));
    let table = table_label(family, table);
    let at = msg.map_or_else(|| "send batch".to_string(), |m| m.at.clone());
    match error {
        netlink::Error::Kernel(error) => NftError::Kernel {
            table,
            at,
            hint: msg.and_then(|m| hint(&m.what, error.errno)),
            error,
        },
        error => NftError::Socket { table, at, error },
    }
}

/// What an errno means for a message of an `add_table` batch. The kernel answers
/// ENOENT for a chain type or expression it does not have (a kernel with modules
/// would load one; conlink's test kernels have them built in or not at all), and
/// EOPNOTSUPP for a combination of hook, priority and action it does not allow.
fn hint(what: &What, errno: i32) -> Option<String> {
    let text = match (what, errno) {
        (What::Table, libc::EEXIST) => {
            "a table of that name exists; conlink does not adopt tables it did not create"
        }
        (What::Table, libc::EOPNOTSUPP) => "the kernel has no nf_tables (CONFIG_NF_TABLES)",
        (What::Table, libc::EPERM) => "changing nftables needs CAP_NET_ADMIN in this namespace",
        (What::Chain { kind, .. }, libc::ENOENT) => {
            return Some(format!(
                "the kernel has no nftables chain type {kind:?} (nft_chain_nat for nat)"
            ))
        }
        (What::Chain { kind, hook, priority }, libc::EOPNOTSUPP) => {
            return Some(format!(
                "the kernel refuses a {kind} chain at hook {hook} with priority {priority}; \
                 nat chains need a priority above -200"
            ))
        }
        (What::Rule, libc::ENOENT) => {
            "the kernel lacks an expression this rule uses (nft_nat, nft_meta, nft_payload, nft_cmp, nft_immediate)"
        }
        (What::Rule, libc::EOPNOTSUPP) => {
            "not allowed in this chain: dnat belongs at prerouting or output, snat at postrouting or input"
        }
        _ => return None,
    };
    Some(text.to_string())
}

fn fmt_hint(hint: &Option<String>) -> String {
    hint.as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

/// Asks for one table: `ENOENT` if it is not there.
fn get_table(sock: &mut Socket, family: NftFamily, table: &str) -> Result<(), netlink::Error> {
    let mut body = Body::new(nfproto(family));
    body.str(NFTA_TABLE_NAME, table);
    // A plain get answers with the table and then, asked for with NLM_F_ACK, an ack,
    // which ends the exchange for dump_raw_with.
    let request = wire::request(msg_type(NFT_MSG_GETTABLE), NLM_F_ACK, &body);
    sock.dump_raw_with(request, |_| {})
}

/// Runs a dump of `msg` (a `GET*` type) and hands each answer of type `answer` (the
/// matching `NEW*`) to `each`.
fn dump(
    sock: &mut Socket,
    msg: u16,
    body: Body,
    answer: u16,
    mut each: impl FnMut(&Reply),
) -> Result<(), netlink::Error> {
    let request = wire::request(msg_type(msg), NLM_F_DUMP, &body);
    sock.dump_raw_with(request, |bytes| {
        if let Some(reply) = answer_of(bytes, answer) {
            each(&reply);
        }
    })
}

/// One message of a dump's answer, if it is of type `answer` (a `NEW*`).
pub(crate) fn answer_of(bytes: &[u8], answer: u16) -> Option<Reply<'_>> {
    Reply::parse(bytes).filter(|reply| reply.msg_type == msg_type(answer))
}

fn rule_error(family: NftFamily, table: &str, at: &str, e: expr::RuleError) -> NftError {
    let (table, at) = (table_label(family, table), at.to_string());
    match e {
        expr::RuleError::NoExternal { what, placeholder } => NftError::NoExternal {
            table,
            at,
            what,
            placeholder,
        },
        expr::RuleError::Unsupported(reason) => NftError::Unsupported { table, at, reason },
    }
}

/// `ip NAME`, as nft names a table.
fn table_label(family: NftFamily, table: &str) -> String {
    format!("{} {table}", family_name(family))
}

fn family_name(family: NftFamily) -> &'static str {
    match family {
        NftFamily::Ip => "ip",
        NftFamily::Ip6 => "ip6",
        NftFamily::Inet => "inet",
    }
}

/// The table family as the kernel numbers it (`NFPROTO_*`).
fn nfproto(family: NftFamily) -> u8 {
    match family {
        NftFamily::Ip => NFPROTO_IPV4,
        NftFamily::Ip6 => NFPROTO_IPV6,
        NftFamily::Inet => NFPROTO_INET,
    }
}

fn family_of(nfproto: u8) -> Option<NftFamily> {
    match nfproto {
        NFPROTO_IPV4 => Some(NftFamily::Ip),
        NFPROTO_IPV6 => Some(NftFamily::Ip6),
        NFPROTO_INET => Some(NftFamily::Inet),
        _ => None,
    }
}

fn hook_number(hook: NftHook) -> u32 {
    match hook {
        NftHook::Prerouting => NF_INET_PRE_ROUTING,
        NftHook::Input => NF_INET_LOCAL_IN,
        NftHook::Forward => NF_INET_FORWARD,
        NftHook::Output => NF_INET_LOCAL_OUT,
        NftHook::Postrouting => NF_INET_POST_ROUTING,
    }
}

const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
const NLM_F_EXCL: u16 = libc::NLM_F_EXCL as u16;
const NLM_F_CREATE: u16 = libc::NLM_F_CREATE as u16;
const NLM_F_APPEND: u16 = libc::NLM_F_APPEND as u16;
