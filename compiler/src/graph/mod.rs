//! The topology as a graph, for `conlink graph` (docs/cli.md, "graph").
//!
//! Built from the checked configuration and the plan that was lowered from it: the
//! checks know what the user wrote (targets, `dev`, addresses, a tunnel's remote and
//! VNI, the host interface a macvlan or vlan hangs off), and the plan knows what was
//! decided (each bridge's mode, each service's replica count). A graph is only built
//! for a configuration that planned, and building one cannot fail: every kind of link,
//! bridge and tunnel has a drawing. Renderers live in `render::graph`; this module
//! holds only the language-neutral model, whose JSON form is `conlink graph --format
//! json`.

use crate::check::{Checked, CheckedLink};
use crate::model::{OuterDev, Target};
use crate::plan::Plan;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

/// Version of the graph's JSON shape; bumped on any incompatible change.
pub const GRAPH_FORMAT: u32 = 1;

/// The drawing of one project: vertices and the edges between them, in the
/// configuration's order.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Graph {
    /// Version of this JSON shape.
    pub format: u32,
    /// Project name.
    pub project: String,
    pub vertices: Vec<Vertex>,
    pub edges: Vec<Edge>,
}

/// Something drawn as a box: a target, a bridge, a tunnel, a host interface, or a
/// dummy interface.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Vertex {
    /// Unique within the graph: `node:NAME`, `container:NAME`, `service:NAME`,
    /// `bridge:NAME`, `tunnel:NAME`, `host:DEV`, `dummy:TARGET/DEV`.
    pub id: String,
    #[serde(flatten)]
    pub kind: VertexKind,
    /// What a drawing shows, one line each.
    pub label: Vec<String>,
}

/// What a vertex stands for, with what is known about it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VertexKind {
    Node {
        name: String,
    },
    Container {
        name: String,
    },
    Service {
        name: String,
        replicas: u32,
    },
    Bridge {
        name: String,
        /// The mode asked for (may be `auto`).
        requested: String,
        /// The mode it is realised as.
        mode: String,
    },
    Tunnel {
        name: String,
        /// `vxlan` or `geneve`.
        tunnel: String,
        remote: String,
        vni: u32,
        dstport: u16,
    },
    /// An interface of the host that macvlan, ipvlan, vlan, macvtap and ipvtap links
    /// are stacked on (`outer-dev`).
    HostInterface {
        dev: String,
    },
    /// A dummy interface: it has no other end, so it is drawn as its own vertex.
    Dummy {
        target: String,
        dev: String,
    },
}

/// A line between two vertices: a link or a tunnel's attachment to its bridge.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Edge {
    /// Vertex id of the target (or, for a tunnel, the bridge).
    pub from: String,
    /// Vertex id of the other end.
    pub to: String,
    /// The link's type (`veth`, `macvlan`, …) or `tunnel`.
    pub kind: String,
    /// The interface inside the target, for links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// The link's addresses as written (for a service: its first replica's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// What a drawing shows beside the line, one line each.
    pub label: Vec<String>,
}

/// Builds the graph of a configuration that was checked and planned.
pub fn build(checked: &Checked, plan: &Plan) -> Graph {
    let mut g = Builder::default();
    for node in &checked.nodes {
        g.target(&Target::Node(node.name.value.clone()), plan);
    }
    for link in &checked.links {
        g.target(&link.target, plan);
    }
    for command in &checked.commands {
        g.target(&command.target, plan);
    }
    for bridge in &checked.bridges {
        let name = &bridge.name.value;
        let decided = plan.bridges.iter().find(|b| &b.name == name);
        let requested = decided.map_or(bridge.mode, |d| d.requested).as_str();
        let mode = decided.map_or(bridge.mode, |d| d.mode).as_str();
        g.vertex(
            format!("bridge:{name}"),
            VertexKind::Bridge {
                name: name.clone(),
                requested: requested.into(),
                mode: mode.into(),
            },
            vec![format!("bridge {name}"), mode_line(requested, mode)],
        );
    }
    for link in &checked.links {
        g.link(link);
    }
    for tunnel in &checked.tunnels {
        let name = tunnel.name();
        let id = format!("tunnel:{name}");
        g.vertex(
            id.clone(),
            VertexKind::Tunnel {
                name: name.clone(),
                tunnel: tunnel.kind.as_str().into(),
                remote: tunnel.remote.to_string(),
                vni: tunnel.vni,
                dstport: tunnel.dstport,
            },
            vec![
                format!("tunnel {name}"),
                format!("remote {}", tunnel.remote),
                format!("vni {} port {}", tunnel.vni, tunnel.dstport),
            ],
        );
        let addresses: Vec<String> = tunnel.ips.iter().map(|ip| ip.value.to_string()).collect();
        g.edges.push(Edge {
            from: format!("bridge:{}", tunnel.bridge.value),
            to: id,
            kind: "tunnel".into(),
            dev: None,
            label: addresses.clone(),
            addresses,
        });
    }
    Graph {
        format: GRAPH_FORMAT,
        project: plan.project.clone(),
        vertices: g.vertices,
        edges: g.edges,
    }
}

