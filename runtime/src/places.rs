//! The namespaces one run works in ("places"), each opened once with its sockets.
//!
//! A place holds the namespace's file, its route socket (opened once per run,
//! plan.md "cheap to execute"), and conlink's view of its interfaces: name to
//! ifindex, and the next free ifindex conlink hands out to interfaces it creates.

use crate::error::KernelError;
use crate::netlink::{link, Socket};
use crate::netns;
use crate::resolve::{Resolution, Resolver};
use compiler::plan::Ns;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;

pub struct Place {
    pub file: File,
    /// Its pinned name, when conlink pinned it.
    pub pinned: Option<String>,
    route: Option<Socket>,
    /// Interfaces by name, once loaded.
    links: Option<HashMap<String, u32>>,
    next_index: u32,
}

impl Place {
    pub fn new(file: File, pinned: Option<String>) -> Place {
        Place {
            file,
            pinned,
            route: None,
            links: None,
            next_index: 2,
        }
    }

    /// A namespace conlink just created: only `lo` (ifindex 1) is there.
    pub fn fresh(file: File, pinned: Option<String>) -> Place {
        let mut p = Place::new(file, pinned);
        p.links = Some(HashMap::from([("lo".to_string(), 1)]));
        p
    }

    /// The route socket, opened inside the namespace on first use.
    pub fn route(&mut self) -> io::Result<&mut Socket> {
        if self.route.is_none() {
            self.route = Some(netns::enter(&self.file, Socket::route)??);
        }
        Ok(self.route.as_mut().expect("opened above"))
    }

    fn load_links(&mut self) -> Result<(), KernelError> {
        if self.links.is_some() {
            return Ok(());
        }
        let mut map = HashMap::new();
        let mut max = 1;
        self.route()?.dump_each(link::dump(), |m| {
            if let rtnetlink::packet_route::RouteNetlinkMessage::NewLink(m) = m {
                let l = link::read(&m);
                max = max.max(l.index);
                map.insert(l.name, l.index);
            }
        })?;
        self.links = Some(map);
        self.next_index = self.next_index.max(max + 1);
        Ok(())
    }

    /// Takes the interfaces from a dump made elsewhere (a snapshot), so they are not
    /// dumped again; does nothing once they are known.
    pub fn know_links(&mut self, links: &[link::LinkInfoRead]) {
        if self.links.is_some() {
            return;
        }
        let max = links.iter().map(|l| l.index).max().unwrap_or(1);
        self.links = Some(links.iter().map(|l| (l.name.clone(), l.index)).collect());
        self.next_index = self.next_index.max(max + 1);
    }

    /// The ifindex of interface `name`, if there is one.
    pub fn index_of(&mut self, name: &str) -> Result<Option<u32>, KernelError> {
        self.load_links()?;
        Ok(self.links.as_ref().and_then(|l| l.get(name).copied()))
    }

    /// Chooses the ifindex interface `name` will be created with.
    pub fn allocate(&mut self, name: &str) -> Result<u32, KernelError> {
        self.load_links()?;
        let index = self.next_index;
        self.next_index += 1;
        if let Some(l) = self.links.as_mut() {
            l.insert(name.to_string(), index);
        }
        Ok(index)
    }

    /// Forgets interface `name` (after deleting it).
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
    Waiting(String),
}

impl Places {
    pub fn new(resolvers: Vec<Box<dyn Resolver>>) -> Places {
        Places {
            resolvers,
            map: BTreeMap::new(),
        }
    }

    pub fn lookup(&mut self, ns: &Ns) -> io::Result<Lookup<'_>> {
        if !self.map.contains_key(ns) {
            match self.resolve(ns)? {
                Resolution::Ready { file, pinned } => {
                    self.map.insert(ns.clone(), Place::new(file, pinned));
                }
                Resolution::Absent { pinned } => return Ok(Lookup::Absent(pinned)),
                Resolution::Waiting(why) => return Ok(Lookup::Waiting(why)),
                Resolution::NotMine => {
                    return Err(io::Error::other(format!("no resolver for namespace {ns}")))
                }
            }
        }
        Ok(Lookup::Ready(self.map.get_mut(ns).expect("inserted above")))
    }

    fn resolve(&self, ns: &Ns) -> io::Result<Resolution> {
        for r in &self.resolvers {
            match r.resolve(ns)? {
                Resolution::NotMine => continue,
                found => return Ok(found),
            }
        }
        Ok(Resolution::NotMine)
    }

    /// The place of `ns`, which must be ready.
    pub fn get(&mut self, ns: &Ns) -> Result<&mut Place, KernelError> {
        match self.lookup(ns)? {
            Lookup::Ready(p) => Ok(p),
            Lookup::Absent(name) => Err(KernelError {
                errno: libc::ENOENT,
                ext_ack: Some(format!("namespace {ns} ({name}) does not exist")),
            }),
            Lookup::Waiting(why) => Err(KernelError {
                errno: libc::EAGAIN,
                ext_ack: Some(why),
            }),
        }
    }

    /// Records a namespace conlink just created.
    pub fn insert_fresh(&mut self, ns: &Ns, file: File, pinned: String) {
        self.map
            .insert(ns.clone(), Place::fresh(file, Some(pinned)));
    }

    /// Drops a namespace conlink just removed.
    pub fn remove(&mut self, ns: &Ns) -> Option<Place> {
        self.map.remove(ns)
    }
}
