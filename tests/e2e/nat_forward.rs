//! `nat` (1:1 NAT at a gateway node) and `forward` (ports of conlink's external
//! interface forwarded to a node), as docs/configuration.md, "forward and nat",
//! describes them.

use super::*;

/// Like examples/macvlan-vlan-nat's gw: a macvlan on the host's par0 with `nat`, and a
/// server behind a bridge. The server says whom it sees; the client end of the test
/// segment does the same, so each side shows what NAT did to addresses.
const NAT: &str = r#"
nodes:
  - {name: gw, sysctls: {net.ipv4.ip_forward: 1}}
  - {name: server}
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: gw, type: macvlan, mode: bridge, outer-dev: par0, dev: lan, ip: 198.51.100.50/24, nat: 10.0.0.100}
  - {node: gw, dev: eth1, bridge: s1, ip: 10.0.0.1/24}
  - {node: server, bridge: s1, ip: 10.0.0.100/24, route: default via 10.0.0.1}
commands:
  - node: server
    command: [socat, "TCP-LISTEN:8080,fork,reuseaddr", "SYSTEM:echo server sees $$SOCAT_PEERADDR"]
"#;

#[test]
fn nat_maps_the_gateway_address_to_the_server() {
    if !can_run("e2e::nat", &["socat", "nft"]) {
        return;
    }
    let dir = TempDir::new("nat");
    let file = dir.write("network.yaml", NAT);
    let host = TestHost::new("nat");
    let lan = TestHost::new("natlan");
    wire(&host, "par0", "", &lan, "peer0", "198.51.100.1/24");
    let mut p = Project::new(&host, "nat");
    p.apply(&file);
    p.assert_in_sync(&file);

    // DNAT: the client talks to the gateway's address and reaches the server, which
    // sees the client's real address (only the destination is rewritten); the reply
    // comes back through the gateway (socat connected to .50 and got it).
    assert_tcp_answer(&lan.name, "198.51.100.50", 8080, "server sees 198.51.100.1");

    // SNAT: the server's own connections to the LAN appear to come from .50.
    let _listener = Background::in_ns(
        &lan.name,
        &[
            "socat",
            "TCP-LISTEN:9000,fork,reuseaddr",
            "SYSTEM:echo client sees $SOCAT_PEERADDR",
        ],
    );
    assert_tcp_answer(
        &p.node("server"),
        "198.51.100.1",
        9000,
        "client sees 198.51.100.50",
    );

    // Without the gateway's NAT table the server is no longer reachable at .50.
    let tables = must_in_ns(&p.node("gw"), &["nft", "-j", "list", "tables"]);
    let v: Value = serde_json::from_str(&tables).expect("nft json");
    let name = v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|i| i["table"]["name"].as_str().map(String::from))
        .expect("a NAT table in gw");
    must_in_ns(&p.node("gw"), &["nft", "delete", "table", "ip", &name]);
    assert!(tcp_request(&lan.name, "198.51.100.50", 8080).is_none());
    let out = p.status(&file);
    assert_eq!(
        out.status.code(),
        Some(1),
        "status misses the lost table: {}",
        show(&out)
    );
    assert!(text(&out.stdout).contains(&name), "{}", show(&out));
    // apply puts it back.
    p.apply(&file);
    p.assert_in_sync(&file);
    assert_tcp_answer(&lan.name, "198.51.100.50", 8080, "server sees");

    p.destroy();
}

/// A web node whose port 80 is conlink's external port 8080.
const FORWARD: &str = r#"
nodes:
  - name: web
bridges:
  - {bridge: s1, mode: linux}
links:
  - {node: web, bridge: s1, ip: 10.0.1.5/24, forward: "8080:80/tcp"}
commands:
  - node: web
    command: [socat, "TCP-LISTEN:80,fork,reuseaddr", "SYSTEM:echo web sees $$SOCAT_PEERADDR"]
"#;

/// A test host with an "external" interface ext0 (10.77.0.1, default route via the
/// client) and a client namespace at 10.77.0.2.
fn host_with_client() -> (TestHost, TestHost) {
    let host = TestHost::new("fwd");
    let client = TestHost::new("fwdc");
    wire(
        &host,
        "ext0",
        "10.77.0.1/24",
        &client,
        "cli0",
        "10.77.0.2/24",
    );
    host.ip(&["route", "add", "default", "via", "10.77.0.2"]);
    (host, client)
}

#[test]
fn forward_reaches_the_node_from_outside() {
    if !can_run("e2e::forward", &["socat", "nft"]) {
        return;
    }
    let dir = TempDir::new("fwd");
    let file = dir.write("network.yaml", FORWARD);
    let (host, client) = host_with_client();
    // conlink's namespace is the host itself, so ext0 is its external interface.
    let mut p = Project::new(&host, "fwd")
        .option("--conlink-netns")
        .option("current");
    p.apply(&file);
    p.assert_in_sync(&file);

    // The request to the host's external port reaches the node's port 80, masqueraded
    // to conlink's external address (so the node answers through conlink).
    assert_tcp_answer(&client.name, "10.77.0.1", 8080, "web sees 10.77.0.1");
    // Only the forwarded port: nothing listens on the host's own port 80.
    assert!(tcp_request(&client.name, "10.77.0.1", 80).is_none());
    // The node got the route back to conlink's external address.
    let route = must_in_ns(&p.node("web"), &["ip", "route", "get", "10.77.0.1"]);
    assert!(route.contains("dev eth0"), "{route}");

    p.destroy();
    // The host's own interface and routes are untouched.
    let routes = host.ip(&["route", "show"]);
    assert!(routes.contains("default via 10.77.0.2"), "{routes}");
    assert!(
        !routes.contains("10.0.1.5"),
        "route to the node left: {routes}"
    );
}

/// destroy with the state file lost must also remove the forward's nft table in the
/// host (docs/plan.md, "Ownership": everything is found through ownership marks).
#[test]
fn forward_is_removed_without_state_file() {
    if !can_run("e2e::forward::no_state", &["socat", "nft"]) {
        return;
    }
    let dir = TempDir::new("fwdns");
    let file = dir.write("network.yaml", FORWARD);
    let (host, client) = host_with_client();
    let mut p = Project::new(&host, "fwdns")
        .option("--conlink-netns")
        .option("current");
    p.apply(&file);
    assert_tcp_answer(&client.name, "10.77.0.1", 8080, "web sees");
    // Checks (through assert_gone) that no conlink nft table is left in the host.
    p.destroy_without_state();
}