/// `mode linux`, or `mode linux (auto)` when it was decided for an `auto` bridge.
fn mode_line(requested: &str, mode: &str) -> String {
    if requested == mode {
        format!("mode {mode}")
    } else {
        format!("mode {mode} ({requested})")
    }
}

/// The graph under construction; a vertex is added once, where it is first met.
#[derive(Default)]
struct Builder {
    vertices: Vec<Vertex>,
    edges: Vec<Edge>,
    seen: HashMap<String, usize>,
}

impl Builder {
    fn vertex(&mut self, id: String, kind: VertexKind, label: Vec<String>) {
        if self.seen.contains_key(&id) {
            return;
        }
        self.seen.insert(id.clone(), self.vertices.len());
        self.vertices.push(Vertex { id, kind, label });
    }

    fn target(&mut self, target: &Target, plan: &Plan) {
        let name = target.name().to_string();
        let (kind, label) = match target {
            Target::Node(_) => (
                VertexKind::Node { name: name.clone() },
                vec![format!("node {name}")],
            ),
            Target::Container(_) => (
                VertexKind::Container { name: name.clone() },
                vec![format!("container {name}")],
            ),
            Target::Service(_) => {
                let replicas = plan
                    .services
                    .iter()
                    .find(|s| s.service == name)
                    .map_or(1, |s| s.replicas);
                let label = vec![format!("service {name}"), format!("replicas {replicas}")];
                (
                    VertexKind::Service {
                        name: name.clone(),
                        replicas,
                    },
                    label,
                )
            }
        };
        self.vertex(target_id(target), kind, label);
    }

    fn link(&mut self, link: &CheckedLink) {
        let props = link.kind.properties();
        let from = target_id(&link.target);
        let dev = link.dev.value.clone();
        let addresses: Vec<String> = link.ips.iter().map(|ip| ip.value.to_string()).collect();
        // The kind and what qualifies it: `macvlan bridge`, `vlan 100`.
        let mut kind_line = props.name.to_string();
        if let Some(mode) = &link.mode {
            kind_line = format!("{kind_line} {mode}");
        }
        if let Some(id) = link.vlanid {
            kind_line = format!("{kind_line} {id}");
        }
        let to = if let Some(bridge) = &link.bridge {
            format!("bridge:{}", bridge.value)
        } else if let (OuterDev::Parent, Some(parent)) = (props.outer_dev, &link.outer_dev) {
            let id = format!("host:{}", parent.value);
            self.vertex(
                id.clone(),
                VertexKind::HostInterface {
                    dev: parent.value.clone(),
                },
                vec![format!("host {}", parent.value)],
            );
            id
        } else {
            let id = format!("dummy:{}/{dev}", link.target);
            self.vertex(
                id.clone(),
                VertexKind::Dummy {
                    target: link.target.to_string(),
                    dev: dev.clone(),
                },
                vec![format!("{} {dev}", props.name)],
            );
            id
        };
        let mut label = vec![dev.clone()];
        if link.bridge.is_none() || props.name != "veth" {
            label[0] = format!("{dev} ({kind_line})");
        }
        label.extend(addresses.iter().cloned());
        self.edges.push(Edge {
            from,
            to,
            kind: props.name.into(),
            dev: Some(dev),
            addresses,
            label,
        });
    }
}

/// The vertex id of a target: `node:NAME`, `container:NAME`, `service:NAME`.
fn target_id(target: &Target) -> String {
    target.to_string()
}
