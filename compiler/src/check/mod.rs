//! Semantic checks (config.md §4 and beyond the schema).
//!
//! Runs only on a configuration that passed the schema. Each check parses and verifies
//! one part of the configuration and produces the checked value the lowering needs
//! ([`Checked`]): addresses as `IpNet`s, routes, netem and ethtool strings as structured
//! values, targets resolved. Every problem is reported with the location of the
//! offending value, and checking continues, so one run shows every error.

mod commands;
mod links;
pub mod names;
mod network;
mod scale;
pub mod strings;

use crate::diag::Diagnostic;
use crate::model::{BridgeMode, CommandLine, Config, LinkKind, Target, TunnelKind};
use crate::plan::{Ethtool, Mac, Netem, Route, ServiceScale};
use crate::source::Spanned;
use crate::source::{SourceMap, Span};
use indexmap::IndexMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};
use strings::forward::Forward;
use strings::StringError;

/// A link after checking.
#[derive(Clone, Debug)]
pub struct CheckedLink {
    pub target: Target,
    /// Where the link is written (its mapping).
    pub span: Span,
    pub kind: LinkKind,
    /// `dev`, with the span of `dev:` or of the link when defaulted.
    pub dev: Spanned<String>,
    pub bridge: Option<Spanned<String>>,
    pub outer_dev: Option<Spanned<String>>,
    pub ips: Vec<Spanned<IpNet>>,
    pub mac: Option<Spanned<Mac>>,
    pub mtu: Option<u32>,
    pub routes: Vec<Spanned<Route>>,
    pub nat: Option<Ipv4Addr>,
    pub netem: Option<Netem>,
    pub ethtool: Vec<Ethtool>,
    pub mode: Option<String>,
    pub vlanid: Option<u16>,
    pub forwards: Vec<Spanned<Forward>>,
}

/// A bridge after checking: every bridge named anywhere, listed or not.
#[derive(Clone, Debug)]
pub struct CheckedBridge {
    pub name: Spanned<String>,
    /// The mode asked for (`auto` when neither the bridge nor the option says).
    pub mode: BridgeMode,
    pub mtu: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct CheckedTunnel {
    pub span: Span,
    pub kind: TunnelKind,
    pub bridge: Spanned<String>,
    pub remote: IpAddr,
    pub vni: u32,
    pub dstport: u16,
    pub netem: Option<Netem>,
    pub mtu: Option<u32>,
    pub ips: Vec<Spanned<IpNet>>,
    pub mac: Option<Mac>,
    /// Where the first of `netem`, `ip`, `mtu` and `mac` is written, if any.
    pub options_at: Option<Span>,
}

impl CheckedTunnel {
    /// `<type>-<vni>` (config.md §6).
    pub fn name(&self) -> String {
        format!("{}-{}", self.kind.as_str(), self.vni)
    }
}

#[derive(Clone, Debug)]
pub struct CheckedCommand {
    pub target: Target,
    pub span: Span,
    pub command: CommandLine,
}

#[derive(Clone, Debug)]
pub struct CheckedNode {
    pub name: Spanned<String>,
    pub sysctls: Vec<(String, String)>,
}

/// The whole configuration after checking, ready to lower.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub links: Vec<CheckedLink>,
    pub bridges: Vec<CheckedBridge>,
    pub tunnels: Vec<CheckedTunnel>,
    pub commands: Vec<CheckedCommand>,
    pub nodes: Vec<CheckedNode>,
    /// Replica count of every compose service a link or command targets.
    pub services: Vec<ServiceScale>,
}

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
    links::patch_bridges(&mut cx, &bridges, &links, &tunnels);
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

/// Collects diagnostics while the checks run.
pub struct Checker<'a> {
    pub sources: &'a SourceMap,
    pub diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
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
