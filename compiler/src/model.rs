//! The configuration language as Rust types (docs/configuration.md, from "Top-level
//! keys" to "Commands").
//!
//! These types are the single source of truth for the language: the JSON Schema that
//! editors and `conlink validate` use is generated from them (see [`crate::load::schema`]),
//! and the typed configuration is deserialized into them from the YAML tree, with a
//! [`Spanned`] wherever a later check may need to point at a value.
//!
//! They describe what the user wrote, after interpolation and merging, before any
//! checking beyond the schema: strings such as addresses and routes stay strings
//! here and are parsed by the checks, which can then report every error at once.
//!
//! They also serialize, with the names the user writes (`conlink run --show-config`,
//! docs/cli.md, "conlink run"): what is printed reads back as a network file that
//! plans the same. Properties not given are left out, as they were in the source.

pub use crate::plan::{BridgeMode, CommandLine, TunnelKind};
use crate::plan::{IpvlanMode, MacvlanMode};
use crate::source::Spanned;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// conlink network configuration: links, bridges, tunnels, commands and nodes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Interfaces to create inside targets (services, containers or nodes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Spanned<Link>>,
    /// Bridges (broadcast domains) that veth links and tunnels join. Every bridge named
    /// by a link or tunnel exists whether or not it is listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridges: Vec<Bridge>,
    /// Overlay tunnels joining a bridge to the same bridge on another host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnels: Vec<Tunnel>,
    /// Commands run inside targets once all their links are up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Spanned<Command>>,
    /// Network namespaces that conlink creates and owns (no container engine needed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeDef>,
}

/// The kind of interface a link creates.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A veth pair: `dev` in the target, the outer end on a bridge in conlink's namespace.
    Veth,
    /// A dummy interface inside the target.
    Dummy,
    /// An 802.1Q VLAN interface on `outer-dev` (a host interface), moved into the target.
    Vlan,
    /// An ipvlan interface on `outer-dev`.
    Ipvlan,
    /// A macvlan interface on `outer-dev`.
    Macvlan,
    /// An ipvtap interface on `outer-dev`.
    Ipvtap,
    /// A macvtap interface on `outer-dev`.
    Macvtap,
}

impl LinkKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [LinkKind; 7] = [
        LinkKind::Veth,
        LinkKind::Dummy,
        LinkKind::Vlan,
        LinkKind::Ipvlan,
        LinkKind::Macvlan,
        LinkKind::Ipvtap,
        LinkKind::Macvtap,
    ];

    /// Which properties the kind takes: the one table of per-kind rules that the
    /// checks and the lowering read, so a new kind is a new row here rather than an
    /// edit of every rule (docs/configuration.md, "Links").
    pub fn properties(self) -> &'static LinkProperties {
        match self {
            LinkKind::Veth => &LinkProperties {
                name: "veth",
                article: "a",
                bridge: Presence::Required,
                outer_dev: OuterDev::OuterEnd,
                mac: true,
                modes: &[],
                vlanid: Presence::Forbidden,
                forward: true,
                default_mtu: true,
            },
            LinkKind::Dummy => &LinkProperties {
                name: "dummy",
                article: "a",
                bridge: Presence::Forbidden,
                outer_dev: OuterDev::None,
                mac: true,
                modes: &[],
                vlanid: Presence::Forbidden,
                forward: false,
                default_mtu: true,
            },
            LinkKind::Vlan => &LinkProperties {
                name: "vlan",
                article: "a",
                bridge: Presence::Forbidden,
                outer_dev: OuterDev::Parent,
                mac: true,
                modes: &[],
                vlanid: Presence::Required,
                forward: false,
                default_mtu: false,
            },
            LinkKind::Ipvlan => &LinkProperties {
                name: "ipvlan",
                article: "an",
                bridge: Presence::Forbidden,
                outer_dev: OuterDev::Parent,
                mac: false,
                modes: &IpvlanMode::NAMES,
                vlanid: Presence::Forbidden,
                forward: false,
                default_mtu: false,
            },
            LinkKind::Macvlan => &LinkProperties {
                name: "macvlan",
                article: "a",
                bridge: Presence::Forbidden,
                outer_dev: OuterDev::Parent,
                mac: true,
                modes: &MacvlanMode::NAMES,
                vlanid: Presence::Forbidden,
                forward: false,
                default_mtu: false,
            },
            LinkKind::Ipvtap => &LinkProperties {
                name: "ipvtap",
                article: "an",
                bridge: Presence::Forbidden,
                outer_dev: OuterDev::Parent,
                mac: false,
                modes: &IpvlanMode::NAMES,
                vlanid: Presence::Forbidden,
                forward: false,
                default_mtu: false,
            },
            LinkKind::Macvtap => &LinkProperties {
                name: "macvtap",
                article: "a",
                bridge: Presence::Forbidden,
                outer_dev: OuterDev::Parent,
                mac: true,
                modes: &MacvlanMode::NAMES,
                vlanid: Presence::Forbidden,
                forward: false,
                default_mtu: false,
            },
        }
    }

    /// The kind as the configuration spells it (`type: …`).
    pub fn as_str(self) -> &'static str {
        self.properties().name
    }

    /// The kind with its indefinite article, for messages ("an ipvlan").
    pub fn with_article(self) -> String {
        let p = self.properties();
        format!("{} {}", p.article, p.name)
    }

    /// The kinds that take a property, for messages ("veth links", "vlan links"):
    /// their names joined by "and".
    pub fn names_where(takes: impl Fn(&LinkProperties) -> bool) -> String {
        let names: Vec<&str> = LinkKind::ALL
            .iter()
            .map(|k| k.properties())
            .filter(|p| takes(p))
            .map(|p| p.name)
            .collect();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// What one kind of link takes (a row of [`LinkKind::properties`]).
#[derive(Debug)]
pub struct LinkProperties {
    /// The kind's name in the configuration.
    pub name: &'static str,
    /// `a` or `an`, as the name is said.
    pub article: &'static str,
    /// `bridge`: the bridge the outer end of a pair joins.
    pub bridge: Presence,
    /// What `outer-dev` names, if anything.
    pub outer_dev: OuterDev,
    /// Whether `mac` can be set (kinds that share their parent's MAC cannot).
    pub mac: bool,
    /// The values `mode` takes; none means the kind takes no `mode`.
    pub modes: &'static [&'static str],
    /// `vlanid`.
    pub vlanid: Presence,
    /// Whether `forward` can be used (it needs a pair with an end on a bridge).
    pub forward: bool,
    /// Whether an MTU is set when the link gives none (`--default-mtu`, else 65535);
    /// otherwise the interface keeps what the kernel gives it (its parent's).
    pub default_mtu: bool,
}

