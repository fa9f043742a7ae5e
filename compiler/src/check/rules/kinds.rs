//! Rules about which properties a kind of link takes (docs/configuration.md,
//! "Links"). Each reads the kind's row of [`LinkKind::properties`], never a list of
//! kinds of its own, so a new kind is checked as soon as its row exists.

use super::super::checker::Checker;
use crate::diag::{did_you_mean, Diagnostic};
use crate::model::{Link, LinkKind, LinkProperties, OuterDev, Presence};
use crate::source::{Span, Spanned};

/// The link's kind, where its `type` is written (the link itself when it is not) and
/// whether it is written: a defaulted `type` has no place of its own to point at.
fn kind_of(l: &Spanned<Link>) -> (LinkKind, Span, bool) {
    let kind = l.kind();
    let at = l.kind.as_ref().map_or(l.span, |k| k.span);
    (kind, at, l.kind.is_some())
}

/// The kinds that take a property, in a message: "veth links".
fn takers(takes: impl Fn(&LinkProperties) -> bool) -> String {
    LinkKind::names_where(takes)
}

/// A kind that needs a `bridge` (a veth: its outer end joins one) has none.
pub fn missing_bridge(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, _, _) = kind_of(l);
    if kind.properties().bridge != Presence::Required || l.bridge.is_some() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::missing_bridge",
            format!("{} link needs a `bridge`", kind.with_article()),
        )
        .at(l.span, format!("{} link without `bridge`", kind.as_str()))
        .help("add `bridge: NAME` (the bridge the outer end joins)"),
    );
    false
}

/// A `bridge` on a kind that has no outer end to put on it: it would be ignored.
pub fn bridge_not_veth(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, kind_at, kind_given) = kind_of(l);
    let Some(b) = l.bridge.as_ref() else {
        return true;
    };
    if kind.properties().bridge != Presence::Forbidden {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::bridge_not_veth",
            format!(
                "`bridge` applies only to {} links, not {}",
                takers(|p| p.bridge != Presence::Forbidden),
                kind.as_str()
            ),
        )
        .at(b.span, "not allowed here")
        .also_if(
            kind_given,
            kind_at,
            format!("this link is {}", kind.with_article()),
        ),
    );
    false
}

/// An `outer-dev` on a kind that has neither an outer end nor a parent (a dummy).
pub fn outer_dev_dummy(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, _, _) = kind_of(l);
    let Some(o) = l.outer_dev.as_ref() else {
        return true;
    };
    if kind.properties().outer_dev != OuterDev::None {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::outer_dev_dummy",
            format!("{} link has no outer end", kind.with_article()),
        )
        .at(o.span, "remove `outer-dev`"),
    );
    false
}

/// A kind created on a parent interface (a *vlan/*vtap) without `outer-dev` naming
/// that parent: there is nothing to create it on.
pub fn missing_parent(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, kind_at, _) = kind_of(l);
    if kind.properties().outer_dev != OuterDev::Parent || l.outer_dev.is_some() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::missing_parent",
            format!(
                "{} link needs `outer-dev`, its parent interface in the host namespace",
                kind.with_article()
            ),
        )
        .at(kind_at, format!("{} without a parent", kind.as_str()))
        .help("add `outer-dev: eth0` (or whichever host interface carries it)"),
    );
    false
}

/// A `mac` on a kind that shares its parent's MAC (ipvlan, ipvtap): the kernel would
/// refuse it.
pub fn mac_ipvlan(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, _, _) = kind_of(l);
    let Some(m) = l.mac.as_ref() else {
        return true;
    };
    if kind.properties().mac {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::mac_ipvlan",
            format!(
                "{} interface shares its parent's MAC; `mac` cannot be set",
                kind.with_article()
            ),
        )
        .at(m.span, "not allowed here"),
    );
    false
}

