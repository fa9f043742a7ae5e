//! What the lowering passes share: the checked configuration and the options, the
//! bridge modes decided, the names taken in conlink's namespace (so two generated
//! names never collide at run time), and the diagnostics found.

use crate::check::Checked;
use crate::diag::Diagnostic;
use crate::model::BridgeMode;
use crate::plan::{BridgeDecision, Ethtool, FeatureSetting, Ns};
use crate::source::Span;
use indexmap::IndexMap;

/// What the lowering needs beyond the checked configuration.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    pub project: String,
    /// Whether Open vSwitch is usable (decides `auto` bridges); detected or given by the CLI.
    pub ovs_available: bool,
    /// MTU for veth and dummy links that set none (default 65535).
    pub default_mtu: Option<u32>,
    /// Keep the kernel's offload defaults on veth ends (no `-K tx off`).
    pub keep_veth_offload: bool,
}

/// State shared by the lowering passes.
pub(crate) struct Lowering<'a> {
    pub cfg: &'a Checked,
    pub opts: &'a LowerOptions,
    pub diags: Vec<Diagnostic>,
    /// Realised mode of every bridge.
    pub modes: IndexMap<String, BridgeMode>,
    pub decisions: Vec<BridgeDecision>,
    /// Names taken in conlink's namespace, with where they come from, so that two
    /// generated names can never collide at run time (docs/configuration.md, "Replicas,
    /// names and derived values").
    pub conlink_names: IndexMap<String, (Span, Owner)>,
    /// Outer ends of links on each patch bridge: (interface, unit id, where written).
    pub patch_ends: IndexMap<String, Vec<(String, String, Span)>>,
    /// Spans already reported, so a value wrong for many replicas is reported once.
    pub reported: std::collections::HashSet<Span>,
    /// External (protocol, port) of every forward, with where it was written.
    pub forward_ports: IndexMap<(crate::plan::Protocol, u16), Span>,
    /// Replica count per service, for lookups.
    replicas: IndexMap<&'a str, u32>,
    /// `-K tx off`, parsed once (every veth gets it unless `--keep-veth-offload`).
    pub veth_offload: Ethtool,
}

impl<'a> Lowering<'a> {
    pub fn new(cfg: &'a Checked, opts: &'a LowerOptions) -> Lowering<'a> {
        let mut modes = IndexMap::new();
        let mut decisions = Vec::new();
        for b in &cfg.bridges {
            let (mode, reason) = match b.mode {
                BridgeMode::Auto if opts.ovs_available => (
                    BridgeMode::Ovs,
                    Some("Open vSwitch is available".to_string()),
                ),
                BridgeMode::Auto => (
                    BridgeMode::Linux,
                    Some("Open vSwitch is not available".to_string()),
                ),
                m => (m, None),
            };
            modes.insert(b.name.value.clone(), mode);
            decisions.push(BridgeDecision {
                name: b.name.value.clone(),
                requested: b.mode,
                mode,
                reason,
            });
        }
        Lowering {
            cfg,
            opts,
            diags: Vec::new(),
            modes,
            decisions,
            conlink_names: IndexMap::new(),
            patch_ends: IndexMap::new(),
            reported: std::collections::HashSet::new(),
            forward_ports: IndexMap::new(),
            replicas: cfg
                .services
                .iter()
                .map(|s| (s.service.as_str(), s.replicas))
                .collect(),
            veth_offload: Ethtool {
                features: vec![FeatureSetting {
                    feature: "tx".into(),
                    enabled: false,
                }],
            },
        }
    }

    pub fn mode(&self, bridge: &str) -> BridgeMode {
        self.modes.get(bridge).copied().unwrap_or(BridgeMode::Linux)
    }

    /// Claims an interface name in conlink's namespace; reports a collision.
    pub fn claim_conlink_name(&mut self, name: &str, span: Span, owner: Owner) {
        if let Some((first, first_owner)) = self.conlink_names.get(name) {
            let what = owner.to_string();
            let first_what = first_owner.to_string();
            self.diags.push(
                Diagnostic::error(
                    "conlink::lower::name_collision",
                    format!("two interfaces in conlink's namespace would be named `{name}`: {first_what} and {what}"),
                )
                .at(span, what)
                .also(*first, format!("{first_what} (first)"))
                .help("set `outer-dev` to a distinct name on one of them"),
            );
        } else {
            self.conlink_names.insert(name.to_string(), (span, owner));
        }
    }

    /// Replica count of a service (1 when compose does not say).
    pub fn replicas(&self, service: &str) -> u32 {
        self.replicas.get(service).copied().unwrap_or(1)
    }
}

/// What holds a name in conlink's namespace; described only when two collide.
pub(crate) enum Owner {
    Bridge(String),
    Tunnel(&'static str, u32),
    OuterEnd(Ns, String),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Bridge(b) => write!(f, "bridge `{b}`"),
            Owner::Tunnel(kind, vni) => write!(f, "{kind} tunnel {vni}"),
            Owner::OuterEnd(ns, dev) => write!(f, "the outer end of {ns} {dev}"),
        }
    }
}
