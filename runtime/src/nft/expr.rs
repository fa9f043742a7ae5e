//! From conlink's NAT rules to nf_tables expressions.
//!
//! nf_tables has no "dnat rule": a rule is a list of small expressions run in order on
//! a register file. A match loads a packet field into a register (`meta`, `payload`)
//! and compares it (`cmp`, which ends the rule on a mismatch); the action loads its
//! arguments into registers (`immediate`) and runs `nat` on them. The sequences here
//! are the ones nft itself generates for the same rule (checked with
//! `nft --debug=netlink`), so that `nft list table` shows conlink's rules in nft's
//! own words, e.g. `iifname "lan" tcp dport 8080 dnat to 10.0.2.10:80`.

use super::wire::*;
use super::External;
use compiler::plan::{NftFamily, NftRule, PortMatch, Protocol};
use compiler::plan::{EXTERNAL_ADDR, EXTERNAL_IF};
use std::net::IpAddr;

/// One nf_tables expression. The doc comments show how `nft --debug=netlink` prints each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `[ meta load KEY => reg R ]`
    Meta { key: u32, dreg: u32 },
    /// `[ payload load LENb @ BASE header + OFFSET => reg R ]`
    Payload {
        base: u32,
        offset: u32,
        len: u32,
        dreg: u32,
    },
    /// `[ cmp eq reg R DATA ]`
    CmpEq { sreg: u32, data: Vec<u8> },
    /// `[ immediate reg R DATA ]`
    Immediate { dreg: u32, data: Vec<u8> },
    /// `[ nat snat|dnat FAMILY addr_min reg A (proto_min reg P flags 0x2) ]`
    Nat {
        kind: u32,
        family: u8,
        addr_reg: u32,
        proto_reg: Option<u32>,
    },
}

impl Expr {
    /// The expression's kernel name (`NFTA_EXPR_NAME`).
    fn name(&self) -> &'static str {
        match self {
            Expr::Meta { .. } => "meta",
            Expr::Payload { .. } => "payload",
            Expr::CmpEq { .. } => "cmp",
            Expr::Immediate { .. } => "immediate",
            Expr::Nat { .. } => "nat",
        }
    }

    /// Appends the expression as one element of `NFTA_RULE_EXPRESSIONS`.
    pub fn encode(&self, b: &mut Body) {
        b.nest(NFTA_LIST_ELEM, |b| {
            b.str(NFTA_EXPR_NAME, self.name());
            b.nest(NFTA_EXPR_DATA, |b| self.encode_data(b));
        });
    }

    fn encode_data(&self, b: &mut Body) {
        match self {
            Expr::Meta { key, dreg } => {
                b.be32(NFTA_META_KEY, *key).be32(NFTA_META_DREG, *dreg);
            }
            Expr::Payload {
                base,
                offset,
                len,
                dreg,
            } => {
                b.be32(NFTA_PAYLOAD_DREG, *dreg)
                    .be32(NFTA_PAYLOAD_BASE, *base)
                    .be32(NFTA_PAYLOAD_OFFSET, *offset)
                    .be32(NFTA_PAYLOAD_LEN, *len);
            }
            Expr::CmpEq { sreg, data } => {
                b.be32(NFTA_CMP_SREG, *sreg)
                    .be32(NFTA_CMP_OP, NFT_CMP_EQ)
                    .data_value(NFTA_CMP_DATA, data);
            }
            Expr::Immediate { dreg, data } => {
                b.be32(NFTA_IMMEDIATE_DREG, *dreg)
                    .data_value(NFTA_IMMEDIATE_DATA, data);
            }
            Expr::Nat {
                kind,
                family,
                addr_reg,
                proto_reg,
            } => {
                b.be32(NFTA_NAT_TYPE, *kind)
                    .be32(NFTA_NAT_FAMILY, u32::from(*family))
                    .be32(NFTA_NAT_REG_ADDR_MIN, *addr_reg);
                if let Some(reg) = proto_reg {
                    b.be32(NFTA_NAT_REG_PROTO_MIN, *reg)
                        .be32(NFTA_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
                }
            }
        }
    }
}

/// Why a rule cannot be turned into expressions (checked before anything is sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// The rule needs conlink's external interface or address and none was given.
    NoExternal {
        what: &'static str,
        placeholder: &'static str,
    },
    /// The rule cannot be expressed in this table (wrong address family, bad name, …).
    Unsupported(String),
}

