//! Traffic control: the qdiscs a plan uses (`netem` at the root, `ingress`) and the
//! redirect filter of a patch (`u32` matching every frame, with a `mirred egress
//! redirect` action). The requests, dumps to read them back (whether a step is in
//! place is asked of the kernel when the step comes), and the undo.
//!
//! Builders are pure: they take ifindexes and return the message; queue it with the
//! flags given by [`ADD`] (create, and fail if it exists) or [`DEL`]. Each builds the
//! same bytes `tc` (iproute2 6.1) sends for the command the plan prints — apart from
//! the header's sequence number and port id, which the socket sets — and
//! `tests/request_bytes.rs` checks that against requests captured from `tc` itself.
//! netem's options are built in [`netem`].
//!
//! A kernel without a qdisc kind answers `ENOENT` "Specified qdisc kind is unknown";
//! without the classifier or the action of a filter, `ENOENT` "TC classifier not
//! found" or "Failed to load TC action module" (Linux 6.18, checked by
//! `tests/kernel_features.rs`). Kernels too old to send extended acks give the errno
//! alone, and then a redirect filter cannot tell a missing classifier from a missing
//! action.
//!
pub mod netem;

pub use netem::{netem_options, DistTable, NetemParams, DEFAULT_LIMIT, NETEM_DIST_MAX};

use crate::action::{queue_for_dev, Action, At, Check, Removal, Subject};
use crate::context::Context;
use crate::engine::{Iface, Part};
use crate::error::{KernelError, NetemError, StepError};
use crate::netlink::{self, encode, Socket};
use crate::state::Extra;
use compiler::plan::{Netem, Qdisc, QdiscParent};
use rtnetlink::packet_core::{
    DefaultNla, NetlinkMessage, NetlinkPayload, Nla, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
};
use rtnetlink::packet_route::tc::{
    TcAction, TcActionAttribute, TcActionGeneric, TcActionMirrorOption, TcActionOption,
    TcActionType, TcAttribute, TcFilterU32Option, TcHandle, TcHeader, TcMessage, TcMirror,
    TcMirrorActionType, TcOption, TcU32Key, TcU32Selector, TcU32SelectorFlags,
};
use rtnetlink::packet_route::RouteNetlinkMessage;

/// `tc qdisc add dev DEV root netem …|ingress` (`Op::QdiscAdd`).
pub struct QdiscAdd<'a> {
    pub dev: &'a str,
    pub qdisc: &'a Qdisc,
}

/// `tc qdisc del dev DEV root|ingress` (`Op::QdiscDel`).
pub struct QdiscDel<'a> {
    pub dev: &'a str,
    pub parent: QdiscParent,
}

/// `tc filter add dev DEV parent ffff: … action mirred egress redirect dev TO`
/// (`Op::RedirectAdd`).
pub struct RedirectAdd<'a> {
    pub dev: &'a str,
    pub to: &'a str,
}

/// `tc filter del dev DEV parent ffff:` (`Op::RedirectDel`).
pub struct RedirectDel<'a> {
    pub dev: &'a str,
}

impl QdiscAdd<'_> {
    /// The kind as the kernel names it.
    fn kind(&self) -> &'static str {
        match self.qdisc {
            Qdisc::Ingress => "ingress",
            Qdisc::Netem { .. } => "netem",
        }
    }
}

impl Action for QdiscAdd<'_> {
    fn batched(&self) -> bool {
        true
    }

    /// tc objects hang off an interface: they are looked up by its ifindex.
    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let Some(i) = cx.find(at.ns, self.dev)? else {
            return Ok(Check::Missing);
        };
        let there = qdiscs(cx.live(at.ns)?.route()?, i)?
            .iter()
            .any(|q| q.kind == self.kind());
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let i = cx.ifindex(Iface::Named {
            ns: at.ns,
            name: self.dev,
        })?;
        let msg = match self.qdisc {
            Qdisc::Ingress => ingress_qdisc_add(i),
            Qdisc::Netem { netem } => netem_qdisc_add(i, netem)?,
        };
        cx.queue(at.origin, at.ns, msg, ADD, Part::Main)?;
        Ok(Extra::None)
    }

    fn missing_feature(&self, err: &KernelError) -> Option<&'static str> {
        let unknown = err.errno == libc::ENOENT
            && acked(err).is_none_or(|a| a == "Specified qdisc kind is unknown");
        unknown.then_some(match self.qdisc {
            Qdisc::Netem { .. } => "netem qdisc (sch_netem)",
            Qdisc::Ingress => "ingress qdisc (sch_ingress)",
        })
    }
}

