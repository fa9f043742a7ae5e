//! rtnetlink requests for addresses: `ip addr add/del`.

use ipnet::IpNet;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

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

/// RTM_GETADDR dump request (all families).
pub fn dump() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetAddress(AddressMessage::default())
}

/// The interface and address of a dumped RTM_NEWADDR message.
pub fn read(m: &AddressMessage) -> Option<(u32, IpNet)> {
    let addr = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(a) => Some(*a),
        _ => None,
    });
    let addr = addr.or_else(|| {
        m.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(a) => Some(*a),
            _ => None,
        })
    })?;
    IpNet::new(addr, m.header.prefix_len)
        .ok()
        .map(|net| (m.header.index, net))
}