/// The expressions of one rule in a table of `family`.
pub fn rule_exprs(
    rule: &NftRule,
    family: NftFamily,
    external: Option<&External>,
) -> Result<Vec<Expr>, RuleError> {
    match rule {
        NftRule::Dnat {
            iifname,
            iif_external,
            port,
            to,
            to_port,
        } => {
            let mut exprs = Vec::new();
            if let Some(name) = iifname {
                exprs.extend(ifname_match(NFT_META_IIFNAME, name)?);
            }
            if *iif_external {
                let ext = external.ok_or(RuleError::NoExternal {
                    what: "interface",
                    placeholder: EXTERNAL_IF,
                })?;
                exprs.extend(ifname_match(NFT_META_IIFNAME, &ext.ifname)?);
            }
            if let Some(port) = port {
                exprs.extend(port_match(port)?);
            } else if to_port.is_some() {
                // nft refuses this too: a port rewrite is only defined for a transport
                // protocol the rule has matched.
                return Err(RuleError::Unsupported(
                    "a dnat to a port needs a tcp or udp port match".into(),
                ));
            }
            exprs.extend(nat(NFT_NAT_DNAT, family, *to, *to_port)?);
            Ok(exprs)
        }
        NftRule::Snat {
            oifname,
            daddr,
            port,
            to,
        } => {
            let mut exprs = ifname_match(NFT_META_OIFNAME, oifname)?.to_vec();
            if let Some(daddr) = daddr {
                exprs.extend(daddr_match(family, *daddr)?);
            }
            if let Some(port) = port {
                exprs.extend(port_match(port)?);
            }
            let to = match to {
                Some(addr) => *addr,
                None => {
                    let ext = external.ok_or(RuleError::NoExternal {
                        what: "address",
                        placeholder: EXTERNAL_ADDR,
                    })?;
                    IpAddr::V4(ext.addr)
                }
            };
            exprs.extend(nat(NFT_NAT_SNAT, family, to, None)?);
            Ok(exprs)
        }
    }
}

/// `iifname "NAME"` / `oifname "NAME"`: the meta key loads the device name as 16
/// NUL-padded bytes, so the comparison is against the whole padded name (a shorter
/// compare would be a prefix match, nft's `"eth*"`).
fn ifname_match(key: u32, name: &str) -> Result<[Expr; 2], RuleError> {
    if name.is_empty() || name.len() >= IFNAMSIZ || name.contains('\0') {
        return Err(RuleError::Unsupported(format!(
            "interface name {name:?} is not a kernel interface name (1 to 15 bytes)"
        )));
    }
    let mut padded = name.as_bytes().to_vec();
    padded.resize(IFNAMSIZ, 0);
    Ok([
        Expr::Meta {
            key,
            dreg: NFT_REG_1,
        },
        Expr::CmpEq {
            sreg: NFT_REG_1,
            data: padded,
        },
    ])
}

/// `tcp dport N` / `udp dport N`: the layer-4 protocol (one byte), then the destination
/// port, the 2 bytes at offset 2 of both the TCP and the UDP header, in network order.
fn port_match(port: &PortMatch) -> Result<[Expr; 4], RuleError> {
    let proto = match port.proto {
        Protocol::Tcp => libc::IPPROTO_TCP as u8,
        Protocol::Udp => libc::IPPROTO_UDP as u8,
    };
    Ok([
        Expr::Meta {
            key: NFT_META_L4PROTO,
            dreg: NFT_REG_1,
        },
        Expr::CmpEq {
            sreg: NFT_REG_1,
            data: vec![proto],
        },
        Expr::Payload {
            base: NFT_PAYLOAD_TRANSPORT_HEADER,
            offset: 2,
            len: 2,
            dreg: NFT_REG_1,
        },
        Expr::CmpEq {
            sreg: NFT_REG_1,
            data: port.dport.to_be_bytes().to_vec(),
        },
    ])
}

