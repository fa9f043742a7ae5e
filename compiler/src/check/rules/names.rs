//! Rules about names the kernel keeps: interface names and node (namespace) names.
//!
//! Linux interface names are 1-15 bytes (IFNAMSIZ less the NUL), not `.` or `..`, and
//! contain no `/`, `:` or whitespace (the kernel's dev_valid_name, plus `:` which
//! iproute2 reserves for aliases).

use super::super::checker::Checker;
use crate::diag::Diagnostic;
use crate::source::Spanned;

/// The longest interface name the kernel accepts.
pub const IFNAMSIZ_MAX: usize = 15;

/// Why `name` is not a valid interface name, if it is not.
pub fn interface_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an interface name cannot be empty".into());
    }
    if name.len() > IFNAMSIZ_MAX {
        return Some(format!(
            "`{name}` is {} bytes long; interface names have at most 15",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Some(format!("`{name}` is not a valid interface name"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == ':' || c.is_whitespace())
    {
        return Some(format!("interface names cannot contain {c:?}"));
    }
    None
}

/// An interface name the kernel would refuse (`dev`, `outer-dev`, a bridge): better
/// said now, at the value, than as an errno halfway through applying. `what` names the
/// property.
pub fn interface_name(cx: &mut Checker, what: &str, name: &Spanned<String>) -> bool {
    match interface_name_problem(&name.value) {
        None => true,
        Some(problem) => {
            cx.report(
                Diagnostic::error(
                    "conlink::check::interface_name",
                    format!("invalid {what}: {problem}"),
                )
                .at(name.span, "invalid interface name")
                .help("use 1-15 bytes without `/`, `:` or spaces"),
            );
            false
        }
    }
}

/// A node name that cannot name a namespace: node names become part of namespace
/// names under /run/netns, so they follow the rules of file names there, kept to a
/// portable set of characters.
pub fn node_name(cx: &mut Checker, name: &Spanned<String>) -> bool {
    let n = &name.value;
    let ok = !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && n != "."
        && n != "..";
    if !ok {
        cx.report(
            Diagnostic::error(
                "conlink::check::node_name",
                format!("invalid node name `{n}`"),
            )
            .at(name.span, "invalid node name")
            .help("node names use 1-64 letters, digits, `-`, `_` or `.`"),
        );
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::interface_name_problem as p;
    use super::*;

    #[test]
    fn interface_name_reports_names_the_kernel_refuses() {
        let c = case("links: [{service: a, bridge: s1, dev: a/b}]");
        let dev = c.link().dev.clone().unwrap();
        assert_eq!(
            c.codes(|cx| interface_name(cx, "`dev`", &dev)),
            ["conlink::check::interface_name"]
        );
        let c = case("links: [{service: a, bridge: s1, dev: eth1}]");
        let dev = c.link().dev.clone().unwrap();
        assert!(c.codes(|cx| interface_name(cx, "`dev`", &dev)).is_empty());
    }

    #[test]
    fn node_name_reports_names_that_cannot_name_a_namespace() {
        for (name, codes) in [
            ("r1", &[][..]),
            ("a.b-c_d", &[]),
            ("'..'", &["conlink::check::node_name"]),
            ("a/b", &["conlink::check::node_name"]),
            ("''", &["conlink::check::node_name"]),
        ] {
            let c = case(&format!("nodes: [{{name: {name}}}]"));
            let n = &c.config.nodes[0].name;
            assert_eq!(c.codes(|cx| node_name(cx, n)), codes, "{name}");
        }
    }

    #[test]
    fn interface_name_rules() {
        assert!(p("eth0").is_none());
        assert!(p("a23456789012345").is_none());
        assert!(p("a234567890123456").unwrap().contains("16 bytes"));
        assert!(p("").is_some());
        assert!(p(".").is_some());
        assert!(p("..").is_some());
        assert!(p("a/b").is_some());
        assert!(p("a:b").is_some());
        assert!(p("a b").is_some());
        // Length is in bytes, not characters.
        assert!(p("ééééééééé").is_some());
    }
}
