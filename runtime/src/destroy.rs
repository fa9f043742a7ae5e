//! `conlink destroy`: remove everything conlink created for a project — from the
//! state file when there is one, from the kernel's ownership marks when not — and
//! nothing else. Idempotent.
//!
//! Teardown works in bulk (plan.md, "cheap to execute"): deleting one interface costs
//! ~17 ms of kernel time, deleting a namespace ~3 ms whatever it holds. So namespaces
//! conlink owns (nodes, its own) are simply unpinned, which removes every interface,
//! address, route, qdisc and nft table in them; only what lives in namespaces that
//! stay (the host's, a container's, conlink's when it runs in a container) is undone
//! step by step, and marked interfaces there go in one request per interface group.

use crate::apply::{self, Settings};
use crate::engine::Engine;
use crate::error::KernelError;
use crate::host_ops::{self, HostCtx};
use crate::names;
use crate::netlink::{link, Socket};
use crate::netns;
use crate::resolve::ConlinkNs;
use crate::state::{self, State};
use compiler::plan::{Ns, Op};
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::path::Path;

/// What a destroy removed.
#[derive(Clone, Debug, Default)]
pub struct Removed {
    pub namespaces: Vec<String>,
    pub interfaces: usize,
    pub undone: usize,
    pub problems: Vec<String>,
    /// Whether a state file was found.
    pub had_state: bool,
}

impl Removed {
    pub fn nothing(&self) -> bool {
        self.namespaces.is_empty() && self.interfaces == 0 && self.undone == 0
    }
}

pub fn destroy(project: &str, settings: &Settings) -> Result<Removed, String> {
    let _lock = state::lock(&settings.state_dir, project, |holder| {
        eprintln!("conlink: waiting for {holder}, which is working on project {project}");
    })
    .map_err(|e| format!("cannot lock project {project}: {e}"))?;
    let mark = names::mark(project);
    let mut removed = Removed::default();
    let st = state::load(&settings.state_dir, project).map_err(|e| e.to_string())?;
    removed.had_state = st.is_some();
    // Where conlink's namespace was is what the run that made it recorded.
    let mut settings = settings.clone();
    if let Some(recorded) = st.as_ref().and_then(|s| s.conlink_ns) {
        settings.conlink_ns = recorded;
    }
    let settings = &settings;

    // An engine to run undo operations in namespaces that stay.
    let group = st.as_ref().map_or(0, |s| s.group);
    let mut engine = apply::engine(project, &mark, group, settings).map_err(|e| e.to_string())?;
    let mut host = HostCtx::new(&settings.state_dir, project);

    // 1. Commands first: a process inside a namespace keeps it alive.
    if let Some(st) = &st {
        for rec in st.steps.iter().rev() {
            if let Op::ExecStop { .. } = rec.undo {
                if let Err(e) =
                    host_ops::undo(&mut engine, &mut host, &rec.ns, &rec.undo, &rec.extra)
                {
                    removed.problems.push(format!("{}: {e}", rec.id));
                }
            }
        }
    }

    // 2. Owned namespaces, found by name and confirmed by the mark on their loopback.
    let owned = owned_namespaces(project, &settings.netns_dir, &mark);

    // 3. In namespaces that stay: marked interfaces go in bulk (also when the state
    //    is lost), then the recorded steps that are not about them are undone.
    for ns in [Ns::Host, Ns::Conlink] {
        if ns == Ns::Conlink && settings.conlink_ns == ConlinkNs::Own {
            continue; // its namespace goes below
        }
        match engine.places.get(&ns) {
            Ok(place) => {
                match place.route() {
                    Ok(sock) => match delete_marked(sock, &mark) {
                        Ok(n) => removed.interfaces += n,
                        Err(e) => removed.problems.push(format!("interfaces in {ns}: {e}")),
                    },
                    Err(e) => removed.problems.push(format!("{ns}: {e}")),
                }
                match delete_tables(&place.file, project) {
                    Ok(n) => removed.undone += n,
                    Err(e) => removed.problems.push(format!("nft tables in {ns}: {e}")),
                }
            }
            Err(e) => removed.problems.push(format!("{ns}: {e}")),
        }
        if settings.conlink_ns == ConlinkNs::Current {
            break; // host and conlink are the same namespace
        }
    }

    if let Some(st) = &st {
        for ns in [Ns::Host, Ns::Conlink] {
            if let Ok(place) = engine.places.get(&ns) {
                place.reload();
            }
        }
        removed.undone += undo_surviving(&mut engine, &mut host, st, &mut removed.problems);
    }

    // 4. Interfaces created from a namespace that stays into one that goes (tunnels,
    //    macvlans) hold on to the one that stays until the kernel really deletes
    //    them, some time after their namespace is gone: delete them first.
    removed.interfaces += delete_created_from_elsewhere(
        &mut engine,
        &mut host,
        st.as_ref(),
        &owned,
        settings,
        &mut removed.problems,
    );

    // 5. Unpin owned namespaces: everything in them goes with them.
    for name in owned {
        host_ops::kill_namespace_processes(&settings.netns_dir.join(&name));
        match netns::remove_pinned(&settings.netns_dir, &name) {
            Ok(()) => removed.namespaces.push(name),
            Err(e) => removed.problems.push(format!("namespace {name}: {e}")),
        }
    }
    state::remove(&settings.state_dir, project).map_err(|e| e.to_string())?;
    Ok(removed)
}

