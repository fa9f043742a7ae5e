//! Network emulation settings (`tc qdisc add … netem`), held as exact integers: times in
//! nanoseconds, percentages in parts per billion ([`Percent`]), rates in bits per second.
//!
//! [`Netem`] prints (`Display`) in the canonical form of a `netem` string
//! (docs/configuration.md, "String languages: route, netem, ethtool"): each value in the
//! largest unit that shows it exactly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Network emulation settings for one interface, as `tc qdisc … netem` takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Netem {
    /// Added delay (`delay TIME [JITTER [CORR%]]`, with `distribution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
    /// Random packet loss (`loss [random] PCT [CORR%]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Chance>,
    /// Packet duplication (`duplicate PCT [CORR%]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Chance>,
    /// Random bit errors in packets (`corrupt PCT [CORR%]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Chance>,
    /// Reordering (`reorder PCT [CORR%]`, with `gap`); always together with a delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<Reorder>,
    /// Rate limit in bits per second (`rate RATE`). The kernel takes bytes per second:
    /// divide by 8, rounding down, as tc does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_bits_per_second: Option<u64>,
    /// Queue length limit in packets (`limit N`); the kernel's default is 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Netem {
    /// Whether no option is set (an empty string): the caller may skip the qdisc.
    pub fn is_empty(&self) -> bool {
        *self == Netem::default()
    }
}

/// Added delay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Delay {
    /// Delay added to every packet, in nanoseconds.
    pub time_ns: u64,
    /// Random variation of the delay (plus or minus), in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ns: Option<u64>,
    /// Correlation of each packet's jitter with the previous packet's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Percent>,
    /// Statistical distribution of the jitter (`distribution`); absent means uniform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

/// A random event with a probability (loss, duplication, corruption).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Chance {
    /// Probability that a packet is affected.
    pub probability: Percent,
    /// Correlation of each packet's chance with the previous packet's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Percent>,
}

/// Reordering: some packets are sent at once while the others wait for the delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Reorder {
    /// Probability that a packet is sent immediately, ahead of delayed ones.
    pub probability: Percent,
    /// Correlation of each packet's chance with the previous packet's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Percent>,
    /// Reorder only every Nth packet (`gap N`); absent means 1, as tc sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<u32>,
}

/// The jitter distributions tc ships tables for (plus `uniform`, the kernel's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Every delay in `TIME ± JITTER` equally likely.
    Uniform,
    /// Normal (Gaussian) distribution.
    Normal,
    /// Pareto distribution (heavy tail).
    Pareto,
    /// Mix of Pareto and normal.
    #[serde(rename = "paretonormal")]
    ParetoNormal,
}

impl Distribution {
    /// Every distribution.
    pub const ALL: [Distribution; 4] = [
        Distribution::Uniform,
        Distribution::Normal,
        Distribution::Pareto,
        Distribution::ParetoNormal,
    ];

    /// The name as tc spells it.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Normal => "normal",
            Distribution::Pareto => "pareto",
            Distribution::ParetoNormal => "paretonormal",
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A percentage, held exactly as parts per billion of the whole: 100% is 1000000000,
/// 1% is 10000000, and the finest step, 0.0000001%, is 1. (Decimal rather than the
/// kernel's binary scaling, so that what the user wrote prints back unchanged; see
/// [`Percent::to_kernel`] for the kernel's form.)
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "u32", into = "u32")]
#[schemars(extend("maximum" = 1_000_000_000))]
pub struct Percent(u32);

impl Percent {
    /// Parts per billion in one percent.
    pub const PPB_PER_PERCENT: u32 = 10_000_000;
    /// 100%.
    pub const MAX_PPB: u32 = 1_000_000_000;

    /// A percentage of `ppb` parts per billion; `None` above 100%.
    pub fn from_ppb(ppb: u32) -> Option<Percent> {
        (ppb <= Percent::MAX_PPB).then_some(Percent(ppb))
    }

    /// Parts per billion of the whole.
    pub fn ppb(self) -> u32 {
        self.0
    }

    /// The kernel's encoding, `round(fraction × 2³²−1)`, which tc puts in netem's
    /// netlink attributes (100% is `u32::MAX`).
    pub fn to_kernel(self) -> u32 {
        let scaled = u64::from(self.0) * u64::from(u32::MAX);
        let max = u64::from(Percent::MAX_PPB);
        // At most u32::MAX because self.0 <= MAX_PPB; rounds half up.
        ((scaled + max / 2) / max) as u32
    }
}

