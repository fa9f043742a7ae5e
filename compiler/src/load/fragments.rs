//! Finding the configuration inside each source document (docs/configuration.md,
//! "Sources and merging").
//!
//! A network file *is* a configuration fragment. A compose file holds fragments under
//! its top-level `x-network` and under each `services.NAME.x-network`, and also gives
//! the project `name:` and each service's replica count. Everything else in a compose
//! file is ignored, and is not interpolated either: a `${X:?}` in some service's
//! `environment:` is compose's business, not a reason for conlink to fail.
//!
//! Links and commands inside a service's `x-network` that name no target get
//! `service: <that service>` here, before validation, so the schema sees them complete.

use super::interpolate::{interpolate, Env};
use super::node::{Key, Node, Value};
use crate::diag::Diagnostic;
use crate::model::NUMERIC_PROPERTIES;
use crate::source::SourceKind;
use crate::source::Spanned;

/// One piece of configuration, in merge order.
#[derive(Debug)]
pub struct Fragment {
    /// The configuration mapping (after interpolation).
    pub node: Node,
    /// The service whose `x-network` this is, if any.
    pub service: Option<String>,
}

/// What a compose file says about the project and its services.
#[derive(Debug, Default)]
pub struct ComposeFacts {
    /// `name:`, the compose project name.
    pub name: Option<Spanned<String>>,
    /// Each service in file order, with its replica count when given.
    pub services: Vec<(Spanned<String>, Option<Spanned<u32>>)>,
}

/// Splits one parsed document into fragments, interpolating what conlink reads.
pub fn extract(
    kind: SourceKind,
    doc: Node,
    env: &Env,
) -> (Vec<Fragment>, ComposeFacts, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut frags = Vec::new();
    let mut facts = ComposeFacts::default();
    let wrong_kind = match kind {
        SourceKind::Network => super::kind::compose_file_as_network(&doc),
        SourceKind::Compose => super::kind::network_file_as_compose(&doc),
    };
    if let Some(d) = wrong_kind {
        diags.push(d);
        return (frags, facts, diags);
    }
    match kind {
        SourceKind::Network => {
            let mut node = doc;
            if matches!(node.value, Value::Null) {
                node.value = Value::Map(Vec::new());
            }
            diags.extend(interpolate(&mut node, env));
            frags.push(Fragment {
                node,
                service: None,
            });
        }
        SourceKind::Compose => {
            let Value::Map(entries) = doc.value else {
                if !matches!(doc.value, Value::Null) {
                    diags.push(
                        Diagnostic::error(
                            "conlink::compose::not_a_mapping",
                            "a compose file must be a mapping",
                        )
                        .at(doc.span, format!("found {}", doc.type_phrase())),
                    );
                }
                return (frags, facts, diags);
            };
            // The top-level `x-network` merges before the services' ones wherever it
            // is written, as in conlink 2.x, so a service's own settings win (2.x files
            // often put the top-level key last).
            let mut service_frags = Vec::new();
            for (key, mut value) in entries {
                match key.name.as_str() {
                    "name" => {
                        diags.extend(interpolate(&mut value, env));
                        if let Value::Str(s) = &value.value {
                            facts.name = Some(Spanned::new(s.clone(), value.span));
                        }
                    }
                    "x-network" => {
                        diags.extend(interpolate(&mut value, env));
                        frags.push(Fragment {
                            node: value,
                            service: None,
                        });
                    }
                    "services" => services(value, env, &mut service_frags, &mut facts, &mut diags),
                    _ => {}
                }
            }
            frags.append(&mut service_frags);
        }
    }
    for f in &mut frags {
        coerce_numbers(&mut f.node);
    }
    (frags, facts, diags)
}

fn services(
    value: Node,
    env: &Env,
    frags: &mut Vec<Fragment>,
    facts: &mut ComposeFacts,
    diags: &mut Vec<Diagnostic>,
) {
    let Value::Map(services) = value.value else {
        if !matches!(value.value, Value::Null) {
            diags.push(
                Diagnostic::error("conlink::compose::services", "`services` must be a mapping")
                    .at(value.span, format!("found {}", value.type_phrase())),
            );
        }
        return;
    };
    for (name, service) in services {
        let svc = Spanned::new(name.name.clone(), name.span);
        let Value::Map(props) = service.value else {
            facts.services.push((svc, None));
            continue;
        };
        let mut replicas = None;
        for (key, mut value) in props {
            match key.name.as_str() {
                "scale" => replicas = replica_count(&mut value, env, diags).or(replicas),
                "deploy" => {
                    if let Some(r) = value.get_mut("replicas") {
                        replicas = replica_count(r, env, diags).or(replicas);
                    }
                }
                "x-network" => {
                    diags.extend(interpolate(&mut value, env));
                    default_target(&mut value, &svc.value);
                    frags.push(Fragment {
                        node: value,
                        service: Some(svc.value.clone()),
                    });
                }
                _ => {}
            }
        }
        facts.services.push((svc, replicas));
    }
}

/// Reads `scale:` or `deploy.replicas:`, an integer or a string that interpolates to one.
fn replica_count(value: &mut Node, env: &Env, diags: &mut Vec<Diagnostic>) -> Option<Spanned<u32>> {
    diags.extend(interpolate(value, env));
    let n = match &value.value {
        Value::Int(i) => u32::try_from(*i).ok(),
        Value::Str(s) => s.trim().parse::<u32>().ok(),
        _ => None,
    };
    if n.is_none() {
        diags.push(
            Diagnostic::error(
                "conlink::compose::replicas",
                "a replica count must be a whole number of 0 or more",
            )
            .at(value.span, "not a replica count"),
        );
    }
    n.map(|n| Spanned::new(n, value.span))
}

/// Gives links and commands of a service's `x-network` that name no target
/// `service: <name>` (docs/configuration.md, "Sources and merging"; conlink 2.x forgot
/// commands).
fn default_target(fragment: &mut Node, service: &str) {
    for section in ["links", "commands"] {
        for item in section_items(fragment, section) {
            let span = item.span;
            if let Value::Map(entries) = &mut item.value {
                let has_target = entries
                    .iter()
                    .any(|(k, _)| matches!(k.name.as_str(), "service" | "container" | "node"));
                if !has_target {
                    let key = Key {
                        name: "service".into(),
                        span,
                    };
                    entries.push((
                        key,
                        Node {
                            value: Value::Str(service.to_string()),
                            span,
                        },
                    ));
                }
            }
        }
    }
}

/// The items of a top-level list (`links`, `bridges`, …) of a fragment, if it is a list;
/// anything else is left for the schema to report.
fn section_items<'a>(fragment: &'a mut Node, section: &str) -> impl Iterator<Item = &'a mut Node> {
    let items = match fragment.get_mut(section) {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => Some(items),
        _ => None,
    };
    items.into_iter().flatten()
}

/// Turns decimal-integer strings at integer properties into integers, so
/// `mtu: ${MTU:-1500}` validates and range-checks like `mtu: 1500` (docs/configuration.md,
/// "Interpolation").
pub fn coerce_numbers(fragment: &mut Node) {
    for (section, props) in NUMERIC_PROPERTIES {
        for item in section_items(fragment, section) {
            for prop in *props {
                if let Some(n) = item.get_mut(prop) {
                    if let Value::Str(s) = &n.value {
                        let t = s.trim();
                        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                            if let Ok(i) = t.parse::<i64>() {
                                n.value = Value::Int(i);
                            }
                        }
                    }
                }
            }
        }
    }
}
