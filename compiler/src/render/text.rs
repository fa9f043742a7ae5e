//! The plan as text (`conlink plan --format text`; docs/plan.md, "Text form").
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
//! the plan. Each step's line is the plan's own ([`op_line`]), which quotes words and
//! shows values only known at run time as placeholders
//! ([`EXTERNAL_ADDR`](crate::plan::EXTERNAL_ADDR) and the like).
//!
//! One step is one line, whatever the configuration's values hold: `op_line` quotes
//! words with control characters as `$'…'`, and every line printed here has such
//! characters escaped ([`escape_hidden`]), names in the header and unit titles too.

use crate::plan::words::escape_hidden;
use crate::plan::{op_line, Plan, Step, Unit};

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
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in &lines {
        out.push_str(&escape_hidden(line));
        out.push('\n');
    }
    out
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
            service.source.as_str(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::sample_plan;

    #[test]
    fn renders_every_op_as_a_command_line() {
        let expected = "\
# conlink plan: project demo, 3 units, 48 steps
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
  service:web#1/3   service:web#1  ip addr add fd00::1/64 dev eth0 nodad
  service:web#1/4   service:web#1  ip link property add dev eth0 altname conlink-ready.demo
  service:web#1/5   service:web#1  ip link property del dev eth0 altname conlink-ready.demo
  service:web#1/6   service:web#1  ip route add 10.1.0.0/24 via 10.0.0.254 metric 5 dev eth0
  service:web#1/7   service:web#1  ip route del 10.1.0.0/24 via 10.0.0.254 metric 5 dev eth0
  service:web#1/8   service:web#1  ip route add $CONLINK_EXTERNAL dev eth0
  service:web#1/9   service:web#1  ip route del $CONLINK_EXTERNAL dev eth0
  service:web#1/10  service:web#1  tc qdisc add dev eth0 root netem delay 40ms loss 1%
  service:web#1/11  service:web#1  tc qdisc del dev eth0 root
  service:web#1/12  service:web#1  ethtool -K eth0 tx off rx on
  service:web#1/13  service:web#1  ethtool -K eth0 tx $CONLINK_SAVED rx $CONLINK_SAVED
  service:web#1/14  service:web#1  exec sh -c 'sleep 1 && echo ready'
  service:web#1/15  service:web#1  stop ip addr show dev eth0 'label with space'

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

    /// The sample plan's JSON form with `value` appended to the string leaf at each
    /// path of `leaves`.
    fn with_appended(
        plan: &serde_json::Value,
        leaves: &[Vec<PathPart>],
        values: &[String],
    ) -> Plan {
        let mut v = plan.clone();
        for (path, value) in leaves.iter().zip(values) {
            if let Some(serde_json::Value::String(s)) = leaf_mut(&mut v, path) {
                s.push_str(value);
            }
        }
        serde_json::from_value(v).expect("leaves were chosen to take any string")
    }

    #[derive(Clone, Debug)]
    enum PathPart {
        Key(String),
        Index(usize),
    }

    fn leaf_mut<'v>(
        v: &'v mut serde_json::Value,
        path: &[PathPart],
    ) -> Option<&'v mut serde_json::Value> {
        path.iter().try_fold(v, |v, part| match part {
            PathPart::Key(k) => v.get_mut(k),
            PathPart::Index(i) => v.get_mut(*i),
        })
    }

    /// Every string in the sample plan's JSON form that still reads back as a plan
    /// with a newline appended: the names, commands, keys and values a configuration
    /// can put in a plan (typed values such as addresses refuse the newline).
    fn free_string_leaves(plan: &serde_json::Value) -> Vec<Vec<PathPart>> {
        fn walk(v: &serde_json::Value, path: &mut Vec<PathPart>, out: &mut Vec<Vec<PathPart>>) {
            match v {
                serde_json::Value::String(_) => out.push(path.clone()),
                serde_json::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        path.push(PathPart::Index(i));
                        walk(item, path, out);
                        path.pop();
                    }
                }
                serde_json::Value::Object(map) => {
                    for (k, item) in map {
                        path.push(PathPart::Key(k.clone()));
                        walk(item, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let mut all = Vec::new();
        walk(plan, &mut Vec::new(), &mut all);
        all.into_iter()
            .filter(|path| {
                let mut v = plan.clone();
                if let Some(serde_json::Value::String(s)) = leaf_mut(&mut v, path) {
                    s.push_str("\nx");
                }
                serde_json::from_value::<Plan>(v).is_ok()
            })
            .collect()
    }

    /// The number of lines a plan's text has: the header, then per unit a blank line,
    /// its title and each step (with its undo).
    fn expected_lines(plan: &Plan) -> usize {
        let header = 2 + plan.bridges.len() + plan.services.len();
        header
            + plan
                .units
                .iter()
                .map(|u| 2 + 2 * u.steps.len())
                .sum::<usize>()
    }

    /// The sample plan's JSON form and its free string leaves, found once.
    fn sample_leaves() -> &'static (serde_json::Value, Vec<Vec<PathPart>>) {
        static SAMPLE: std::sync::OnceLock<(serde_json::Value, Vec<Vec<PathPart>>)> =
            std::sync::OnceLock::new();
        SAMPLE.get_or_init(|| {
            let plan = serde_json::to_value(sample_plan()).expect("plan JSON");
            let leaves = free_string_leaves(&plan);
            (plan, leaves)
        })
    }

    #[test]
    fn configuration_values_reach_the_text_plan() {
        // The property test below is only as strong as the places it writes to.
        let (plan, leaves) = sample_leaves();
        assert!(
            (60..=256).contains(&leaves.len()),
            "{} free strings (the property test below gives 256 values)",
            leaves.len()
        );
        let marked = with_appended(plan, leaves, &vec!["MARK".to_string(); leaves.len()]);
        let text = render_with(&marked, Options { undo: true });
        assert!(text.matches("MARK").count() >= 60, "{text}");
    }

    /// Short strings of any characters, with the ones that break or hide a line, and
    /// the quoting characters, much more likely than among all of Unicode.
    fn tricky_string() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let tricky = proptest::sample::select(vec![
            '\n', '\r', '\x0b', '\x0c', '\u{85}', '\u{2028}', '\u{2029}', '\x1b', '\u{202e}',
            '\u{2066}', '\0', '\t', '\x7f', '\'', '\\', '"', '$', ' ', '#',
        ]);
        proptest::collection::vec(prop_oneof![2 => any::<char>(), 1 => tricky], 0..8)
            .prop_map(String::from_iter)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// One step, one line: whatever strings the configuration puts into a plan,
        /// its text form has exactly one line per step (and per undo), and no
        /// character that ends a line or hides what follows.
        #[test]
        fn every_step_is_exactly_one_line(
            values in proptest::collection::vec(tricky_string(), 256)
        ) {
            let (plan, leaves) = sample_leaves();
            let plan = with_appended(plan, leaves, &values);
            let text = render_with(&plan, Options { undo: true });
            let hidden: Vec<char> = text
                .chars()
                .filter(|&c| c != '\n' && crate::plan::words::is_hidden(c))
                .collect();
            proptest::prop_assert!(hidden.is_empty(), "{:?} in {}", hidden, text);
            proptest::prop_assert_eq!(text.lines().count(), expected_lines(&plan));
        }
    }

    #[test]
    fn rendering_is_deterministic() {
        let first = render_with(&sample_plan(), Options { undo: true });
        for _ in 0..3 {
            assert_eq!(render_with(&sample_plan(), Options { undo: true }), first);
        }
    }
}
