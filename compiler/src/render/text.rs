//! The plan as text (`conlink plan --format text`, plan.md property 5 "Readable").
//!
//! A header summarises the decisions taken at plan time (bridge modes, replica counts,
//! the interface group and ownership mark), then each unit lists its steps, one a line,
//! as the command a person would type:
//!
//! ```text
//! # conlink plan: project demo, 2 units, 3 steps
//! # interface group 1234, ownership mark conlink:demo
//! # bridge s1: linux (auto: Open vSwitch not available)
//!
//! unit network
//!   network/0  conlink  ip netns add conlink
//!   network/1  conlink  ip link add s1 group 1234 alias conlink:demo type bridge
//!
//! unit node:h1  (after network)
//!   node:h1/0  node:h1  ip netns add node:h1
//! ```
//!
//! Columns are aligned within a unit. The output is deterministic: it depends only on
//! the plan. Words that contain spaces or shell metacharacters are single-quoted so a
//! line reads unambiguously, though nothing is ever run through a shell. Values only
//! known at run time appear as placeholders: [`EXTERNAL_ADDR`], [`EXTERNAL_IF`] and
//! [`SAVED`].

use crate::model::CommandLine;
use crate::plan::{
    LinkSpec, NftChain, NftFamily, NftRule, Ns, Op, Plan, PortMatch, Qdisc, QdiscParent, Step,
    Unit, VethPeer,
};
use std::borrow::Cow;
use std::fmt::Display;
use std::net::IpAddr;

/// Placeholder for conlink's external address, resolved at run time.
pub const EXTERNAL_ADDR: &str = "$CONLINK_EXTERNAL";

/// Placeholder for conlink's external interface, resolved at run time.
pub const EXTERNAL_IF: &str = "$CONLINK_EXTERNAL_IF";

/// Placeholder for a value the runtime records before changing it and puts back on undo.
pub const SAVED: &str = "$CONLINK_SAVED";

/// What [`render_with`] prints besides the steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Print each step's undo action on a line below it, in the same form.
    pub undo: bool,
}

/// The plan as text, without undo actions.
pub fn render(plan: &Plan) -> String {
    render_with(plan, Options::default())
}

