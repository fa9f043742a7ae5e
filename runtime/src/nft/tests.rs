//! Tests of the nft module against the kernel. Each test works in its own pinned
//! namespaces and reads back with the real `nft` tool (tests only: the runtime never
//! runs it), so "what conlink sent" is judged by nft's own reading of the kernel.

use super::*;
use crate::netns;
use crate::testing::{can_touch_kernel, skip, TempNetns};
use compiler::plan::{NftChainType, NftRule, PortMatch, Protocol};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

fn ns_path(ns: &TempNetns) -> PathBuf {
    netns::netns_dir().join(&ns.name)
}

/// Runs a program inside `ns` (nsenter by path, so a private `CONLINK_NETNS_DIR` works).
fn run_in(ns: &TempNetns, args: &[&str]) -> Output {
    let net = format!("--net={}", ns_path(ns).display());
    Command::new("nsenter")
        .arg(net)
        .args(args)
        .output()
        .expect("run nsenter")
}

/// Runs a shell script inside `ns` and insists that it succeeds.
fn sh(ns: &TempNetns, script: &str) {
    let out = run_in(ns, &["sh", "-ec", script]);
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The rule lines of `nft list table FAMILY TABLE`, trimmed, in order.
fn nft_rules(ns: &TempNetns, family: &str, table: &str) -> Vec<String> {
    let out = run_in(ns, &["nft", "list", "table", family, table]);
    assert!(
        out.status.success(),
        "nft list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("nat "))
        .map(String::from)
        .collect()
}

/// What `nft list tables` says: nothing, after a failed batch.
fn nft_tables(ns: &TempNetns) -> String {
    String::from_utf8_lossy(&run_in(ns, &["nft", "list", "tables"]).stdout).into_owned()
}

/// A netfilter socket bound to `ns` (it stays there when the thread leaves).
fn sock_in(ns: &TempNetns) -> Socket {
    ns.run(socket).expect("open netfilter socket")
}

fn has_nft(test: &str) -> bool {
    let ok = Command::new("nft").arg("--version").output().is_ok();
    if !ok {
        skip(
            test,
            "the nft tool (package nftables) is not installed; tests read back with it",
        );
    }
    ok
}

fn kernel_test(test: &str) -> bool {
    can_touch_kernel(test) && has_nft(test)
}

fn chain(hook: NftHook, priority: i32, rules: Vec<NftRule>) -> NftChain {
    NftChain {
        name: hook.as_str().into(),
        hook,
        kind: NftChainType::Nat,
        priority,
        rules,
    }
}

fn dnat(
    iifname: Option<&str>,
    port: Option<(Protocol, u16)>,
    to: &str,
    to_port: Option<u16>,
) -> NftRule {
    NftRule::Dnat {
        iifname: iifname.map(String::from),
        iif_external: false,
        port: port.map(|(proto, dport)| PortMatch { proto, dport }),
        to: to.parse().unwrap(),
        to_port,
    }
}

fn snat(
    oifname: &str,
    daddr: Option<&str>,
    port: Option<(Protocol, u16)>,
    to: Option<&str>,
) -> NftRule {
    NftRule::Snat {
        oifname: oifname.into(),
        daddr: daddr.map(|a| a.parse().unwrap()),
        port: port.map(|(proto, dport)| PortMatch { proto, dport }),
        to: to.map(|a| a.parse().unwrap()),
    }
}

fn forward_from_external(dport: u16, to: &str, to_port: u16) -> NftRule {
    NftRule::Dnat {
        iifname: None,
        iif_external: true,
        port: Some(PortMatch {
            proto: Protocol::Tcp,
            dport,
        }),
        to: to.parse().unwrap(),
        to_port: Some(to_port),
    }
}

fn external() -> External {
    External {
        ifname: "ext0".into(),
        addr: Ipv4Addr::new(198, 51, 100, 7),
    }
}

/// The shape of conlink's NAT tables: DNAT at prerouting, SNAT at postrouting.
fn nat_chains() -> Vec<NftChain> {
    vec![
        chain(
            NftHook::Prerouting,
            -100,
            vec![
                dnat(Some("lan"), None, "10.0.0.100", None),
                dnat(None, Some((Protocol::Tcp, 8080)), "10.0.2.10", Some(80)),
                forward_from_external(8443, "10.0.2.11", 443),
            ],
        ),
        chain(
            NftHook::Postrouting,
            100,
            vec![
                snat(
                    "s2",
                    Some("10.0.2.10"),
                    Some((Protocol::Tcp, 80)),
                    Some("192.0.2.1"),
                ),
                snat("br0", None, None, None),
            ],
        ),
    ]
}

#[test]
fn ip_table_reads_back_as_nfts_rules() {
    if !kernel_test("nft::ip_table_reads_back_as_nfts_rules") {
        return;
    }
    let ns = TempNetns::new("nft-ip").unwrap();
    let mut sock = sock_in(&ns);
    add_table(
        &mut sock,
        NftFamily::Ip,
        "conlink-t",
        &nat_chains(),
        Some(&external()),
    )
    .unwrap();
    assert_eq!(
        nft_rules(&ns, "ip", "conlink-t"),
        [
            "type nat hook prerouting priority dstnat; policy accept;",
            "iifname \"lan\" dnat to 10.0.0.100",
            "tcp dport 8080 dnat to 10.0.2.10:80",
            "iifname \"ext0\" tcp dport 8443 dnat to 10.0.2.11:443",
            "type nat hook postrouting priority srcnat; policy accept;",
            "oifname \"s2\" ip daddr 10.0.2.10 tcp dport 80 snat to 192.0.2.1",
            "oifname \"br0\" snat to 198.51.100.7",
        ]
    );
    assert_eq!(
        table_rule_counts(&mut sock, NftFamily::Ip, "conlink-t").unwrap(),
        [
            ("prerouting".to_string(), 3),
            ("postrouting".to_string(), 2)
        ]
    );
    assert_eq!(
        list_tables(&mut sock).unwrap(),
        [(NftFamily::Ip, "conlink-t".to_string())]
    );
}

#[test]
fn inet_and_ip6_tables_read_back_as_nfts_rules() {
    if !kernel_test("nft::inet_and_ip6_tables_read_back_as_nfts_rules") {
        return;
    }
    let ns = TempNetns::new("nft-6").unwrap();
    let mut sock = sock_in(&ns);
    let inet = vec![
        chain(
            NftHook::Prerouting,
            -100,
            vec![
                dnat(
                    Some("eth1"),
                    Some((Protocol::Udp, 53)),
                    "fd00::5",
                    Some(5353),
                ),
                dnat(Some("eth1"), None, "10.0.0.1", None),
            ],
        ),
        chain(
            NftHook::Postrouting,
            100,
            vec![
                snat("x", Some("fd00::1"), None, Some("fd00::2")),
                snat(
                    "y",
                    Some("10.0.0.9"),
                    Some((Protocol::Tcp, 80)),
                    Some("10.0.0.1"),
                ),
            ],
        ),
    ];
    add_table(&mut sock, NftFamily::Inet, "c6", &inet, None).unwrap();
    assert_eq!(
        nft_rules(&ns, "inet", "c6")[1..],
        [
            "iifname \"eth1\" udp dport 53 dnat ip6 to [fd00::5]:5353",
            "iifname \"eth1\" dnat ip to 10.0.0.1",
            "type nat hook postrouting priority srcnat; policy accept;",
            "oifname \"x\" ip6 daddr fd00::1 snat ip6 to fd00::2",
            "oifname \"y\" ip daddr 10.0.0.9 tcp dport 80 snat ip to 10.0.0.1",
        ]
    );
    let ip6 = vec![chain(
        NftHook::Postrouting,
        100,
        vec![snat(
            "x",
            Some("fd00::1"),
            Some((Protocol::Tcp, 80)),
            Some("fd00::2"),
        )],
    )];
    add_table(&mut sock, NftFamily::Ip6, "c6", &ip6, None).unwrap();
    assert_eq!(
        nft_rules(&ns, "ip6", "c6")[1..],
        ["oifname \"x\" ip6 daddr fd00::1 tcp dport 80 snat to fd00::2"]
    );
    let mut tables = list_tables(&mut sock).unwrap();
    tables.sort_by_key(|(f, _)| family_name(*f));
    assert_eq!(
        tables,
        [
            (NftFamily::Inet, "c6".into()),
            (NftFamily::Ip6, "c6".into())
        ]
    );
}

#[test]
fn del_table_removes_everything_and_then_reports_gone() {
    if !kernel_test("nft::del_table_removes_everything_and_then_reports_gone") {
        return;
    }
    let ns = TempNetns::new("nft-del").unwrap();
    let mut sock = sock_in(&ns);
    add_table(
        &mut sock,
        NftFamily::Ip,
        "keep",
        &nat_chains(),
        Some(&external()),
    )
    .unwrap();
    add_table(
        &mut sock,
        NftFamily::Ip,
        "gone",
        &nat_chains(),
        Some(&external()),
    )
    .unwrap();
    del_table(&mut sock, NftFamily::Ip, "gone").unwrap();
    assert_eq!(
        list_tables(&mut sock).unwrap(),
        [(NftFamily::Ip, "keep".to_string())]
    );
    assert!(!nft_tables(&ns).contains("gone"));
    let again = del_table(&mut sock, NftFamily::Ip, "gone").unwrap_err();
    assert!(again.is_gone(), "{again}");
    let counts = table_rule_counts(&mut sock, NftFamily::Ip, "gone").unwrap_err();
    assert!(counts.is_gone(), "{counts}");
    // Same name, other family: a different table.
    assert!(del_table(&mut sock, NftFamily::Inet, "keep")
        .unwrap_err()
        .is_gone());
}

#[test]
fn adding_an_existing_table_fails_and_leaves_it_alone() {
    if !kernel_test("nft::adding_an_existing_table_fails_and_leaves_it_alone") {
        return;
    }
    let ns = TempNetns::new("nft-dup").unwrap();
    let mut sock = sock_in(&ns);
    add_table(
        &mut sock,
        NftFamily::Ip,
        "t",
        &nat_chains(),
        Some(&external()),
    )
    .unwrap();
    let err = add_table(
        &mut sock,
        NftFamily::Ip,
        "t",
        &nat_chains(),
        Some(&external()),
    )
    .unwrap_err();
    assert!(
        err.kernel_error().is_some_and(KernelError::is_exists),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("nft table ip t: add table: "),
        "{err}"
    );
    assert_eq!(
        table_rule_counts(&mut sock, NftFamily::Ip, "t").unwrap(),
        [
            ("prerouting".to_string(), 3),
            ("postrouting".to_string(), 2)
        ]
    );
}

/// Asserts that a refused batch names the failing message, the kernel's errno (and
/// its extended-ack text, when it sent one) and what it means (`says`), and that
/// nothing is left behind.
fn assert_refused_cleanly(
    ns: &TempNetns,
    sock: &mut Socket,
    err: NftError,
    says: &[&str],
    errno: i32,
) {
    let text = err.to_string();
    let kernel = err
        .kernel_error()
        .unwrap_or_else(|| panic!("not a kernel error: {text}"));
    assert_eq!(kernel.errno, errno, "{text}");
    let errno_text = std::io::Error::from_raw_os_error(errno).to_string();
    assert!(text.contains(&errno_text), "{text}");
    if let Some(ack) = &kernel.ext_ack {
        assert!(text.contains(ack.as_str()), "{text}");
    }
    for part in says {
        assert!(text.contains(part), "{text:?} should say {part:?}");
    }
    assert_eq!(list_tables(sock).unwrap(), []);
    assert_eq!(nft_tables(ns).trim(), "", "{text}");
}

#[test]
fn a_refused_batch_leaves_nothing_behind() {
    if !kernel_test("nft::a_refused_batch_leaves_nothing_behind") {
        return;
    }
    let ns = TempNetns::new("nft-bad").unwrap();
    let mut sock = sock_in(&ns);
    let ext = Some(&external());

    // nat chains must run after conntrack (priority > -200): the second chain fails
    // after the table and the first chain had been accepted.
    let mut bad_priority = nat_chains();
    bad_priority[1].priority = -300;
    // snat is not allowed at prerouting: the last message of the batch fails.
    let mut snat_at_prerouting = nat_chains();
    snat_at_prerouting[0]
        .rules
        .push(snat("x", None, None, Some("10.0.0.1")));
    let cases = [
        (
            bad_priority,
            ["add chain postrouting", "priority above -200"],
            libc::EOPNOTSUPP,
        ),
        (
            snat_at_prerouting,
            ["add rule 4 of chain prerouting", "snat at postrouting"],
            libc::EOPNOTSUPP,
        ),
    ];
    for (chains, says, errno) in cases {
        let err = add_table(&mut sock, NftFamily::Ip, "t", &chains, ext).unwrap_err();
        assert_refused_cleanly(&ns, &mut sock, err, &says, errno);
    }

    // A rule for a chain the batch does not create (add_table cannot produce this;
    // build the batch by hand).
    let mut batch = table_batch(NftFamily::Ip, "t", &nat_chains(), ext).unwrap();
    let exprs = expr::rule_exprs(&dnat(None, None, "10.0.0.1", None), NftFamily::Ip, None).unwrap();
    batch.push(rule_message(
        NftFamily::Ip,
        "t",
        "nope",
        &exprs,
        "add rule to nope".into(),
    ));
    let (failed, error) = send_batch(&mut sock, &batch).unwrap_err();
    assert_eq!(failed, Some(batch.len() - 1));
    let err = kernel_error(NftFamily::Ip, "t", &batch, failed, error);
    assert_refused_cleanly(&ns, &mut sock, err, &["add rule to nope"], libc::ENOENT);
}

#[test]
fn placeholders_need_the_external_interface() {
    // No kernel needed: the batch is refused while it is built.
    let err = table_batch(NftFamily::Ip, "t", &nat_chains(), None)
        .err()
        .unwrap();
    assert!(matches!(err, NftError::NoExternal { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "nft table ip t: add rule 3 of chain prerouting needs conlink's external interface \
         ($CONLINK_EXTERNAL_IF), but none is known"
    );
    let only_snat = vec![chain(
        NftHook::Postrouting,
        100,
        vec![snat("br0", None, None, None)],
    )];
    let err = table_batch(NftFamily::Ip, "t", &only_snat, None)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("external address ($CONLINK_EXTERNAL)"),
        "{err}"
    );
}

#[test]
fn a_batch_refused_as_a_whole_is_reported_not_awaited() {
    if !kernel_test("nft::a_batch_refused_as_a_whole_is_reported_not_awaited") {
        return;
    }
    let ns = TempNetns::new("nft-perm").unwrap();
    let mut sock = sock_in(&ns);
    // Without CAP_NET_ADMIN, nfnetlink answers only the batch-begin marker (EPERM),
    // which gets no ack otherwise. A thread that drops its effective uid loses its
    // effective capabilities (the raw syscall changes only this thread).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: raw setresuid(-1, 65534, -1) on this thread only; it ends after.
        let r = unsafe { libc::syscall(libc::SYS_setresuid, -1i64, 65534i64, -1i64) };
        assert_eq!(r, 0);
        let res = add_table(
            &mut sock,
            NftFamily::Ip,
            "t",
            &nat_chains(),
            Some(&external()),
        );
        let _ = tx.send(res);
    });
    let res = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("add_table must not wait for acks the kernel never sends");
    let err = res.unwrap_err();
    assert_eq!(
        err.kernel_error().map(|e| e.errno),
        Some(libc::EPERM),
        "{err}"
    );
    assert!(err.to_string().contains("add table: "), "{err}");
    assert!(err.to_string().contains("CAP_NET_ADMIN"), "{err}");
    assert_eq!(nft_tables(&ns).trim(), "");
}

/// Kills a child this test started, also when an assertion fails first.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// client 10.71.1.2 -- r0 [router: DNAT tcp 8080 -> 10.71.2.2:80] r1 -- server 10.71.2.2
#[test]
fn dnat_carries_tcp_traffic() {
    let test = "nft::dnat_carries_tcp_traffic";
    if !kernel_test(test) {
        return;
    }
    if Command::new("socat").arg("-V").output().is_err() {
        return skip(test, "socat is not installed");
    }
    let [client, router, server] = ["nft-c", "nft-r", "nft-s"].map(|p| TempNetns::new(p).unwrap());
    let (c, s) = (ns_path(&client), ns_path(&server));
    sh(&router, &format!(
        "ip link add r0 type veth peer name c0 netns {}; ip link add r1 type veth peer name s0 netns {}
         ip addr add 10.71.1.1/24 dev r0; ip addr add 10.71.2.1/24 dev r1
         ip link set r0 up; ip link set r1 up; sysctl -qw net.ipv4.ip_forward=1",
        c.display(), s.display()
    ));
    sh(
        &client,
        "ip addr add 10.71.1.2/24 dev c0; ip link set c0 up; ip route add default via 10.71.1.1",
    );
    sh(
        &server,
        "ip addr add 10.71.2.2/24 dev s0; ip link set s0 up; ip route add default via 10.71.2.1",
    );
    let ext = External {
        ifname: "r0".into(),
        addr: Ipv4Addr::new(10, 71, 1, 1),
    };
    let chains = vec![chain(
        NftHook::Prerouting,
        -100,
        vec![forward_from_external(8080, "10.71.2.2", 80)],
    )];
    add_table(
        &mut sock_in(&router),
        NftFamily::Ip,
        "fwd",
        &chains,
        Some(&ext),
    )
    .unwrap();

    let net = format!("--net={}", s.display());
    let _server = KillOnDrop(
        Command::new("nsenter")
            .args([
                net.as_str(),
                "socat",
                "TCP-LISTEN:80,bind=10.71.2.2,reuseaddr,fork",
                "SYSTEM:echo through-dnat",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("start socat"),
    );
    // Retry while the listener starts.
    let mut answer = String::new();
    for _ in 0..50 {
        let out = run_in(
            &client,
            &["socat", "-u", "TCP:10.71.1.1:8080,connect-timeout=2", "-"],
        );
        answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !answer.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(answer, "through-dnat");
}
