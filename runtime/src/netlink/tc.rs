//! tc requests: the qdiscs a plan uses (`netem` at the root, `ingress`), the redirect
//! filter of a patch (`u32` matching every frame, with a `mirred egress redirect`
//! action), and dumps to read them back.
//!
//! Builders are pure: they take ifindexes and return the message; queue it with the
//! flags given by [`ADD`] (create, and fail if it exists) or [`DEL`]. Each builds the
//! same bytes `tc` (iproute2 6.1) sends for the command the plan prints — apart from
//! the header's sequence number and port id, which the socket sets — and
//! `tests/request_bytes.rs` checks that against requests captured from `tc` itself.
//!
//! ## netem
//!
//! rtnetlink's packet crate has no netem type, so its `TCA_OPTIONS` is built here from
//! the kernel's uapi (`include/uapi/linux/pkt_sched.h`): a `struct tc_netem_qopt`
//! (`latency`, `limit`, `loss`, `gap`, `duplicate`, `jitter`, six `u32`s) followed by
//! netlink attributes, in the order tc writes them: `TCA_NETEM_CORR`, `_REORDER`,
//! `_CORRUPT`, `_RATE64`, `_RATE`, `_DELAY_DIST`. What tc decides, conlink decides the
//! same way:
//!
//! * Times go into `tc_netem_qopt` in the kernel's scheduler ticks of 64 ns
//!   (`/proc/net/psched` says 1000 ns per µs, 64 ns per tick), rounded down, as tc
//!   computes them. tc 6.1 stops there; where ticks cannot carry the time exactly (not a
//!   multiple of 64 ns, e.g. `1500us`, or beyond `u32::MAX` ticks, about 275 s) conlink
//!   also sends the kernel's exact 64-bit nanoseconds, `TCA_NETEM_LATENCY64` /
//!   `TCA_NETEM_JITTER64` (Linux ≥ 4.15 prefers them to the ticks; older kernels ignore
//!   them). They come last, so a request tc could also express is byte-identical.
//! * Percentages are `round(fraction × (2³² − 1))` ([`Percent::to_kernel`]).
//! * `limit` is 1000 packets unless given; `gap` is 1 when `reorder` has a non-zero
//!   probability and no `gap`.
//! * `TCA_NETEM_CORR` is sent when a delay, loss, reorder or corrupt correlation is
//!   written, even `0%`; `TCA_NETEM_REORDER` and `TCA_NETEM_CORRUPT` whenever their
//!   option is given; `TCA_NETEM_RATE` whenever `rate` is, in bytes per second (bits
//!   ÷ 8, rounded down), with `TCA_NETEM_RATE64` before it and `u32::MAX` in it from
//!   2³² bytes per second on.
//! * One deliberate difference: tc 6.1 forgets to send `TCA_NETEM_CORR` when only a
//!   *duplicate* correlation is written (`duplicate 1% 4%` reaches the kernel without
//!   its 4%). conlink sends it, so the kernel gets what the plan shows.
//! * A `distribution` other than uniform needs tc's table (`normal.dist`, …), a text
//!   file of `i16` values tc reads from its library directory and sends as
//!   `TCA_NETEM_DELAY_DIST`. conlink reads the same files ([`DistTable::load`]) and so
//!   sends the same bytes; where none is installed the step fails with a
//!   [`NetemError`] saying where it looked. `uniform` is the kernel's default and sends
//!   no table (tc has no `uniform.dist` and refuses it).