/// The plan as text, with the given options.
pub fn render_with(plan: &Plan, options: Options) -> String {
    let mut lines = header(plan);
    for unit in &plan.units {
        lines.push(String::new());
        lines.extend(unit_lines(unit, plan, options));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The command line of one action, run in namespace `ns` (the step's), e.g.
/// `ip link set eth0 up`. Used for both a step's action and its undo, and by the
/// runtime to name a failing step.
pub fn op_line(op: &Op, ns: &Ns, plan: &Plan) -> String {
    let mut cmd = Cmd::default();
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
            match link_parent(spec) {
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
            if let LinkSpec::Veth {
                peer: VethPeer {
                    queues: Some(q), ..
                },
            } = spec.as_ref()
            {
                cmd.raw("numtxqueues").raw(q).raw("numrxqueues").raw(q);
            }
            if let Some(master) = master {
                cmd.raw("master").word(master);
            }
            if *up {
                cmd.raw("up");
            }
            link_type(cmd, spec)
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
        Op::AddrAdd { dev, addr } => cmd.raw("ip addr add").raw(addr).raw("dev").word(dev),
        Op::AddrDel { dev, addr } => cmd.raw("ip addr del").raw(addr).raw("dev").word(dev),
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
        // in their alias (plan.md §7).
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
                    .word(&format!("type={}", tunnel.kind))
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
                .raw(nft_family(*family))
                .word(table)
                .raw("{");
            for chain in chains {
                cmd.raw(nft_chain(chain, *family));
            }
            cmd.raw("}")
        }
        Op::NftTableDel { family, table } => cmd
            .raw("nft delete table")
            .raw(nft_family(*family))
            .word(table),
        Op::Exec { command } => command_words(cmd.raw("exec"), command),
        Op::ExecStop { command } => command_words(cmd.raw("stop"), command),
    }
}

/// The header: what was decided at plan time.
fn header(plan: &Plan) -> Vec<String> {
    let steps: usize = plan.units.iter().map(|unit| unit.steps.len()).sum();
    let mut lines = vec![
        format!(
            "# conlink plan: project {}, {}, {}",
            plan.project,
            count(plan.units.len(), "unit"),
            count(steps, "step"),
        ),
        format!(
            "# interface group {}, ownership mark {}",
            plan.group, plan.mark
        ),
    ];
    for bridge in &plan.bridges {
        let mut line = format!("# bridge {}: {}", bridge.name, bridge.mode.as_str());
        if bridge.requested != bridge.mode || bridge.reason.is_some() {
            line.push_str(&format!(" ({}", bridge.requested.as_str()));
            if let Some(reason) = &bridge.reason {
                line.push_str(&format!(": {reason}"));
            }
            line.push(')');
        }
        lines.push(line);
    }
    for service in &plan.services {
        lines.push(format!(
            "# service {}: {} ({})",
            service.service,
            count(service.replicas as usize, "replica"),
            service.source,
        ));
    }
    lines
}

/// A unit: its title line, then one line per step (and per undo), columns aligned.
fn unit_lines(unit: &Unit, plan: &Plan, options: Options) -> Vec<String> {
    let mut title = format!("unit {}", unit.id);
    if !unit.after.is_empty() {
        title.push_str(&format!("  (after {})", unit.after.join(", ")));
    }
    let rows: Vec<(&Step, String)> = unit
        .steps
        .iter()
        .map(|step| (step, step.ns.to_string()))
        .collect();
    let id_width = rows
        .iter()
        .map(|(step, _)| step.id.chars().count())
        .max()
        .unwrap_or(0);
    let ns_width = rows
        .iter()
        .map(|(_, ns)| ns.chars().count())
        .max()
        .unwrap_or(0);

    let mut lines = vec![title];
    for (step, ns) in &rows {
        let command = op_line(&step.op, &step.ns, plan);
        lines.push(format!(
            "  {:id_width$}  {:ns_width$}  {command}",
            step.id, ns
        ));
        if options.undo {
            let undo = op_line(&step.undo, &step.ns, plan);
            lines.push(format!(
                "  {:id_width$}  {:ns_width$}  undo: {undo}",
                "", ""
            ));
        }
    }
    lines
}

/// `1 unit`, `3 units`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The parent interface of kinds created on top of another interface.
fn link_parent(spec: &LinkSpec) -> Option<&str> {
    match spec {
        LinkSpec::Vlan { parent, .. }
        | LinkSpec::Macvlan { parent, .. }
        | LinkSpec::Macvtap { parent, .. }
        | LinkSpec::Ipvlan { parent, .. }
        | LinkSpec::Ipvtap { parent, .. } => Some(parent),
        LinkSpec::Veth { .. }
        | LinkSpec::Bridge
        | LinkSpec::Dummy
        | LinkSpec::Vxlan { .. }
        | LinkSpec::Geneve { .. } => None,
    }
}

/// `type KIND …`: the kind-specific arguments of `ip link add`.
fn link_type<'c>(cmd: &'c mut Cmd, spec: &LinkSpec) -> &'c mut Cmd {
    cmd.raw("type");
    match spec {
        LinkSpec::Veth { peer } => {
            cmd.raw("veth peer name")
                .word(&peer.name)
                .raw("netns")
                .ns(&peer.netns);
            if let Some(mtu) = peer.mtu {
                cmd.raw("mtu").raw(mtu);
            }
            if let Some(mac) = peer.mac {
                cmd.raw("address").raw(mac);
            }
            if let Some(q) = peer.queues {
                cmd.raw("numtxqueues").raw(q).raw("numrxqueues").raw(q);
            }
            cmd
        }
        LinkSpec::Bridge => cmd.raw("bridge"),
        LinkSpec::Dummy => cmd.raw("dummy"),
        LinkSpec::Vlan { id, .. } => cmd.raw("vlan id").raw(id),
        LinkSpec::Macvlan { mode, .. } => with_mode(cmd.raw("macvlan"), mode),
        LinkSpec::Macvtap { mode, .. } => with_mode(cmd.raw("macvtap"), mode),
        LinkSpec::Ipvlan { mode, .. } => with_mode(cmd.raw("ipvlan"), mode),
        LinkSpec::Ipvtap { mode, .. } => with_mode(cmd.raw("ipvtap"), mode),
        LinkSpec::Vxlan {
            vni,
            remote,
            dstport,
        } => tunnel(cmd.raw("vxlan"), *vni, remote, *dstport),
        LinkSpec::Geneve {
            vni,
            remote,
            dstport,
        } => tunnel(cmd.raw("geneve"), *vni, remote, *dstport),
    }
}