/// Whether a property must, may or must not be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    Forbidden,
}

/// What a kind's `outer-dev` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OuterDev {
    /// Nothing: the kind has no outer end and no parent (`outer-dev` is refused).
    None,
    /// The outer end of a pair, in conlink's namespace (generated when not given).
    OuterEnd,
    /// The parent interface in the host namespace (required).
    Parent,
}

/// A link: one interface inside one target.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Link {
    /// Interface kind (default `veth`).
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Spanned<LinkKind>>,
    /// Target: every replica of this compose service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Spanned<String>>,
    /// Target: one container, by its exact name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Spanned<String>>,
    /// Target: a conlink node (a network namespace listed under `nodes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Spanned<String>>,
    /// Bridge the outer end of a veth link joins (required for veth, forbidden otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge: Option<Spanned<String>>,
    /// Interface name inside the target (default `eth0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<Spanned<String>>,
    /// veth: name of the outer end (generated when absent). vlan/ipvlan/macvlan/ipvtap/
    /// macvtap: the parent interface in the host namespace (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outer_dev: Option<Spanned<String>>,
    /// Address(es) of `dev` in CIDR form (IPv4 or IPv6); a replica `i` of a service gets
    /// each address + (i-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<StrList>,
    /// MAC address of `dev` (`xx:xx:xx:xx:xx:xx`); derived from the link's identity when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<Spanned<String>>,
    /// MTU of `dev` (veth: both ends), 68-65535. Default 65535 for veth and dummy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Spanned<Mtu>>,
    /// Route(s) via `dev`, in `ip route add` syntax, e.g. `default via 10.0.0.1`; a `dev`
    /// in the route may only name the link's own `dev`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<StrList>,
    /// Stateless 1:1 NAT: traffic arriving on `dev` is DNATed to this IPv4 address, traffic
    /// leaving `dev` is SNATed to the link's own address. Needs an IPv4 `ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat: Option<Spanned<String>>,
    /// `tc qdisc … netem` options on `dev`, e.g. `delay 40ms loss 1%`; list items are joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netem: Option<StrList>,
    /// ethtool settings on `dev` as ethtool arguments without the device, e.g. `-K tx off`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethtool: Option<StrList>,
    /// macvlan/macvtap mode (private, vepa, bridge, passthru, source) or ipvlan/ipvtap mode
    /// (l2, l3, l3s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Spanned<String>>,
    /// VLAN id 1-4094 (vlan links only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlanid: Option<Spanned<VlanId>>,
    /// Port forward(s) `EXTERNAL:INTERNAL/tcp|udp` from conlink's external interface to this
    /// link's address (veth links with `ip` on a linux or ovs bridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward: Option<StrList>,
}