use crate::error::KernelError;
use crate::netlink::socket::{encode, Socket};
use compiler::plan::QdiscParent;
use compiler::plan::{Distribution, Netem, Percent};
use rtnetlink::packet_core::{
    DefaultNla, NetlinkMessage, NetlinkPayload, Nla, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
};
use rtnetlink::packet_route::tc::{
    TcAction, TcActionAttribute, TcActionGeneric, TcActionMirrorOption, TcActionOption,
    TcActionType, TcAttribute, TcFilterU32Option, TcHandle, TcHeader, TcMessage, TcMirror,
    TcMirrorActionType, TcOption, TcU32Key, TcU32Selector, TcU32SelectorFlags,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::path::PathBuf;

/// Flags for the requests that create something: fail rather than replace (`tc … add`).
pub const ADD: u16 = NLM_F_CREATE | NLM_F_EXCL;
/// Flags for the requests that delete something.
pub const DEL: u16 = 0;

/// `TC_H_ROOT`: the root of the egress tree.
pub const ROOT: u32 = 0xffff_ffff;
/// `TC_H_INGRESS`: where the ingress qdisc attaches.
pub const INGRESS_PARENT: u32 = 0xffff_fff1;
/// The ingress qdisc's handle, `ffff:`, which is also the parent of its filters.
pub const INGRESS_HANDLE: u32 = 0xffff_0000;
/// `ETH_P_ALL`: `protocol all`.
const ETH_P_ALL: u16 = 0x0003;

/// `tc qdisc add dev DEV ingress`.
pub fn ingress_qdisc_add(ifindex: u32) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewQueueDiscipline(ingress_message(ifindex))
}

fn ingress_message(ifindex: u32) -> TcMessage {
    TcMessage::from_parts(
        header(ifindex, INGRESS_HANDLE, INGRESS_PARENT, 0),
        vec![TcAttribute::Kind("ingress".into())],
    )
}

/// `tc qdisc del dev DEV root|ingress`. As tc does, `root` names no kind (the kernel
/// deletes whatever is at the root) while `ingress` names the ingress qdisc. When
/// nothing is there the kernel answers `ENOENT` ("gone" for an undo).
pub fn qdisc_del(ifindex: u32, parent: QdiscParent) -> RouteNetlinkMessage {
    let message = match parent {
        QdiscParent::Root => TcMessage::from_parts(header(ifindex, 0, ROOT, 0), Vec::new()),
        QdiscParent::Ingress => ingress_message(ifindex),
    };
    RouteNetlinkMessage::DelQueueDiscipline(message)
}

/// `tc qdisc add dev DEV root netem …`, reading a distribution table from tc's
/// library directory when `netem` asks for one (the only file access; see
/// [`netem_qdisc_add_with`] for the pure form).
pub fn netem_qdisc_add(ifindex: u32, netem: &Netem) -> Result<RouteNetlinkMessage, NetemError> {
    let table = match netem.delay.as_ref().and_then(|d| d.distribution) {
        Some(dist) => DistTable::load(dist)?,
        None => None,
    };
    netem_qdisc_add_with(ifindex, netem, table.as_ref())
}

/// `tc qdisc add dev DEV root netem …` with the distribution table given (needed only
/// for a non-uniform `distribution`).
pub fn netem_qdisc_add_with(
    ifindex: u32,
    netem: &Netem,
    table: Option<&DistTable>,
) -> Result<RouteNetlinkMessage, NetemError> {
    let options = netem_options(netem, table)?;
    Ok(RouteNetlinkMessage::NewQueueDiscipline(
        TcMessage::from_parts(
            header(ifindex, 0, ROOT, 0),
            vec![
                TcAttribute::Kind("netem".into()),
                // Not a list of attributes but a struct followed by attributes: the
                // crate carries it as opaque bytes.
                TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, options)),
            ],
        ),
    ))
}

/// `tc filter add dev DEV parent ffff: protocol all u32 match u32 0 0 action mirred
/// egress redirect dev TO`: every frame entering `ifindex` leaves through `to_ifindex`.
/// The priority is left to the kernel (it picks 49152 for the first filter), as tc does.
pub fn redirect_filter_add(ifindex: u32, to_ifindex: u32) -> RouteNetlinkMessage {
    let mut generic = TcActionGeneric::default();
    // What tc's mirred sets for a redirect: the frame is consumed.
    generic.action = TcActionType::Stolen;
    let mut mirror = TcMirror::default();
    mirror.generic = generic;
    mirror.eaction = TcMirrorActionType::EgressRedir;
    mirror.ifindex = to_ifindex;
    let mut action = TcAction::default(); // tab 1: the first action of the list
    action.attributes = vec![
        TcActionAttribute::Kind("mirred".into()),
        TcActionAttribute::Options(vec![TcActionOption::Mirror(TcActionMirrorOption::Parms(
            mirror,
        ))]),
    ];
    // `match u32 0 0`: one key, offset 0, mask 0 — every frame matches.
    let mut selector = TcU32Selector::default();
    selector.flags = TcU32SelectorFlags::Terminal;
    selector.nkeys = 1;
    selector.keys = vec![TcU32Key::default()];
    RouteNetlinkMessage::NewTrafficFilter(TcMessage::from_parts(
        header(ifindex, 0, INGRESS_HANDLE, filter_info(0, ETH_P_ALL)),
        vec![
            TcAttribute::Kind("u32".into()),
            TcAttribute::Options(vec![
                TcOption::U32(TcFilterU32Option::Action(vec![action])),
                TcOption::U32(TcFilterU32Option::Selector(selector)),
            ]),
        ],
    ))
}