fn with_mode<'c>(cmd: &'c mut Cmd, mode: &Option<String>) -> &'c mut Cmd {
    match mode {
        Some(mode) => cmd.raw("mode").word(mode),
        None => cmd,
    }
}

fn tunnel<'c>(cmd: &'c mut Cmd, vni: u32, remote: &IpAddr, dstport: u16) -> &'c mut Cmd {
    cmd.raw("id")
        .raw(vni)
        .raw("remote")
        .raw(remote)
        .raw("dstport")
        .raw(dstport)
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

fn nft_family(family: NftFamily) -> &'static str {
    match family {
        NftFamily::Ip => "ip",
        NftFamily::Ip6 => "ip6",
        NftFamily::Inet => "inet",
    }
}

/// `chain NAME { type nat hook prerouting priority -100; RULE; … }`
fn nft_chain(chain: &NftChain, family: NftFamily) -> String {
    let mut text = format!(
        "chain {} {{ type {} hook {} priority {};",
        chain.name, chain.kind, chain.hook, chain.priority
    );
    for rule in &chain.rules {
        text.push(' ');
        text.push_str(&nft_rule(rule, family));
        text.push(';');
    }
    text.push_str(" }");
    text
}

/// One rule in nft syntax, e.g. `iifname "eth0" tcp dport 80 dnat to 10.0.0.1:8080`.
fn nft_rule(rule: &NftRule, family: NftFamily) -> String {
    let mut parts: Vec<String> = Vec::new();
    match rule {
        NftRule::Dnat {
            iifname,
            iif_external,
            port,
            to,
            to_port,
        } => {
            if let Some(name) = iifname {
                parts.push(format!("iifname {}", nft_string(name)));
            }
            if *iif_external {
                parts.push(format!("iifname {EXTERNAL_IF}"));
            }
            parts.extend(port.as_ref().map(nft_port));
            parts.push(nat_target("dnat", family, Some(to), *to_port));
        }
        NftRule::Snat {
            oifname,
            daddr,
            port,
            to,
        } => {
            parts.push(format!("oifname {}", nft_string(oifname)));
            if let Some(daddr) = daddr {
                parts.push(format!("{} daddr {daddr}", ip_keyword(daddr)));
            }
            parts.extend(port.as_ref().map(nft_port));
            parts.push(nat_target("snat", family, to.as_ref(), None));
        }
    }
    parts.join(" ")
}

/// `dnat to ADDR[:PORT]`; `inet` tables name the address family (`dnat ip to …`); a
/// missing address is conlink's external one.
fn nat_target(verb: &str, family: NftFamily, addr: Option<&IpAddr>, port: Option<u16>) -> String {
    let Some(addr) = addr else {
        return format!("{verb} to {EXTERNAL_ADDR}");
    };
    let verb = match family {
        NftFamily::Inet => format!("{verb} {}", ip_keyword(addr)),
        NftFamily::Ip | NftFamily::Ip6 => verb.to_string(),
    };
    match (addr, port) {
        (_, None) => format!("{verb} to {addr}"),
        (IpAddr::V4(_), Some(port)) => format!("{verb} to {addr}:{port}"),
        (IpAddr::V6(_), Some(port)) => format!("{verb} to [{addr}]:{port}"),
    }
}

fn ip_keyword(addr: &IpAddr) -> &'static str {
    match addr {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ip6",
    }
}

fn nft_port(port: &PortMatch) -> String {
    format!("{} dport {}", port.proto, port.dport)
}

/// A double-quoted nft string.
fn nft_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A command line under construction: words separated by single spaces.
#[derive(Default)]
struct Cmd(String);

impl Cmd {
    /// Appends text that needs no quoting (fixed syntax, numbers, addresses, placeholders).
    fn raw(&mut self, text: impl Display) -> &mut Cmd {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(&text.to_string());
        self
    }

