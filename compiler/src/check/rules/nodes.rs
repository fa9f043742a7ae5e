//! Rules about nodes' sysctls (docs/configuration.md, "Nodes").

use super::super::checker::Checker;
use crate::diag::Diagnostic;
use crate::source::Spanned;

/// A sysctl name that is not one (`sysctl` would refuse it, and a `..` in it could
/// reach outside /proc/sys).
pub fn sysctl(cx: &mut Checker, key: &Spanned<String>) -> bool {
    let name = &key.value;
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        && !name
            .split(['.', '/'])
            .any(|part| part.is_empty() || part == "..");
    if !ok {
        cx.report(
            Diagnostic::error(
                "conlink::check::sysctl",
                format!("`{name}` is not a sysctl name"),
            )
            .at(key.span, "not a sysctl name")
            .help("write sysctl names as `sysctl` does, e.g. `net.ipv4.ip_forward`"),
        );
    }
    ok
}

/// A sysctl outside `net.*`: only network sysctls belong to a network namespace, so
/// any other would change the whole machine.
pub fn sysctl_not_net(cx: &mut Checker, key: &Spanned<String>) -> bool {
    let name = &key.value;
    if name.starts_with("net.") || name.starts_with("net/") {
        return true;
    }
    cx.report(
        Diagnostic::error(
            "conlink::check::sysctl_not_net",
            format!("`{name}` is not a network sysctl; only `net.*` sysctls are per namespace"),
        )
        .at(key.span, "not per network namespace"),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;

    fn key_of(name: &str) -> (super::super::testing::Case, Spanned<String>) {
        let c = case(&format!("nodes: [{{name: r, sysctls: {{'{name}': 1}}}}]"));
        let key = c.config.nodes[0].sysctls.0[0].0.clone();
        (c, key)
    }

    #[test]
    fn sysctl_reports_what_is_not_a_sysctl_name() {
        for (name, ok) in [
            ("net.ipv4.ip_forward", true),
            ("net/ipv4/conf/all/forwarding", true),
            ("net..x", false),
            ("net/../kernel", false),
            ("net.ipv4 x", false),
        ] {
            let (c, key) = key_of(name);
            assert_eq!(c.codes(|cx| sysctl(cx, &key)).is_empty(), ok, "{name}");
        }
    }

    #[test]
    fn sysctl_not_net_reports_machine_wide_sysctls() {
        let (c, key) = key_of("kernel.pid_max");
        assert_eq!(
            c.codes(|cx| sysctl_not_net(cx, &key)),
            ["conlink::check::sysctl_not_net"]
        );
        let (c, key) = key_of("net.ipv6.conf.all.disable_ipv6");
        assert!(c.codes(|cx| sysctl_not_net(cx, &key)).is_empty());
    }
}