/// `tc filter del dev DEV parent ffff:`: removes every filter of DEV's ingress.
pub fn redirect_filter_del(ifindex: u32) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelTrafficFilter(TcMessage::from_parts(
        header(ifindex, 0, INGRESS_HANDLE, 0),
        Vec::new(),
    ))
}

/// Whether `err`, the answer to one of the delete requests built here, means the thing
/// is already gone (which counts as success for an undo). Besides the usual errnos
/// (`ENOENT`: no root qdisc, or no ingress qdisc ever), the kernel answers `EINVAL`
/// "Invalid handle" to deleting an ingress qdisc that was added and deleted before
/// (the device keeps an empty ingress slot), and `EINVAL` "Parent Qdisc doesn't
/// exists" to deleting filters under an ingress qdisc that is not there.
pub fn is_gone(err: &KernelError) -> bool {
    err.is_gone()
        || (err.errno == libc::EINVAL
            && matches!(
                err.ext_ack.as_deref(),
                Some("Invalid handle" | "Parent Qdisc doesn't exists")
            ))
}

/// `tcm_info` of a filter: priority in the upper half, protocol (network order) in
/// the lower.
fn filter_info(priority: u16, protocol: u16) -> u32 {
    (u32::from(priority) << 16) | u32::from(protocol.to_be())
}

fn header(ifindex: u32, handle: u32, parent: u32, info: u32) -> TcHeader {
    TcHeader {
        // tcm_ifindex is a C int; ifindexes are positive and below 2³¹.
        index: ifindex as i32,
        handle: TcHandle::from(handle),
        parent: TcHandle::from(parent),
        info,
        ..TcHeader::default()
    }
}

// ---------------------------------------------------------------------------------
// netem options.

const TCA_OPTIONS: u16 = 2;

const TCA_NETEM_CORR: u16 = 1;
const TCA_NETEM_DELAY_DIST: u16 = 2;
const TCA_NETEM_REORDER: u16 = 3;
const TCA_NETEM_CORRUPT: u16 = 4;
const TCA_NETEM_RATE: u16 = 6;
const TCA_NETEM_RATE64: u16 = 8;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;

/// Length of `struct tc_netem_qopt`.
const QOPT_LEN: usize = 24;
/// Nanoseconds per scheduler tick (`PSCHED_SHIFT` is 6).
const TICK_NS: u64 = 64;
/// The queue limit tc sends when none is given.
pub const DEFAULT_LIMIT: u32 = 1000;
/// Most entries the kernel takes in a distribution table (`NETEM_DIST_MAX`).
pub const NETEM_DIST_MAX: usize = 16384;

/// Why a netem request could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NetemError {
    /// No table for the distribution in any of tc's library directories.
    #[error(
        "netem `distribution {distribution}` needs tc's table {distribution}.dist, found in none of: {}; \
         install iproute2 (it ships the tables), point TC_LIB_DIR at a directory holding it, \
         or use `distribution uniform`",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    TableNotFound {
        distribution: Distribution,
        searched: Vec<PathBuf>,
    },
    /// A table file exists but cannot be used.
    #[error("netem distribution table {}: {message}", path.display())]
    TableInvalid { path: PathBuf, message: String },
    /// The builder was given no table (or another distribution's) for a non-uniform
    /// distribution.
    #[error("netem `distribution {distribution}` needs its table, and none was given")]
    TableMissing { distribution: Distribution },
}

/// A netem delay distribution table, as tc's `*.dist` files hold it: values of the
/// inverse cumulative distribution, scaled so that 8192 (`NETEM_DIST_SCALE`) is one
/// standard deviation (one `jitter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistTable {
    pub distribution: Distribution,
    pub values: Vec<i16>,
}