    /// Appends a word from the configuration, quoted if it needs to be.
    fn word(&mut self, word: &str) -> &mut Cmd {
        self.raw(shell_quote(word))
    }

    /// Appends a namespace symbol.
    fn ns(&mut self, ns: &Ns) -> &mut Cmd {
        self.word(&ns.to_string())
    }

    /// Appends text to the last word, without a space.
    fn glue(&mut self, text: &str) -> &mut Cmd {
        self.0.push_str(text);
        self
    }
}

/// `word` as a shell would need it: unchanged when it is made only of safe characters,
/// otherwise in single quotes (a `'` inside becoming `'\''`).
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_#^".contains(c);
    // `#` starts a comment only at the beginning of a word.
    if !word.is_empty() && word.chars().all(safe) && !word.starts_with('#') {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample::sample_plan;

    #[test]
    fn shell_quote_leaves_plain_words_alone() {
        assert_eq!(shell_quote("eth0"), "eth0");
        assert_eq!(shell_quote("service:web#1"), "service:web#1");
        assert_eq!(
            shell_quote("net.ipv4.ip_forward=1"),
            "net.ipv4.ip_forward=1"
        );
        assert_eq!(shell_quote("10.0.0.1/24"), "10.0.0.1/24");
    }

    #[test]
    fn shell_quote_quotes_spaces_and_metacharacters() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("#x"), "'#x'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("a;b"), "'a;b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("x*"), "'x*'");
    }

    #[test]
    fn renders_every_op_as_a_command_line() {
        let expected = "\
# conlink plan: project demo, 3 units, 45 steps
# interface group 1234, ownership mark conlink:demo
# bridge s1: linux (auto: Open vSwitch not available)
# bridge s2: ovs
# bridge p1: patch
# service web: 2 replicas (compose)
# service db: 1 replica (default)

unit network
  network/0   conlink  ip netns add conlink
  network/1   conlink  ip netns del conlink
  network/2   node:h1  sysctl -w net.ipv4.ip_forward=1
  network/3   node:h1  sysctl -w 'kernel.msg note=a b'
  network/4   node:h1  sysctl -w net.ipv4.ip_forward=$CONLINK_SAVED
  network/5   conlink  ip link add s1 mtu 9000 group 1234 alias conlink:demo type bridge
  network/6   conlink  ip link add d0 group 1234 alias conlink:demo altname d0-with-a-long-name type dummy
  network/7   host     ip link add vx1 netns conlink group 1234 alias conlink:demo type vxlan id 42 remote 192.168.1.2 dstport 4789
  network/8   host     ip link add gn1 netns conlink group 1234 alias conlink:demo type geneve id 7 remote fd00::2 dstport 6081
  network/9   conlink  ip -n node:h1 link del vx1
  network/10  conlink  ip link del d0
  network/11  conlink  ip link set s1 up
  network/12  conlink  ip link set s1 down
  network/13  conlink  ip link set vx1 master s1
  network/14  conlink  ip link set vx1 nomaster
  network/15  conlink  ovs-vsctl add-br s2 -- set bridge s2 external_ids:conlink=conlink:demo
  network/16  conlink  ovs-vsctl del-br s2
  network/17  conlink  ovs-vsctl add-port s2 web_1-eth0 -- set port web_1-eth0 external_ids:conlink=conlink:demo
  network/18  conlink  ovs-vsctl add-port s2 vx2 -- set port vx2 external_ids:conlink=conlink:demo -- set interface vx2 type=vxlan options:remote_ip=192.168.1.3 options:key=100 options:dst_port=4790
  network/19  conlink  ovs-vsctl del-port s2 vx2
  network/20  conlink  nft add table ip conlink-demo { chain pre { type nat hook prerouting priority -100; iifname \"eth0\" dnat to 10.0.0.1; iifname $CONLINK_EXTERNAL_IF tcp dport 8080 dnat to 10.0.0.2:80; } chain post { type nat hook postrouting priority 100; oifname \"eth0\" snat to 10.0.0.9; oifname \"s1\" ip daddr 10.0.0.2 tcp dport 80 snat to $CONLINK_EXTERNAL; } }
  network/21  conlink  nft add table inet conlink-demo6 { chain pre { type nat hook prerouting priority -100; iifname \"eth1\" udp dport 53 dnat ip6 to [fd00::5]:5353; } }
  network/22  conlink  nft delete table ip conlink-demo

unit service:web#1  (after network)
  service:web#1/0   conlink        ip link add web_1-eth0 mtu 65535 group 1234 alias conlink:demo numtxqueues 1 numrxqueues 1 type veth peer name eth0 netns service:web#1 mtu 65535 address 02:00:00:00:00:01 numtxqueues 1 numrxqueues 1
  service:web#1/1   service:web#1  ip addr add 10.0.0.1/24 dev eth0
  service:web#1/2   service:web#1  ip addr del 10.0.0.1/24 dev eth0
  service:web#1/3   service:web#1  ip route add 10.1.0.0/24 via 10.0.0.254 metric 5 dev eth0
  service:web#1/4   service:web#1  ip route del 10.1.0.0/24 via 10.0.0.254 metric 5 dev eth0
  service:web#1/5   service:web#1  ip route add $CONLINK_EXTERNAL dev eth0
  service:web#1/6   service:web#1  ip route del $CONLINK_EXTERNAL dev eth0
  service:web#1/7   service:web#1  tc qdisc add dev eth0 root netem delay 40ms loss 1%
  service:web#1/8   service:web#1  tc qdisc del dev eth0 root
  service:web#1/9   service:web#1  ethtool -K eth0 tx off rx on
  service:web#1/10  service:web#1  ethtool -K eth0 tx $CONLINK_SAVED rx $CONLINK_SAVED
  service:web#1/11  service:web#1  exec sh -c 'sleep 1 && echo ready'
  service:web#1/12  service:web#1  stop ip addr show dev eth0 'label with space'

unit patch:p1  (after network, service:web#1)
  patch:p1/0  host     ip link add link eth1 name mv0 netns node:h1 address 02:00:00:00:00:02 group 1234 alias conlink:demo type macvlan mode bridge
  patch:p1/1  host     ip link add link eth1 name vt0 netns node:h1 group 1234 alias conlink:demo type macvtap
  patch:p1/2  host     ip link add link eth1 name iv0 netns node:h1 group 1234 alias conlink:demo type ipvlan mode l2
  patch:p1/3  host     ip link add link eth1 name it0 group 1234 alias conlink:demo type ipvtap mode l3
  patch:p1/4  host     ip link add link eth1 name eth1.5 netns node:h1 group 1234 alias conlink:demo type vlan id 5
  patch:p1/5  conlink  tc qdisc add dev p1-a ingress
  patch:p1/6  conlink  tc qdisc del dev p1-a ingress
  patch:p1/7  conlink  tc filter add dev p1-a parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev p1-b
  patch:p1/8  conlink  tc filter del dev p1-a parent ffff:
";
        assert_eq!(render(&sample_plan()), expected);
    }

    #[test]
    fn renders_undo_actions_below_their_steps() {
        let text = render_with(&sample_plan(), Options { undo: true });
        let expected = "\
unit network
  network/0   conlink  ip netns add conlink
                       undo: ip netns del conlink
  network/1   conlink  ip netns del conlink
                       undo: ip netns add conlink
  network/2   node:h1  sysctl -w net.ipv4.ip_forward=1
                       undo: sysctl -w net.ipv4.ip_forward=$CONLINK_SAVED
";
        assert!(text.contains(expected), "{text}");
        assert!(text.contains(
            "  network/7   host     ip link add vx1 netns conlink group 1234 alias conlink:demo type vxlan id 42 remote 192.168.1.2 dstport 4789\n\
             \x20                      undo: ip -n conlink link del vx1\n"
        ), "{text}");
    }

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

    #[test]
    fn an_empty_plan_has_only_a_header() {
        let mut plan = sample_plan();
        plan.units.clear();
        plan.bridges.clear();
        plan.services.clear();
        assert_eq!(
            render(&plan),
            "# conlink plan: project demo, 0 units, 0 steps\n# interface group 1234, ownership mark conlink:demo\n"
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let first = render_with(&sample_plan(), Options { undo: true });
        for _ in 0..3 {
            assert_eq!(render_with(&sample_plan(), Options { undo: true }), first);
        }
    }
}