/// A bridge.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bridge {
    /// Bridge name (an interface name in conlink's namespace).
    pub bridge: Spanned<String>,
    /// `auto` (default: the `--default-bridge-mode` option), `linux`, `ovs` or `patch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Spanned<BridgeMode>>,
    /// MTU of the bridge device (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Spanned<Mtu>>,
}

/// An overlay tunnel to another host, joined to a bridge.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    /// `geneve` or `vxlan`.
    #[serde(rename = "type")]
    pub kind: Spanned<TunnelKind>,
    /// The bridge the tunnel interface joins.
    pub bridge: Spanned<String>,
    /// IP address of the other host.
    pub remote: Spanned<String>,
    /// Virtual network identifier, 0-16777215.
    pub vni: Spanned<Vni>,
    /// `tc qdisc … netem` options on the tunnel interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netem: Option<StrList>,
    /// UDP destination port (default 6081 for geneve, 4789 for vxlan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dstport: Option<Spanned<Port>>,
    /// MTU of the tunnel interface (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Spanned<Mtu>>,
    /// Address(es) on the tunnel interface (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<StrList>,
    /// MAC address of the tunnel interface (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<Spanned<String>>,
}

/// A command to run inside a target.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Target: every replica of this compose service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Spanned<String>>,
    /// Target: one container, by its exact name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Spanned<String>>,
    /// Target: a conlink node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Spanned<String>>,
    /// A string runs as `sh -c STRING`; a list runs directly as argv.
    pub command: Spanned<CommandLine>,
}

/// A node: a network namespace conlink creates, names, owns and removes.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    /// Node name; links and commands target it with `node: NAME`.
    pub name: Spanned<String>,
    /// sysctls set inside the node's namespace, e.g. `net.ipv4.ip_forward: 1`.
    #[serde(default, skip_serializing_if = "Sysctls::is_empty")]
    pub sysctls: Sysctls,
}

/// sysctl name to value, in written order, each name with its own span (so a bad name
/// is pointed at, not its value).
#[derive(Clone, Debug, Default)]
pub struct Sysctls(pub Vec<(Spanned<String>, Spanned<SysctlValue>)>);

impl Sysctls {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets `key`, replacing an earlier value of the same name (merging:
    /// docs/configuration.md, "Sources and merging").
    pub fn set(&mut self, key: Spanned<String>, value: Spanned<SysctlValue>) {
        match self.0.iter_mut().find(|(k, _)| k.value == key.value) {
            Some(slot) => *slot = (key, value),
            None => self.0.push((key, value)),
        }
    }
}

impl<'de> Deserialize<'de> for Sysctls {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Sysctls;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping of sysctl names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Sysctls, A::Error> {
                let mut out = Sysctls::default();
                while let Some((k, v)) = m.next_entry::<Spanned<String>, Spanned<SysctlValue>>()? {
                    out.set(k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Visit)
    }
}

impl Serialize for Sysctls {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(&k.value, &v.value)?;
        }
        map.end()
    }
}

impl JsonSchema for Sysctls {
    fn schema_name() -> Cow<'static, str> {
        "Sysctls".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = g.subschema_for::<SysctlValue>();
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": value
        })
    }
}

/// A sysctl value as written (a number, a boolean or a string).
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub struct SysctlValue(#[schemars(with = "SysctlValueSchema")] pub String);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only its schema is used
enum SysctlValueSchema {
    Int(i64),
    Bool(bool),
    Str(String),
}

/// A whole number as a number (`1`, as such values are usually written), anything
/// else as the string it is; `true` was read as `1` and is printed so.
impl Serialize for SysctlValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(i) if i.to_string() == self.0 => s.serialize_i64(i),
            _ => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for SysctlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            Int(i64),
            Bool(bool),
            Str(String),
        }
        Ok(SysctlValue(match Any::deserialize(d)? {
            Any::Int(i) => i.to_string(),
            Any::Bool(b) => u8::from(b).to_string(),
            Any::Str(s) => s,
        }))
    }
}

// ---------------------------------------------------------------------------------
// "A string or a list of strings", held as a list that remembers how it was written:
// merging replaces a string by a later string, as conlink 2.x did, but appends a string
// to a list as one item, where 2.x split it into characters (docs/configuration.md,
// "Sources and merging").

/// A string or a list of strings, always held as a list, with how it was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StrList(pub Vec<Spanned<String>>, pub Written);

/// How a [`StrList`] was written in its source: one string, or a list (also after two
/// values were merged into one list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Written {
    String,
    #[default]
    List,
}

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Not an untagged enum: serde buffers untagged input, which would lose spans.
        // A single string gets the span of its node, each item of a list its own.
        let outer = Spanned::<OneOrMany>::deserialize(d)?;
        Ok(match outer.value {
            OneOrMany::One(s) => StrList(vec![Spanned::new(s, outer.span)], Written::String),
            OneOrMany::Many(list) => StrList(list, Written::List),
        })
    }
}

