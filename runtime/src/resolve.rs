//! Resolving a step's symbolic namespace (docs/plan.md, "Namespaces": `conlink`,
//! `host`, `node:NAME`, `container:NAME`, `service:NAME#I`) to an open namespace.
//!
//! Each kind of target is one [`Resolver`]. This runtime knows nodes; the container
//! engines add one more resolver for `container:` and `service:` symbols (its units
//! wait until their container runs, then apply and remove one at a time:
//! `crate::apply::Applying::unit`, `crate::destroy::remove_unit`).

use crate::error::NsError;
use crate::names;
use crate::netns;
use compiler::plan::Ns;
use std::fs::File;
use std::io;
use std::path::PathBuf;

/// What a resolver found for a namespace symbol.
pub enum Resolution {
    /// An open namespace; `pinned` is its name under the netns directory when conlink
    /// pinned it (and so owns it).
    Ready { file: File, pinned: Option<String> },
    /// The namespace is not there yet (a node before its `ip netns add` step).
    Absent { pinned: String },
    /// The symbol is valid but its namespace comes from somewhere that is not ready:
    /// a container that does not run (yet). The unit waits; it is not an error.
    Waiting(String),
    /// This resolver does not handle the symbol.
    NotMine,
}

pub trait Resolver {
    fn resolve(&self, ns: &Ns) -> Result<Resolution, NsError>;
}

/// Where conlink's own namespace is (docs/plan.md, "Namespaces"). Recorded in the state
/// file as `own` or `current`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConlinkNs {
    /// A namespace conlink creates for the project (conlink runs on a host).
    Own,
    /// The namespace conlink runs in (conlink runs inside a container).
    Current,
}

/// Resolves `host`, `conlink` and `node:` symbols.
pub struct NodeResolver {
    pub project: String,
    pub netns_dir: PathBuf,
    pub conlink: ConlinkNs,
    /// The namespace conlink was started in, opened at start.
    pub host: File,
}

impl NodeResolver {
    fn pinned(&self, ns: &Ns, name: String) -> Result<Resolution, NsError> {
        let path = self.netns_dir.join(&name);
        match netns::open(&path) {
            Ok(file) if netns::is_namespace(&file) => Ok(Resolution::Ready {
                file,
                pinned: Some(name),
            }),
            Ok(_) => Ok(Resolution::Absent { pinned: name }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Ok(Resolution::Absent { pinned: name })
            }
            Err(source) => Err(NsError::Io {
                ns: ns.clone(),
                doing: "open",
                source,
            }),
        }
    }

    /// The namespace conlink was started in, for `ns`.
    fn started_in(&self, ns: &Ns) -> Result<Resolution, NsError> {
        let file = self.host.try_clone().map_err(|source| NsError::Io {
            ns: ns.clone(),
            doing: "open",
            source,
        })?;
        Ok(Resolution::Ready { file, pinned: None })
    }
}

impl Resolver for NodeResolver {
    fn resolve(&self, ns: &Ns) -> Result<Resolution, NsError> {
        match ns {
            Ns::Host => self.started_in(ns),
            Ns::Conlink => match self.conlink {
                ConlinkNs::Current => self.started_in(ns),
                ConlinkNs::Own => self.pinned(ns, names::conlink_ns(&self.project)),
            },
            Ns::Node(node) => self.pinned(ns, names::node_ns(&self.project, node)),
            Ns::Container(_) | Ns::Service(..) => Ok(Resolution::NotMine),
        }
    }
}

/// Containers and services are wired by the container-engine runtime (next issue);
/// until then their units wait.
pub struct NoEngine;

impl Resolver for NoEngine {
    fn resolve(&self, ns: &Ns) -> Result<Resolution, NsError> {
        Ok(match ns {
            Ns::Container(c) => Resolution::Waiting(format!("waiting for container {c}")),
            Ns::Service(s, i) => {
                Resolution::Waiting(format!("waiting for replica {i} of service {s}"))
            }
            _ => Resolution::NotMine,
        })
    }
}
