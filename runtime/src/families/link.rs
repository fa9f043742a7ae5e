//! Interfaces: `ip link add/del/set`. For each of its operations this family builds
//! the requests ([`request`]), tells whether the interface is already as planned (in
//! the snapshot of its namespace), repairs an interface whose MTU, MAC, bridge or
//! state drifted, and undoes (deletes the interface, brings it down, frees it from its
//! bridge). It also deletes conlink's interfaces in bulk for `destroy`.
//!
//! A kernel without an interface kind answers `EOPNOTSUPP` "Unknown device type" to
//! its creation; that names the kind's feature ([`request::feature`]).

pub mod request;

use crate::action::{queue_for_dev, Action, At, Check, Different, Removal, Subject};
use crate::context::Context;
use crate::engine::{mark_request, Creates, Iface, Origin, Part};
use crate::error::{KernelError, NotOurs, StepError};
use crate::netlink::{self, Socket};
use crate::observe::{self, Snapshot};
use crate::planned::Planned;
use crate::state::Extra;
use compiler::plan::{LinkSpec, Mac, Ns};
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::fs::File;

/// `ip link add NAME … type KIND …` (`Op::LinkAdd`).
pub struct Add<'a> {
    pub name: &'a str,
    /// Where the interface is created, when not the step's namespace.
    pub netns: Option<&'a Ns>,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    pub altname: Option<&'a str>,
    pub master: Option<&'a str>,
    pub up: bool,
    pub spec: &'a LinkSpec,
}

/// `ip link del NAME` (`Op::LinkDel`).
pub struct Del<'a> {
    pub name: &'a str,
    pub netns: Option<&'a Ns>,
}

/// `ip link set DEV up|down` (`Op::LinkUp`, `Op::LinkDown`).
pub struct SetUp<'a> {
    pub dev: &'a str,
    pub up: bool,
}

/// `ip link set DEV master BRIDGE|nomaster` (`Op::LinkSetMaster`,
/// `Op::LinkSetNomaster`).
pub struct SetMaster<'a> {
    pub dev: &'a str,
    pub master: Option<&'a str>,
}

/// `ip link property add|del dev DEV altname NAME` (`Op::AltnameAdd`,
/// `Op::AltnameDel`): the ready marker of a container's unit (docs/plan.md, "Units").
pub struct Altname<'a> {
    pub dev: &'a str,
    pub altname: &'a str,
    pub add: bool,
}

impl<'a> Add<'a> {
    /// Where the interface lives.
    fn target(&self, ns: &'a Ns) -> &'a Ns {
        self.netns.unwrap_or(ns)
    }
}

impl Action for Add<'_> {
    fn namespaces<'a>(&'a self, ns: &'a Ns) -> Vec<&'a Ns> {
        let mut out = vec![ns];
        out.extend(self.netns);
        out.extend(request::peer(self.spec).map(|p| &p.netns));
        out
    }

