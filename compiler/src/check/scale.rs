//! Replica counts (docs/configuration.md, "Replicas, names and derived values"): for
//! every compose service a link or command targets, compose's count, overridden by
//! `--scale`; and a `--scale` for a service nothing targets is an error. Also the
//! address each replica gets ([`offset_addr`]), which the checks and the lowering
//! share.

use crate::diag::{did_you_mean, Diagnostic};
use crate::model::{Config, Target};
use crate::plan::{ScaleSource, ServiceScale};
use indexmap::IndexMap;
use ipnet::IpNet;
use std::net::IpAddr;

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

/// Why an address offset failed.
#[derive(Debug, PartialEq, Eq)]
pub enum OffsetError {
    /// The address left its subnet.
    LeavesSubnet(IpAddr),
    /// The address became the subnet's IPv4 broadcast address.
    Broadcast(IpAddr),
}

/// `addr + offset` within the same prefix (docs/configuration.md, "Replicas, names and
/// derived values": leaving the subnet is an
/// error; 2.x silently wrapped into the next subnet).
pub fn offset_addr(net: IpNet, offset: u32) -> Result<IpNet, OffsetError> {
    if offset == 0 {
        return Ok(net);
    }
    let addr = match net.addr() {
        IpAddr::V4(a) => u32::from(a)
            .checked_add(offset)
            .map(|v| IpAddr::V4(v.into())),
        IpAddr::V6(a) => u128::from(a)
            .checked_add(u128::from(offset))
            .map(|v| IpAddr::V6(v.into())),
    };
    let Some(addr) = addr.filter(|a| net.contains(a)) else {
        let shown = match net.addr() {
            IpAddr::V4(a) => IpAddr::V4(u32::from(a).wrapping_add(offset).into()),
            IpAddr::V6(a) => IpAddr::V6(u128::from(a).wrapping_add(u128::from(offset)).into()),
        };
        return Err(OffsetError::LeavesSubnet(shown));
    };
    if let IpNet::V4(n) = net {
        if n.prefix_len() < 31 && addr == IpAddr::V4(n.broadcast()) {
            return Err(OffsetError::Broadcast(addr));
        }
    }
    Ok(IpNet::new(addr, net.prefix_len()).expect("same prefix length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_offsets_stay_in_the_subnet() {
        let n: IpNet = "10.0.1.1/24".parse().unwrap();
        assert_eq!(offset_addr(n, 2).unwrap().to_string(), "10.0.1.3/24");
        assert_eq!(offset_addr(n, 253).unwrap().to_string(), "10.0.1.254/24");
        assert!(matches!(
            offset_addr(n, 254),
            Err(OffsetError::Broadcast(_))
        ));
        assert!(matches!(
            offset_addr(n, 255),
            Err(OffsetError::LeavesSubnet(_))
        ));
        let v6: IpNet = "fd00::1/126".parse().unwrap();
        assert_eq!(offset_addr(v6, 2).unwrap().to_string(), "fd00::3/126");
        assert!(offset_addr(v6, 3).is_err());
    }
}
