//! Rules about bridges (docs/configuration.md, "Bridges" and "Tunnels"): names shared
//! with tunnel interfaces, and what a `patch` bridge can join.

use super::super::checked::{CheckedBridge, CheckedLink, CheckedTunnel};
use super::super::checker::Checker;
use crate::diag::Diagnostic;
use crate::model::BridgeMode;
use indexmap::IndexMap;

/// A bridge named like a tunnel's interface (`<type>-<vni>`): both live in conlink's
/// namespace, and one name cannot be two interfaces.
pub fn bridge_tunnel_name(
    cx: &mut Checker,
    bridges: &IndexMap<String, CheckedBridge>,
    t: &CheckedTunnel,
) -> bool {
    let Some(b) = bridges.get(&t.name()) else {
        return true;
    };
    cx.report(
        Diagnostic::error(
            "conlink::check::bridge_tunnel_name",
            format!(
                "bridge `{}` has the name of a tunnel interface",
                b.name.value
            ),
        )
        .at(b.name.span, "same name as the tunnel's interface")
        .also(t.span, "this tunnel's interface is named this way"),
    );
    false
}

/// A `patch` bridge with other than two links: a patch joins exactly two interfaces,
/// each end redirecting into the other.
pub fn patch_links(cx: &mut Checker, b: &CheckedBridge, on_it: &[&CheckedLink]) -> bool {
    if b.mode != BridgeMode::Patch || on_it.len() == 2 {
        return true;
    }
    let mut d = Diagnostic::error(
        "conlink::check::patch_links",
        format!(
            "patch bridge `{}` has {} link(s); a patch joins exactly two",
            b.name.value,
            on_it.len()
        ),
    )
    .at(b.name.span, "patch bridge")
    .help("use `mode: linux` (or ovs) for a bridge with more or fewer members");
    for l in on_it.iter().skip(2) {
        d = d.also(l.span, "one link too many");
    }
    cx.report(d);
    false
}

/// A tunnel on a `patch` bridge: a patch has no device for a tunnel to join.
pub fn patch_tunnel(cx: &mut Checker, b: &CheckedBridge, t: &CheckedTunnel) -> bool {
    if b.mode != BridgeMode::Patch || t.bridge.value != b.name.value {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::patch_tunnel",
            format!("tunnel cannot join patch bridge `{}`", b.name.value),
        )
        .at(t.bridge.span, "patch bridges join two veth links only")
        .help("use a linux or ovs bridge for tunnels"),
    );
    false
}

/// A `forward` on a link of a `patch` bridge: a forward is routed through a bridge
/// device, which a patch does not have.
pub fn forward_patch(cx: &mut Checker, b: &CheckedBridge, l: &CheckedLink) -> bool {
    if b.mode != BridgeMode::Patch {
        return true;
    }
    let Some(f) = l.forwards.first() else {
        return true;
    };
    cx.report(
        Diagnostic::error(
            "conlink::check::forward_patch",
            "`forward` needs a linux or ovs bridge",
        )
        .at(
            f.span,
            format!(
                "`{}` is a patch bridge, which has no address to forward from",
                b.name.value
            ),
        ),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;
    use crate::check::{check, CheckOptions, Checked};

    /// The configuration checked as a whole, for the values these rules look at.
    fn checked(yaml: &str) -> (super::super::testing::Case, Checked) {
        let c = case(yaml);
        let opts = CheckOptions {
            default_bridge_mode: BridgeMode::Linux,
            compose_replicas: Vec::new(),
            scale: Vec::new(),
        };
        let (checked, _) = check(&c.config, &opts, &c.sources);
        (c, checked)
    }

    const PATCH: &str = "bridges: [{bridge: p, mode: patch}]\n";

    #[test]
    fn bridge_tunnel_name_reports_a_bridge_named_like_a_tunnel() {
        let (c, k) = checked(
            "bridges: [{bridge: vxlan-5}]\ntunnels: [{type: vxlan, bridge: s, vni: 5, remote: 192.0.2.1}]",
        );
        let bridges: IndexMap<String, CheckedBridge> = k
            .bridges
            .iter()
            .map(|b| (b.name.value.clone(), b.clone()))
            .collect();
        assert_eq!(
            c.codes(|cx| bridge_tunnel_name(cx, &bridges, &k.tunnels[0])),
            ["conlink::check::bridge_tunnel_name"]
        );
        assert!(c
            .codes(|cx| bridge_tunnel_name(cx, &IndexMap::new(), &k.tunnels[0]))
            .is_empty());
    }

    #[test]
    fn patch_links_reports_patches_without_two_links() {
        let (c, k) = checked(&format!("{PATCH}links: [{{service: a, bridge: p}}]"));
        let links: Vec<&CheckedLink> = k.links.iter().collect();
        assert_eq!(
            c.codes(|cx| patch_links(cx, &k.bridges[0], &links)),
            ["conlink::check::patch_links"]
        );
        let (c, k) = checked(&format!(
            "{PATCH}links: [{{service: a, bridge: p}}, {{service: b, bridge: p}}]"
        ));
        let links: Vec<&CheckedLink> = k.links.iter().collect();
        assert!(c
            .codes(|cx| patch_links(cx, &k.bridges[0], &links))
            .is_empty());
    }

    #[test]
    fn patch_tunnel_reports_tunnels_on_a_patch() {
        let (c, k) = checked(&format!(
            "{PATCH}tunnels: [{{type: vxlan, bridge: p, vni: 5, remote: 192.0.2.1}}]"
        ));
        assert_eq!(
            c.codes(|cx| patch_tunnel(cx, &k.bridges[0], &k.tunnels[0])),
            ["conlink::check::patch_tunnel"]
        );
        let (c, k) = checked("tunnels: [{type: vxlan, bridge: s, vni: 5, remote: 192.0.2.1}]");
        assert!(c
            .codes(|cx| patch_tunnel(cx, &k.bridges[0], &k.tunnels[0]))
            .is_empty());
    }

    #[test]
    fn forward_patch_reports_forwards_through_a_patch() {
        let link = "{service: a, bridge: p, ip: 10.0.0.1/24, forward: '80:80/tcp'}";
        let (c, k) = checked(&format!("{PATCH}links: [{link}]"));
        assert_eq!(
            c.codes(|cx| forward_patch(cx, &k.bridges[0], &k.links[0])),
            ["conlink::check::forward_patch"]
        );
        let (c, k) = checked(&format!("links: [{link}]"));
        assert!(c
            .codes(|cx| forward_patch(cx, &k.bridges[0], &k.links[0]))
            .is_empty());
    }
}