impl DistTable {
    /// The directories searched for `NAME.dist`, in order: `$TC_LIB_DIR` (which tc
    /// also honours), then the places distributions install iproute2's library
    /// directory.
    pub fn search_path() -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(dir) = std::env::var_os("TC_LIB_DIR") {
            dirs.push(PathBuf::from(dir));
        }
        let multiarch = format!("/usr/lib/{}-linux-gnu/tc", std::env::consts::ARCH);
        for dir in [
            "/usr/lib/tc",
            multiarch.as_str(),
            "/usr/lib64/tc",
            "/usr/local/lib/tc",
            "/lib/tc",
        ] {
            dirs.push(PathBuf::from(dir));
        }
        dirs
    }

    /// The table for `distribution` from the first directory of [`search_path`] that
    /// has it; `None` for `uniform`, which needs none.
    ///
    /// [`search_path`]: DistTable::search_path
    pub fn load(distribution: Distribution) -> Result<Option<DistTable>, NetemError> {
        if distribution == Distribution::Uniform {
            return Ok(None);
        }
        let searched = DistTable::search_path();
        for dir in &searched {
            let path = dir.join(format!("{}.dist", distribution.name()));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return DistTable::parse(distribution, &text)
                        .map(Some)
                        .map_err(|message| NetemError::TableInvalid { path, message });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(NetemError::TableInvalid {
                        path,
                        message: e.to_string(),
                    })
                }
            }
        }
        Err(NetemError::TableNotFound {
            distribution,
            searched,
        })
    }

    /// Reads a table in tc's text form: lines starting with `#` and empty lines are
    /// skipped; the others hold whitespace-separated decimal integers.
    pub fn parse(distribution: Distribution, text: &str) -> Result<DistTable, String> {
        let mut values = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                let value: i16 = word.parse().map_err(|_| {
                    format!(
                        "line {}: `{word}` is not a number from -32768 to 32767",
                        n + 1
                    )
                })?;
                values.push(value);
            }
        }
        if values.is_empty() {
            return Err("the table is empty".into());
        }
        if values.len() > NETEM_DIST_MAX {
            return Err(format!(
                "{} values, more than the kernel's {NETEM_DIST_MAX}",
                values.len()
            ));
        }
        Ok(DistTable {
            distribution,
            values,
        })
    }
}

/// The value of netem's `TCA_OPTIONS`: `struct tc_netem_qopt` and its attributes.
pub fn netem_options(netem: &Netem, table: Option<&DistTable>) -> Result<Vec<u8>, NetemError> {
    encode_netem(netem, Some(table))
}