/// `ip daddr A` (network header offset 16, 4 bytes) or `ip6 daddr A` (offset 24, 16
/// bytes). An `inet` table sees both IPv4 and IPv6 packets, so there the match first
/// checks the packet's family (`meta nfproto`), as nft does; `nft list` hides that
/// dependency again.
fn daddr_match(family: NftFamily, addr: IpAddr) -> Result<Vec<Expr>, RuleError> {
    let nfproto = addr_family(family, addr, "ip daddr")?;
    let mut exprs = Vec::new();
    if family == NftFamily::Inet {
        exprs.push(Expr::Meta {
            key: NFT_META_NFPROTO,
            dreg: NFT_REG_1,
        });
        exprs.push(Expr::CmpEq {
            sreg: NFT_REG_1,
            data: vec![nfproto],
        });
    }
    let (offset, bytes) = match addr {
        IpAddr::V4(a) => (16, a.octets().to_vec()),
        IpAddr::V6(a) => (24, a.octets().to_vec()),
    };
    exprs.push(Expr::Payload {
        base: NFT_PAYLOAD_NETWORK_HEADER,
        offset,
        len: bytes.len() as u32,
        dreg: NFT_REG_1,
    });
    exprs.push(Expr::CmpEq {
        sreg: NFT_REG_1,
        data: bytes,
    });
    Ok(exprs)
}

