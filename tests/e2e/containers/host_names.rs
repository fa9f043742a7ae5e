//! The container issue's scenario 3: plain `docker run --network none` containers
//! wired from the host by `conlink run -n net.yaml`, the network file naming them
//! through `${NODE_NAME}` (set in conlink's environment), one of them with a name
//! long enough that its outer veth end must get a short name (docs/configuration.md,
//! "Replicas, names and derived values"): the name in conlink's namespace is the one
//! `conlink plan` shows, at most 15 bytes, with the full name as its altname (and
//! without one for a name too long for an altname, which Docker allows: the kernel
//! refuses such an altname, and the whole veth with it).

use super::lab::{conlink_links, planned_outer, Lab, Running};
use crate::e2e::{must_in_ns, show, text};
use std::time::Duration;

/// Container names and addresses come from `NODE_NAME`; without it the file is an
/// error (the `?` form).
const NETWORK: &str = "links:
  - {container: '${NODE_NAME:?set NODE_NAME to this machine name}-a', bridge: s1, ip: 10.9.3.1/24}
  - {container: '${NODE_NAME}-${LONG}', bridge: s1, ip: 10.9.3.2/24}
  - {container: '${NODE_NAME}-${HUGE}', bridge: s1, ip: 10.9.3.3/24}
";

const NODE_NAME: &str = "n7";
/// 44 characters: `n7-` and this, then `-eth0`, is 51 bytes.
const LONG: &str = "with-a-container-name-longer-than-ifnamsiz";
/// `n7-`, 125 characters and `-eth0`: 133 bytes, more than an altname may have.
fn huge() -> String {
    "h".repeat(125)
}

#[test]
fn run_on_the_host_wires_interpolated_names_and_shortens_a_long_outer_name() {
    let test = "e2e::containers::host_names::run_on_the_host_wires_interpolated_names_and_shortens_a_long_outer_name";
    let Some(lab) = Lab::without_conlink_image(test, "hostnames") else {
        return;
    };
    let net = lab.write_file("net.yaml", NETWORK);
    let net = net.to_str().unwrap();
    let conlink = |args: &[&str]| {
        let mut cmd = lab.host_conlink(args);
        cmd.env("NODE_NAME", NODE_NAME)
            .env("LONG", LONG)
            .env("HUGE", huge());
        cmd
    };
    let short_name = format!("{NODE_NAME}-a");
    let long_name = format!("{NODE_NAME}-{LONG}");
    let huge_name = format!("{NODE_NAME}-{}", huge());

    // Without NODE_NAME the file says what is missing.
    let out = lab.host_conlink(&["plan", "-n", net]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("set NODE_NAME to this machine name"),
        "{}",
        show(&out)
    );

    // The plan names the long container's outer end: 15 bytes, the full name kept.
    let out = conlink(&["plan", "-n", net]).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let plan = text(&out.stdout);
    let (outer_a, alt_a) = planned_outer(&plan, &format!("container:{short_name}"));
    assert_eq!((outer_a.as_str(), alt_a), ("n7-a-eth0", None), "{plan}");
    let (outer_long, alt_long) = planned_outer(&plan, &format!("container:{long_name}"));
    assert!(outer_long.len() <= 15, "{outer_long:?}");
    assert!(outer_long.starts_with("n7-with-"), "{outer_long:?}");
    assert_eq!(alt_long.as_deref(), Some(&*format!("{long_name}-eth0")));
    let (outer_huge, alt_huge) = planned_outer(&plan, &format!("container:{huge_name}"));
    assert!(outer_huge.len() <= 15, "{outer_huge:?}");
    assert_eq!(alt_huge, None, "{plan}");
    assert_ne!(outer_huge, outer_long);

    lab.run_container(&short_name, &[], &[]);
    lab.run_container(&long_name, &[], &[]);
    lab.run_container(&huge_name, &[], &[]);
    let mut run = Running::spawn(conlink(&["run", "-n", net]));
    let log = run.wait_for("All links connected", 1, Duration::from_secs(30));
    assert!(log.contains("4 unit(s) wired, 0 waiting"), "{log}");

    // conlink's namespace holds exactly the planned names, none longer than 15 bytes.
    let names = conlink_links(&lab.project);
    let mut want = vec![
        "lo",
        "s1",
        outer_a.as_str(),
        outer_long.as_str(),
        outer_huge.as_str(),
    ];
    want.sort();
    assert_eq!(names, want);
    assert!(names.iter().all(|n| n.len() <= 15), "{names:?}");
    let conlink_ns = format!("conlink.{}", lab.project);
    let shown = must_in_ns(
        &conlink_ns,
        &["ip", "-o", "link", "show", "dev", &outer_long],
    );
    assert!(
        shown.contains(&format!("altname {long_name}-eth0")),
        "{shown}"
    );
    // The full name finds the interface too.
    let by_alt = must_in_ns(
        &conlink_ns,
        &[
            "ip",
            "-o",
            "link",
            "show",
            "dev",
            &format!("{long_name}-eth0"),
        ],
    );
    assert!(by_alt.contains(&format!(" {outer_long}@")), "{by_alt}");

    lab.docker_ping(&short_name, "10.9.3.2").unwrap();
    lab.docker_ping(&long_name, "10.9.3.1").unwrap();
    lab.docker_ping(&huge_name, "10.9.3.2").unwrap();

    let log = run.terminate();
    eprintln!("{test}: conlink run's log:\n{log}");
    for name in [&short_name, &long_name, &huge_name] {
        let links = text(&lab.docker_exec(name, &["ip", "-o", "link"]).stdout);
        assert!(!links.contains("eth0"), "{name}: {links}");
    }
    lab.assert_nothing_left();
}
