//! A step's action as one command line (docs/plan.md, "Text form"): what a person would
//! type to do the same, e.g. `ip link set eth0 up`. The text form of a plan is made of
//! these lines, and the runtime names a step by its line in messages.

use super::command::CommandLine;
use super::nft::chain_text;
use super::ns::Ns;
use super::op::{Op, Qdisc, QdiscParent};
use super::units::Plan;
use super::words::{Cmd, NsNames, EXTERNAL_ADDR, SAVED};

/// The command line of one action, run in namespace `ns` (the step's), e.g.
/// `ip link set eth0 up`. Used for both a step's action and its undo, and by the
/// runtime to name a failing step.
pub fn op_line(op: &Op, ns: &Ns, plan: &Plan) -> String {
    let mut cmd = Cmd::default();
    op_words(&mut cmd, op, ns, plan);
    cmd.0
}

/// [`op_line`] with namespaces written by `names` (shell text) instead of as symbols:
/// the line a shell script runs (`conlink plan --format script`).
pub fn op_line_named(op: &Op, ns: &Ns, plan: &Plan, names: NsNames) -> String {
    let mut cmd = Cmd(String::new(), Some(names));
    op_words(&mut cmd, op, ns, plan);
    cmd.0
}

/// Appends the command line of `op` to `cmd`.
fn op_words<'c>(cmd: &'c mut Cmd, op: &Op, ns: &Ns, plan: &Plan) -> &'c mut Cmd {
    match op {
        Op::NetnsAdd => cmd.raw("ip netns add").ns(ns),
        Op::NetnsDel => cmd.raw("ip netns del").ns(ns),
        Op::Sysctl { key, value } => cmd.raw("sysctl -w").word(&format!("{key}={value}")),
        Op::SysctlRestore { key } => cmd.raw("sysctl -w").word(key).glue("=").glue(SAVED),
        Op::LinkAdd {
            name,
            netns,
            mtu,
            mac,
            altname,
            master,
            up,
            spec,
        } => {
            cmd.raw("ip link add");
            match spec.parent() {
                Some(parent) => cmd.raw("link").word(parent).raw("name").word(name),
                None => cmd.word(name),
            };
            if let Some(netns) = netns {
                cmd.raw("netns").ns(netns);
            }
            if let Some(mtu) = mtu {
                cmd.raw("mtu").raw(mtu);
            }
            if let Some(mac) = mac {
                cmd.raw("address").raw(mac);
            }
            cmd.raw("group")
                .raw(plan.group)
                .raw("alias")
                .word(&plan.mark);
            if let Some(altname) = altname {
                cmd.raw("altname").word(altname);
            }
            if let Some(q) = spec.queues() {
                cmd.raw("numtxqueues").raw(q).raw("numrxqueues").raw(q);
            }
            if let Some(master) = master {
                cmd.raw("master").word(master);
            }
            if *up {
                cmd.raw("up");
            }
            spec.write_type(cmd)
        }
        Op::LinkDel { name, netns: None } => cmd.raw("ip link del").word(name),
        Op::LinkDel {
            name,
            netns: Some(netns),
        } => cmd.raw("ip -n").ns(netns).raw("link del").word(name),
        Op::LinkUp { dev } => cmd.raw("ip link set").word(dev).raw("up"),
        Op::LinkDown { dev } => cmd.raw("ip link set").word(dev).raw("down"),
        Op::LinkSetMaster { dev, master } => {
            cmd.raw("ip link set").word(dev).raw("master").word(master)
        }
        Op::LinkSetNomaster { dev } => cmd.raw("ip link set").word(dev).raw("nomaster"),
        Op::AddrAdd { dev, addr, nodad } => {
            cmd.raw("ip addr add").raw(addr).raw("dev").word(dev);
            if *nodad {
                cmd.raw("nodad");
            }
            cmd
        }
        Op::AddrDel { dev, addr } => cmd.raw("ip addr del").raw(addr).raw("dev").word(dev),
        Op::AltnameAdd { dev, altname } => cmd
            .raw("ip link property add dev")
            .word(dev)
            .raw("altname")
            .word(altname),
        Op::AltnameDel { dev, altname } => cmd
            .raw("ip link property del dev")
            .word(dev)
            .raw("altname")
            .word(altname),
        Op::RouteAdd { dev, route } => cmd.raw("ip route add").raw(route).raw("dev").word(dev),
        Op::RouteDel { dev, route } => cmd.raw("ip route del").raw(route).raw("dev").word(dev),
        Op::ExternalRouteAdd { dev } => cmd
            .raw("ip route add")
            .raw(EXTERNAL_ADDR)
            .raw("dev")
            .word(dev),
        Op::ExternalRouteDel { dev } => cmd
            .raw("ip route del")
            .raw(EXTERNAL_ADDR)
            .raw("dev")
            .word(dev),
        Op::QdiscAdd {
            dev,
            qdisc: Qdisc::Netem { netem },
        } => cmd
            .raw("tc qdisc add dev")
            .word(dev)
            .raw("root netem")
            .raw(netem),
        Op::QdiscAdd {
            dev,
            qdisc: Qdisc::Ingress,
        } => cmd.raw("tc qdisc add dev").word(dev).raw("ingress"),
        Op::QdiscDel { dev, parent } => {
            let parent = match parent {
                QdiscParent::Root => "root",
                QdiscParent::Ingress => "ingress",
            };
            cmd.raw("tc qdisc del dev").word(dev).raw(parent)
        }
        Op::RedirectAdd { dev, to } => cmd
            .raw("tc filter add dev")
            .word(dev)
            .raw("parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev")
            .word(to),
        Op::RedirectDel { dev } => cmd.raw("tc filter del dev").word(dev).raw("parent ffff:"),
        Op::Ethtool { dev, settings } => {
            // The settings print as ethtool's arguments without the device (`-K tx off`);
            // ethtool takes the device right after the sub-command.
            let settings = settings.to_string();
            let (command, rest) = settings.split_once(' ').unwrap_or((&settings, ""));
            cmd.raw("ethtool").raw(command).word(dev);
            if !rest.is_empty() {
                cmd.raw(rest);
            }
            cmd
        }
        Op::EthtoolRestore { dev, features } => {
            cmd.raw("ethtool -K").word(dev);
            for feature in features {
                cmd.word(feature).raw(SAVED);
            }
            cmd
        }
        // OVS records carry the ownership mark in external_ids, as interfaces carry it
        // in their alias (docs/plan.md, "Ownership").
        Op::OvsBridgeAdd { bridge } => cmd
            .raw("ovs-vsctl add-br")
            .word(bridge)
            .raw("-- set bridge")
            .word(bridge)
            .word(&format!("external_ids:conlink={}", plan.mark)),
        Op::OvsBridgeDel { bridge } => cmd.raw("ovs-vsctl del-br").word(bridge),
        Op::OvsPortAdd {
            bridge,
            port,
            tunnel,
        } => {
            cmd.raw("ovs-vsctl add-port").word(bridge).word(port);
            cmd.raw("-- set port")
                .word(port)
                .word(&format!("external_ids:conlink={}", plan.mark));
            if let Some(tunnel) = tunnel {
                cmd.raw("-- set interface")
                    .word(port)
                    .word(&format!("type={}", tunnel.kind.as_str()))
                    .raw(format_args!("options:remote_ip={}", tunnel.remote))
                    .raw(format_args!("options:key={}", tunnel.vni))
                    .raw(format_args!("options:dst_port={}", tunnel.dstport));
            }
            cmd
        }
        Op::OvsPortDel { bridge, port } => cmd.raw("ovs-vsctl del-port").word(bridge).word(port),
        Op::NftTableAdd {
            family,
            table,
            chains,
        } => {
            cmd.raw("nft add table")
                .raw(family.as_str())
                .word(table)
                .raw("{");
            for chain in chains {
                cmd.raw(chain_text(chain, *family));
            }
            cmd.raw("}")
        }
        Op::NftTableDel { family, table } => {
            cmd.raw("nft delete table").raw(family.as_str()).word(table)
        }
        Op::Exec { command } => command_words(cmd.raw("exec"), command),
        Op::ExecStop { command } => command_words(cmd.raw("stop"), command),
    }
}

/// `sh -c 'SCRIPT'` or the argv, each word quoted as needed.
fn command_words<'c>(cmd: &'c mut Cmd, command: &CommandLine) -> &'c mut Cmd {
    match command {
        CommandLine::Shell(script) => cmd.raw("sh -c").word(script),
        CommandLine::Argv(argv) => {
            for arg in argv {
                cmd.word(arg);
            }
            cmd
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::sample_plan;

    #[test]
    fn op_line_names_the_step_namespace_where_the_op_has_none() {
        let plan = sample_plan();
        let ns = Ns::Service("web".into(), 2);
        assert_eq!(
            op_line(&Op::NetnsAdd, &ns, &plan),
            "ip netns add service:web#2"
        );
        assert_eq!(
            op_line(&Op::NetnsDel, &Ns::Container("a b".into()), &plan),
            "ip netns del 'container:a b'"
        );
    }
}
