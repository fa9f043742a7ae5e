//! conlink touches only what it created, while other programs create interfaces in the
//! same namespace at the same time (docs/decisions.md, "Identity from the kernel"):
//! with `--conlink-netns current` conlink's bridges and outer veth ends live in the
//! host, beside whatever else runs there.

use super::*;
use std::fmt::Write as _;

/// `prefix` nodes × 3 links on 3 bridges; every name starts with `prefix`, so two
/// projects with different prefixes share no name in the host.
fn topology(prefix: &str, nodes: usize) -> String {
    let mut y = String::from("nodes:\n");
    for i in 0..nodes {
        let _ = writeln!(y, "  - name: {prefix}{i}");
    }
    y.push_str("bridges:\n");
    for j in 0..3 {
        let _ = writeln!(y, "  - {{bridge: {prefix}s{j}, mode: linux}}");
    }
    y.push_str("links:\n");
    for i in 0..nodes {
        for j in 0..3 {
            let _ = writeln!(
                y,
                "  - {{node: {prefix}{i}, dev: eth{j}, bridge: {prefix}s{j}, ip: 10.{j}.0.{}/16}}",
                i + 1
            );
        }
    }
    y
}

/// The interfaces of `ns`: (name, alias).
fn links(ns: &str) -> Vec<(String, Option<String>)> {
    let out = must("ip", &["-n", ns, "-j", "-d", "link", "show"]);
    let v: Value = serde_json::from_str(&out).expect("ip -j link");
    v.as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["ifname"].as_str().expect("ifname").to_string(),
                l["ifalias"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Starts `ip -n HOST -force -batch` adding `count` bridges `fdR_N` (R = `round`).
fn foreign_creator(host: &TestHost, dir: &TempDir, round: usize, count: usize) -> Child {
    let mut batch = String::new();
    for n in 0..count {
        let _ = writeln!(batch, "link add fd{round}_{n} type bridge");
    }
    let file = dir.write(&format!("foreign{round}.batch"), &batch);
    Command::new("ip")
        .args(["-n", &host.name, "-force", "-batch"])
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ip -batch")
}

/// While `ip -batch` adds 3000 bridges in the host, `conlink apply --conlink-netns
/// current` builds a topology there: apply succeeds (a collision with the other
/// program is not the user's fault), none of the other program's bridges ever carries
/// conlink's mark, and all of them survive `conlink destroy`.
#[test]
fn interfaces_created_meanwhile_by_another_program_are_never_touched() {
    if !can_run("e2e::ownership::another_program", &[]) {
        return;
    }
    let dir = TempDir::new("own");
    let file = dir.write("net.yaml", &topology("n", 6));
    for round in 0..3 {
        let host = TestHost::new("own");
        let mut p = Project::new(&host, "own")
            .option("--conlink-netns")
            .option("current");
        let mut creator = foreign_creator(&host, &dir, round, 3000);
        // Let it get going, so that conlink's creations meet its creations.
        std::thread::sleep(Duration::from_millis(30));
        let out = p.conlink(&["apply", "-n", file.to_str().expect("utf-8")]);
        assert!(creator.wait().expect("ip -batch").success());
        let foreign = |l: &(String, Option<String>)| l.0.starts_with(&format!("fd{round}_"));
        let after_apply = links(&host.name);
        let marked: Vec<_> = after_apply
            .iter()
            .filter(|l| foreign(l) && l.1.is_some())
            .collect();
        assert!(
            marked.is_empty(),
            "round {round}: the other program's bridges got an alias: {marked:?}\n{}",
            show(&out)
        );
        assert!(
            out.status.success(),
            "round {round}: apply failed: {}",
            show(&out)
        );
        p.destroy();
        let survivors = links(&host.name).iter().filter(|l| foreign(l)).count();
        assert_eq!(
            survivors, 3000,
            "round {round}: destroy removed the other program's bridges"
        );
    }
}

/// Two projects apply at the same time in one host namespace (their names differ):
/// both succeed, each interface carries the mark of the project that made it, and
/// destroying one leaves the other whole.
#[test]
fn two_projects_applying_at_once_in_one_namespace_keep_apart() {
    if !can_run("e2e::ownership::two_projects", &[]) {
        return;
    }
    let dir = TempDir::new("own2");
    let host = TestHost::new("own2");
    for round in 0..3 {
        let fa = dir.write(&format!("a{round}.yaml"), &topology("a", 8));
        let fb = dir.write(&format!("b{round}.yaml"), &topology("b", 8));
        let mut a = Project::new(&host, "owna")
            .option("--conlink-netns")
            .option("current");
        let mut b = Project::new(&host, "ownb")
            .option("--conlink-netns")
            .option("current");
        let (out_a, out_b) = std::thread::scope(|s| {
            let ta = s.spawn(|| a.conlink(&["apply", "-n", fa.to_str().expect("utf-8")]));
            let tb = s.spawn(|| b.conlink(&["apply", "-n", fb.to_str().expect("utf-8")]));
            (ta.join().expect("apply a"), tb.join().expect("apply b"))
        });
        assert!(out_a.status.success(), "round {round}: a: {}", show(&out_a));
        assert!(out_b.status.success(), "round {round}: b: {}", show(&out_b));
        let all = links(&host.name);
        for (name, alias) in &all {
            let want = if name.starts_with('a') {
                Some(a.mark())
            } else if name.starts_with('b') {
                Some(b.mark())
            } else {
                continue;
            };
            assert_eq!(alias, &want, "round {round}: mark of {name}");
        }
        let count = |prefix: char| {
            links(&host.name)
                .iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .count()
        };
        let b_before = count('b');
        assert_eq!(
            b_before,
            3 + 8 * 3,
            "round {round}: b's bridges and outer ends"
        );
        a.destroy();
        assert_eq!(
            count('b'),
            b_before,
            "round {round}: destroying a removed b's"
        );
        b.destroy();
    }
}