/// [`netem_options`]; `table: None` leaves the distribution table out (for
/// [`NetemParams::requested`], which does not show it).
fn encode_netem(netem: &Netem, table: Option<Option<&DistTable>>) -> Result<Vec<u8>, NetemError> {
    let delay = netem.delay.as_ref();
    let (latency_ns, jitter_ns) = delay.map_or((0, 0), |d| (d.time_ns, d.jitter_ns.unwrap_or(0)));
    let kernel = |p: Option<Percent>| p.map_or(0, Percent::to_kernel);
    let chance = |c: Option<&compiler::plan::Chance>| {
        c.map_or((0, 0), |c| {
            (c.probability.to_kernel(), kernel(c.correlation))
        })
    };
    let (loss, loss_corr) = chance(netem.loss.as_ref());
    let (duplicate, dup_corr) = chance(netem.duplicate.as_ref());
    let delay_corr = kernel(delay.and_then(|d| d.correlation));
    let gap = match &netem.reorder {
        Some(r) => r.gap.unwrap_or(if r.probability.ppb() > 0 { 1 } else { 0 }),
        None => 0,
    };

    let mut out = Vec::with_capacity(128);
    for field in [
        ticks(latency_ns),
        netem.limit.unwrap_or(DEFAULT_LIMIT),
        loss,
        gap,
        duplicate,
        ticks(jitter_ns),
    ] {
        out.extend_from_slice(&field.to_ne_bytes());
    }
    debug_assert_eq!(out.len(), QOPT_LEN);

    let corr_written = delay.is_some_and(|d| d.correlation.is_some())
        || [&netem.loss, &netem.duplicate, &netem.corrupt]
            .iter()
            .any(|c| c.is_some_and(|c| c.correlation.is_some()))
        || netem.reorder.is_some_and(|r| r.correlation.is_some());
    if corr_written {
        attr_u32s(&mut out, TCA_NETEM_CORR, &[delay_corr, loss_corr, dup_corr]);
    }
    if let Some(r) = &netem.reorder {
        let values = [r.probability.to_kernel(), kernel(r.correlation)];
        attr_u32s(&mut out, TCA_NETEM_REORDER, &values);
    }
    if let Some(c) = &netem.corrupt {
        let values = [c.probability.to_kernel(), kernel(c.correlation)];
        attr_u32s(&mut out, TCA_NETEM_CORRUPT, &values);
    }
    if let Some(bits) = netem.rate_bits_per_second {
        let bytes = bits / 8;
        let rate32 = match u32::try_from(bytes) {
            Ok(rate) => rate,
            Err(_) => {
                attr(&mut out, TCA_NETEM_RATE64, &bytes.to_ne_bytes());
                u32::MAX
            }
        };
        // struct tc_netem_rate: rate, packet_overhead, cell_size, cell_overhead.
        attr_u32s(&mut out, TCA_NETEM_RATE, &[rate32, 0, 0, 0]);
    }
    if let (Some(dist), Some(table)) = (delay.and_then(|d| d.distribution), table) {
        if dist != Distribution::Uniform {
            let table = table
                .filter(|t| t.distribution == dist)
                .ok_or(NetemError::TableMissing { distribution: dist })?;
            let bytes: Vec<u8> = table.values.iter().flat_map(|v| v.to_ne_bytes()).collect();
            attr(&mut out, TCA_NETEM_DELAY_DIST, &bytes);
        }
    }
    if !exact_in_ticks(latency_ns) {
        attr(
            &mut out,
            TCA_NETEM_LATENCY64,
            &(latency_ns as i64).to_ne_bytes(),
        );
    }
    if !exact_in_ticks(jitter_ns) {
        attr(
            &mut out,
            TCA_NETEM_JITTER64,
            &(jitter_ns as i64).to_ne_bytes(),
        );
    }
    Ok(out)
}

/// A time in scheduler ticks, rounded down and capped at `u32::MAX`.
fn ticks(ns: u64) -> u32 {
    u32::try_from(ns / TICK_NS).unwrap_or(u32::MAX)
}

/// Whether [`ticks`] carries `ns` exactly.
fn exact_in_ticks(ns: u64) -> bool {
    ns % TICK_NS == 0 && ns / TICK_NS <= u64::from(u32::MAX)
}

fn attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = 4 + value.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn attr_u32s(out: &mut Vec<u8>, kind: u16, values: &[u32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    attr(out, kind, &bytes);
}

/// What a netem qdisc holds, in the kernel's own units: what conlink asks for
/// ([`NetemParams::requested`]) and what a dump reports ([`NetemParams::decode`]), so
/// the two can be compared. Fields the request leaves out are zero, as the kernel
/// then keeps them. (The distribution table is not dumped by the kernel.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetemParams {
    pub latency_ns: i64,
    pub jitter_ns: i64,
    pub limit: u32,
    pub loss: u32,
    pub gap: u32,
    pub duplicate: u32,
    pub delay_corr: u32,
    pub loss_corr: u32,
    pub dup_corr: u32,
    pub reorder: u32,
    pub reorder_corr: u32,
    pub corrupt: u32,
    pub corrupt_corr: u32,
    /// Bytes per second.
    pub rate: u64,
}

impl NetemParams {
    /// The kernel's values for `netem` once conlink's request is applied.
    pub fn requested(netem: &Netem) -> NetemParams {
        let options = encode_netem(netem, None).expect("only a missing table fails");
        NetemParams::decode(&options).expect("conlink's own netem options decode")
    }

