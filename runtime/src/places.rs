//! The namespaces one run works in ("places"), each opened once with its sockets.
//!
//! A place holds the namespace's file; its sockets, opened inside it on first use and
//! kept for the run (a socket stays bound to the namespace it was opened in; docs/plan.md
//! "Properties": cheap to execute): the route socket the engine batches requests on,
//! the nftables socket and the ethtool socket; and conlink's view of its interfaces:
//! name to ifindex, and the next ifindex to propose for one it creates. Only the engine
//! proposes ifindexes and learns the ones the kernel gave
//! (`crate::engine::Engine::ifindex`); this module keeps them.

use crate::error::{NsError, StepError};
use crate::ethtool::Ethtool;
use crate::netlink::Socket;
use crate::netns;
use crate::observe::{self, LinkRead};
use crate::resolve::{Resolution, Resolver};
use compiler::plan::Ns;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;

pub struct Place {
    /// The symbol it was looked up by, for messages.
    ns: Ns,
    pub file: File,
    /// Its pinned name, when conlink pinned it.
    pub pinned: Option<String>,
    route: Option<Socket>,
    nft: Option<Socket>,
    ethtool: Option<Ethtool>,
    /// Interfaces by name, once loaded.
    links: Option<HashMap<String, u32>>,
    next_index: u32,
}

impl Place {
    pub fn new(ns: &Ns, file: File, pinned: Option<String>) -> Place {
        Place {
            ns: ns.clone(),
            file,
            pinned,
            route: None,
            nft: None,
            ethtool: None,
            links: None,
            next_index: 2,
        }
    }

    /// A namespace conlink just created, with the route socket opened in it: only
    /// `lo` (ifindex 1) is there.
    pub fn fresh(ns: &Ns, file: File, pinned: Option<String>, route: Socket) -> Place {
        let mut p = Place::new(ns, file, pinned);
        p.links = Some(HashMap::from([("lo".to_string(), 1)]));
        p.route = Some(route);
        p
    }

    /// Runs `f` with the calling thread inside the namespace.
    pub fn inside<R>(&self, f: impl FnOnce() -> R) -> Result<R, NsError> {
        netns::enter(&self.file, f).map_err(|source| NsError::Io {
            ns: self.ns.clone(),
            doing: "enter",
            source,
        })
    }

    /// The route socket, opened inside the namespace on first use.
    pub fn route(&mut self) -> Result<&mut Socket, StepError> {
        if self.route.is_none() {
            let sock = self.inside(Socket::route)?.map_err(|e| {
                StepError::io(format!("open a netlink socket in namespace {}", self.ns), e)
            })?;
            self.route = Some(sock);
        }
        Ok(self.route.as_mut().expect("opened above"))
    }

    /// The nftables (`NETLINK_NETFILTER`) socket, opened on first use.
    pub fn nft(&mut self) -> Result<&mut Socket, StepError> {
        if self.nft.is_none() {
            let sock = self
                .inside(crate::nft::socket)?
                .map_err(|e| StepError::io(format!("open an nftables socket in {}", self.ns), e))?;
            self.nft = Some(sock);
        }
        Ok(self.nft.as_mut().expect("opened above"))
    }

    /// The ethtool socket with the kernel's feature names, opened on first use.
    pub fn ethtool(&mut self) -> Result<&Ethtool, StepError> {
        if self.ethtool.is_none() {
            let e = self
                .inside(Ethtool::open)?
                .map_err(|e| StepError::io(format!("open an ethtool socket in {}", self.ns), e))?;
            self.ethtool = Some(e);
        }
        Ok(self.ethtool.as_ref().expect("opened above"))
    }

    fn load_links(&mut self) -> Result<(), StepError> {
        if self.links.is_some() {
            return Ok(());
        }
        let links = observe::links(self.route()?)?;
        self.know_links(&links);
        Ok(())
    }