    fn batched(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let (name, mark, group) = (self.name, cx.mark(), cx.group());
        let Some(target) = cx.snapshot(self.target(at.ns)) else {
            return Ok(Check::Missing);
        };
        let Some(l) = target.link(name) else {
            return Ok(Check::Missing);
        };
        if !l.is_conlinks(mark, group) {
            return Ok(Check::Foreign(NotOurs::Interface {
                name: name.to_string(),
                alias: l.alias.clone(),
            }));
        }
        let mut diffs = Vec::new();
        // Created by a run that was stopped before marking it.
        if l.alias.is_none() {
            diffs.push(Different::new(format!("mark of {name}"), mark, "none"));
        }
        if self.mtu.is_some() && l.mtu != self.mtu {
            diffs.push(Different::new(
                format!("mtu of {name}"),
                number_text(self.mtu),
                number_text(l.mtu),
            ));
        }
        if self.mac.is_some() && l.mac != self.mac {
            diffs.push(Different::new(
                format!("mac of {name}"),
                mac_text(self.mac),
                mac_text(l.mac),
            ));
        }
        if self.up && !l.up {
            diffs.push(Different::new(format!("state of {name}"), "up", "down"));
        }
        if let Some(m) = self.master {
            let current = l.master.and_then(|i| target.name_of(i));
            if current != Some(m) {
                diffs.push(Different::new(
                    format!("master of {name}"),
                    m,
                    current.unwrap_or("none"),
                ));
            }
        }
        if let Some(peer) = request::peer(self.spec) {
            let (p_name, p_ns) = (&peer.name, &peer.netns);
            match cx.snapshot(p_ns).and_then(|p| p.link(p_name)) {
                None => diffs.push(Different::new(
                    format!("veth peer {p_name} in {p_ns}"),
                    "present",
                    "missing",
                )),
                Some(p) if !p.is_conlinks(mark, group) => {
                    return Ok(Check::Foreign(NotOurs::Interface {
                        name: p_name.to_string(),
                        alias: p.alias.clone(),
                    }))
                }
                Some(p) => {
                    if p.alias.is_none() {
                        diffs.push(Different::new(
                            format!("mark of {p_name} in {p_ns}"),
                            mark,
                            "none",
                        ));
                    }
                    if peer.mtu.is_some() && p.mtu != peer.mtu {
                        diffs.push(Different::new(
                            format!("mtu of {p_name} in {p_ns}"),
                            number_text(peer.mtu),
                            number_text(p.mtu),
                        ));
                    }
                    if peer.mac.is_some() && p.mac != peer.mac {
                        diffs.push(Different::new(
                            format!("mac of {p_name} in {p_ns}"),
                            mac_text(peer.mac),
                            mac_text(p.mac),
                        ));
                    }
                }
            }
        }
        Ok(if diffs.is_empty() {
            Check::InPlace
        } else {
            Check::Differs(diffs)
        })
    }

    /// One request creates the interface with its final name, namespace, MTU, MAC,
    /// bridge and state (and a veth's peer with its own); its ownership mark and its
    /// altname follow once the kernel has created it.
    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let ns = at.ns;
        let target = self.target(ns);
        let target_fd = cx.fd_if_other(ns, target)?;
        let parent = match self.spec.parent() {
            Some(p) => Some(cx.ifindex(Iface::Named { ns, name: p })?),
            None => None,
        };
        let peer = match request::peer(self.spec) {
            Some(peer) => {
                let fd = cx.fd_if_other(ns, &peer.netns)?;
                let index = cx.ifindex(Iface::Created {
                    ns: &peer.netns,
                    name: &peer.name,
                })?;
                Some((peer, fd, index))
            }
            None => None,
        };
        // The bridge is looked up where the interface is created.
        let master = match self.master {
            Some(m) => Some(cx.ifindex(Iface::Named {
                ns: target,
                name: m,
            })?),
            None => None,
        };
        let index = cx.ifindex(Iface::Created {
            ns: target,
            name: self.name,
        })?;
        let msg = request::add_message(&request::NewLink {
            name: self.name,
            index,
            netns_fd: target_fd,
            mtu: self.mtu,
            mac: self.mac,
            group: cx.group(),
            spec: self.spec,
            parent,
            master,
            up: self.up,
            peer: peer.as_ref().map(|(p, fd, index)| request::NewPeer {
                name: &p.name,
                index: *index,
                netns_fd: *fd,
                mtu: p.mtu,
                mac: p.mac,
                queues: p.queues,
            }),
        })?;
        let msg = RouteNetlinkMessage::NewLink(msg);
        // Each end is conlink's once the kernel created it; then it gets the mark, and
        // the altname (`crate::engine`, identity from the kernel).
        let mut made = vec![(target.clone(), self.name.to_string(), index)];
        if let Some((p, _, pindex)) = &peer {
            made.push((p.netns.clone(), p.name.clone(), *pindex));
        }
        let creates = Creates {
            made,
            kernel_chooses: request::kernel_chooses,
        };
        cx.queue_create(at.origin, ns, msg, NLM_F_CREATE | NLM_F_EXCL, creates)?;
        if let Some(alt) = self.altname {
            let alt = alt.to_string();
            let build = Box::new(move |i| request::add_altname(i, &alt));
            cx.after_created(at.origin, target, self.name, build)?;
        }
        Ok(Extra::None)
    }

    /// Puts an existing interface's bridge, state, MTU and MAC (and its veth peer's)
    /// back to the plan's, and marks an end a stopped run did not mark.
    fn repair(&self, cx: &mut Context, at: &At) -> Option<Result<(), StepError>> {
        Some(self.put_back(cx, at))
    }

    fn missing_feature(&self, err: &KernelError) -> Option<&'static str> {
        // Without an extended ack (older kernels) the errno alone says it.
        let ack = err.ext_ack.as_deref().map(|a| a.trim_end_matches('.'));
        let unknown =
            err.errno == libc::EOPNOTSUPP && ack.is_none_or(|a| a == "Unknown device type");
        unknown.then(|| request::feature(self.spec))
    }

    fn home<'a>(&'a self, ns: &'a Ns) -> &'a Ns {
        self.target(ns)
    }

    /// A veth's peer lives where it was sent: a container's namespace, which stays when
    /// conlink's goes.
    fn homes<'a>(&'a self, ns: &'a Ns) -> Vec<&'a Ns> {
        let mut out = vec![self.target(ns)];
        out.extend(request::peer(self.spec).map(|p| &p.netns));
        out
    }

    fn plan(&self, ns: &Ns, _: &str, planned: &mut Planned) {
        planned.add_link(self.target(ns), self.name);
        if let Some(peer) = request::peer(self.spec) {
            planned.add_link(&peer.netns, &peer.name);
        }
    }
}

