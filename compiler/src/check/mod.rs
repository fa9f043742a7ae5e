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
//! bridges) and `commands.rs`, with what they share in `shared.rs` and the checker's
//! state in `checker.rs`; each rule is one function in [`rules`].

mod checked;
mod checker;
mod commands;
mod links;
mod network;
pub mod rules;
mod scale;
mod shared;
pub mod strings;

pub use checked::{
    Checked, CheckedBridge, CheckedCommand, CheckedLink, CheckedNode, CheckedTunnel,
};
pub use checker::{inner_span, Checker, NodeIndex};
pub use scale::{offset_addr, OffsetError};

use crate::diag::Diagnostic;
use crate::model::{BridgeMode, Config};
use crate::source::SourceMap;

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
    let mut cx = Checker::new(sources);
    rules::sources::nothing_configured(&mut cx, cfg);
    let services = scale::service_scales(cfg, &opts.compose_replicas, &opts.scale, &mut cx.diags);
    let nodes = network::nodes(&mut cx, cfg);
    let links: Vec<CheckedLink> = cfg
        .links
        .iter()
        .filter_map(|l| links::link(&mut cx, l, &nodes))
        .collect();
    let tunnels = network::tunnels(&mut cx, cfg);
    let bridges = network::bridges(&mut cx, cfg, &links, &tunnels, opts.default_bridge_mode);
    network::patch_bridges(&mut cx, &bridges, &links, &tunnels);
    network::bridge_addresses(&mut cx, &bridges, &links, &services);
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
