//! What the plan creates: interfaces, addresses, routes and node namespaces, by
//! namespace. Anything of conlink's that is not here is extra
//! (`crate::differences`). Each family adds what its operations create
//! (`crate::action::Action::plan`); `crate::families::planned` builds the whole.

use compiler::plan::Ns;
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Default, Debug)]
pub struct Planned {
    links: BTreeSet<(Ns, String)>,
    addrs: BTreeSet<(Ns, String, IpNet)>,
    /// Routes: namespace, device, destination, table, gateway.
    routes: BTreeSet<(Ns, String, IpNet, u32, Option<IpAddr>)>,
    /// Devices that get the host route to conlink's external address.
    external_routes: BTreeSet<(Ns, String)>,
    /// Pinned names of node namespaces.
    nodes: BTreeSet<String>,
}

impl Planned {
    pub fn add_link(&mut self, ns: &Ns, name: &str) {
        self.links.insert((ns.clone(), name.to_string()));
    }

    pub fn add_addr(&mut self, ns: &Ns, dev: &str, addr: IpNet) {
        self.addrs.insert((ns.clone(), dev.to_string(), addr));
    }

    pub fn add_route(&mut self, ns: &Ns, dev: &str, dst: IpNet, table: u32, via: Option<IpAddr>) {
        self.routes
            .insert((ns.clone(), dev.to_string(), dst, table, via));
    }

    pub fn add_external_route(&mut self, ns: &Ns, dev: &str) {
        self.external_routes.insert((ns.clone(), dev.to_string()));
    }

    pub fn add_node(&mut self, pinned: String) {
        self.nodes.insert(pinned);
    }

    pub fn has_link(&self, ns: &Ns, name: &str) -> bool {
        self.links.contains(&(ns.clone(), name.to_string()))
    }

    pub fn has_addr(&self, ns: &Ns, dev: &str, addr: IpNet) -> bool {
        self.addrs.contains(&(ns.clone(), dev.to_string(), addr))
    }

    pub fn has_route(
        &self,
        ns: &Ns,
        dev: &str,
        dst: IpNet,
        table: u32,
        via: Option<IpAddr>,
    ) -> bool {
        self.routes
            .contains(&(ns.clone(), dev.to_string(), dst, table, via))
    }

    pub fn has_external_route(&self, ns: &Ns, dev: &str) -> bool {
        self.external_routes
            .contains(&(ns.clone(), dev.to_string()))
    }

    pub fn has_node(&self, pinned: &str) -> bool {
        self.nodes.contains(pinned)
    }
}
