//! Identity from the kernel (docs/decisions.md): the engine proposes the ifindex of
//! each interface it creates, and another program may have taken it. These tests take
//! it on purpose, between conlink's reading of the namespace and its create, and check
//! that conlink's requests reach only what it created.

use compiler::plan::{LinkSpec, Ns, Op, VethPeer};
use runtime::context::{Context, Settings};
use runtime::engine::Origin;
use runtime::error::{NotOurs, StepError};
use runtime::families;
use runtime::lock::Wait;
use runtime::observe;
use runtime::resolve::ConlinkNs;
use runtime::steps;
use runtime::testing::{can_touch_kernel, TempDir, TempNetns};
use std::process::Command;

const MARK: &str = "conlink:identity";
const GROUP: u32 = 4242;

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bridge(name: &str) -> Op {
    Op::LinkAdd {
        name: name.into(),
        netns: None,
        mtu: None,
        mac: None,
        altname: None,
        master: None,
        up: true,
        spec: Box::new(LinkSpec::Bridge),
    }
}

/// A veth `name` enslaved to `master`, with its peer `peer` in the same namespace.
fn veth(name: &str, peer: &str, master: &str) -> Op {
    Op::LinkAdd {
        name: name.into(),
        netns: None,
        mtu: None,
        mac: None,
        altname: Some(format!("{name}-long-name")),
        master: Some(master.into()),
        up: true,
        spec: Box::new(LinkSpec::Veth {
            peer: VethPeer {
                name: peer.into(),
                netns: Ns::Conlink,
                mtu: None,
                mac: None,
                queues: Some(1),
            },
        }),
    }
}

/// Carries out `ops` as steps 0, 1, … of conlink's namespace (the test host, as with
/// `--conlink-netns current`), sends them, and returns the first failure in plan order
/// (as `apply` reports it: a refusal of the kernel before a later step's error).
fn carry_out(cx: &mut Context, ops: &[Op]) -> Option<StepError> {
    let mut failed = None;
    for (ordinal, op) in ops.iter().enumerate() {
        let action = families::action(op);
        let id = format!("network/{ordinal}");
        let at = runtime::action::At {
            step: &id,
            ns: &Ns::Conlink,
            origin: Origin::Step(ordinal),
        };
        if let Err(e) = steps::carry_out(cx, &*action, &at) {
            failed = Some(e);
            break;
        }
    }
    cx.flush().expect("send");
    cx.engine_mut().take_refused().map(|f| f.error).or(failed)
}

/// The interfaces of the calling thread's namespace.
fn links() -> Vec<observe::LinkRead> {
    let mut sock = runtime::netlink::Socket::route().expect("socket");
    observe::links(&mut sock).expect("dump")
}

fn link<'a>(all: &'a [observe::LinkRead], name: &str) -> &'a observe::LinkRead {
    all.iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn context(dir: &TempDir) -> Context {
    let settings = Settings {
        state_dir: dir.path().to_path_buf(),
        netns_dir: runtime::netns::netns_dir(),
        conlink_ns: ConlinkNs::Current,
        wait: Wait::Yes,
        containers: None,
    };
    Context::new("identity", MARK, GROUP, &settings).expect("context")
}

/// The ifindex conlink will propose next: one past the highest it read.
fn next_index(cx: &mut Context) -> u32 {
    cx.observe(&Ns::Conlink).expect("read the namespace");
    let snap = cx.snapshot(&Ns::Conlink).expect("snapshot");
    snap.links.iter().map(|l| l.index).max().unwrap_or(1) + 1
}

#[test]
fn a_taken_index_is_left_to_the_kernel_and_only_conlinks_interfaces_are_touched() {
    if !can_touch_kernel("identity::a_taken_index") {
        return;
    }
    let host = TempNetns::new("idhost").expect("test host namespace");
    let dir = TempDir::new("conlink-identity-");
    host.run(|| {
        let mut cx = context(&dir);
        let next = next_index(&mut cx);
        // Another program takes the index conlink proposes for its bridge, and the next
        // two (its veth's ends).
        for (k, name) in ["other0", "other1", "other2"].iter().enumerate() {
            let index = (next + k as u32).to_string();
            ip(&["link", "add", name, "index", &index, "type", "bridge"]);
        }
        let refused = carry_out(&mut cx, &[bridge("br0"), veth("v0", "v1", "br0")]);
        assert!(refused.is_none(), "{refused:?}");

        let all = links();
        let br0 = link(&all, "br0");
        for other in ["other0", "other1", "other2"] {
            let l = link(&all, other);
            assert_eq!(l.alias, None, "{other} got conlink's mark");
            assert_eq!(l.master, None, "{other} got a port");
            assert!(l.altnames.is_empty(), "{other} got an altname");
        }
        for ours in ["br0", "v0", "v1"] {
            let l = link(&all, ours);
            assert_eq!(l.alias.as_deref(), Some(MARK), "{ours} is not marked");
            assert_eq!(l.group, Some(GROUP));
        }
        assert_eq!(link(&all, "v0").master, Some(br0.index), "v0's bridge");
        assert_eq!(link(&all, "v0").altnames, vec!["v0-long-name".to_string()]);
        assert!(link(&all, "v0").up && br0.up);
    });
}

#[test]
fn a_name_taken_meanwhile_fails_its_step_and_what_needs_it_touches_nothing() {
    if !can_touch_kernel("identity::a_name_taken_meanwhile") {
        return;
    }
    let host = TempNetns::new("idhost").expect("test host namespace");
    let dir = TempDir::new("conlink-identity-");
    host.run(|| {
        let mut cx = context(&dir);
        let next = next_index(&mut cx);
        // Another program creates conlink's bridge's name after conlink read the
        // namespace, and takes the index conlink will propose for it.
        ip(&[
            "link",
            "add",
            "br0",
            "index",
            &next.to_string(),
            "type",
            "bridge",
        ]);
        let refused = carry_out(&mut cx, &[bridge("br0"), veth("v0", "v1", "br0")]);
        match refused {
            Some(StepError::NotOurs(NotOurs::Interface { name, alias })) => {
                assert_eq!((name.as_str(), alias), ("br0", None));
            }
            other => panic!("expected br0 to be refused as not conlink's: {other:?}"),
        }
        let all = links();
        assert_eq!(link(&all, "br0").alias, None, "the other br0 got the mark");
        // The veth needed conlink's br0: it was not created, and enslaved nothing.
        assert!(all.iter().all(|l| l.name != "v0" && l.master.is_none()));
    });
}
