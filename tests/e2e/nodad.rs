//! IPv6 addresses are added without duplicate address detection (docs/decisions.md,
//! "Readiness inside containers"): usable the moment `apply` returns, not "tentative"
//! for a second or two, so a ping right after readiness works.

use super::*;

const CONFIG: &str = r#"
nodes: [{name: a}, {name: b}]
bridges: [{bridge: s1, mode: linux}]
links:
  - {node: a, bridge: s1, ip: [10.7.0.1/24, "fd00:7::1/64"]}
  - {node: b, bridge: s1, ip: [10.7.0.2/24, "fd00:7::2/64"]}
"#;

/// The flags `ip -j addr` shows for `addr` on `dev` in `ns` (`nodad`, `tentative`, …).
fn flags(ns: &str, dev: &str, addr: &str) -> Vec<String> {
    let out = must_in_ns(ns, &["ip", "-j", "-6", "addr", "show", "dev", dev]);
    let v: Value = serde_json::from_str(&out).expect("ip -j output");
    let info = v[0]["addr_info"].as_array().cloned().unwrap_or_default();
    let entry = info
        .iter()
        .find(|a| a["local"].as_str() == Some(addr))
        .unwrap_or_else(|| panic!("{addr} not on {dev} in {ns}: {out}"));
    let obj = entry.as_object().expect("an object");
    ["nodad", "tentative", "dadfailed", "optimistic"]
        .into_iter()
        .filter(|f| obj.get(*f).and_then(Value::as_bool) == Some(true))
        .map(String::from)
        .collect()
}

#[test]
fn ipv6_addresses_are_usable_as_soon_as_apply_returns() {
    if !can_run("e2e::nodad", &["ping"]) {
        return;
    }
    let dir = TempDir::new("nodad");
    let file = dir.write("network.yaml", CONFIG);
    let host = TestHost::new("nodad");
    let mut p = Project::new(&host, "nodad");
    p.apply(&file);
    // Read at once, not polled: without `nodad` both would still be tentative.
    let (a, b) = (p.node("a"), p.node("b"));
    assert_eq!(flags(&a, "eth0", "fd00:7::1"), ["nodad"]);
    assert_eq!(flags(&b, "eth0", "fd00:7::2"), ["nodad"]);
    // One probe, no retry: it works the first time.
    let out = ping_once(&a, "fd00:7::2");
    assert!(out.status.success(), "first ping over IPv6: {}", show(&out));
    p.assert_in_sync(&file);
    p.destroy();
}
