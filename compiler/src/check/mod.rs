//! Semantic checks: what the schema cannot say (docs/configuration.md, "Links" and the
//! sections after it).
//!
//! Runs only on a configuration that passed the schema. The checker reads each part of
//! the configuration, runs the [`rules`] that apply to it in order, and produces the
//! checked value the lowering needs ([`Checked`]): addresses as `IpNet`s, routes, netem
//! and ethtool strings as plan values (parsed by [`strings`]), targets resolved, replica
//! counts settled (`scale.rs`). Every problem is reported with the location of the
//! offending value, and checking continues, so one run shows every error.
//!
//! The checker is split by section: `links.rs`, `network.rs` (nodes, tunnels,
//! bridges) and `commands.rs`; each rule is one function in [`rules`].

mod checked;
mod commands;
mod links;
mod network;
pub mod rules;
mod scale;
pub mod strings;

pub use checked::{
    Checked, CheckedBridge, CheckedCommand, CheckedLink, CheckedNode, CheckedTunnel,
};

use crate::diag::Diagnostic;
use crate::model::{BridgeMode, Config, Target};
use crate::source::{SourceMap, Span, Spanned};
use indexmap::IndexMap;
use strings::StringError;

/// What the checks need to know beyond the configuration.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub default_bridge_mode: BridgeMode,
    /// Replica counts from compose files, in file order.
    pub compose_replicas: Vec<(String, u32)>,
    /// `--scale SERVICE=N`, in command-line order.
    pub scale: Vec<(String, u32)>,
}

/// Checks a merged configuration.
pub fn check(cfg: &Config, opts: &CheckOptions, sources: &SourceMap) -> (Checked, Vec<Diagnostic>) {
    let mut cx = Checker {
        sources,
        diags: Vec::new(),
    };
    let services = scale::service_scales(cfg, &opts.compose_replicas, &opts.scale, &mut cx.diags);
    let nodes = network::nodes(&mut cx, cfg);
    let links: Vec<CheckedLink> = cfg
        .links
        .iter()
        .filter_map(|l| links::link(&mut cx, l, &nodes))
        .collect();
    let tunnels = network::tunnels(&mut cx, cfg);
    let bridges = network::bridges(&mut cx, cfg, &links, &tunnels, opts);
    network::patch_bridges(&mut cx, &bridges, &links, &tunnels);
    let commands = cfg
        .commands
        .iter()
        .filter_map(|c| commands::command(&mut cx, c, &nodes))
        .collect();
    let checked = Checked {
        links,
        bridges,
        tunnels,
        commands,
        nodes: nodes.into_values().collect(),
        services,
    };
    (checked, cx.diags)
}

/// Collects diagnostics while the rules run.
pub struct Checker<'a> {
    pub sources: &'a SourceMap,
    pub diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// How many errors have been reported so far: a part whose checks add one is left
    /// out of the checked configuration.
    pub fn errors(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Reports a parse error from one of the string languages, pointing inside the string
    /// when the string was written as-is in the file.
    pub fn string_error(
        &mut self,
        code: &'static str,
        what: &str,
        s: &Spanned<String>,
        e: StringError,
    ) {
        let span = inner_span(self.sources, s, e.start, e.end);
        let mut d = Diagnostic::error(code, format!("invalid {what} `{}`: {}", s.value, e.message))
            .at(span, e.message);
        if let Some(h) = e.help {
            d = d.help(h);
        }
        self.report(d);
    }
}

/// Nodes by name.
pub type NodeIndex = IndexMap<String, CheckedNode>;

/// The target of a link or command (`what`, written at `whole`) among the targets it
/// names (`found`): exactly one, with a valid name, and a node that exists.
pub(crate) fn target(
    cx: &mut Checker,
    what: &str,
    whole: Span,
    found: &rules::targets::Found,
    nodes: &NodeIndex,
) -> Option<Target> {
    let ok = rules::targets::no_target(cx, what, whole, found)
        && rules::targets::two_targets(cx, what, found)
        && rules::targets::target_name(cx, found)
        && rules::targets::unknown_node(cx, found, nodes);
    ok.then(|| found[0].0.clone())
}

/// The span of bytes `start..end` of a string value, if the value appears verbatim in
/// the file (plain, or quoted without escapes, and not changed by interpolation);
/// otherwise the span of the whole value.
pub fn inner_span(sources: &SourceMap, s: &Spanned<String>, start: usize, end: usize) -> Span {
    let whole = s.span;
    let written = sources.get(whole.file).slice(whole);
    let v = s.value.as_str();
    // Plain scalars span exactly the value; quoted ones add the quotes.
    let offset = if written == v {
        0
    } else if written.len() == v.len() + 2 && &written[1..written.len() - 1] == v {
        1
    } else {
        return whole;
    };
    whole.sub(offset + start, offset + end.max(start + 1).min(v.len()))
}

/// The addresses of an `ip` list that are host addresses with a prefix.
pub(crate) fn ip_addresses(
    cx: &mut Checker,
    ips: &Option<crate::model::StrList>,
) -> Vec<Spanned<ipnet::IpNet>> {
    ips.iter()
        .flat_map(|list| list.0.iter())
        .filter_map(|written| {
            rules::addresses::ip(cx, written)
                .filter(|net| rules::addresses::ip_broadcast(cx, written, net.value))
        })
        .collect()
}

/// A `mac` that an interface can have.
pub(crate) fn mac_address(
    cx: &mut Checker,
    written: &Spanned<String>,
) -> Option<Spanned<crate::plan::Mac>> {
    rules::addresses::mac(cx, written)
        .filter(|mac| rules::addresses::mac_multicast(cx, written, *mac))
        .map(|mac| Spanned::new(mac, written.span))
}