impl Add<'_> {
    fn put_back(&self, cx: &mut Context, at: &At) -> Result<(), StepError> {
        let target = self.target(at.ns);
        let name = self.name;
        // Bridge and state of the interface itself (a veth's peer has neither).
        let i = cx.ifindex(Iface::Named { ns: target, name })?;
        if let Some(m) = self.master {
            let b = cx.ifindex(Iface::Named {
                ns: target,
                name: m,
            })?;
            cx.queue(at.origin, target, request::set_master(i, b), 0, Part::More)?;
        }
        if self.up {
            cx.queue(at.origin, target, request::set_up(i, true), 0, Part::More)?;
        }
        let mut ends = vec![(target, name, self.mtu, self.mac)];
        if let Some(peer) = request::peer(self.spec) {
            ends.push((&peer.netns, &peer.name, peer.mtu, peer.mac));
        }
        for (ns, dev, mtu, mac) in ends {
            let i = cx.ifindex(Iface::Named { ns, name: dev })?;
            let unmarked = cx
                .snapshot(ns)
                .and_then(|s| s.link(dev))
                .is_some_and(|l| l.alias.is_none());
            if unmarked {
                let mark = mark_request(i, cx.mark());
                cx.queue(at.origin, ns, mark, 0, Part::More)?;
            }
            if let Some(m) = mtu {
                cx.queue(at.origin, ns, request::set_mtu(i, m), 0, Part::More)?;
            }
            if let Some(m) = mac {
                cx.queue(at.origin, ns, request::set_mac(i, m), 0, Part::More)?;
            }
        }
        Ok(())
    }
}

impl Action for Del<'_> {
    fn namespaces<'a>(&'a self, ns: &'a Ns) -> Vec<&'a Ns> {
        let mut out = vec![ns];
        out.extend(self.netns);
        out
    }

    fn batched(&self) -> bool {
        true
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let target = self.netns.unwrap_or(at.ns);
        // No index: already gone.
        if let Some(i) = cx.deleting(target, self.name)? {
            cx.queue(at.origin, target, request::del(i), 0, Part::Main)?;
        }
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        match self.netns {
            Some(_) => Removal::CreatedFromElsewhere,
            None => Removal::WithItsInterface,
        }
    }

    fn home<'a>(&'a self, ns: &'a Ns) -> &'a Ns {
        self.netns.unwrap_or(ns)
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Interface(self.name))
    }
}