/// `dnat to A[:P]` / `snat to A`: the address into register 1, the port (if any) into
/// register 2, then the nat expression naming both. Without an address-max register
/// the kernel maps to exactly that address (and port).
fn nat(
    kind: u32,
    family: NftFamily,
    to: IpAddr,
    port: Option<u16>,
) -> Result<Vec<Expr>, RuleError> {
    let what = if kind == NFT_NAT_DNAT {
        "dnat to"
    } else {
        "snat to"
    };
    let nat_family = addr_family(family, to, what)?;
    let addr = match to {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let mut exprs = vec![Expr::Immediate {
        dreg: NFT_REG_1,
        data: addr,
    }];
    if let Some(port) = port {
        exprs.push(Expr::Immediate {
            dreg: NFT_REG_2,
            data: port.to_be_bytes().to_vec(),
        });
    }
    exprs.push(Expr::Nat {
        kind,
        family: nat_family,
        addr_reg: NFT_REG_1,
        proto_reg: port.map(|_| NFT_REG_2),
    });
    Ok(exprs)
}

/// The `NFPROTO_*` of `addr`, if a table of `family` can handle it: `ip` tables take
/// IPv4 only, `ip6` tables IPv6 only, `inet` tables both.
fn addr_family(family: NftFamily, addr: IpAddr, what: &str) -> Result<u8, RuleError> {
    match (family, addr) {
        (NftFamily::Ip | NftFamily::Inet, IpAddr::V4(_)) => Ok(NFPROTO_IPV4),
        (NftFamily::Ip6 | NftFamily::Inet, IpAddr::V6(_)) => Ok(NFPROTO_IPV6),
        (NftFamily::Ip, IpAddr::V6(_)) => Err(RuleError::Unsupported(format!(
            "{what} {addr}: an ip table handles IPv4 only (use an ip6 or inet table)"
        ))),
        (NftFamily::Ip6, IpAddr::V4(_)) => Err(RuleError::Unsupported(format!(
            "{what} {addr}: an ip6 table handles IPv6 only (use an ip or inet table)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn port(proto: Protocol, dport: u16) -> Option<PortMatch> {
        Some(PortMatch { proto, dport })
    }

    fn external() -> External {
        External {
            ifname: "ext0".into(),
            addr: Ipv4Addr::new(192, 0, 2, 1),
        }
    }

    /// The forward rule, expression by expression as `nft --debug=netlink` showed it for
    /// `iifname "ext0" tcp dport 8080 dnat to 10.0.2.10:80` (kernel 6.18, nft 1.0.6).
    #[test]
    fn dnat_with_ports_matches_nfts_own_expressions() {
        let rule = NftRule::Dnat {
            iifname: None,
            iif_external: true,
            port: port(Protocol::Tcp, 8080),
            to: "10.0.2.10".parse().unwrap(),
            to_port: Some(80),
        };
        let exprs = rule_exprs(&rule, NftFamily::Ip, Some(&external())).unwrap();
        let mut ifname = b"ext0".to_vec();
        ifname.resize(16, 0);
        assert_eq!(
            exprs,
            vec![
                Expr::Meta {
                    key: NFT_META_IIFNAME,
                    dreg: 1
                },
                Expr::CmpEq {
                    sreg: 1,
                    data: ifname
                },
                Expr::Meta {
                    key: NFT_META_L4PROTO,
                    dreg: 1
                },
                Expr::CmpEq {
                    sreg: 1,
                    data: vec![6]
                },
                Expr::Payload {
                    base: NFT_PAYLOAD_TRANSPORT_HEADER,
                    offset: 2,
                    len: 2,
                    dreg: 1
                },
                Expr::CmpEq {
                    sreg: 1,
                    data: vec![0x1f, 0x90]
                },
                Expr::Immediate {
                    dreg: 1,
                    data: vec![10, 0, 2, 10]
                },
                Expr::Immediate {
                    dreg: 2,
                    data: vec![0, 80]
                },
                Expr::Nat {
                    kind: NFT_NAT_DNAT,
                    family: NFPROTO_IPV4,
                    addr_reg: 1,
                    proto_reg: Some(2)
                },
            ]
        );
    }

    #[test]
    fn snat_to_external_uses_the_external_address() {
        let rule = NftRule::Snat {
            oifname: "s2".into(),
            daddr: Some("10.0.2.10".parse().unwrap()),
            port: None,
            to: None,
        };
        let exprs = rule_exprs(&rule, NftFamily::Ip, Some(&external())).unwrap();
        assert_eq!(
            exprs[2],
            Expr::Payload {
                base: NFT_PAYLOAD_NETWORK_HEADER,
                offset: 16,
                len: 4,
                dreg: 1
            }
        );
        assert_eq!(
            exprs[4],
            Expr::Immediate {
                dreg: 1,
                data: vec![192, 0, 2, 1]
            }
        );
        assert!(matches!(
            exprs[5],
            Expr::Nat {
                kind: NFT_NAT_SNAT,
                proto_reg: None,
                ..
            }
        ));
    }

    #[test]
    fn placeholders_without_external_are_named() {
        let dnat = NftRule::Dnat {
            iifname: None,
            iif_external: true,
            port: None,
            to: "10.0.0.1".parse().unwrap(),
            to_port: None,
        };
        let snat = NftRule::Snat {
            oifname: "br0".into(),
            daddr: None,
            port: None,
            to: None,
        };
        assert_eq!(
            rule_exprs(&dnat, NftFamily::Ip, None),
            Err(RuleError::NoExternal {
                what: "interface",
                placeholder: EXTERNAL_IF
            })
        );
        assert_eq!(
            rule_exprs(&snat, NftFamily::Ip, None),
            Err(RuleError::NoExternal {
                what: "address",
                placeholder: EXTERNAL_ADDR
            })
        );
    }

    #[test]
    fn inet_daddr_checks_the_family_first() {
        let rule = NftRule::Snat {
            oifname: "x".into(),
            daddr: Some("fd00::1".parse().unwrap()),
            port: None,
            to: Some("fd00::2".parse().unwrap()),
        };
        let exprs = rule_exprs(&rule, NftFamily::Inet, None).unwrap();
        assert_eq!(
            exprs[2],
            Expr::Meta {
                key: NFT_META_NFPROTO,
                dreg: 1
            }
        );
        assert_eq!(
            exprs[3],
            Expr::CmpEq {
                sreg: 1,
                data: vec![NFPROTO_IPV6]
            }
        );
        assert_eq!(
            exprs[4],
            Expr::Payload {
                base: NFT_PAYLOAD_NETWORK_HEADER,
                offset: 24,
                len: 16,
                dreg: 1
            }
        );
    }

    #[test]
    fn mismatched_families_and_bad_inputs_are_refused() {
        let v6_in_ip = NftRule::Dnat {
            iifname: Some("lan".into()),
            iif_external: false,
            port: None,
            to: "fd00::5".parse().unwrap(),
            to_port: None,
        };
        let err = rule_exprs(&v6_in_ip, NftFamily::Ip, None).unwrap_err();
        assert!(
            matches!(&err, RuleError::Unsupported(m) if m.contains("IPv4 only")),
            "{err:?}"
        );
        // conlink's external address is IPv4: an ip6 table cannot snat to it.
        let snat_ext = NftRule::Snat {
            oifname: "br0".into(),
            daddr: None,
            port: None,
            to: None,
        };
        assert!(rule_exprs(&snat_ext, NftFamily::Ip6, Some(&external())).is_err());
        let long_name = NftRule::Snat {
            oifname: "a-very-long-name".into(),
            daddr: None,
            port: None,
            to: Some("10.0.0.1".parse().unwrap()),
        };
        assert!(rule_exprs(&long_name, NftFamily::Ip, None).is_err());
        let port_without_match = NftRule::Dnat {
            iifname: None,
            iif_external: false,
            port: None,
            to: "10.0.0.1".parse().unwrap(),
            to_port: Some(80),
        };
        assert!(rule_exprs(&port_without_match, NftFamily::Ip, None).is_err());
    }
}
