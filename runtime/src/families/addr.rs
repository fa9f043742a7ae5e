//! Addresses: `ip addr add/del`. The requests, whether an address is in place (in
//! the snapshot of its namespace), and the removal of stale addresses on conlink's
//! interfaces (`crate::differences::stale`). An address goes with its interface.

use crate::action::{queue_for_dev, Action, At, Check, Removal, Subject};
use crate::context::Context;
use crate::engine::{Iface, Origin, Part};
use crate::error::StepError;
use crate::planned::Planned;
use crate::state::Extra;
use compiler::plan::Ns;
use ipnet::IpNet;
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};

/// `ip addr add ADDR dev DEV [nodad]` (`Op::AddrAdd`).
pub struct Add<'a> {
    pub dev: &'a str,
    pub addr: IpNet,
    /// Without duplicate address detection (IFA_F_NODAD).
    pub nodad: bool,
}

/// `ip addr del ADDR dev DEV` (`Op::AddrDel`).
pub struct Del<'a> {
    pub dev: &'a str,
    pub addr: IpNet,
}

impl Action for Add<'_> {
    fn batched(&self) -> bool {
        true
    }

    /// The address on its interface is in place, whatever its flags: one added
    /// without `nodad` became usable too once its detection ended, and replacing it
    /// would cut the connections that use it.
    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let there = cx.snapshot(at.ns).is_some_and(|s| {
            s.index_of(self.dev)
                .is_some_and(|i| s.addrs.contains(&(i, self.addr)))
        });
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        queue_for_dev(cx, at, self.dev, flags, |i| add(i, self.addr, self.nodad))
    }

    fn plan(&self, ns: &Ns, _: &str, planned: &mut Planned) {
        planned.add_addr(ns, self.dev, self.addr);
    }
}

impl Action for Del<'_> {
    fn batched(&self) -> bool {
        true
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        queue_for_dev(cx, at, self.dev, 0, |i| del(i, self.addr))
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Interface(self.dev))
    }
}

/// Removes a stale address from interface `dev` of `ns`.
pub fn remove_stale(cx: &mut Context, ns: &Ns, dev: &str, addr: IpNet) -> Result<(), StepError> {
    let i = cx.ifindex(Iface::Named { ns, name: dev })?;
    cx.queue(Origin::Cleanup, ns, del(i, addr), 0, Part::Main)
}

fn message(index: u32, addr: IpNet) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.index = index;
    m.header.prefix_len = addr.prefix_len();
    m.header.family = match addr {
        IpNet::V4(_) => AddressFamily::Inet,
        IpNet::V6(_) => AddressFamily::Inet6,
    };
    // As `ip addr add` writes it: the local address, and the same as the (peer)
    // address, which says there is no peer.
    m.attributes.push(AddressAttribute::Local(addr.addr()));
    m.attributes.push(AddressAttribute::Address(addr.addr()));
    m
}

/// `ip addr add ADDR dev DEV [nodad]` (with NLM_F_CREATE | NLM_F_EXCL). `nodad` goes
/// in the header's flags, where `ip` puts the flags that fit in 8 bits.
pub fn add(index: u32, addr: IpNet, nodad: bool) -> RouteNetlinkMessage {
    let mut m = message(index, addr);
    if nodad {
        m.header.flags = AddressHeaderFlags::Nodad;
    }
    RouteNetlinkMessage::NewAddress(m)
}

/// `ip addr del ADDR dev DEV`.
pub fn del(index: u32, addr: IpNet) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(message(index, addr))
}