impl Action for SetUp<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let dev = self.dev;
        let Some(l) = cx.snapshot(at.ns).and_then(|s| s.link(dev)) else {
            return Ok(Check::Missing);
        };
        // `down` is only ever an undo; undos are carried out, not checked.
        Ok(match (self.up, l.up) {
            (true, true) => Check::InPlace,
            (true, false) => Check::Differs(vec![Different::new(
                format!("state of {dev}"),
                "up",
                "down",
            )]),
            (false, _) => Check::Missing,
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        queue_for_dev(cx, at, self.dev, 0, |i| request::set_up(i, self.up))
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }

    /// `down` is the undo of `up`.
    fn subject(&self) -> Option<Subject<'_>> {
        (!self.up).then_some(Subject::Interface(self.dev))
    }
}

impl Action for SetMaster<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let (dev, Some(master)) = (self.dev, self.master) else {
            return Ok(Check::Missing);
        };
        let Some(s) = cx.snapshot(at.ns) else {
            return Ok(Check::Missing);
        };
        Ok(match (s.link(dev), s.index_of(master)) {
            (Some(l), Some(m)) if l.master == Some(m) => Check::InPlace,
            (Some(l), _) => Check::Differs(vec![Different::new(
                format!("master of {dev}"),
                master,
                l.master.and_then(|i| s.name_of(i)).unwrap_or("none"),
            )]),
            (None, _) => Check::Missing,
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let ns = at.ns;
        let i = cx.ifindex(Iface::Named { ns, name: self.dev })?;
        // Index 0 is `nomaster`.
        let m = match self.master {
            Some(m) => cx.ifindex(Iface::Named { ns, name: m })?,
            None => 0,
        };
        cx.queue(at.origin, ns, request::set_master(i, m), 0, Part::Main)?;
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }

    /// `nomaster` is the undo of `master`.
    fn subject(&self) -> Option<Subject<'_>> {
        self.master
            .is_none()
            .then_some(Subject::Interface(self.dev))
    }
}

impl Action for Altname<'_> {
    fn batched(&self) -> bool {
        true
    }

    /// In place when `dev` has the name. Another interface of the namespace holding it
    /// (the first link of the configuration changed) is a difference, repaired by
    /// moving the name: a namespace cannot have one name twice.
    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        // Deleting is only ever an undo; undos are carried out, not checked.
        let (true, Some(s)) = (self.add, cx.snapshot(at.ns)) else {
            return Ok(Check::Missing);
        };
        Ok(match self.holder(s) {
            None => Check::Missing,
            Some(h) if h == self.dev => Check::InPlace,
            Some(h) => Check::Differs(vec![Different::new(
                format!("altname {}", self.altname),
                format!("on {}", self.dev),
                format!("on {h}"),
            )]),
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        if self.add {
            let flags = request::ADD_PROPERTY;
            queue_for_dev(cx, at, self.dev, flags, |i| {
                request::add_altname(i, self.altname)
            })
        } else {
            queue_for_dev(cx, at, self.dev, 0, |i| {
                request::del_altname(i, self.altname)
            })
        }
    }

    fn repair(&self, cx: &mut Context, at: &At) -> Option<Result<(), StepError>> {
        let holder = cx.snapshot(at.ns).and_then(|s| self.holder(s))?.to_string();
        Some(self.move_from(cx, at, &holder))
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }
}

impl Altname<'_> {
    /// The interface that has the name, if one has.
    fn holder<'s>(&self, s: &'s Snapshot) -> Option<&'s str> {
        s.links
            .iter()
            .find(|l| l.altnames.iter().any(|a| a == self.altname))
            .map(|l| l.name.as_str())
    }

    /// Takes the name from `holder` and gives it to `dev`, in one batch.
    fn move_from(&self, cx: &mut Context, at: &At, holder: &str) -> Result<(), StepError> {
        let ns = at.ns;
        let from = cx.ifindex(Iface::Named { ns, name: holder })?;
        let to = cx.ifindex(Iface::Named { ns, name: self.dev })?;
        let del = request::del_altname(from, self.altname);
        cx.queue(at.origin, ns, del, 0, Part::More)?;
        let add = request::add_altname(to, self.altname);
        cx.queue(at.origin, ns, add, request::ADD_PROPERTY, Part::More)
    }
}

/// Deletes an interface `status` calls extra (marked, not in the plan).
pub fn remove_extra(cx: &mut Context, ns: &Ns, name: &str) -> Result<(), StepError> {
    let i = cx.ifindex(Iface::Named { ns, name })?;
    cx.queue(Origin::Cleanup, ns, request::del(i), 0, Part::Main)
}

