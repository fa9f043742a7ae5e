//! `conlink plan --format script`: the plan as a POSIX shell script of `ip`, `tc`,
//! `nft`, `ethtool` and `sysctl` commands that builds the same network as `apply`
//! (docs/cli.md, "plan"). It is output for people (review, audit, machines where
//! conlink cannot run); conlink never runs it.
//!
//! Each step becomes its command line ([`op_line_named`]), run in the step's namespace
//! under its real name: `ip netns exec NAME …` for namespaces conlink pins (its own and
//! the nodes'), `nsenter -t PID -n …` for containers (whose process ids the script
//! takes from variables, since only the engine knows them), nothing for the namespace
//! the script runs in. Every value from the configuration is one shell word, quoted by
//! [`shell_quote`]; the only expansions are the script's own variables.
//!
//! The script sets conlink's ownership marks as `apply` does (each interface's alias
//! and group are in its `ip link add`; the loopback of each namespace it creates gets
//! the mark), and tags each command it starts with `CONLINK_COMMAND`, so `conlink
//! status` sees what it built and `conlink destroy --project P` removes it.

use crate::plan::words::{escape_hidden, posix_quote as shell_quote};
use crate::plan::{
    op_line_named, LinkSpec, Ns, NsNames, Op, Plan, UnitKind, EXTERNAL_ADDR, EXTERNAL_IF,
};
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;

/// The real names of the namespaces a plan names symbolically (the runtime's naming,
/// passed in: the compiler does not decide it).
#[derive(Clone, Debug)]
pub struct ScriptNames {
    /// conlink's own namespace's pinned name; `None` when conlink's namespace is the
    /// one the script runs in (`--conlink-netns current`).
    pub conlink: Option<String>,
    /// The pinned name of a node's namespace is this followed by the node's name.
    pub node_prefix: String,
}

/// Where the commands of one namespace run.
#[derive(Clone, Debug, PartialEq)]
enum Place {
    /// The namespace the script runs in.
    Here,
    /// A namespace pinned under this name (in /run/netns).
    Pinned(String),
    /// A container's namespace, by the process id in this shell variable.
    Pid(String),
}

impl Place {
    /// How `ip link add … netns X` names it: shell text.
    fn netns_word(&self) -> String {
        match self {
            // The shell's own process is in the namespace the script runs in.
            Place::Here => "$$".into(),
            Place::Pinned(name) => shell_quote(name).into_owned(),
            Place::Pid(var) => format!("\"${var}\""),
        }
    }

    /// What runs a command in it: a prefix ending with a space, or nothing.
    fn prefix(&self) -> String {
        match self {
            Place::Here => String::new(),
            Place::Pinned(name) => format!("ip netns exec {} ", shell_quote(name)),
            Place::Pid(var) => format!("nsenter -t \"${var}\" -n "),
        }
    }
}

