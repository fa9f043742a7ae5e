//! Units for target instances (nodes, containers, service replicas) and patch bridges.

use super::context::Lowering;
use super::link::lower_link;
use super::unit::{target_ns, UnitBuilder};
use crate::check::{CheckedCommand, CheckedLink};
use crate::diag::Diagnostic;
use crate::model::Target;
use crate::plan::{ready_altname, Ns, Op, Qdisc, Unit, UnitKind};
use crate::source::Span;
use indexmap::IndexMap;

/// Largest replica count conlink plans for one service.
pub const MAX_REPLICAS: u32 = 65_535;

/// One end of a patch bridge: the outer interface and the unit that creates it.
struct PatchEnd {
    outer: String,
    unit: String,
}

/// Every target in order of first appearance, each expanded into its instances.
pub(super) fn target_units(cx: &mut Lowering) -> Vec<Unit> {
    // Group links and commands by target once, so each instance only visits its own.
    let cfg = cx.cfg;
    let mut targets: IndexMap<&Target, Members> = IndexMap::new();
    for l in &cfg.links {
        let m = targets
            .entry(&l.target)
            .or_insert_with(|| Members::at(l.span));
        m.links.push(l);
    }
    for c in &cfg.commands {
        let m = targets
            .entry(&c.target)
            .or_insert_with(|| Members::at(c.span));
        m.commands.push(c);
    }
    let mut units = Vec::new();
    for (target, members) in targets {
        let span = members.span;
        let replicas: Vec<Option<u32>> = match &target {
            Target::Service(s) => {
                let n = cx.replicas(s);
                if n > MAX_REPLICAS {
                    cx.diags.push(
                        Diagnostic::error(
                            "conlink::lower::too_many_replicas",
                            format!("service `{s}` has {n} replicas; conlink plans at most {MAX_REPLICAS}"),
                        )
                        .at(span, "this service"),
                    );
                    continue;
                }
                (1..=n).map(Some).collect()
            }
            Target::Container(_) | Target::Node(_) => vec![None],
        };
        for replica in replicas {
            units.push(instance_unit(cx, target, &members, replica));
        }
    }
    units
}

/// The links and commands of one target, in configuration order.
struct Members<'a> {
    span: Span,
    links: Vec<&'a CheckedLink>,
    commands: Vec<&'a CheckedCommand>,
}

impl Members<'_> {
    fn at(span: Span) -> Self {
        Members {
            span,
            links: Vec::new(),
            commands: Vec::new(),
        }
    }
}

fn instance_unit(
    cx: &mut Lowering,
    target: &Target,
    members: &Members,
    replica: Option<u32>,
) -> Unit {
    let ns = target_ns(target, replica);
    let kind = match target {
        Target::Service(_) => UnitKind::Service,
        Target::Container(_) => UnitKind::Container,
        Target::Node(_) => UnitKind::Node,
    };
    let mut u = UnitBuilder::new(ns.to_string(), kind, vec!["network".into()]);
    for l in &members.links {
        lower_link(cx, &mut u, l, &ns, replica);
    }
    // The ready marker (docs/plan.md, "Units"), on the interface of the first link
    // (every link creates its `dev` in the target), once all of them are in place and
    // before the commands. Nodes get none: `apply` returns only when their units are
    // complete, so whatever runs in a node can simply start after it.
    if let (UnitKind::Container | UnitKind::Service, Some(first)) = (kind, members.links.first()) {
        u.step(
            &ns,
            Op::AltnameAdd {
                dev: first.dev.value.clone(),
                altname: ready_altname(&cx.opts.project),
            },
        );
    }
    for c in &members.commands {
        u.step(
            &ns,
            Op::Exec {
                command: c.command.clone(),
            },
        );
    }
    u.finish()
}

/// One unit per patch bridge: an ingress qdisc and a redirect on each end, so every
/// frame entering one end leaves through the other (docs/configuration.md, "Bridges").
pub(super) fn patch_units(cx: &mut Lowering) -> Vec<Unit> {
    let mut units = Vec::new();
    let ends = std::mem::take(&mut cx.patch_ends);
    for (bridge, ends) in ends {
        let links_on_bridge = cx
            .cfg
            .links
            .iter()
            .filter(|l| l.bridge.as_ref().is_some_and(|b| b.value == bridge))
            .count();
        if ends.len() != 2 {
            // A config-level count other than two was reported by the checks already;
            // here the links were two but replicas made more ends.
            if links_on_bridge == 2 {
                cx.diags.push(
                    Diagnostic::error(
                        "conlink::lower::patch_replicas",
                        format!("patch bridge `{bridge}` would join {} interfaces: a service on it has several replicas", ends.len()),
                    )
                    .at(ends[0].2, "one end of the patch")
                    .help("a patch joins exactly two interfaces; use a linux or ovs bridge for scaled services"),
                );
            }
            continue;
        }
        let ends: Vec<PatchEnd> = ends
            .into_iter()
            .map(|(outer, unit, _)| PatchEnd { outer, unit })
            .collect();
        let after = vec![ends[0].unit.clone(), ends[1].unit.clone()];
        let mut u = UnitBuilder::new(format!("patch:{bridge}"), UnitKind::Patch, after);
        for (from, to) in [(&ends[0], &ends[1]), (&ends[1], &ends[0])] {
            u.step(
                &Ns::Conlink,
                Op::QdiscAdd {
                    dev: from.outer.clone(),
                    qdisc: Qdisc::Ingress,
                },
            );
            u.step(
                &Ns::Conlink,
                Op::RedirectAdd {
                    dev: from.outer.clone(),
                    to: to.outer.clone(),
                },
            );
        }
        units.push(u.finish());
    }
    units
}