/// Kinds of interface conlink creates from another namespace (see `destroy`, step 4).
const CREATED_FROM_ELSEWHERE: &[&str] = &[
    "vxlan", "geneve", "macvlan", "macvtap", "ipvlan", "ipvtap", "vlan",
];

fn delete_created_from_elsewhere(
    engine: &mut Engine,
    host: &mut HostCtx,
    st: Option<&State>,
    owned: &[String],
    settings: &Settings,
    problems: &mut Vec<String>,
) -> usize {
    let mut n = 0;
    if let Some(st) = st {
        for rec in st.steps.iter().rev() {
            if let Op::LinkDel { netns: Some(_), .. } = rec.undo {
                match apply::undo(engine, host, &rec.ns, &rec.undo, &rec.extra) {
                    Ok(()) => n += 1,
                    Err(e) => problems.push(format!("{}: {e}", rec.id)),
                }
            }
        }
        return n;
    }
    // No state: look for such interfaces in each owned namespace.
    for name in owned {
        let Ok(file) = netns::open(&settings.netns_dir.join(name)) else {
            continue;
        };
        let deleted = netns::enter(&file, || -> Result<usize, KernelError> {
            let mut sock = Socket::route()?;
            let mut doomed = Vec::new();
            sock.dump_each(link::dump(), |m| {
                if let RouteNetlinkMessage::NewLink(m) = m {
                    let l = link::read(&m);
                    if l.kind
                        .as_deref()
                        .is_some_and(|k| CREATED_FROM_ELSEWHERE.contains(&k))
                    {
                        doomed.push(l.index);
                    }
                }
            })?;
            for i in &doomed {
                sock.queue(link::del(*i), 0);
            }
            send_deletions(&mut sock)?;
            Ok(doomed.len())
        });
        match deleted {
            Ok(Ok(k)) => n += k,
            Ok(Err(e)) => problems.push(format!("interfaces in {name}: {e}")),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    n
}

/// Deletes the nft tables of `project` in a namespace (their names start with
/// `conlink.PROJECT.`; project names have no `.`). Returns how many.
fn delete_tables(file: &std::fs::File, project: &str) -> Result<usize, String> {
    let prefix = format!("conlink.{project}.");
    netns::enter(file, || -> Result<usize, KernelError> {
        let mut sock = crate::nft::socket()?;
        let mut n = 0;
        for (family, table) in crate::nft::list_tables(&mut sock)? {
            if table.starts_with(&prefix) {
                match crate::nft::del_table(&mut sock, family, &table) {
                    Err(e) if !e.is_gone() => return Err(e),
                    _ => n += 1,
                }
            }
        }
        Ok(n)
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// Pinned namespaces of `project` whose loopback carries the project's mark.
pub fn owned_namespaces(project: &str, dir: &Path, mark: &str) -> Vec<String> {
    let own = names::conlink_ns(project);
    let mut out = Vec::new();
    let mut candidates =
        netns::list_pinned(dir, &names::node_ns_prefix(project)).unwrap_or_default();
    candidates.push(own.clone());
    for name in candidates {
        let Ok(file) = netns::open(&dir.join(&name)) else {
            continue;
        };
        // Only the loopback (ifindex 1) is asked for: a namespace may hold
        // thousands of interfaces.
        let marked = netns::enter(&file, || -> Result<bool, KernelError> {
            let mut sock = Socket::route()?;
            Ok(sock
                .get(link::get(1))?
                .into_iter()
                .filter_map(|m| match m {
                    RouteNetlinkMessage::NewLink(m) => Some(link::read(&m)),
                    _ => None,
                })
                .any(|l| l.index == 1 && l.alias.as_deref() == Some(mark)))
        });
        if let Ok(Ok(true)) = marked {
            out.push(name);
        }
    }
    // Nodes first, conlink's own namespace last.
    out.sort_by_key(|n| (n == &own, n.clone()));
    out
}

/// Undoes recorded steps whose objects live in namespaces that are not removed.
fn undo_surviving(
    engine: &mut Engine,
    host: &mut HostCtx,
    st: &State,
    problems: &mut Vec<String>,
) -> usize {
    let owned_ns = |ns: &Ns| match ns {
        Ns::Node(_) => true,
        Ns::Conlink => st.conlink_ns == Some(ConlinkNs::Own),
        _ => false,
    };
    let mut n = 0;
    for rec in st.steps.iter().rev() {
        let home = match &rec.undo {
            Op::LinkDel { netns: Some(t), .. } => t.clone(),
            _ => rec.ns.clone(),
        };
        if owned_ns(&home) || matches!(rec.undo, Op::NetnsDel | Op::ExecStop { .. }) {
            continue;
        }
        // Interfaces there went in bulk (delete_marked), and with them their
        // addresses, routes, qdiscs and settings.
        if matches!(
            rec.undo,
            Op::LinkDel { .. }
                | Op::LinkDown { .. }
                | Op::LinkSetNomaster { .. }
                | Op::AddrDel { .. }
                | Op::QdiscDel { .. }
                | Op::RedirectDel { .. }
                | Op::EthtoolRestore { .. }
        ) {
            continue;
        }
        match apply::undo(engine, host, &rec.ns, &rec.undo, &rec.extra) {
            Ok(()) => n += 1,
            Err(e) => problems.push(format!("{}: {e}", rec.id)),
        }
    }
    n
}

/// Sends queued deletions; something already gone is deleted.
fn send_deletions(sock: &mut Socket) -> Result<(), KernelError> {
    let failed = sock
        .flush()?
        .into_iter()
        .find_map(|(_, r)| r.err().filter(|e| !e.is_gone()));
    failed.map_or(Ok(()), Err)
}

/// Deletes the interfaces in the socket's namespace whose alias is `mark`: by group in
/// one request when every member of the group is marked, else one at a time.
pub fn delete_marked(sock: &mut Socket, mark: &str) -> Result<usize, KernelError> {
    let links: Vec<_> = sock
        .dump(link::dump())?
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(m) => Some(link::read(&m)),
            _ => None,
        })
        .collect();
    let ours: Vec<_> = links
        .iter()
        .filter(|l| l.alias.as_deref() == Some(mark))
        .collect();
    if ours.is_empty() {
        return Ok(0);
    }
    let mut groups: Vec<u32> = ours
        .iter()
        .filter_map(|l| l.group)
        .filter(|g| *g != 0)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut bulk = Vec::new();
    for g in groups {
        let all_ours = links
            .iter()
            .filter(|l| l.group == Some(g))
            .all(|l| l.alias.as_deref() == Some(mark));
        if all_ours {
            bulk.push(g);
        }
    }
    for g in &bulk {
        let mut m = rtnetlink::packet_route::link::LinkMessage::default();
        m.attributes
            .push(rtnetlink::packet_route::link::LinkAttribute::Group(*g));
        sock.queue(RouteNetlinkMessage::DelLink(m), 0);
    }
    for l in &ours {
        if l.group.is_some_and(|g| bulk.contains(&g)) {
            continue;
        }
        sock.queue(link::del(l.index), 0);
    }
    send_deletions(sock)?;
    Ok(ours.len())
}