    /// Decodes netem's `TCA_OPTIONS` value, from a request or a dump.
    pub fn decode(options: &[u8]) -> Option<NetemParams> {
        let u32_at = |b: &[u8], i: usize| -> Option<u32> {
            Some(u32::from_ne_bytes(
                b.get(i * 4..i * 4 + 4)?.try_into().ok()?,
            ))
        };
        let qopt = options.get(..QOPT_LEN)?;
        let mut p = NetemParams {
            latency_ns: i64::from(u32_at(qopt, 0)?) * TICK_NS as i64,
            limit: u32_at(qopt, 1)?,
            loss: u32_at(qopt, 2)?,
            gap: u32_at(qopt, 3)?,
            duplicate: u32_at(qopt, 4)?,
            jitter_ns: i64::from(u32_at(qopt, 5)?) * TICK_NS as i64,
            ..NetemParams::default()
        };
        let mut rate64 = None;
        let mut at = QOPT_LEN;
        while at + 4 <= options.len() {
            let len = usize::from(u16::from_ne_bytes([options[at], options[at + 1]]));
            let kind = u16::from_ne_bytes([options[at + 2], options[at + 3]]) & 0x3fff;
            if len < 4 || at + len > options.len() {
                return None;
            }
            let v = &options[at + 4..at + len];
            let i64_value = || Some(i64::from_ne_bytes(v.get(..8)?.try_into().ok()?));
            match kind {
                TCA_NETEM_CORR => {
                    p.delay_corr = u32_at(v, 0)?;
                    p.loss_corr = u32_at(v, 1)?;
                    p.dup_corr = u32_at(v, 2)?;
                }
                TCA_NETEM_REORDER => {
                    p.reorder = u32_at(v, 0)?;
                    p.reorder_corr = u32_at(v, 1)?;
                }
                TCA_NETEM_CORRUPT => {
                    p.corrupt = u32_at(v, 0)?;
                    p.corrupt_corr = u32_at(v, 1)?;
                }
                TCA_NETEM_RATE => p.rate = u64::from(u32_at(v, 0)?),
                TCA_NETEM_RATE64 => rate64 = Some(i64_value()? as u64),
                TCA_NETEM_LATENCY64 => p.latency_ns = i64_value()?,
                TCA_NETEM_JITTER64 => p.jitter_ns = i64_value()?,
                _ => {}
            }
            at += len.next_multiple_of(4);
        }
        if let Some(rate) = rate64 {
            p.rate = rate;
        }
        Some(p)
    }
}

// ---------------------------------------------------------------------------------
// Reading back.

/// One qdisc of a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QdiscInfo {
    pub kind: String,
    pub handle: u32,
    pub parent: u32,
    /// For netem, what it holds.
    pub netem: Option<NetemParams>,
}

/// One filter of a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterInfo {
    pub kind: String,
    pub handle: u32,
    pub parent: u32,
    pub priority: u16,
    /// Host byte order (`ETH_P_ALL` is 3).
    pub protocol: u16,
    /// For u32: the keys of its selector as (mask, value, offset); absent for the
    /// hash-table entries a u32 dump also lists.
    pub u32_keys: Option<Vec<(u32, u32, i32)>>,
    /// Its mirred actions.
    pub mirred: Vec<Mirred>,
}

/// A mirred action: what it does and to which interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mirred {
    pub action: TcMirrorActionType,
    pub ifindex: u32,
}

impl FilterInfo {
    /// The interface this filter redirects every frame to, if it is conlink's redirect
    /// (u32 matching everything, mirred egress redirect).
    pub fn redirect_target(&self) -> Option<u32> {
        let keys = self.u32_keys.as_ref()?;
        if self.kind != "u32" || keys.is_empty() || keys.iter().any(|k| k.0 != 0) {
            return None;
        }
        match self.mirred.as_slice() {
            [m] if m.action == TcMirrorActionType::EgressRedir => Some(m.ifindex),
            _ => None,
        }
    }
}