/// A `mode` on a kind that has no modes: it would be ignored.
pub fn mode_kind(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, kind_at, kind_given) = kind_of(l);
    let Some(m) = l.mode.as_ref() else {
        return true;
    };
    if !kind.properties().modes.is_empty() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::mode_kind",
            format!("`mode` does not apply to {} links", kind.as_str()),
        )
        .at(m.span, "not allowed here")
        .also_if(
            kind_given,
            kind_at,
            format!("this link is {}", kind.with_article()),
        ),
    );
    false
}

/// A `mode` that is not one of the kind's modes (macvlan modes on an ipvlan, a typo).
pub fn mode(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, _, _) = kind_of(l);
    let allowed = kind.properties().modes;
    let Some(m) = l.mode.as_ref() else {
        return true;
    };
    if allowed.is_empty() || allowed.contains(&m.value.as_str()) {
        return true;
    }
    let mut d = Diagnostic::error(
        "conlink::check::mode",
        format!(
            "`{}` is not {} mode (one of: {})",
            m.value,
            kind.with_article(),
            allowed.join(", ")
        ),
    )
    .at(m.span, "unknown mode");
    if let Some(s) = did_you_mean(&m.value, allowed) {
        d = d.help(format!("did you mean `{s}`?"));
    }
    cx.report(d);
    false
}

/// A kind that needs a `vlanid` (a vlan) has none.
pub fn missing_vlanid(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, kind_at, _) = kind_of(l);
    if kind.properties().vlanid != Presence::Required || l.vlanid.is_some() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::missing_vlanid",
            format!("{} link needs a `vlanid`", kind.with_article()),
        )
        .at(kind_at, format!("{} without an id", kind.as_str()))
        .help("add `vlanid: N` with N from 1 to 4094"),
    );
    false
}

/// A `vlanid` on a kind that is not a VLAN: it would be ignored.
pub fn vlanid_not_vlan(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, _, _) = kind_of(l);
    let Some(v) = l.vlanid.as_ref() else {
        return true;
    };
    if kind.properties().vlanid != Presence::Forbidden {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::vlanid_not_vlan",
            format!(
                "`vlanid` applies only to {} links, not {}",
                takers(|p| p.vlanid != Presence::Forbidden),
                kind.as_str()
            ),
        )
        .at(v.span, "not allowed here"),
    );
    false
}

