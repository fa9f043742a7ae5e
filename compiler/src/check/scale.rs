//! Replica counts (docs/configuration.md, "Replicas, names and derived values"): for
//! every compose service a link or command targets, compose's count, overridden by
//! `--scale`; and a `--scale` for a service nothing targets is an error.

use crate::diag::{did_you_mean, Diagnostic};
use crate::model::{Config, Target};
use crate::plan::{ScaleSource, ServiceScale};
use indexmap::IndexMap;

/// Replica counts for every service the configuration targets, in order of first
/// mention. `compose` holds compose's counts in file order (the last count for a
/// service wins); `option` the `--scale SERVICE=N` options in command-line order.
pub fn service_scales(
    cfg: &Config,
    compose: &[(String, u32)],
    option: &[(String, u32)],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ServiceScale> {
    let compose: IndexMap<&str, u32> = compose.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let mut out: IndexMap<String, ServiceScale> = IndexMap::new();
    let targets = cfg
        .links
        .iter()
        .filter_map(|l| l.target())
        .chain(cfg.commands.iter().filter_map(|c| c.target()));
    for t in targets {
        if let Target::Service(s) = t {
            if !out.contains_key(&s) {
                let scale = match compose.get(s.as_str()) {
                    Some(n) => ServiceScale {
                        service: s.clone(),
                        replicas: *n,
                        source: ScaleSource::Compose,
                    },
                    None => ServiceScale {
                        service: s.clone(),
                        replicas: 1,
                        source: ScaleSource::Default,
                    },
                };
                out.insert(s, scale);
            }
        }
    }
    for (svc, n) in option {
        match out.get_mut(svc) {
            Some(x) => {
                x.replicas = *n;
                x.source = ScaleSource::ScaleOption;
            }
            None if compose.contains_key(svc.as_str()) => {}
            None => diags.push(scale_unknown_service(svc, &out)),
        }
    }
    out.into_values().collect()
}

/// `--scale` names a service that no link or command targets (and compose does not
/// list): most likely a typo, which would otherwise silently scale nothing.
fn scale_unknown_service(svc: &str, known: &IndexMap<String, ServiceScale>) -> Diagnostic {
    let known: Vec<&str> = known.keys().map(String::as_str).collect();
    let mut d = Diagnostic::error(
        "conlink::scale_unknown_service",
        format!("--scale names service `{svc}`, which no link or command targets"),
    );
    if let Some(s) = did_you_mean(svc, &known) {
        d = d.help(format!("did you mean `{s}`?"));
    }
    d
}