/// The qdiscs of interface `ifindex`.
pub fn qdiscs(sock: &mut Socket, ifindex: u32) -> Result<Vec<QdiscInfo>, KernelError> {
    let request = RouteNetlinkMessage::GetQueueDiscipline(TcMessage::with_index(ifindex as i32));
    let mut out = Vec::new();
    for message in dump_tc(sock, request)? {
        let RouteNetlinkMessage::NewQueueDiscipline(m) = message else {
            continue;
        };
        if m.header.index != ifindex as i32 {
            continue;
        }
        let mut info = QdiscInfo {
            kind: String::new(),
            handle: m.header.handle.into(),
            parent: m.header.parent.into(),
            netem: None,
        };
        let mut raw_options = None;
        for a in &m.attributes {
            match a {
                TcAttribute::Kind(k) => info.kind = k.clone(),
                TcAttribute::Options(options) => {
                    for o in options {
                        if let TcOption::Other(nla) = o {
                            raw_options = Some(nla_value(nla));
                        }
                    }
                }
                _ => {}
            }
        }
        if info.kind == "netem" {
            info.netem = raw_options.as_deref().and_then(NetemParams::decode);
        }
        out.push(info);
    }
    Ok(out)
}

/// The filters of interface `ifindex` under `parent` (e.g. [`INGRESS_HANDLE`]).
pub fn filters(
    sock: &mut Socket,
    ifindex: u32,
    parent: u32,
) -> Result<Vec<FilterInfo>, KernelError> {
    let request = RouteNetlinkMessage::GetTrafficFilter(TcMessage::from_parts(
        header(ifindex, 0, parent, 0),
        Vec::new(),
    ));
    let mut out = Vec::new();
    for message in dump_tc(sock, request)? {
        let RouteNetlinkMessage::NewTrafficFilter(m) = message else {
            continue;
        };
        let mut info = FilterInfo {
            kind: String::new(),
            handle: m.header.handle.into(),
            parent: m.header.parent.into(),
            priority: (m.header.info >> 16) as u16,
            protocol: u16::from_be(m.header.info as u16),
            u32_keys: None,
            mirred: Vec::new(),
        };
        for a in &m.attributes {
            match a {
                TcAttribute::Kind(k) => info.kind = k.clone(),
                TcAttribute::Options(options) => {
                    for o in options {
                        match o {
                            TcOption::U32(TcFilterU32Option::Selector(s)) => {
                                info.u32_keys =
                                    Some(s.keys.iter().map(|k| (k.mask, k.val, k.off)).collect());
                            }
                            TcOption::U32(TcFilterU32Option::Action(actions)) => {
                                info.mirred.extend(actions.iter().flat_map(mirred_of));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        out.push(info);
    }
    Ok(out)
}

/// The target of the redirect filter on `ifindex`'s ingress, if there is one (and its
/// ingress qdisc: without it the kernel finds no filters).
pub fn redirect_of(sock: &mut Socket, ifindex: u32) -> Result<Option<u32>, KernelError> {
    let has_ingress = qdiscs(sock, ifindex)?
        .iter()
        .any(|q| q.kind == "ingress" && q.parent == INGRESS_PARENT);
    if !has_ingress {
        return Ok(None);
    }
    Ok(filters(sock, ifindex, INGRESS_HANDLE)?
        .iter()
        .find_map(FilterInfo::redirect_target))
}

fn mirred_of(action: &TcAction) -> Vec<Mirred> {
    let mut out = Vec::new();
    for a in &action.attributes {
        if let TcActionAttribute::Options(options) = a {
            for o in options {
                if let TcActionOption::Mirror(TcActionMirrorOption::Parms(p)) = o {
                    out.push(Mirred {
                        action: p.eaction,
                        ifindex: p.ifindex,
                    });
                }
            }
        }
    }
    out
}

fn nla_value(nla: &DefaultNla) -> Vec<u8> {
    let mut value = vec![0; nla.value_len()];
    nla.emit_value(&mut value);
    value
}

/// Runs a tc dump, failing (rather than dropping the message) when an answer does not
/// parse.
fn dump_tc(
    sock: &mut Socket,
    request: RouteNetlinkMessage,
) -> Result<Vec<RouteNetlinkMessage>, KernelError> {
    let mut out = Vec::new();
    let mut bad = None;
    sock.dump_raw_with(
        encode(request, NLM_F_DUMP, 0),
        |bytes| match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
            Ok(NetlinkMessage {
                payload: NetlinkPayload::InnerMessage(m),
                ..
            }) => out.push(m),
            Ok(_) => {}
            Err(e) => bad = Some(e.to_string()),
        },
    )?;
    match bad {
        Some(e) => Err(KernelError {
            errno: libc::EPROTO,
            ext_ack: Some(format!("cannot parse the kernel's tc dump: {e}")),
        }),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests;