/// Deletes conlink's interfaces in the socket's namespace: those with alias `mark`,
/// and those of the project's `group` with no alias (half-made,
/// `crate::observe::LinkRead::is_conlinks`). By group in one request when every member
/// of the group is conlink's (docs/decisions.md, "Destroy"), else one at a time.
/// Returns their names. The loopback of a namespace conlink made carries the mark too,
/// and stays: it cannot be deleted.
pub fn delete_marked(sock: &mut Socket, mark: &str, group: u32) -> Result<Vec<String>, StepError> {
    const LOOPBACK: u32 = 1;
    let links = observe::links(sock)?;
    let ours: Vec<_> = links
        .iter()
        .filter(|l| l.index != LOOPBACK && l.is_conlinks(mark, group))
        .collect();
    if ours.is_empty() {
        return Ok(Vec::new());
    }
    let mut groups: Vec<u32> = ours
        .iter()
        .filter_map(|l| l.group)
        .filter(|g| *g != 0)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut bulk = Vec::new();
    for g in groups {
        let all_ours = links
            .iter()
            .filter(|l| l.group == Some(g))
            .all(|l| l.is_conlinks(mark, group));
        if all_ours {
            bulk.push(g);
        }
    }
    for g in &bulk {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::Group(*g));
        sock.queue(RouteNetlinkMessage::DelLink(m), 0);
    }
    for l in &ours {
        if l.group.is_some_and(|g| bulk.contains(&g)) {
            continue;
        }
        sock.queue(request::del(l.index), 0);
    }
    send_deletions(sock)?;
    Ok(ours.iter().map(|l| l.name.clone()).collect())
}

/// [`delete_marked`] in the namespace `file`, from a socket opened there.
pub fn delete_marked_in(file: &File, mark: &str, group: u32) -> Result<Vec<String>, StepError> {
    with_route_socket_in(file, |sock| delete_marked(sock, mark, group))
}

/// Runs `f` with a route socket opened inside the namespace `file` (a socket talks
/// to the namespace it was opened in), for the namespaces `destroy` reaches by file.
fn with_route_socket_in<R>(
    file: &File,
    f: impl FnOnce(&mut Socket) -> Result<R, StepError>,
) -> Result<R, StepError> {
    let done = crate::netns::enter(file, || -> Result<R, StepError> {
        let mut sock = Socket::route().map_err(|e| StepError::io("open a netlink socket", e))?;
        f(&mut sock)
    });
    done.map_err(|e| StepError::io("enter the namespace", e))?
}

/// Deletes, in the namespace `file`, every interface of a kind created from another
/// namespace (`destroy` without a state file; see [`Removal::CreatedFromElsewhere`]).
/// Returns how many.
pub fn delete_made_from_elsewhere(file: &File) -> Result<usize, StepError> {
    with_route_socket_in(file, |sock| {
        let doomed: Vec<u32> = observe::links(sock)?
            .into_iter()
            .filter(|l| {
                l.kind
                    .as_deref()
                    .is_some_and(|k| request::MADE_FROM_ELSEWHERE.contains(&k))
            })
            .map(|l| l.index)
            .collect();
        for i in &doomed {
            sock.queue(request::del(*i), 0);
        }
        send_deletions(sock)?;
        Ok(doomed.len())
    })
}

/// Sends queued deletions; something already gone is deleted.
fn send_deletions(sock: &mut Socket) -> Result<(), StepError> {
    let acks = sock
        .flush()
        .map_err(|e| StepError::Netlink(netlink::Error::Io(e)))?;
    match acks
        .into_iter()
        .find_map(|(_, r)| r.err().filter(|e| !e.is_gone()))
    {
        Some(e) => Err(StepError::Kernel(e)),
        None => Ok(()),
    }
}

fn number_text(n: Option<u32>) -> String {
    n.map_or("-".into(), |m| m.to_string())
}

fn mac_text(m: Option<Mac>) -> String {
    m.map_or_else(|| "-".into(), |m| m.to_string())
}
