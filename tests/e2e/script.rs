//! `conlink plan --format script` builds the same network as `conlink apply`: each
//! nodes-only example this kernel can build is built both ways, one after the other,
//! in two test hosts, and the kernel state of the two is compared (namespaces;
//! interfaces with name, kind, MTU, MAC, state (up, carrier), master, alias, group and altnames;
//! addresses; routes; qdiscs and ingress filters; nft rulesets; the plan's sysctls).
//! What legitimately differs is normalised: the host's name, and the MAC addresses
//! the kernel picks at random (those the plan does not set). The scripted network is
//! then checked by `conlink status` and removed with `conlink destroy`, both through
//! the ownership marks the script set (there is no state file).

use super::*;
use std::collections::{BTreeMap, BTreeSet};

/// Why an example cannot be built both ways here, read from its plan.
fn cannot_build(plan: &Value) -> Option<String> {
    let mut missing = BTreeSet::new();
    for unit in plan["units"].as_array().expect("units") {
        let kind = unit["kind"].as_str().unwrap_or("");
        if kind == "container" || kind == "service" {
            return Some(format!(
                "it has a {kind} (the script takes container process ids from an engine)"
            ));
        }
        for step in unit["steps"].as_array().expect("steps") {
            let op = &step["op"];
            match op["op"].as_str().unwrap_or("") {
                "link_add" => {
                    let t = op["spec"]["type"].as_str().unwrap_or("");
                    if ["dummy", "vlan", "ipvlan", "ipvtap", "geneve"].contains(&t) {
                        missing.insert(format!("{t} links"));
                    }
                    if ["macvlan", "macvtap", "vxlan"].contains(&t) {
                        missing.insert(format!("{t} links (a parent or underlay of the host)"));
                    }
                }
                "qdisc_add" if op["qdisc"]["kind"] == "netem" => {
                    missing.insert("the netem qdisc".to_string());
                }
                o if o.starts_with("ovs_") => {
                    missing.insert("Open vSwitch".to_string());
                }
                _ => {}
            }
        }
    }
    (!missing.is_empty()).then(|| {
        format!(
            "this kernel or test host lacks {}",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

/// Every MAC address the plan sets (the others are the kernel's random choice).
fn planned_macs(plan: &Value) -> BTreeSet<String> {
    let mut macs = BTreeSet::new();
    for unit in plan["units"].as_array().expect("units") {
        for step in unit["steps"].as_array().expect("steps") {
            let op = &step["op"];
            for mac in [&op["mac"], &op["spec"]["peer"]["mac"]] {
                if let Some(m) = mac.as_str() {
                    macs.insert(m.to_lowercase());
                }
            }
        }
    }
    macs
}

/// The plan's sysctl keys per namespace symbol.
fn planned_sysctls(plan: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for unit in plan["units"].as_array().expect("units") {
        for step in unit["steps"].as_array().expect("steps") {
            if step["op"]["op"] == "sysctl" {
                let ns = step["ns"].as_str().unwrap_or("").to_string();
                let key = step["op"]["key"].as_str().unwrap_or("").to_string();
                out.entry(ns).or_default().insert(key);
            }
        }
    }
    out
}

fn json_of(out: String) -> Vec<Value> {
    serde_json::from_str::<Value>(if out.trim().is_empty() { "[]" } else { &out })
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

/// The kernel state of `project` built from `host`: one line per fact, under the
/// namespace's name with the host's name replaced by `HOST`.
fn kernel_state(project: &str, host: &str, plan: &Value) -> BTreeSet<String> {
    let macs = planned_macs(plan);
    let sysctls = planned_sysctls(plan);
    let own = format!("conlink.{project}");
    let mut spaces: Vec<(String, String)> = vec![("HOST".into(), host.to_string())];
    let mut pinned: Vec<String> = std::fs::read_dir("/run/netns")
        .expect("read /run/netns")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == &own || n.starts_with(&format!("{own}.")))
        .collect();
    pinned.sort();
    spaces.extend(pinned.iter().map(|n| (n.clone(), n.clone())));
    let mut facts = BTreeSet::new();
    for (label, ns) in &spaces {
        facts.insert(format!("{label}: namespace"));
        let links = json_of(must("ip", &["-n", ns, "-j", "-d", "link", "show"]));
        for l in &links {
            let name = l["ifname"].as_str().unwrap_or("?");
            let mac = l["address"].as_str().unwrap_or("").to_lowercase();
            let mac = if macs.contains(&mac) {
                mac
            } else {
                "(random)".into()
            };
            let flag = |name: &str| {
                l["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == name))
            };
            facts.insert(format!(
                "{label}: link {name} kind={} mtu={} mac={mac} up={} carrier={} master={} alias={} group={} altnames={}",
                l["linkinfo"]["info_kind"].as_str().unwrap_or("-"),
                l["mtu"],
                flag("UP"),
                flag("LOWER_UP"),
                l["master"].as_str().unwrap_or("-"),
                l["ifalias"].as_str().unwrap_or("-"),
                l["group"],
                l["altnames"],
            ));
            let filters = must("tc", &["-n", ns, "filter", "show", "dev", name, "ingress"]);
            if !filters.trim().is_empty() {
                facts.insert(format!("{label}: ingress filters of {name}: {filters}"));
            }
        }
        for a in json_of(must("ip", &["-n", ns, "-j", "addr", "show"])) {
            for info in a["addr_info"].as_array().into_iter().flatten() {
                if is_kernels_link_local(info["local"].as_str()) {
                    continue;
                }
                facts.insert(format!(
                    "{label}: address {} {}/{} scope {}",
                    a["ifname"].as_str().unwrap_or("?"),
                    info["local"].as_str().unwrap_or("?"),
                    info["prefixlen"],
                    info["scope"].as_str().unwrap_or("?"),
                ));
            }
        }
        for family in ["-4", "-6"] {
            for r in json_of(must(
                "ip",
                &["-n", ns, family, "-j", "route", "show", "table", "all"],
            )) {
                if r["protocol"] == "kernel" && is_kernels_link_local(r["dst"].as_str()) {
                    continue;
                }
                facts.insert(format!("{label}: route {r}"));
            }
        }
        for q in json_of(must("tc", &["-n", ns, "-j", "qdisc", "show"])) {
            facts.insert(format!("{label}: qdisc {q}"));
        }
        let ruleset = must_in_ns(ns, &["nft", "list", "ruleset"]);
        facts.insert(format!("{label}: nft {ruleset}"));
        let symbol = if label == "HOST" {
            "host".to_string()
        } else if *ns == own {
            "conlink".to_string()
        } else {
            format!("node:{}", &ns[own.len() + 1..])
        };
        for key in sysctls.get(&symbol).into_iter().flatten() {
            let value = must_in_ns(ns, &["sysctl", "-n", key]);
            facts.insert(format!("{label}: sysctl {key}={}", value.trim()));
        }
    }
    facts
}

/// The state once it stops changing (operational states and link-down flags settle a
/// moment after the last change).
fn settled_state(project: &str, host: &str, plan: &Value) -> BTreeSet<String> {
    let mut last = kernel_state(project, host, plan);
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(200));
        let now = kernel_state(project, host, plan);
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

#[test]
fn the_script_builds_what_apply_builds() {
    if !can_run(
        "e2e::script",
        &["sh", "nft", "tc", "ethtool", "sysctl", "setsid", "nohup"],
    ) {
        return;
    }
    let mut built = Vec::new();
    for dir in crate::util::entries(&crate::util::root().join("examples")) {
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let spec = crate::util::parse_spec(
            &std::fs::read_to_string(dir.join("conlink.test")).expect("conlink.test"),
            false,
        );
        // The example's own sources, without its `--project` (each build here gets a
        // unique project name).
        let mut sources = Vec::new();
        let mut args = spec.args.iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--project" => {
                    args.next();
                }
                "-n" | "-c" => {
                    let file = args.next().expect("a file after -n/-c");
                    for part in file.split(':') {
                        sources.push(a.clone());
                        sources.push(dir.join(part).to_string_lossy().into_owned());
                    }
                }
                other => sources.push(other.to_string()),
            }
        }
        let src: Vec<&str> = sources.iter().map(String::as_str).collect();
        let env: Vec<(String, String)> = spec.env.clone();

        let host_a = TestHost::new("sca");
        let mut applied = Project::new(&host_a, "sc");
        applied.env = env.clone();
        let plan_out = applied.conlink(&[&["plan", "--format", "json"], &src[..]].concat());
        assert!(
            plan_out.status.success(),
            "plan of {name}: {}",
            show(&plan_out)
        );
        let plan: Value = serde_json::from_slice(&plan_out.stdout).expect("plan JSON");
        if let Some(why) = cannot_build(&plan) {
            applied.destroy_quietly();
            runtime::testing::skip(&format!("e2e::script ({name})"), &why);
            continue;
        }

        let out = applied.conlink(&[&["apply"], &src[..]].concat());
        assert!(out.status.success(), "apply {name}: {}", show(&out));
        let by_apply = settled_state(&applied.name, &host_a.name, &plan);
        applied.destroy();

        // The same project, scripted, in a second host.
        let host_b = TestHost::new("scb");
        let mut scripted = Project::new(&host_b, "sc").named(&applied.name);
        scripted.env = env.clone();
        let out = scripted.conlink(&[&["plan", "--format", "script"], &src[..]].concat());
        assert!(out.status.success(), "plan script {name}: {}", show(&out));
        let script = scripted.dir().join("build.sh");
        std::fs::write(&script, &out.stdout).expect("write script");
        // Run in the host's network namespace only: `ip netns exec` would also give
        // the script a private mount namespace, where the namespaces it pins with
        // `ip netns add` stay invisible to everyone else (the runtime steps out of it;
        // a person running the script is in the machine's mount namespace anyway).
        let run = run(
            "nsenter",
            &[
                &format!("--net=/run/netns/{}", host_b.name),
                "sh",
                script.to_str().unwrap(),
            ],
        );
        assert!(
            run.status.success(),
            "the script of {name} failed: {}",
            show(&run)
        );
        let by_script = settled_state(&scripted.name, &host_b.name, &plan);

        let only_apply: Vec<_> = by_apply.difference(&by_script).collect();
        let only_script: Vec<_> = by_script.difference(&by_apply).collect();
        assert!(
            only_apply.is_empty() && only_script.is_empty(),
            "example {name}: the script builds something else than apply\n\
             only after apply:\n  {}\nonly after the script:\n  {}",
            only_apply
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
            only_script
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
        );
        // `conlink status` takes the scripted network for its own (the marks), with
        // nothing missing, different, extra or foreign. (A command's own failure would
        // be a difference too, but that is the command's: `arping` may find no reply.)
        // One exception: the script keeps no exit records, so a command it started
        // that has since ended (`arping -c 3` lasts about two seconds) reads as
        // missing. Such a line is accepted only if no process carries that step's tag
        // after `status` answered: a command that runs must never read as missing.
        let st = scripted.conlink(&[&["status"], &src[..]].concat());
        let running: Vec<String> = runtime::command::find_running(&scripted.name)
            .into_iter()
            .map(|f| f.step)
            .collect();
        let differences: Vec<&str> = std::str::from_utf8(&st.stdout)
            .expect("utf-8")
            .lines()
            .filter(|l| {
                ["missing ", "different ", "extra ", "foreign "]
                    .iter()
                    .any(|w| l.starts_with(w))
            })
            .filter(|l| !is_ended_scripted_command(l, &running))
            .collect();
        assert!(
            differences.is_empty(),
            "example {name}: status of the scripted network: {}",
            show(&st)
        );
        // `conlink destroy` finds the scripted network by its marks (there is no
        // state file) and removes all of it, commands included.
        scripted.destroy();
        built.push(name);
    }
    eprintln!("e2e::script built both ways: {built:?}");
    assert!(
        built.len() >= 2,
        "only {built:?} could be built both ways; the test compares too little"
    );
}

/// Whether a `status` line is a missing `exec` step whose command is not among the
/// `running` steps: a command the script started and that has ended since (the script
/// keeps no exit records, so `status` cannot tell it from one that never ran).
fn is_ended_scripted_command(line: &str, running: &[String]) -> bool {
    let mut words = line.split_whitespace();
    let (Some("missing"), Some(step), Some("exec")) = (words.next(), words.next(), words.next())
    else {
        return false;
    };
    let step = step.trim_end_matches(':');
    !running.iter().any(|r| r == step)
}

/// An IPv6 link-local address (or its route) the kernel makes by itself when an
/// interface comes up, after duplicate address detection: when it appears depends on
/// timing, not on what conlink or the script did, so it is left out of the comparison.
fn is_kernels_link_local(addr: Option<&str>) -> bool {
    addr.is_some_and(|a| a.starts_with("fe80:"))
}