impl Action for QdiscDel<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        queue_for_dev(cx, at, self.dev, DEL, |i| qdisc_del(i, self.parent))
    }

    fn gone(&self, err: &KernelError) -> bool {
        is_gone(err)
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Interface(self.dev))
    }
}

impl Action for RedirectAdd<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let (Some(i), Some(t)) = (cx.find(at.ns, self.dev)?, cx.find(at.ns, self.to)?) else {
            return Ok(Check::Missing);
        };
        let there = redirect_of(cx.live(at.ns)?.route()?, i)? == Some(t);
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let ns = at.ns;
        let i = cx.ifindex(Iface::Named { ns, name: self.dev })?;
        let t = cx.ifindex(Iface::Named { ns, name: self.to })?;
        cx.queue(at.origin, ns, redirect_filter_add(i, t), ADD, Part::Main)?;
        Ok(Extra::None)
    }

    fn missing_feature(&self, err: &KernelError) -> Option<&'static str> {
        if err.errno != libc::ENOENT {
            return None;
        }
        match acked(err) {
            Some("TC classifier not found") => Some("u32 classifier (cls_u32)"),
            Some("Failed to load TC action module") => Some("mirred action (act_mirred)"),
            None => Some("u32 classifier (cls_u32) or mirred action (act_mirred)"),
            Some(_) => None,
        }
    }
}

impl Action for RedirectDel<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        queue_for_dev(cx, at, self.dev, DEL, redirect_filter_del)
    }

    fn gone(&self, err: &KernelError) -> bool {
        is_gone(err)
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Interface(self.dev))
    }
}

/// The kernel's extended ack, without a final full stop.
fn acked(err: &KernelError) -> Option<&str> {
    err.ext_ack.as_deref().map(|a| a.trim_end_matches('.'))
}

/// `TCA_OPTIONS`: a qdisc's or filter's options.
const TCA_OPTIONS: u16 = 2;

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
pub fn qdiscs(sock: &mut Socket, ifindex: u32) -> Result<Vec<QdiscInfo>, netlink::Error> {
    let request = RouteNetlinkMessage::GetQueueDiscipline(TcMessage::with_index(ifindex as i32));
    let mut out = Vec::new();
    for message in dump_tc(sock, request)? {
        out.extend(read_qdisc(&message, ifindex));
    }
    Ok(out)
}

/// What conlink reads of one answer to a qdisc dump: `None` unless it is a qdisc of
/// interface `ifindex`.
pub(crate) fn read_qdisc(message: &RouteNetlinkMessage, ifindex: u32) -> Option<QdiscInfo> {
    let RouteNetlinkMessage::NewQueueDiscipline(m) = message else {
        return None;
    };
    if m.header.index != ifindex as i32 {
        return None;
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
    Some(info)
}

/// The filters of interface `ifindex` under `parent` (e.g. [`INGRESS_HANDLE`]).
pub fn filters(
    sock: &mut Socket,
    ifindex: u32,
    parent: u32,
) -> Result<Vec<FilterInfo>, netlink::Error> {
    let request = RouteNetlinkMessage::GetTrafficFilter(TcMessage::from_parts(
        header(ifindex, 0, parent, 0),
        Vec::new(),
    ));
    let mut out = Vec::new();
    for message in dump_tc(sock, request)? {
        out.extend(read_filter(&message));
    }
    Ok(out)
}

/// What conlink reads of one answer to a filter dump: `None` unless it is a filter.
pub(crate) fn read_filter(message: &RouteNetlinkMessage) -> Option<FilterInfo> {
    let RouteNetlinkMessage::NewTrafficFilter(m) = message else {
        return None;
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
    Some(info)
}

/// The target of the redirect filter on `ifindex`'s ingress, if there is one (and its
/// ingress qdisc: without it the kernel finds no filters).
pub fn redirect_of(sock: &mut Socket, ifindex: u32) -> Result<Option<u32>, netlink::Error> {
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
) -> Result<Vec<RouteNetlinkMessage>, netlink::Error> {
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
        Some(e) => Err(netlink::Error::Parse(format!("tc dump: {e}"))),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests;
