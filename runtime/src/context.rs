//! What one `apply`, `status` or `destroy` works with: where (its [`Settings`]), for
//! which project, the namespaces it opened ([`Places`]), the engine that sends its
//! requests, and what it observed of namespaces that existed before it.
//!
//! Families reach the kernel through a [`Context`]: they queue requests and name
//! interfaces through it (the engine decides ifindexes). Whatever talks to the kernel
//! other than through the engine must first send everything queued, so that it sees
//! (and comes after) what earlier steps did: a check reads through [`Context::live`],
//! which does that; a step that is not a queued request is carried out only after
//! `crate::steps::carry_out` did it.

use crate::command::Found;
use crate::containers::resolver::Containers;
use crate::engine::{Creates, Engine, FollowUp, Iface, Origin, Part};
use crate::error::{ExternalError, NsError, StepError};
use crate::lock::Wait;
use crate::netlink::Socket;
use crate::netns;
use crate::nft::External;
use crate::observe::Snapshot;
use crate::places::{Lookup, Place, Places};
use crate::resolve::{ConlinkNs, NoEngine, NodeResolver};
use compiler::plan::Ns;
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

/// Where and how the runtime works.
#[derive(Clone, Debug)]
pub struct Settings {
    pub state_dir: PathBuf,
    pub netns_dir: PathBuf,
    pub conlink_ns: ConlinkNs,
    /// Whether `apply` and `destroy` wait for another run of the project to finish.
    pub wait: Wait,
    /// The containers `container:` and `service:` symbols resolve to; without them,
    /// their units wait.
    pub containers: Option<Containers>,
}

/// What observing a namespace found.
#[derive(Debug)]
pub enum Observed {
    /// It is not there (or waits for its container): why.
    Absent(NsError),
    /// It is there and was read just now, for the first time in this run.
    First,
    /// It is there, and was read before or created by this run.
    Known,
}

pub struct Context {
    settings: Settings,
    project: String,
    mark: String,
    group: u32,
    engine: Engine,
    places: Places,
    /// Snapshots of namespaces that existed before this run, taken when first used.
    observed: BTreeMap<Ns, Snapshot>,
    /// Namespaces this run created.
    created: BTreeSet<Ns>,
    /// conlink's external interface and address, once looked up.
    external: Option<Result<External, ExternalError>>,
    /// The project's running commands, once looked for.
    commands: Option<Vec<Found>>,
}