/// A `forward` on a kind without an end on a bridge: a forward is routed through
/// conlink's namespace and the bridge, which only a veth link reaches.
pub fn forward_not_veth(cx: &mut Checker, l: &Spanned<Link>) -> bool {
    let (kind, _, _) = kind_of(l);
    let Some(first) = l.forward.as_ref().and_then(|f| f.0.first()) else {
        return true;
    };
    if kind.properties().forward {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::forward_not_veth",
            format!(
                "`forward` needs a {} link on a bridge",
                takers(|p| p.forward)
            ),
        )
        .at(
            first.span,
            format!("not possible on {} link", kind.with_article()),
        ),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;

    /// The codes `rule` reports on the first link of `links: [LINK]`.
    fn on(link: &str, rule: fn(&mut Checker, &Spanned<Link>) -> bool) -> Vec<&'static str> {
        let c = case(&format!("links: [{link}]"));
        c.codes(|cx| rule(cx, c.link()))
    }

    #[test]
    fn missing_bridge_reports_a_veth_without_one() {
        assert_eq!(
            on("{service: a}", missing_bridge),
            ["conlink::check::missing_bridge"]
        );
        assert!(on("{service: a, bridge: s1}", missing_bridge).is_empty());
        assert!(on("{service: a, type: dummy}", missing_bridge).is_empty());
    }

    #[test]
    fn bridge_not_veth_reports_a_bridge_on_other_kinds() {
        let link = "{service: a, type: macvlan, outer-dev: eth0, bridge: s1}";
        assert_eq!(
            on(link, bridge_not_veth),
            ["conlink::check::bridge_not_veth"]
        );
        assert!(on("{service: a, bridge: s1}", bridge_not_veth).is_empty());
    }

    #[test]
    fn outer_dev_dummy_reports_an_outer_dev_on_a_dummy() {
        let link = "{service: a, type: dummy, outer-dev: x}";
        assert_eq!(
            on(link, outer_dev_dummy),
            ["conlink::check::outer_dev_dummy"]
        );
        assert!(on("{service: a, bridge: s1, outer-dev: x}", outer_dev_dummy).is_empty());
    }

    #[test]
    fn missing_parent_reports_a_macvlan_without_outer_dev() {
        let link = "{service: a, type: macvlan}";
        assert_eq!(on(link, missing_parent), ["conlink::check::missing_parent"]);
        assert!(on("{service: a, type: vlan, outer-dev: eth0}", missing_parent).is_empty());
        assert!(on("{service: a, bridge: s1}", missing_parent).is_empty());
    }

    #[test]
    fn mac_ipvlan_reports_a_mac_on_kinds_sharing_their_parents() {
        let link = "{service: a, type: ipvtap, outer-dev: eth0, mac: '02:00:00:00:00:01'}";
        assert_eq!(on(link, mac_ipvlan), ["conlink::check::mac_ipvlan"]);
        let link = "{service: a, type: macvlan, outer-dev: eth0, mac: '02:00:00:00:00:01'}";
        assert!(on(link, mac_ipvlan).is_empty());
    }

    #[test]
    fn mode_kind_reports_a_mode_on_kinds_without_modes() {
        let link = "{service: a, bridge: s1, mode: bridge}";
        assert_eq!(on(link, mode_kind), ["conlink::check::mode_kind"]);
        assert!(on(
            "{service: a, type: ipvlan, outer-dev: e, mode: l2}",
            mode_kind
        )
        .is_empty());
    }

    #[test]
    fn mode_reports_modes_of_another_kind() {
        let link = "{service: a, type: ipvlan, outer-dev: e, mode: bridge}";
        assert_eq!(on(link, mode), ["conlink::check::mode"]);
        assert!(on(
            "{service: a, type: macvtap, outer-dev: e, mode: vepa}",
            mode
        )
        .is_empty());
        // A kind without modes is mode_kind's business.
        assert!(on("{service: a, bridge: s1, mode: bridge}", mode).is_empty());
    }

    #[test]
    fn missing_vlanid_reports_a_vlan_without_an_id() {
        let link = "{service: a, type: vlan, outer-dev: eth0}";
        assert_eq!(on(link, missing_vlanid), ["conlink::check::missing_vlanid"]);
        assert!(on(
            "{service: a, type: vlan, outer-dev: e, vlanid: 5}",
            missing_vlanid
        )
        .is_empty());
    }

    #[test]
    fn vlanid_not_vlan_reports_an_id_on_other_kinds() {
        let link = "{service: a, bridge: s1, vlanid: 5}";
        assert_eq!(
            on(link, vlanid_not_vlan),
            ["conlink::check::vlanid_not_vlan"]
        );
        assert!(on(
            "{service: a, type: vlan, outer-dev: e, vlanid: 5}",
            vlanid_not_vlan
        )
        .is_empty());
    }

    #[test]
    fn forward_not_veth_reports_forwards_on_other_kinds() {
        let link = "{service: a, type: macvlan, outer-dev: e, forward: '80:80/tcp'}";
        assert_eq!(
            on(link, forward_not_veth),
            ["conlink::check::forward_not_veth"]
        );
        let link = "{service: a, bridge: s1, ip: 10.0.0.1/24, forward: '80:80/tcp'}";
        assert!(on(link, forward_not_veth).is_empty());
    }

    #[test]
    fn every_kind_has_a_row_named_as_the_configuration_spells_it() {
        for kind in LinkKind::ALL {
            let json = serde_json::to_value(kind).expect("a kind serialises");
            assert_eq!(json, kind.as_str());
        }
        // ALL lists every kind the language has.
        let schema = serde_json::to_value(schemars::schema_for!(LinkKind)).unwrap();
        let variants = schema["oneOf"].as_array().map_or(0, Vec::len);
        assert_eq!(variants, LinkKind::ALL.len(), "{schema}");
    }
}
