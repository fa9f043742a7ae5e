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
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

/// `ip addr add ADDR dev DEV` (`Op::AddrAdd`).
pub struct Add<'a> {
    pub dev: &'a str,
    pub addr: IpNet,
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
        queue_for_dev(cx, at, self.dev, flags, |i| add(i, self.addr))
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
    match addr.addr() {
        IpAddr::V4(a) => {
            m.header.family = AddressFamily::Inet;
            // As `ip addr add` does for IPv4: local and (peer) address are the same.
            m.attributes.push(AddressAttribute::Local(IpAddr::V4(a)));
            m.attributes.push(AddressAttribute::Address(IpAddr::V4(a)));
        }
        IpAddr::V6(a) => {
            m.header.family = AddressFamily::Inet6;
            m.attributes.push(AddressAttribute::Address(IpAddr::V6(a)));
        }
    }
    m
}

/// `ip addr add ADDR dev DEV` (with NLM_F_CREATE | NLM_F_EXCL).
pub fn add(index: u32, addr: IpNet) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewAddress(message(index, addr))
}

/// `ip addr del ADDR dev DEV`.
pub fn del(index: u32, addr: IpNet) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(message(index, addr))
}
