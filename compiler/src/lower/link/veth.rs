//! veth links: a pair with one end (`dev`) in the target and the outer end in conlink's
//! namespace on the link's bridge.

use super::super::context::{Lowering, Owner};
use super::super::names::{fit_interface_name, long_outer_name};
use super::super::unit::UnitBuilder;
use super::instance::Instance;
use crate::diag::Diagnostic;
use crate::model::BridgeMode;
use crate::plan::{LinkSpec, Ns, Op, VethPeer};

/// Creates the pair in one request, both ends in their final namespaces, and joins the
/// outer end to its bridge (a Linux bridge in the same request, an OVS bridge as a port,
/// a patch by the patch bridge's unit).
pub(super) fn create(cx: &mut Lowering, u: &mut UnitBuilder, it: &Instance) -> bool {
    let l = it.link;
    let (outer, altname) = match &l.outer_dev {
        Some(o) if it.replica.is_some_and(|_| cx.replicas(l.target.name()) > 1) => {
            if cx.reported.insert(o.span) {
                cx.diags.push(
                    Diagnostic::error(
                        "conlink::lower::scaled_outer_dev",
                        format!("`outer-dev` `{}` would name the outer end of every replica of {}", o.value, l.target),
                    )
                    .at(o.span, "one name for several interfaces")
                    .help("remove `outer-dev`: conlink then names each replica's outer end `<service>_<i>-<dev>`"),
                );
            }
            return false;
        }
        Some(o) => (o.value.clone(), None),
        None => fit_interface_name(&long_outer_name(&l.target, it.replica, it.dev)),
    };
    let at = l.outer_dev.as_ref().map_or(l.span, |o| o.span);
    cx.claim_conlink_name(
        &outer,
        at,
        Owner::OuterEnd(it.ns.clone(), it.dev.to_string()),
    );
    let bridge = l
        .bridge
        .as_ref()
        .map(|b| b.value.clone())
        .unwrap_or_default();
    let mode = cx.mode(&bridge);
    // The outer end is created enslaved to its Linux bridge and up, in the same
    // request as the pair (iproute2 accepts `master` and `up` in `ip link add`):
    // two requests fewer per link.
    let master = matches!(mode, BridgeMode::Linux | BridgeMode::Auto).then(|| bridge.clone());
    u.step(
        &Ns::Conlink,
        Op::LinkAdd {
            name: outer.clone(),
            netns: None,
            mtu: it.mtu,
            mac: None,
            altname,
            master,
            up: true,
            spec: Box::new(LinkSpec::Veth {
                peer: VethPeer {
                    name: it.dev.to_string(),
                    netns: it.ns.clone(),
                    mtu: it.mtu,
                    mac: it.mac,
                    // One queue each way, which is what the kernel cuts a veth down to
                    // anyway; asked for at creation, it spares an RCU synchronisation
                    // (~0.3 ms) per pair.
                    queues: Some(1),
                },
            }),
        },
    );
    match mode {
        BridgeMode::Ovs => u.step(
            &Ns::Conlink,
            Op::OvsPortAdd {
                bridge: bridge.clone(),
                port: outer.clone(),
                tunnel: None,
            },
        ),
        BridgeMode::Patch => {
            cx.patch_ends.entry(bridge.clone()).or_default().push((
                outer.clone(),
                it.ns.to_string(),
                at,
            ));
        }
        BridgeMode::Linux | BridgeMode::Auto => {}
    }
    if !cx.opts.keep_veth_offload {
        // conlink 2.x turns TX checksum offload off on veths: checksums left to the
        // hardware never get filled in when frames cross namespaces.
        u.step(
            it.ns,
            Op::Ethtool {
                dev: it.dev.to_string(),
                settings: cx.veth_offload.clone(),
            },
        );
    }
    true
}
