//! Namespaces, named symbolically (docs/plan.md, "Namespaces"): a plan never holds a
//! pid or a namespace inode; the runtime resolves each symbol when it applies a step.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A network namespace, named symbolically; the runtime resolves it when applying.
/// Names are shared (`Arc<str>`): every step of a unit carries its namespace, and a
/// large plan has hundreds of thousands of steps.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ns {
    /// conlink's own namespace (bridges, outer veth ends, tunnels).
    Conlink,
    /// The namespace conlink was started in (parents of *vlan/*vtap links, tunnel underlay).
    Host,
    /// A node namespace conlink creates.
    Node(Arc<str>),
    /// A container's namespace, by container name.
    Container(Arc<str>),
    /// Replica `replica` (1-based) of a compose service.
    Service(Arc<str>, u32),
}

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ns::Conlink => f.write_str("conlink"),
            Ns::Host => f.write_str("host"),
            Ns::Node(n) => write!(f, "node:{n}"),
            Ns::Container(n) => write!(f, "container:{n}"),
            Ns::Service(s, i) => write!(f, "service:{s}#{i}"),
        }
    }
}

impl std::str::FromStr for Ns {
    type Err = String;
    fn from_str(s: &str) -> Result<Ns, String> {
        let bad = || format!("not a namespace symbol: {s:?}");
        Ok(match s {
            "conlink" => Ns::Conlink,
            "host" => Ns::Host,
            _ => match s.split_once(':').ok_or_else(bad)? {
                ("node", n) => Ns::Node(n.into()),
                ("container", n) => Ns::Container(n.into()),
                ("service", rest) => {
                    let (svc, i) = rest.rsplit_once('#').ok_or_else(bad)?;
                    Ns::Service(svc.into(), i.parse().map_err(|_| bad())?)
                }
                _ => return Err(bad()),
            },
        })
    }
}

impl Serialize for Ns {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ns {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ns, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Ns {
    fn schema_name() -> Cow<'static, str> {
        "Ns".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A namespace symbol: `conlink`, `host`, `node:NAME`, `container:NAME` or `service:NAME#REPLICA`.",
            "type": "string",
            "pattern": "^(conlink|host|node:.+|container:.+|service:.+#[0-9]+)$"
        })
    }
}
