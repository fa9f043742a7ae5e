//! The nft tables of one link (docs/configuration.md, "forward and nat"): `nat`'s 1:1
//! translation in the target, and `forward`'s port forwards in conlink's namespace.

use super::super::context::Lowering;
use super::super::unit::UnitBuilder;
use crate::check::CheckedLink;
use crate::diag::Diagnostic;
use crate::plan::{NftChain, NftChainType, NftFamily, NftHook, NftRule, Ns, Op, PortMatch, Route};
use std::net::IpAddr;

/// Stateless-looking 1:1 NAT on `dev`: traffic arriving on `dev` goes to `nat`,
/// traffic leaving `dev` comes from the link's own address.
pub(super) fn nat_table(project: &str, dev: &str, nat: IpAddr, own: IpAddr) -> Op {
    let dnat = NftRule::Dnat {
        iifname: Some(dev.into()),
        iif_external: false,
        port: None,
        to: nat,
        to_port: None,
    };
    let snat = NftRule::Snat {
        oifname: dev.into(),
        daddr: None,
        port: None,
        to: Some(own),
    };
    nat_table_op(
        format!("conlink.{project}.nat_{dev}"),
        vec![dnat],
        vec![snat],
    )
}

/// A conlink-owned `ip` table with a destination-NAT chain at prerouting and a
/// source-NAT chain at postrouting, at the priorities nft's own `nat` chains use.
fn nat_table_op(table: String, dnat: Vec<NftRule>, snat: Vec<NftRule>) -> Op {
    let chain = |hook: NftHook, priority, rules| NftChain {
        name: hook.as_str().into(),
        hook,
        kind: NftChainType::Nat,
        priority,
        rules,
    };
    Op::NftTableAdd {
        family: NftFamily::Ip,
        table,
        chains: vec![
            chain(NftHook::Prerouting, -100, dnat),
            chain(NftHook::Postrouting, 100, snat),
        ],
    }
}

/// Port forwards: DNAT from conlink's external interface to the target,
/// source rewritten to conlink's external address on the way out of the bridge, a host
/// route to the target over the bridge, and in the target a host route back.
pub(super) fn forwards(
    cx: &mut Lowering,
    u: &mut UnitBuilder,
    l: &CheckedLink,
    ns: &Ns,
    target_ip: IpAddr,
    offset: u32,
) {
    let dev = l.dev.value.as_str();
    let bridge = l
        .bridge
        .as_ref()
        .map(|b| b.value.clone())
        .unwrap_or_default();
    let mut dnat = Vec::new();
    let mut snat = Vec::new();
    for f in &l.forwards {
        let Some(shifted) = u16::try_from(offset).ok().and_then(|o| f.value.offset(o)) else {
            cx.diags.push(
                Diagnostic::error(
                    "conlink::lower::scaled_port",
                    format!(
                        "replica {} of {} would forward from a port past 65535",
                        offset + 1,
                        l.target
                    ),
                )
                .at(f.span, format!("+{offset} for replica {}", offset + 1))
                .help("replica i forwards from the external port + (i-1); start from a lower external port"),
            );
            continue;
        };
        let proto = shifted.protocol;
        let key = (proto, shifted.external_port);
        if let Some(first) = cx.forward_ports.get(&key) {
            cx.diags.push(
                Diagnostic::error(
                    "conlink::lower::forward_port_taken",
                    format!("external {proto} port {} is forwarded twice ({ns} {dev} and an earlier link)", shifted.external_port),
                )
                .at(f.span, format!("{ns} forwards {proto} port {}", shifted.external_port))
                .also(*first, "already forwarded here")
                .help("each external port can go to one target; pick another external port"),
            );
            continue;
        }
        cx.forward_ports.insert(key, f.span);
        dnat.push(NftRule::Dnat {
            iifname: None,
            iif_external: true,
            port: Some(PortMatch {
                proto,
                dport: shifted.external_port,
            }),
            to: target_ip,
            to_port: Some(shifted.target_port),
        });
        snat.push(NftRule::Snat {
            oifname: bridge.clone(),
            daddr: Some(target_ip),
            port: Some(PortMatch {
                proto,
                dport: shifted.target_port,
            }),
            to: None,
        });
    }
    let host = Route::host(target_ip);
    u.step(
        &Ns::Conlink,
        Op::RouteAdd {
            dev: bridge,
            route: host,
        },
    );
    // The project is in the name (project names have no `.`): that is how `destroy`
    // finds conlink's tables in a namespace that stays (conlink's own when it is the
    // current one, a container's) when the state file is gone.
    let table = format!(
        "conlink.{}.fwd_{}_{dev}",
        cx.opts.project,
        ns.to_string().replace([':', '#'], "_")
    );
    u.step(&Ns::Conlink, nat_table_op(table, dnat, snat));
    u.step(ns, Op::ExternalRouteAdd { dev: dev.into() });
}