    /// Takes the interfaces from a dump made elsewhere (a snapshot), so they are not
    /// dumped again; does nothing once they are known.
    pub fn know_links(&mut self, links: &[LinkRead]) {
        if self.links.is_some() {
            return;
        }
        let max = links.iter().map(|l| l.index).max().unwrap_or(1);
        self.links = Some(links.iter().map(|l| (l.name.clone(), l.index)).collect());
        self.next_index = self.next_index.max(max + 1);
    }

    /// The ifindex of interface `name`, if there is one.
    pub fn index_of(&mut self, name: &str) -> Result<Option<u32>, StepError> {
        self.load_links()?;
        Ok(self.links.as_ref().and_then(|l| l.get(name).copied()))
    }

    /// Proposes the ifindex interface `name` will be created with.
    pub fn allocate(&mut self, name: &str) -> Result<u32, StepError> {
        self.load_links()?;
        let index = self.next_index;
        self.next_index += 1;
        if let Some(l) = self.links.as_mut() {
            l.insert(name.to_string(), index);
        }
        Ok(index)
    }

    /// Records the ifindex the kernel gave interface `name`.
    pub fn record(&mut self, name: &str, index: u32) {
        if let Some(l) = self.links.as_mut() {
            l.insert(name.to_string(), index);
        }
        self.next_index = self.next_index.max(index + 1);
    }

    /// Forgets interface `name` (after deleting it, or when its create failed).
    pub fn forget(&mut self, name: &str) {
        if let Some(l) = self.links.as_mut() {
            l.remove(name);
        }
    }

    /// Forgets what is known of interfaces, so the next lookup dumps them again.
    pub fn reload(&mut self) {
        self.links = None;
    }
}

/// The places of one run, by namespace symbol.
pub struct Places {
    resolvers: Vec<Box<dyn Resolver>>,
    map: BTreeMap<Ns, Place>,
}

/// What looking up a namespace symbol gave.
pub enum Lookup<'a> {
    Ready(&'a mut Place),
    /// Not created yet; the pinned name it will have.
    Absent(String),
    /// Its container does not run; why it waits.
    Waiting(String),
}

impl Places {
    pub fn new(resolvers: Vec<Box<dyn Resolver>>) -> Places {
        Places {
            resolvers,
            map: BTreeMap::new(),
        }
    }

    pub fn lookup(&mut self, ns: &Ns) -> Result<Lookup<'_>, NsError> {
        if !self.map.contains_key(ns) {
            match self.resolve(ns)? {
                Resolution::Ready { file, pinned } => {
                    self.map.insert(ns.clone(), Place::new(ns, file, pinned));
                }
                Resolution::Absent { pinned } => return Ok(Lookup::Absent(pinned)),
                Resolution::Waiting(why) => return Ok(Lookup::Waiting(why)),
                Resolution::NotMine => return Err(NsError::Unknown(ns.clone())),
            }
        }
        Ok(Lookup::Ready(self.map.get_mut(ns).expect("inserted above")))
    }

    fn resolve(&self, ns: &Ns) -> Result<Resolution, NsError> {
        for r in &self.resolvers {
            match r.resolve(ns)? {
                Resolution::NotMine => continue,
                found => return Ok(found),
            }
        }
        Ok(Resolution::NotMine)
    }

    /// The place of `ns`, which must be ready.
    pub fn get(&mut self, ns: &Ns) -> Result<&mut Place, NsError> {
        match self.lookup(ns)? {
            Lookup::Ready(p) => Ok(p),
            Lookup::Absent(pinned) => Err(NsError::Absent {
                ns: ns.clone(),
                pinned,
            }),
            Lookup::Waiting(why) => Err(NsError::Waiting {
                ns: ns.clone(),
                why,
            }),
        }
    }

    /// Records a namespace conlink just created, with the route socket opened in it.
    pub fn insert_fresh(&mut self, ns: &Ns, file: File, pinned: String, route: Socket) {
        self.map
            .insert(ns.clone(), Place::fresh(ns, file, Some(pinned), route));
    }

    /// Drops a namespace conlink just removed.
    pub fn remove(&mut self, ns: &Ns) -> Option<Place> {
        self.map.remove(ns)
    }
}
