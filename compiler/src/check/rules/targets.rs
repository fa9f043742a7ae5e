//! Rules about targets: every link and command lives in exactly one place, a node that
//! exists or a container or service with a name the engine accepts
//! (docs/configuration.md, "Targets").

use super::super::checker::{Checker, NodeIndex};
use crate::diag::{did_you_mean, Diagnostic};
use crate::model::Target;
use crate::source::{Span, Spanned};

/// The targets a link or command names, each with where it is written.
pub type Found<'a> = [(Target, &'a Spanned<String>)];

/// A link or command (`what`, written at `whole`) names no target: it would have
/// nowhere to live.
pub fn no_target(cx: &mut Checker, what: &str, whole: Span, found: &Found) -> bool {
    if !found.is_empty() {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::no_target",
            format!("this {what} names no target"),
        )
        .at(whole, format!("{what} without a target"))
        .help("add one of `service: NAME`, `container: NAME` or `node: NAME`"),
    );
    false
}

/// A link or command names more than one target: an interface or a command lives in
/// one namespace, and conlink will not guess which.
pub fn two_targets(cx: &mut Checker, what: &str, found: &Found) -> bool {
    let [(t1, a1), (t2, a2), ..] = found else {
        return true;
    };
    cx.report(
        Diagnostic::error(
            "conlink::check::two_targets",
            format!(
                "this {what} names more than one target ({} and {})",
                t1.kind(),
                t2.kind()
            ),
        )
        .at(a2.span, "second target")
        .also(a1.span, "first target")
        .help("a link or command lives in exactly one place; split it in two"),
    );
    false
}

/// A container or service name that Docker would never give a container: the link or
/// command could never be applied.
pub fn target_name(cx: &mut Checker, found: &Found) -> bool {
    let Some((t, at)) = found
        .iter()
        .find(|(t, _)| !matches!(t, Target::Node(_)) && !valid_engine_name(t.name()))
    else {
        return true;
    };
    let message = if t.name().is_empty() {
        format!("the {} name is empty", t.kind())
    } else {
        format!("`{}` is not a valid {} name", t.name(), t.kind())
    };
    cx.report(
        Diagnostic::error("conlink::check::target_name", message)
            .at(at.span, "invalid name")
            .help("container and service names start with a letter or digit, then letters, digits, `_`, `.` or `-`"),
    );
    false
}

/// Docker's rule for container (and compose service) names.
fn valid_engine_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// A node target that `nodes` does not declare: conlink creates node namespaces, so
/// an undeclared one is most likely a typo.
pub fn unknown_node(cx: &mut Checker, found: &Found, nodes: &NodeIndex) -> bool {
    let Some((name, at)) = found.iter().find_map(|(t, at)| match t {
        Target::Node(name) if !nodes.contains_key(name) => Some((name, at)),
        Target::Node(_) | Target::Service(_) | Target::Container(_) => None,
    }) else {
        return true;
    };
    let known: Vec<&str> = nodes.keys().map(String::as_str).collect();
    let d = Diagnostic::error(
        "conlink::check::unknown_node",
        format!("unknown node `{name}`"),
    )
    .at(at.span, "no node of this name under `nodes`");
    // A typo is likelier than a missing declaration when a node of a close name
    // exists, but either may be meant: say both.
    let declare = format!("declare it: `nodes: [{{name: {name}}}]`");
    cx.report(match did_you_mean(name, &known) {
        Some(s) => d.help(format!("did you mean `{s}`? Otherwise {declare}")),
        None => d.help(declare),
    });
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;
    use crate::model::targets_of;

    fn found(
        yaml: &str,
        rule: impl Fn(&mut Checker, Span, &Found, &NodeIndex) -> bool,
    ) -> Vec<&'static str> {
        let c = case(yaml);
        let l = c.link();
        let found = targets_of(&l.service, &l.container, &l.node);
        let mut nodes = NodeIndex::new();
        for n in &c.config.nodes {
            nodes.insert(
                n.name.value.clone(),
                crate::check::CheckedNode {
                    name: n.name.clone(),
                    sysctls: Vec::new(),
                },
            );
        }
        c.codes(|cx| rule(cx, l.span, &found, &nodes))
    }

    #[test]
    fn no_target_reports_a_link_without_one() {
        let rule = |cx: &mut Checker, at, f: &Found, _: &NodeIndex| no_target(cx, "link", at, f);
        assert_eq!(
            found("links: [{bridge: s1}]", rule),
            ["conlink::check::no_target"]
        );
        assert!(found("links: [{service: a, bridge: s1}]", rule).is_empty());
    }

    #[test]
    fn two_targets_reports_a_second_target() {
        let rule = |cx: &mut Checker, _, f: &Found, _: &NodeIndex| two_targets(cx, "link", f);
        assert_eq!(
            found("links: [{service: a, container: b}]", rule),
            ["conlink::check::two_targets"]
        );
        assert!(found("links: [{service: a}]", rule).is_empty());
    }

    #[test]
    fn target_name_reports_names_docker_refuses() {
        let rule = |cx: &mut Checker, _, f: &Found, _: &NodeIndex| target_name(cx, f);
        assert_eq!(
            found("links: [{container: -x}]", rule),
            ["conlink::check::target_name"]
        );
        assert_eq!(
            found("links: [{service: ''}]", rule),
            ["conlink::check::target_name"]
        );
        assert!(found("links: [{container: web_1.x-y}]", rule).is_empty());
        // Node names follow their own rule.
        assert!(found("links: [{node: -x}]", rule).is_empty());
    }

    #[test]
    fn unknown_node_reports_undeclared_nodes() {
        let rule = |cx: &mut Checker, _, f: &Found, n: &NodeIndex| unknown_node(cx, f, n);
        assert_eq!(
            found("nodes: [{name: r1}]\nlinks: [{node: r2}]", rule),
            ["conlink::check::unknown_node"]
        );
        assert!(found("nodes: [{name: r1}]\nlinks: [{node: r1}]", rule).is_empty());
        assert!(found("links: [{service: r2}]", rule).is_empty());
    }
}
