//! What `conlink wait` reads from the kernel of the namespace it runs in: the
//! interfaces (with their altnames, where conlink's ready marker is) and the IPv4
//! routes, through the runtime's netlink socket; and the wake-up when they change
//! (`runtime::changes`). Both are opened on first use, so waiting for a file or a TCP
//! port touches no netlink socket.

use runtime::changes::Changes;
use runtime::netlink::Socket;
use runtime::observe::{self, LinkRead, RouteRead};
use std::time::Duration;

/// The main routing table (`RT_TABLE_MAIN`), the one `/proc/net/route` shows.
const MAIN_TABLE: u32 = 254;

#[derive(Default)]
pub struct Probe {
    sock: Option<Socket>,
    changes: Option<Changes>,
}

impl Probe {
    fn socket(&mut self) -> Result<&mut Socket, String> {
        let sock = match self.sock.take() {
            Some(s) => s,
            None => Socket::route().map_err(|e| format!("cannot open a netlink socket: {e}"))?,
        };
        Ok(self.sock.insert(sock))
    }

    /// The namespace's interfaces.
    pub fn links(&mut self) -> Result<Vec<LinkRead>, String> {
        observe::links(self.socket()?).map_err(|e| format!("cannot list interfaces: {e}"))
    }

    /// The IPv4 routes of the main table that leave through interface `index`.
    pub fn main_routes_through(&mut self, index: u32) -> Result<Vec<RouteRead>, String> {
        let mut routes = observe::routes(self.socket()?, false)
            .map_err(|e| format!("cannot list routes: {e}"))?;
        routes.retain(|r| r.table == MAIN_TABLE && r.oif == Some(index));
        Ok(routes)
    }

    /// Subscribes to the kernel's announcements of changes, if not done yet: from now
    /// on [`Probe::pause`] ends early when something changes.
    pub fn watch(&mut self) -> Result<(), String> {
        if self.changes.is_none() {
            let c = Changes::subscribe()
                .map_err(|e| format!("cannot follow the kernel's changes: {e}"))?;
            self.changes = Some(c);
        }
        Ok(())
    }

    /// Pauses for `d`, or less when watching and the kernel announces a change.
    pub fn pause(&mut self, d: Duration) -> Result<(), String> {
        match &mut self.changes {
            Some(c) => c
                .wait(d)
                .map(|_| ())
                .map_err(|e| format!("cannot follow the kernel's changes: {e}")),
            None => {
                std::thread::sleep(d);
                Ok(())
            }
        }
    }
}
