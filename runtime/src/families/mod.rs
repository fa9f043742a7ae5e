//! The families of kernel objects a plan changes, one module each, and the one place
//! that routes each plan operation to its family ([`action`]).
//!
//! A family owns, for its operations: the requests (rtnetlink messages, an nf_tables
//! batch, an ioctl…), the "already in place?" test against what was read back, the
//! repair, the undo, and what the runtime must know about each (its
//! [`Action`]). Adding an operation to the plan makes [`action`]
//! fail to compile until a family takes it (docs/contributing.md, "Adding a step kind
//! (a new Op)").
//!
//! | family | operations |
//! |---|---|
//! | [`namespace`] | `NetnsAdd`, `NetnsDel` |
//! | [`sysctl`] | `Sysctl`, `SysctlRestore` |
//! | [`link`] | `LinkAdd`, `LinkDel`, `LinkUp`, `LinkDown`, `LinkSetMaster`, `LinkSetNomaster`, `AltnameAdd`, `AltnameDel` |
//! | [`addr`] | `AddrAdd`, `AddrDel` |
//! | [`route`] | `RouteAdd`, `RouteDel`, `ExternalRouteAdd`, `ExternalRouteDel` |
//! | [`tc`] | `QdiscAdd`, `QdiscDel`, `RedirectAdd`, `RedirectDel` |
//! | [`ethtool`] | `Ethtool`, `EthtoolRestore` |
//! | [`ovs`] | `OvsBridgeAdd`, `OvsBridgeDel`, `OvsPortAdd`, `OvsPortDel` |
//! | [`nft`] | `NftTableAdd`, `NftTableDel` |
//! | [`command`] | `Exec`, `ExecStop` |

pub mod addr;
pub mod command;
pub mod ethtool;
pub mod link;
pub mod namespace;
pub mod nft;
pub mod ovs;
pub mod route;
pub mod sysctl;
pub mod tc;

use crate::action::Action;
use crate::context::Context;
use crate::differences::ExtraItem;
use crate::error::StepError;
use crate::planned::Planned;
use compiler::plan::{Op, Plan};

/// The family's code for `op`: the one `match` over the plan's operations.
pub fn action(op: &Op) -> Box<dyn Action + '_> {
    match op {
        Op::NetnsAdd => Box::new(namespace::Add),
        Op::NetnsDel => Box::new(namespace::Del),
        Op::Sysctl { key, value } => Box::new(sysctl::Set { key, value }),
        Op::SysctlRestore { key } => Box::new(sysctl::Restore::new(key)),
        Op::LinkAdd {
            name,
            netns,
            mtu,
            mac,
            altname,
            master,
            up,
            spec,
        } => Box::new(link::Add {
            name,
            netns: netns.as_ref(),
            mtu: *mtu,
            mac: *mac,
            altname: altname.as_deref(),
            master: master.as_deref(),
            up: *up,
            spec,
        }),
        Op::LinkDel { name, netns } => Box::new(link::Del {
            name,
            netns: netns.as_ref(),
        }),
        Op::LinkUp { dev } => Box::new(link::SetUp { dev, up: true }),
        Op::LinkDown { dev } => Box::new(link::SetUp { dev, up: false }),
        Op::LinkSetMaster { dev, master } => Box::new(link::SetMaster {
            dev,
            master: Some(master),
        }),
        Op::LinkSetNomaster { dev } => Box::new(link::SetMaster { dev, master: None }),
        Op::AltnameAdd { dev, altname } => Box::new(link::Altname {
            dev,
            altname,
            add: true,
        }),
        Op::AltnameDel { dev, altname } => Box::new(link::Altname {
            dev,
            altname,
            add: false,
        }),
        Op::AddrAdd { dev, addr, nodad } => Box::new(addr::Add {
            dev,
            addr: *addr,
            nodad: *nodad,
        }),
        Op::AddrDel { dev, addr } => Box::new(addr::Del { dev, addr: *addr }),
        Op::RouteAdd { dev, route } => Box::new(route::Set {
            dev,
            route,
            add: true,
        }),
        Op::RouteDel { dev, route } => Box::new(route::Set {
            dev,
            route,
            add: false,
        }),
        Op::ExternalRouteAdd { dev } => Box::new(route::External { dev, add: true }),
        Op::ExternalRouteDel { dev } => Box::new(route::External { dev, add: false }),
        Op::QdiscAdd { dev, qdisc } => Box::new(tc::QdiscAdd { dev, qdisc }),
        Op::QdiscDel { dev, parent } => Box::new(tc::QdiscDel {
            dev,
            parent: *parent,
        }),
        Op::RedirectAdd { dev, to } => Box::new(tc::RedirectAdd { dev, to }),
        Op::RedirectDel { dev } => Box::new(tc::RedirectDel { dev }),
        Op::Ethtool { dev, settings } => Box::new(ethtool::Set { dev, settings }),
        Op::EthtoolRestore { dev, .. } => Box::new(ethtool::Restore { dev }),
        Op::OvsBridgeAdd { bridge } => Box::new(ovs::Ovs::BridgeAdd { bridge }),
        Op::OvsBridgeDel { bridge } => Box::new(ovs::Ovs::BridgeDel { bridge }),
        Op::OvsPortAdd {
            bridge,
            port,
            tunnel,
        } => Box::new(ovs::Ovs::PortAdd {
            bridge,
            port,
            tunnel: tunnel.as_ref(),
        }),
        Op::OvsPortDel { bridge, port } => Box::new(ovs::Ovs::PortDel { bridge, port }),
        Op::NftTableAdd {
            family,
            table,
            chains,
        } => Box::new(nft::AddTable {
            family: *family,
            table,
            chains,
        }),
        Op::NftTableDel { family, table } => Box::new(nft::DelTable {
            family: *family,
            table,
        }),
        Op::Exec { command } => Box::new(command::Exec { command }),
        Op::ExecStop { .. } => Box::new(command::Stop),
    }
}

/// What `plan` creates, from what each family says its operations create.
pub fn planned(plan: &Plan) -> Planned {
    let mut planned = Planned::default();
    for step in plan.units.iter().flat_map(|u| u.steps.iter()) {
        action(&step.op).plan(&step.ns, &plan.project, &mut planned);
    }
    planned
}

/// Removes an object `status` calls extra, through its family.
pub fn remove_extra(cx: &mut Context, item: &ExtraItem) -> Result<(), StepError> {
    match item {
        ExtraItem::Link { ns, name } => link::remove_extra(cx, ns, name),
        // Not conlink's: never removed.
        ExtraItem::NotOurs { .. } => Ok(()),
        ExtraItem::Addr { ns, dev, addr } => addr::remove_stale(cx, ns, dev, *addr),
        ExtraItem::Route { ns, dev, route } => route::remove_stale(cx, ns, dev, route),
        ExtraItem::Node { pinned } => namespace::remove_extra(cx, pinned),
    }
}