impl TryFrom<u32> for Percent {
    type Error = String;

    fn try_from(ppb: u32) -> Result<Percent, String> {
        Percent::from_ppb(ppb).ok_or_else(|| format!("{ppb} parts per billion is more than 100%"))
    }
}

impl From<Percent> for u32 {
    fn from(percent: Percent) -> u32 {
        percent.0
    }
}

impl fmt::Display for Percent {
    /// Exact decimal percent without trailing zeros: `1%`, `0.5%`, `0.0000001%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Percent::PPB_PER_PERCENT;
        let fraction = self.0 % Percent::PPB_PER_PERCENT;
        if fraction == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{fraction:07}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

/// Bits per second per unit, by the unit names tc accepts (matched case-insensitively;
/// `…bps` units are bytes, hence the factor 8).
pub const RATE_UNITS: &[(&str, u64)] = &[
    ("bit", 1),
    ("kbit", 1_000),
    ("mbit", 1_000_000),
    ("gbit", 1_000_000_000),
    ("tbit", 1_000_000_000_000),
    ("kibit", 1 << 10),
    ("mibit", 1 << 20),
    ("gibit", 1 << 30),
    ("tibit", 1 << 40),
    ("bps", 8),
    ("kbps", 8_000),
    ("mbps", 8_000_000),
    ("gbps", 8_000_000_000),
    ("tbps", 8_000_000_000_000),
    ("kibps", 8 << 10),
    ("mibps", 8 << 20),
    ("gibps", 8 << 30),
    ("tibps", 8 << 40),
];

/// A time in the largest unit that shows it exactly: `1s`, `40ms`, `1500us`, `7ns`.
fn format_time(ns: u64) -> String {
    for (unit, factor) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        // (`checked_rem` rather than `is_multiple_of`, which needs Rust 1.87.)
        if ns.checked_rem(factor) == Some(0) {
            return format!("{}{unit}", ns / factor);
        }
    }
    format!("{ns}ns")
}

/// A rate in the largest unit that shows it exactly, preferring decimal units:
/// `10mbit`, `1mibit`, `1500kbit`, `12bit`.
fn format_rate(bits: u64) -> String {
    const ORDER: [&str; 8] = [
        "tbit", "gbit", "mbit", "kbit", "tibit", "gibit", "mibit", "kibit",
    ];
    for unit in ORDER {
        let factor = RATE_UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map_or(1, |(_, f)| *f);
        if bits != 0 && bits.checked_rem(factor) == Some(0) {
            return format!("{}{unit}", bits / factor);
        }
    }
    format!("{bits}bit")
}

impl fmt::Display for Netem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(delay) = &self.delay {
            let mut part = format!("delay {}", format_time(delay.time_ns));
            // A correlation is only written after a jitter; zero jitter means the same
            // as none to the kernel.
            if delay.jitter_ns.is_some() || delay.correlation.is_some() {
                part += &format!(" {}", format_time(delay.jitter_ns.unwrap_or(0)));
            }
            if let Some(corr) = delay.correlation {
                part += &format!(" {corr}");
            }
            if let Some(distribution) = delay.distribution {
                part += &format!(" distribution {distribution}");
            }
            parts.push(part);
        }
        for (name, chance) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("corrupt", self.corrupt),
        ] {
            if let Some(chance) = chance {
                parts.push(format_chance(name, chance.probability, chance.correlation));
            }
        }
        if let Some(reorder) = self.reorder {
            let mut part = format_chance("reorder", reorder.probability, reorder.correlation);
            if let Some(gap) = reorder.gap {
                part += &format!(" gap {gap}");
            }
            parts.push(part);
        }
        if let Some(rate) = self.rate_bits_per_second {
            parts.push(format!("rate {}", format_rate(rate)));
        }
        if let Some(limit) = self.limit {
            parts.push(format!("limit {limit}"));
        }
        f.write_str(&parts.join(" "))
    }
}

fn format_chance(name: &str, probability: Percent, correlation: Option<Percent>) -> String {
    match correlation {
        Some(corr) => format!("{name} {probability} {corr}"),
        None => format!("{name} {probability}"),
    }
}
