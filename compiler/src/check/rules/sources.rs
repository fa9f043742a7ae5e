//! Rules about the sources as a whole (docs/configuration.md, "Sources and merging").

use super::super::checker::Checker;
use crate::diag::Diagnostic;
use crate::model::Config;
use crate::source::{FileId, SourceKind, Span};

/// Sources that together configure nothing: no links, bridges, tunnels, nodes or
/// commands. Applying them would only create conlink's own namespace, so they are
/// almost certainly a mistake: an empty file, a compose file without `x-network`, a
/// file passed as the wrong kind. One empty source beside others is fine (a compose
/// file without `x-network` plus a network file is the usual pair).
pub fn nothing_configured(cx: &mut Checker, cfg: &Config) -> bool {
    let empty = cfg.links.is_empty()
        && cfg.bridges.is_empty()
        && cfg.tunnels.is_empty()
        && cfg.nodes.is_empty()
        && cfg.commands.is_empty();
    if !empty {
        return true;
    }
    let files: Vec<(FileId, SourceKind)> = cx.sources.files().map(|(id, f)| (id, f.kind)).collect();
    let Some(&(first, _)) = files.first() else {
        return true;
    };
    let compose_only = files.iter().all(|(_, k)| *k == SourceKind::Compose);
    let help = if compose_only {
        "conlink reads a compose file's `x-network` keys (at the top level or in a service): put `links`, `nodes`, … there, or in a network file given with -n"
    } else {
        "a network file configures conlink at its top level: `links`, `bridges`, `tunnels`, `nodes`, `commands`"
    };
    let label = |kind: SourceKind| match kind {
        SourceKind::Network => "nothing configured in this file",
        SourceKind::Compose => "no `x-network` in this compose file",
    };
    let mut d = Diagnostic::error(
        "conlink::check::nothing_configured",
        "the configuration is empty: no links, bridges, tunnels, nodes or commands",
    )
    .at(Span::new(first, 0, 0), label(files[0].1))
    .help(help);
    for &(id, kind) in &files[1..] {
        d = d.also(Span::new(id, 0, 0), label(kind));
    }
    cx.report(d);
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;

    #[test]
    fn nothing_configured_reports_sources_that_configure_nothing() {
        let c = case("{}");
        assert_eq!(
            c.codes(|cx| nothing_configured(cx, &c.config)),
            ["conlink::check::nothing_configured"]
        );
        for something in [
            "nodes: [{name: h1}]",
            "links: [{node: h1, bridge: s1}]",
            "bridges: [{bridge: s1}]",
            "tunnels: [{type: vxlan, vni: 5, remote: 192.0.2.1, bridge: s1}]",
            "commands: [{node: h1, command: 'true'}]",
        ] {
            let c = case(something);
            assert!(
                c.codes(|cx| nothing_configured(cx, &c.config)).is_empty(),
                "{something}"
            );
        }
    }
}
