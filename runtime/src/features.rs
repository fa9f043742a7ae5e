//! Kernel features a step needs, named for the user when the kernel lacks them.
//!
//! A kernel built without a feature (and no module to load) refuses the request with a
//! generic errno; [`missing_kernel_feature`] turns that refusal into a sentence naming
//! the feature and the module that provides it, e.g. "this kernel has no netem qdisc
//! (sch_netem)". The refusals, as Linux 6.18 words them (checked live by
//! `tests/kernel_features.rs` on a kernel without netem, vlan, ipvlan, dummy, geneve,
//! matchall and gact):
//!
//! | request | errno | extended ack |
//! |---|---|---|
//! | `RTM_NEWLINK` of an unknown kind | `EOPNOTSUPP` | "Unknown device type" |
//! | `RTM_NEWQDISC` of an unknown kind | `ENOENT` | "Specified qdisc kind is unknown" |
//! | `RTM_NEWTFILTER` of an unknown classifier | `ENOENT` | "TC classifier not found" |
//! | `RTM_NEWTFILTER` with an unknown action | `ENOENT` | "Failed to load TC action module" |
//!
//! Kernels too old to send extended acks give the errno alone; for these requests it
//! still means the kind is unknown, except that a redirect filter cannot tell a missing
//! classifier from a missing action. Each family reads its own refusals
//! (`crate::action::Action::missing_feature`: the link family names the feature of
//! each interface kind, the tc family those of qdiscs and filters).

use crate::error::KernelError;
use crate::families;
use compiler::plan::Op;

/// If `err` is the kernel refusing `what` because it lacks the feature `what` needs,
/// the sentence naming that feature ("this kernel has no … (module)"); otherwise `None`
/// (the error is about something else: a name clash, a missing parent, …).
pub fn missing_kernel_feature(what: &Op, err: &KernelError) -> Option<String> {
    families::action(what)
        .missing_feature(err)
        .map(|feature| format!("this kernel has no {feature}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use compiler::plan::{LinkSpec, Qdisc, QdiscParent};
    use compiler::strings::netem::parse_netem;

    fn err(errno: i32, ack: Option<&str>) -> KernelError {
        KernelError {
            errno,
            ext_ack: ack.map(String::from),
        }
    }

    fn link(spec: LinkSpec) -> Op {
        Op::LinkAdd {
            name: "x".into(),
            netns: None,
            mtu: None,
            mac: None,
            altname: None,
            master: None,
            up: false,
            spec: Box::new(spec),
        }
    }

    fn parent() -> String {
        "eth0".into()
    }

    #[test]
    fn every_interface_kind_is_named() {
        let unknown = err(libc::EOPNOTSUPP, Some("Unknown device type"));
        let remote = "192.0.2.1".parse().unwrap();
        for (spec, text) in [
            (
                LinkSpec::Dummy,
                "this kernel has no dummy interfaces (dummy)",
            ),
            (
                LinkSpec::Vlan {
                    parent: parent(),
                    id: 5,
                },
                "this kernel has no vlan interfaces (8021q)",
            ),
            (
                LinkSpec::Ipvlan {
                    parent: parent(),
                    mode: None,
                },
                "this kernel has no ipvlan interfaces (ipvlan)",
            ),
            (
                LinkSpec::Ipvtap {
                    parent: parent(),
                    mode: None,
                },
                "this kernel has no ipvtap interfaces (ipvtap)",
            ),
            (
                LinkSpec::Macvlan {
                    parent: parent(),
                    mode: None,
                },
                "this kernel has no macvlan interfaces (macvlan)",
            ),
            (
                LinkSpec::Macvtap {
                    parent: parent(),
                    mode: None,
                },
                "this kernel has no macvtap interfaces (macvtap)",
            ),
            (
                LinkSpec::Geneve {
                    vni: 1,
                    remote,
                    dstport: 6081,
                },
                "this kernel has no geneve tunnels (geneve)",
            ),
            (
                LinkSpec::Vxlan {
                    vni: 1,
                    remote,
                    dstport: 4789,
                },
                "this kernel has no vxlan tunnels (vxlan)",
            ),
            (LinkSpec::Bridge, "this kernel has no bridges (bridge)"),
        ] {
            let op = link(spec);
            assert_eq!(missing_kernel_feature(&op, &unknown).as_deref(), Some(text));
            // Without an extended ack (older kernels) the errno alone says it.
            let bare = err(libc::EOPNOTSUPP, None);
            assert_eq!(missing_kernel_feature(&op, &bare).as_deref(), Some(text));
        }
    }

    #[test]
    fn qdiscs_and_the_redirect_filter() {
        let netem = Op::QdiscAdd {
            dev: "eth0".into(),
            qdisc: Qdisc::Netem {
                netem: Box::new(parse_netem("delay 1ms").unwrap()),
            },
        };
        let unknown = err(libc::ENOENT, Some("Specified qdisc kind is unknown"));
        assert_eq!(
            missing_kernel_feature(&netem, &unknown).as_deref(),
            Some("this kernel has no netem qdisc (sch_netem)")
        );
        let ingress = Op::QdiscAdd {
            dev: "eth0".into(),
            qdisc: Qdisc::Ingress,
        };
        assert_eq!(
            missing_kernel_feature(&ingress, &unknown).as_deref(),
            Some("this kernel has no ingress qdisc (sch_ingress)")
        );
        let redirect = Op::RedirectAdd {
            dev: "a".into(),
            to: "b".into(),
        };
        for (ack, text) in [
            (
                Some("TC classifier not found"),
                "this kernel has no u32 classifier (cls_u32)",
            ),
            (
                Some("Failed to load TC action module"),
                "this kernel has no mirred action (act_mirred)",
            ),
            (
                None,
                "this kernel has no u32 classifier (cls_u32) or mirred action (act_mirred)",
            ),
        ] {
            assert_eq!(
                missing_kernel_feature(&redirect, &err(libc::ENOENT, ack)).as_deref(),
                Some(text)
            );
        }
    }

    #[test]
    fn other_refusals_are_not_missing_features() {
        let vlan = link(LinkSpec::Vlan {
            parent: parent(),
            id: 5,
        });
        for e in [
            err(libc::EEXIST, Some("File exists")),
            err(libc::ENODEV, None),
            err(libc::EOPNOTSUPP, Some("something else")),
            err(libc::EINVAL, Some("Unknown device type")),
        ] {
            assert_eq!(missing_kernel_feature(&vlan, &e), None, "{e:?}");
        }
        let ingress = Op::QdiscAdd {
            dev: "eth0".into(),
            qdisc: Qdisc::Ingress,
        };
        assert_eq!(
            missing_kernel_feature(&ingress, &err(libc::EEXIST, None)),
            None
        );
        let redirect = Op::RedirectAdd {
            dev: "a".into(),
            to: "b".into(),
        };
        let no_parent = err(libc::EINVAL, Some("Parent Qdisc doesn't exists"));
        assert_eq!(missing_kernel_feature(&redirect, &no_parent), None);
        let odd = err(libc::ENOENT, Some("Cannot find specified filter chain"));
        assert_eq!(missing_kernel_feature(&redirect, &odd), None);
        let del = Op::QdiscDel {
            dev: "eth0".into(),
            parent: QdiscParent::Root,
        };
        let unknown = err(libc::ENOENT, Some("Specified qdisc kind is unknown"));
        assert_eq!(missing_kernel_feature(&del, &unknown), None);
    }
}
