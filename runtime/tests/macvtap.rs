//! A macvtap whose parent is in the host namespace, created by `apply` straight into
//! its node, read back from the kernel, and removed by `destroy` while the parent stays.

use compiler::source::{SourceFile, SourceKind};
use runtime::apply::{apply, Hooks};
use runtime::context::Settings;
use runtime::lock::Wait;
use runtime::progress::Quiet;
use runtime::resolve::ConlinkNs;
use runtime::testing::{can_touch_kernel, unique, TempNetns};
use std::process::Command;

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn macvtap_on_a_host_parent_is_created_in_its_node_and_removed() {
    if !can_touch_kernel("macvtap::macvtap_on_a_host_parent") {
        return;
    }
    let project = unique("mt");
    let host = TempNetns::new("mthost").expect("test host namespace");
    // The parent: one end of a veth pair in the test host.
    ip(&[
        "-n", &host.name, "link", "add", "par0", "type", "veth", "peer", "name", "par1",
    ]);
    ip(&["-n", &host.name, "link", "set", "par0", "up"]);
    let config = "
nodes: [{name: tap}]
links:
  - {node: tap, type: macvtap, mode: bridge, outer-dev: par0, dev: mt0, mac: 02:00:00:00:07:01, ip: 10.70.0.1/24}
";
    let files = vec![SourceFile::new("net.yaml", config, SourceKind::Network)];
    let opts = compiler::Options {
        project: Some(project.clone()),
        ..Default::default()
    };
    let plan = compiler::compile(files, &Default::default(), &opts)
        .plan
        .expect("the macvtap configuration compiles");
    let state_dir = runtime::testing::TempDir::new("conlink-macvtap-");
    let s = Settings {
        state_dir: state_dir.path().to_path_buf(),
        netns_dir: runtime::netns::netns_dir(),
        conlink_ns: ConlinkNs::Own,
        wait: Wait::Yes,
        containers: None,
    };
    host.run(|| apply(&plan, &s, &Hooks::default(), &mut Quiet))
        .expect("apply");

    let node = format!("conlink.{project}.tap");
    let shown = ip(&["-n", &node, "-d", "link", "show", "mt0"]);
    assert!(shown.contains("macvtap mode bridge"), "{shown}");
    assert!(shown.contains("02:00:00:00:07:01"), "{shown}");
    assert!(
        shown.contains(&format!("alias conlink:{project}")),
        "{shown}"
    );
    let addrs = ip(&["-n", &node, "-4", "addr", "show", "mt0"]);
    assert!(addrs.contains("10.70.0.1/24"), "{addrs}");
    // Nothing of it in the host but its parent.
    let host_links = ip(&["-n", &host.name, "-o", "link"]);
    assert!(!host_links.contains("mt0"), "{host_links}");

    let removed = host
        .run(|| runtime::destroy::destroy(&project, &s, &mut Quiet))
        .expect("destroy");
    assert!(removed.problems.is_empty(), "{:?}", removed.problems);
    assert!(!runtime::netns::netns_dir().join(&node).exists());
    let host_links = ip(&["-n", &host.name, "-o", "link"]);
    assert!(
        host_links.contains("par0"),
        "destroy must leave the parent: {host_links}"
    );
}