/// As it was written: one string, or a list.
impl Serialize for StrList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.1, self.0.as_slice()) {
            (Written::String, [one]) => one.value.serialize(s),
            _ => s.collect_seq(self.0.iter().map(|i| &i.value)),
        }
    }
}

enum OneOrMany {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OneOrMany, D::Error> {
        struct OneOrManyVisitor;
        impl<'de> serde::de::Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    list.push(s);
                }
                Ok(OneOrMany::Many(list))
            }
        }
        d.deserialize_any(OneOrManyVisitor)
    }
}

impl JsonSchema for StrList {
    fn schema_name() -> Cow<'static, str> {
        "StringOrList".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}}
            ]
        })
    }
}

// ---------------------------------------------------------------------------------
// Integers that may also be written as interpolated strings (`mtu: ${MTU:-1500}`).
//
// Before schema validation, strings at these properties that are decimal integers are
// turned into integers (see `crate::load::fragments::coerce_numbers`), so the schema checks
// their range like any other integer. The schema still accepts strings containing `$`
// so that editors do not flag a `${VAR}` that only the tool can expand.

macro_rules! ranged_int {
    ($(#[$doc:meta])* $name:ident: $ty:ty, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $ty);

        impl $name {
            pub const MIN: $ty = $min;
            pub const MAX: $ty = $max;
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = i64::deserialize(d)?;
                if v < ($min as i64) || v > ($max as i64) {
                    return Err(serde::de::Error::custom(format!(
                        "{} is out of range {}-{}", v, $min, $max
                    )));
                }
                Ok($name(v as $ty))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "anyOf": [
                        {"type": "integer", "minimum": $min, "maximum": $max},
                        {"type": "string", "pattern": NUMERIC_STRING_PATTERN}
                    ]
                })
            }
        }
    };
}

/// Strings accepted where an integer is expected: a decimal integer, or anything with a
/// `$` (an interpolation only the tool can expand).
pub const NUMERIC_STRING_PATTERN: &str = r"^\s*[0-9]+\s*$|\$";

ranged_int!(
    /// An MTU, 68-65535.
    Mtu: u32, 68, 65535
);
ranged_int!(
    /// An 802.1Q VLAN id, 1-4094.
    VlanId: u16, 1, 4094
);
ranged_int!(
    /// A VXLAN/Geneve network identifier, 0-16777215.
    Vni: u32, 0, 16_777_215
);
ranged_int!(
    /// A UDP port, 1-65535.
    Port: u16, 1, 65535
);

/// The properties that hold integers, per top-level section, for the coercion of
/// interpolated numeric strings.
pub const NUMERIC_PROPERTIES: &[(&str, &[&str])] = &[
    ("links", &["mtu", "vlanid"]),
    ("bridges", &["mtu"]),
    ("tunnels", &["vni", "dstport", "mtu"]),
];

// ---------------------------------------------------------------------------------
// Targets.

/// Where a link or command lives (docs/configuration.md, "Targets").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Service(String),
    Container(String),
    Node(String),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Service(_) => "service",
            Target::Container(_) => "container",
            Target::Node(_) => "node",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Target::Service(n) | Target::Container(n) | Target::Node(n) => n,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind(), self.name())
    }
}

/// The target fields a link or command carries, found once for both.
pub fn targets_of<'a>(
    service: &'a Option<Spanned<String>>,
    container: &'a Option<Spanned<String>>,
    node: &'a Option<Spanned<String>>,
) -> Vec<(Target, &'a Spanned<String>)> {
    let mut out = Vec::new();
    if let Some(s) = service {
        out.push((Target::Service(s.value.clone()), s));
    }
    if let Some(s) = container {
        out.push((Target::Container(s.value.clone()), s));
    }
    if let Some(s) = node {
        out.push((Target::Node(s.value.clone()), s));
    }
    out
}

impl Link {
    /// The link's target, if it names exactly one.
    pub fn target(&self) -> Option<Target> {
        let t = targets_of(&self.service, &self.container, &self.node);
        (t.len() == 1)
            .then(|| t.into_iter().next().map(|(t, _)| t))
            .flatten()
    }

    pub fn kind(&self) -> LinkKind {
        self.kind.as_ref().map_or(LinkKind::Veth, |k| k.value)
    }

    pub fn dev(&self) -> &str {
        self.dev.as_ref().map_or("eth0", |d| d.value.as_str())
    }
}

impl Command {
    pub fn target(&self) -> Option<Target> {
        let t = targets_of(&self.service, &self.container, &self.node);
        (t.len() == 1)
            .then(|| t.into_iter().next().map(|(t, _)| t))
            .flatten()
    }
}
