//! Offload feature settings (`ethtool -K DEV FEATURE on|off …`) and the legacy feature
//! names ethtool accepts besides the kernel's own.
//!
//! [`Ethtool`] prints (`Display`) in the canonical form of an `ethtool` string
//! (docs/configuration.md, "String languages: route, netem, ethtool"): ethtool's
//! arguments without the device.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An `ethtool -K` command for the link's device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Ethtool {
    /// Features to switch, in the order written (never empty).
    pub features: Vec<FeatureSetting>,
}

/// One `FEATURE on|off` pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct FeatureSetting {
    /// The feature as written: an ethtool short or long name (e.g. `tx`,
    /// `tx-checksumming`) or a kernel feature name (e.g. `tx-checksum-ipv4`).
    pub feature: String,
    /// `true` for `on`, `false` for `off`.
    pub enabled: bool,
}

impl FeatureSetting {
    /// The kernel feature(s) this name stands for, as ethtool resolves it: a kernel
    /// name is itself, a legacy name is a kernel name or a glob such as `tx-checksum-*`.
    pub fn kernel_pattern(&self) -> &str {
        LEGACY
            .iter()
            .find(|(short, long, _)| *short == self.feature || *long == self.feature)
            .map_or(self.feature.as_str(), |(_, _, pattern)| pattern)
    }
}

/// ethtool's legacy offload names: short name, long name (as old `ethtool -k` printed
/// it) and the kernel feature name or glob it stands for (ethtool's `off_flag_def`).
pub const LEGACY: &[(&str, &str, &str)] = &[
    ("rx", "rx-checksumming", "rx-checksum"),
    ("tx", "tx-checksumming", "tx-checksum-*"),
    ("sg", "scatter-gather", "tx-scatter-gather*"),
    ("tso", "tcp-segmentation-offload", "tx-tcp*-segmentation"),
    // UFO left the kernel in 4.14; ethtool still knows the name.
    ("ufo", "udp-fragmentation-offload", "tx-udp-fragmentation"),
    (
        "gso",
        "generic-segmentation-offload",
        "tx-generic-segmentation",
    ),
    ("gro", "generic-receive-offload", "rx-gro"),
    ("lro", "large-receive-offload", "rx-lro"),
    ("rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse"),
    ("txvlan", "tx-vlan-offload", "tx-vlan-hw-insert"),
    ("ntuple", "ntuple-filters", "rx-ntuple-filter"),
    ("rxhash", "receive-hashing", "rx-hashing"),
];

impl fmt::Display for Ethtool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("-K")?;
        for setting in &self.features {
            let state = if setting.enabled { "on" } else { "off" };
            write!(f, " {} {state}", setting.feature)?;
        }
        Ok(())
    }
}