impl Context {
    /// A context for `project`, with this runtime's resolvers: nodes (and host,
    /// conlink), and containers from `settings.containers` (else they wait). The calling thread's namespace is the host.
    pub fn new(
        project: &str,
        mark: &str,
        group: u32,
        settings: &Settings,
    ) -> Result<Context, StepError> {
        let host = netns::current()
            .map_err(|e| StepError::io("open the namespace conlink was started in", e))?;
        let places = Places::new(vec![
            Box::new(NodeResolver {
                project: project.into(),
                netns_dir: settings.netns_dir.clone(),
                conlink: settings.conlink_ns,
                host,
            }),
            match &settings.containers {
                Some(c) => Box::new(c.resolver()) as Box<dyn crate::resolve::Resolver>,
                None => Box::new(NoEngine),
            },
        ]);
        Ok(Context {
            settings: settings.clone(),
            project: project.into(),
            mark: mark.into(),
            group,
            engine: Engine::new(mark),
            places,
            observed: BTreeMap::new(),
            created: BTreeSet::new(),
            external: None,
            commands: None,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    /// The ownership mark of the project's interfaces and namespaces.
    pub fn mark(&self) -> &str {
        &self.mark
    }

    /// The interface group of the project's interfaces.
    pub fn group(&self) -> u32 {
        self.group
    }

    pub fn netns_dir(&self) -> &Path {
        &self.settings.netns_dir
    }

    /// Where the output of commands goes.
    pub fn logs_dir(&self) -> PathBuf {
        crate::state::project_dir(&self.settings.state_dir, &self.project).join("logs")
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    // -----------------------------------------------------------------------------
    // Namespaces.

    pub fn lookup(&mut self, ns: &Ns) -> Result<Lookup<'_>, NsError> {
        self.places.lookup(ns)
    }

    /// The place of `ns`, which must be there. Requests may be queued on its socket:
    /// to read the kernel, use [`Context::live`].
    pub fn place(&mut self, ns: &Ns) -> Result<&mut Place, NsError> {
        self.places.get(ns)
    }

    /// The place of `ns`, to read the kernel directly: everything queued is sent
    /// first, so the reading includes what earlier steps did.
    pub fn live(&mut self, ns: &Ns) -> Result<&mut Place, StepError> {
        self.flush()?;
        Ok(self.places.get(ns)?)
    }

    /// The namespace file descriptor of `other`, when it is not `here` (creating an
    /// interface in another namespace than the request's socket).
    pub fn fd_if_other(&mut self, here: &Ns, other: &Ns) -> Result<Option<RawFd>, NsError> {
        if here == other {
            return Ok(None);
        }
        Ok(Some(self.places.get(other)?.file.as_raw_fd()))
    }

    /// Looks up `ns` and, the first time a namespace that existed before this run is
    /// used, reads it (the snapshot the families compare steps with).
    pub fn observe(&mut self, ns: &Ns) -> Result<Observed, StepError> {
        let known = self.observed.contains_key(ns) || self.created.contains(ns);
        match self.places.lookup(ns)? {
            Lookup::Ready(_) if known => Ok(Observed::Known),
            Lookup::Ready(place) => {
                let snap = Snapshot::take(place.route()?)?;
                place.know_links(&snap.links);
                self.observed.insert(ns.clone(), snap);
                Ok(Observed::First)
            }
            Lookup::Absent(pinned) => Ok(Observed::Absent(NsError::Absent {
                ns: ns.clone(),
                pinned,
            })),
            Lookup::Waiting(why) => Ok(Observed::Absent(NsError::Waiting {
                ns: ns.clone(),
                why,
            })),
        }
    }

    /// Reads `ns` again (after removing things the snapshot still shows).
    pub fn reobserve(&mut self, ns: &Ns) -> Result<(), StepError> {
        let snap = Snapshot::take(self.live(ns)?.route()?)?;
        self.observed.insert(ns.clone(), snap);
        Ok(())
    }

    /// What `ns` held when this run first used it; `None` for a namespace this run
    /// created, or one not used yet.
    pub fn snapshot(&self, ns: &Ns) -> Option<&Snapshot> {
        self.observed.get(ns)
    }

    /// Every namespace read, with what it held.
    pub fn observed(&self) -> impl Iterator<Item = (&Ns, &Snapshot)> {
        self.observed.iter()
    }

    /// Whether this run created `ns` (so nothing in it was there before).
    pub fn created_this_run(&self, ns: &Ns) -> bool {
        self.created.contains(ns)
    }

    /// Records a namespace this run created and pinned, with the route socket opened
    /// inside it.
    pub fn add_created(&mut self, ns: &Ns, file: File, pinned: String, route: Socket) {
        self.places.insert_fresh(ns, file, pinned, route);
        self.created.insert(ns.clone());
    }

    /// Forgets a namespace this run is removing; its place, if it was open.
    pub fn remove_place(&mut self, ns: &Ns) -> Option<Place> {
        self.places.remove(ns)
    }

    // -----------------------------------------------------------------------------
    // Requests (see `crate::engine`).

    pub fn ifindex(&mut self, iface: Iface) -> Result<u32, StepError> {
        self.engine.ifindex(&mut self.places, iface)
    }

    pub fn find(&mut self, ns: &Ns, name: &str) -> Result<Option<u32>, StepError> {
        self.engine.find(&mut self.places, ns, name)
    }

    pub fn deleting(&mut self, ns: &Ns, name: &str) -> Result<Option<u32>, StepError> {
        self.engine.deleting(&mut self.places, ns, name)
    }

    pub fn queue(
        &mut self,
        origin: Origin,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        part: Part,
    ) -> Result<(), StepError> {
        self.engine
            .queue(&mut self.places, origin, ns, msg, flags, part)
    }

    pub fn queue_create(
        &mut self,
        origin: Origin,
        ns: &Ns,
        msg: RouteNetlinkMessage,
        flags: u16,
        creates: Creates,
    ) -> Result<(), StepError> {
        self.engine
            .queue_create(&mut self.places, origin, ns, msg, flags, creates)
    }

    pub fn after_created(
        &mut self,
        origin: Origin,
        ns: &Ns,
        name: &str,
        build: FollowUp,
    ) -> Result<(), StepError> {
        self.engine
            .after_created(&mut self.places, origin, ns, name, build)
    }

    /// Sends everything queued.
    pub fn flush(&mut self) -> Result<(), StepError> {
        self.engine.flush_all(&mut self.places)
    }

    /// The project's running commands, found by their tag (one pass over `/proc` per
    /// run; `crate::command::find_running`).
    pub fn running_commands(&mut self) -> &[Found] {
        let project = &self.project;
        self.commands
            .get_or_insert_with(|| crate::command::find_running(project))
    }

    // -----------------------------------------------------------------------------
    // conlink's external interface.

    /// conlink's external interface and its IPv4 address (docs/configuration.md,
    /// "forward and nat"): the interface of the default IPv4 route in conlink's
    /// namespace, and its first IPv4 address. Looked up once per run.
    pub fn external(&mut self) -> Result<External, StepError> {
        if self.external.is_none() {
            let found = self.find_external()?;
            self.external = Some(found);
        }
        Ok(self.external.clone().expect("set above")?)
    }

    fn find_external(&mut self) -> Result<Result<External, ExternalError>, StepError> {
        let snap = Snapshot::take(self.live(&Ns::Conlink)?.route()?)?;
        let Some(oif) = snap
            .routes
            .iter()
            .find(|r| r.table == 254 && r.dst.prefix_len() == 0 && r.dst.addr().is_ipv4())
            .and_then(|r| r.oif)
        else {
            return Ok(Err(ExternalError::NoDefaultRoute));
        };
        let Some(ifname) = snap.name_of(oif) else {
            return Ok(Err(ExternalError::NoDefaultRoute));
        };
        let addr = snap.addrs.iter().find_map(|(i, a)| match a.addr() {
            std::net::IpAddr::V4(v4) if *i == oif => Some(v4),
            _ => None,
        });
        Ok(match addr {
            Some(addr) => Ok(External {
                ifname: ifname.to_string(),
                addr,
            }),
            None => Err(ExternalError::NoAddress {
                ifname: ifname.to_string(),
            }),
        })
    }
}