/// The script of `plan`, ending with a newline.
pub fn render(plan: &Plan, names: &ScriptNames) -> String {
    // Containers' and replicas' namespaces: one process-id variable each, in plan order.
    let mut pids: Vec<(Ns, String)> = Vec::new();
    for unit in &plan.units {
        if matches!(unit.kind, UnitKind::Container | UnitKind::Service) {
            if let Ok(ns) = unit.id.parse::<Ns>() {
                let var = format!("CONLINK_PID_{}", pids.len() + 1);
                pids.push((ns, var));
            }
        }
    }
    let pid_of: HashMap<Ns, String> = pids.iter().cloned().collect();
    let place = {
        let names = names.clone();
        Rc::new(move |ns: &Ns| -> Place {
            match ns {
                Ns::Host => Place::Here,
                Ns::Conlink => names.conlink.clone().map_or(Place::Here, Place::Pinned),
                Ns::Node(n) => Place::Pinned(format!("{}{n}", names.node_prefix)),
                Ns::Container(_) | Ns::Service(..) => match pid_of.get(ns) {
                    Some(var) => Place::Pid(var.clone()),
                    // Every container namespace a step names has a unit of its own.
                    None => Place::Pid("CONLINK_PID_UNKNOWN".into()),
                },
            }
        })
    };
    let ns_names: NsNames = {
        let place = place.clone();
        Rc::new(move |ns: &Ns| place(ns).netns_word())
    };

    let steps: usize = plan.units.iter().map(|u| u.steps.len()).sum();
    let mut out = String::new();
    let _ = writeln!(out, "#!/bin/sh");
    let _ = writeln!(
        out,
        "# conlink plan as a shell script: project {}, {} units, {steps} steps.",
        escape_hidden(&plan.project),
        plan.units.len()
    );
    out.push_str(concat!(
        "# Written by `conlink plan --format script` for people to read and run by hand;\n",
        "# conlink never runs it. Run it as root, once, with ip, tc, nft, ethtool and\n",
        "# sysctl installed. It marks what it creates as conlink does (interface alias\n",
        "# and group, the loopback's alias in each namespace it creates, CONLINK_COMMAND\n",
        "# in each command's environment), so `conlink status` compares it with the plan\n",
        "# and `conlink destroy --project PROJECT` removes it.\n",
    ));
    out.push_str("set -eu\n");
    if !pids.is_empty() {
        out.push_str(
            "\n# The process id of each container (docker inspect -f '{{.State.Pid}}' NAME):\n",
        );
        for (ns, var) in &pids {
            let _ = writeln!(out, "#   {var}: {}", escape_hidden(&ns.to_string()));
        }
        for (_, var) in &pids {
            let _ = writeln!(
                out,
                ": \"${{{var}:?set it to a container's process id, see above}}\""
            );
        }
    }
    if uses_external(plan) {
        let conlink = place(&Ns::Conlink).prefix();
        out.push_str(
            "\n# conlink's external interface and its IPv4 address (forwarded ports): those of\n\
             # the default IPv4 route in conlink's namespace, unless already set.\n",
        );
        let _ = writeln!(
            out,
            ": \"${{{if}:=$({conlink}ip -4 route show default | awk '{{print $5; exit}}')}}\"",
            if = &EXTERNAL_IF[1..]
        );
        let _ = writeln!(
            out,
            ": \"${{{addr}:=$({conlink}ip -4 -o addr show dev \"${if}\" | awk '{{sub(\"/.*\", \"\", $4); print $4; exit}}')}}\"",
            addr = &EXTERNAL_ADDR[1..],
            if = &EXTERNAL_IF[1..]
        );
    }
    for unit in &plan.units {
        let _ = writeln!(out, "\n# unit {}", escape_hidden(&unit.id));
        for step in &unit.steps {
            let here = place(&step.ns);
            match &step.op {
                Op::NetnsAdd => {
                    if let Place::Pinned(name) = &here {
                        let name = shell_quote(name);
                        let _ = writeln!(out, "ip netns add {name}");
                        let _ = writeln!(
                            out,
                            "ip -n {name} link set lo alias {}",
                            shell_quote(&plan.mark)
                        );
                    } else {
                        let _ = writeln!(
                            out,
                            "# {}: the namespace exists already",
                            escape_hidden(&step.ns.to_string())
                        );
                    }
                }
                Op::NftTableAdd { .. } => {
                    // One argument to `nft`, quoted as a whole (the rules hold `;`, `{`
                    // and `"`), with the placeholders left to the shell.
                    let line = op_line_named(&step.op, &step.ns, plan, ns_names.clone());
                    let rules = line.strip_prefix("nft ").unwrap_or(&line);
                    let _ = writeln!(out, "{}nft {}", here.prefix(), quote_keeping_vars(rules));
                }
                Op::Exec { .. } => {
                    let line = op_line_named(&step.op, &step.ns, plan, ns_names.clone());
                    let command_words = line.strip_prefix("exec ").unwrap_or(&line);
                    let tag = format!("{} {}", plan.project, step.id);
                    let _ = writeln!(
                        out,
                        "{}env CONLINK_COMMAND={} setsid nohup {command_words} </dev/null >/dev/null 2>&1 &",
                        here.prefix(),
                        shell_quote(&tag)
                    );
                }
                Op::LinkAdd {
                    name, netns, spec, ..
                } => {
                    let line = op_line_named(&step.op, &step.ns, plan, ns_names.clone());
                    let _ = writeln!(out, "{}{line}", here.prefix());
                    // The kernel takes no alias when it creates an interface (iproute2
                    // sends it, the kernel ignores it), nor a group for a veth's peer:
                    // set both as `apply` does, so the marks are there.
                    let at = netns.as_ref().map_or(here.clone(), |ns| place(ns));
                    let mark = shell_quote(&plan.mark);
                    let _ = writeln!(
                        out,
                        "{}ip link set {} alias {mark}",
                        at.prefix(),
                        shell_quote(name)
                    );
                    if let LinkSpec::Veth { peer } = spec.as_ref() {
                        let _ = writeln!(
                            out,
                            "{}ip link set {} group {} alias {mark}",
                            place(&peer.netns).prefix(),
                            shell_quote(&peer.name),
                            plan.group
                        );
                    }
                }
                op => {
                    let line = op_line_named(op, &step.ns, plan, ns_names.clone());
                    let _ = writeln!(out, "{}{line}", here.prefix());
                }
            }
        }
    }
    out
}

/// Whether any step refers to conlink's external interface or address.
fn uses_external(plan: &Plan) -> bool {
    plan.units
        .iter()
        .flat_map(|u| &u.steps)
        .any(|s| match &s.op {
            Op::ExternalRouteAdd { .. } => true,
            Op::NftTableAdd { .. } => {
                let line = crate::plan::op_line(&s.op, &s.ns, plan);
                line.contains(EXTERNAL_IF) || line.contains(EXTERNAL_ADDR)
            }
            _ => false,
        })
}

/// `text` as one shell word: single-quoted pieces, with the external placeholders
/// (`$CONLINK_EXTERNAL_IF`, `$CONLINK_EXTERNAL`) between them double-quoted so the
/// shell expands them.
fn quote_keeping_vars(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        // The longer placeholder first: the other is its prefix.
        let next = [EXTERNAL_IF, EXTERNAL_ADDR]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, *p)))
            .min_by_key(|(i, p)| (*i, std::cmp::Reverse(p.len())));
        match next {
            Some((i, p)) => {
                if i > 0 {
                    out.push_str(&shell_quote(&rest[..i]));
                }
                let _ = write!(out, "\"${{{}}}\"", &p[1..]);
                rest = &rest[i + p.len()..];
            }
            None => {
                if !rest.is_empty() || out.is_empty() {
                    out.push_str(&shell_quote(rest));
                }
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_stay_variables_and_the_rest_is_quoted() {
        assert_eq!(
            quote_keeping_vars("add x { iifname $CONLINK_EXTERNAL_IF snat to $CONLINK_EXTERNAL; }"),
            "'add x { iifname '\"${CONLINK_EXTERNAL_IF}\"' snat to '\"${CONLINK_EXTERNAL}\"'; }'"
        );
        assert_eq!(quote_keeping_vars("a b"), "'a b'");
        assert_eq!(quote_keeping_vars(""), "''");
    }
}
