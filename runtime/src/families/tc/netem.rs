//! netem's options: the value of a netem qdisc's `TCA_OPTIONS`, built and decoded
//! here, and tc's distribution tables.
//!
//! rtnetlink's packet crate has no netem type, so its `TCA_OPTIONS` is built here from
//! the kernel's uapi (`include/uapi/linux/pkt_sched.h`): a `struct tc_netem_qopt`
//! (`latency`, `limit`, `loss`, `gap`, `duplicate`, `jitter`, six `u32`s) followed by
//! netlink attributes, in the order tc writes them: `TCA_NETEM_CORR`, `_REORDER`,
//! `_CORRUPT`, `_RATE64`, `_RATE`, `_DELAY_DIST`. What tc decides, conlink decides the
//! same way:
//!
//! * Times go into `tc_netem_qopt` in the kernel's scheduler ticks of 64 ns
//!   (`/proc/net/psched` says 1000 ns per µs, 64 ns per tick), rounded down, as tc
//!   computes them. tc 6.1 stops there; where ticks cannot carry the time exactly (not a
//!   multiple of 64 ns, e.g. `1500us`, or beyond `u32::MAX` ticks, about 275 s) conlink
//!   also sends the kernel's exact 64-bit nanoseconds, `TCA_NETEM_LATENCY64` /
//!   `TCA_NETEM_JITTER64` (Linux ≥ 4.15 prefers them to the ticks; older kernels ignore
//!   them). They come last, so a request tc could also express is byte-identical.
//! * Percentages are `round(fraction × (2³² − 1))` ([`Percent::to_kernel`]).
//! * `limit` is 1000 packets unless given; `gap` is 1 when `reorder` has a non-zero
//!   probability and no `gap`.
//! * `TCA_NETEM_CORR` is sent when a delay, loss, reorder or corrupt correlation is
//!   written, even `0%`; `TCA_NETEM_REORDER` and `TCA_NETEM_CORRUPT` whenever their
//!   option is given; `TCA_NETEM_RATE` whenever `rate` is, in bytes per second (bits
//!   ÷ 8, rounded down), with `TCA_NETEM_RATE64` before it and `u32::MAX` in it from
//!   2³² bytes per second on.
//! * One deliberate difference: tc 6.1 forgets to send `TCA_NETEM_CORR` when only a
//!   *duplicate* correlation is written (`duplicate 1% 4%` reaches the kernel without
//!   its 4%). conlink sends it, so the kernel gets what the plan shows.
//! * A `distribution` other than uniform needs tc's table (`normal.dist`, …), a text
//!   file of `i16` values tc reads from its library directory and sends as
//!   `TCA_NETEM_DELAY_DIST`. conlink reads the same files ([`DistTable::load`]) and so
//!   sends the same bytes; where none is installed the step fails with a
//!   [`NetemError`] saying where it looked. `uniform` is the kernel's default and sends
//!   no table (tc has no `uniform.dist` and refuses it).

use crate::error::{NetemError, TableProblem};
use compiler::plan::{Distribution, Netem, Percent};
use std::path::PathBuf;

const TCA_NETEM_CORR: u16 = 1;
const TCA_NETEM_DELAY_DIST: u16 = 2;
const TCA_NETEM_REORDER: u16 = 3;
const TCA_NETEM_CORRUPT: u16 = 4;
const TCA_NETEM_RATE: u16 = 6;
const TCA_NETEM_RATE64: u16 = 8;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;

/// Length of `struct tc_netem_qopt`.
const QOPT_LEN: usize = 24;
/// Nanoseconds per scheduler tick (`PSCHED_SHIFT` is 6).
const TICK_NS: u64 = 64;
/// The queue limit tc sends when none is given.
pub const DEFAULT_LIMIT: u32 = 1000;
/// Most entries the kernel takes in a distribution table (`NETEM_DIST_MAX`).
pub const NETEM_DIST_MAX: usize = 16384;

/// A netem delay distribution table, as tc's `*.dist` files hold it: values of the
/// inverse cumulative distribution, scaled so that 8192 (`NETEM_DIST_SCALE`) is one
/// standard deviation (one `jitter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistTable {
    pub distribution: Distribution,
    pub values: Vec<i16>,
}

impl DistTable {
    /// The directories searched for `NAME.dist`, in order: `$TC_LIB_DIR` (which tc
    /// also honours), then the places distributions install iproute2's library
    /// directory.
    pub fn search_path() -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(dir) = std::env::var_os("TC_LIB_DIR") {
            dirs.push(PathBuf::from(dir));
        }
        let multiarch = format!("/usr/lib/{}-linux-gnu/tc", std::env::consts::ARCH);
        for dir in [
            "/usr/lib/tc",
            multiarch.as_str(),
            "/usr/lib64/tc",
            "/usr/local/lib/tc",
            "/lib/tc",
        ] {
            dirs.push(PathBuf::from(dir));
        }
        dirs
    }

    /// The table for `distribution` from the first directory of [`search_path`] that
    /// has it; `None` for `uniform`, which needs none.
    ///
    /// [`search_path`]: DistTable::search_path
    pub fn load(distribution: Distribution) -> Result<Option<DistTable>, NetemError> {
        if distribution == Distribution::Uniform {
            return Ok(None);
        }
        let searched = DistTable::search_path();
        for dir in &searched {
            let path = dir.join(format!("{}.dist", distribution.name()));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return DistTable::parse(distribution, &text)
                        .map(Some)
                        .map_err(|problem| NetemError::TableInvalid { path, problem });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(NetemError::TableInvalid {
                        path,
                        problem: TableProblem::Unreadable(e.to_string()),
                    })
                }
            }
        }
        Err(NetemError::TableNotFound {
            distribution,
            searched,
        })
    }

    /// Reads a table in tc's text form: lines starting with `#` and empty lines are
    /// skipped; the others hold whitespace-separated decimal integers.
    pub fn parse(distribution: Distribution, text: &str) -> Result<DistTable, TableProblem> {
        let mut values = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                let value: i16 = word.parse().map_err(|_| TableProblem::NotANumber {
                    line: n + 1,
                    word: word.to_string(),
                })?;
                values.push(value);
            }
        }
        if values.is_empty() {
            return Err(TableProblem::Empty);
        }
        if values.len() > NETEM_DIST_MAX {
            return Err(TableProblem::TooLong {
                count: values.len(),
                max: NETEM_DIST_MAX,
            });
        }
        Ok(DistTable {
            distribution,
            values,
        })
    }
}

/// The value of netem's `TCA_OPTIONS`: `struct tc_netem_qopt` and its attributes.
pub fn netem_options(netem: &Netem, table: Option<&DistTable>) -> Result<Vec<u8>, NetemError> {
    encode_netem(netem, Some(table))
}

/// [`netem_options`]; `table: None` leaves the distribution table out (for
/// [`NetemParams::requested`], which does not show it).
fn encode_netem(netem: &Netem, table: Option<Option<&DistTable>>) -> Result<Vec<u8>, NetemError> {
    let delay = netem.delay.as_ref();
    let (latency_ns, jitter_ns) = delay.map_or((0, 0), |d| (d.time_ns, d.jitter_ns.unwrap_or(0)));
    let kernel = |p: Option<Percent>| p.map_or(0, Percent::to_kernel);
    let chance = |c: Option<&compiler::plan::Chance>| {
        c.map_or((0, 0), |c| {
            (c.probability.to_kernel(), kernel(c.correlation))
        })
    };
    let (loss, loss_corr) = chance(netem.loss.as_ref());
    let (duplicate, dup_corr) = chance(netem.duplicate.as_ref());
    let delay_corr = kernel(delay.and_then(|d| d.correlation));
    let gap = match &netem.reorder {
        Some(r) => r.gap.unwrap_or(if r.probability.ppb() > 0 { 1 } else { 0 }),
        None => 0,
    };

    let mut out = Vec::with_capacity(128);
    for field in [
        ticks(latency_ns),
        netem.limit.unwrap_or(DEFAULT_LIMIT),
        loss,
        gap,
        duplicate,
        ticks(jitter_ns),
    ] {
        out.extend_from_slice(&field.to_ne_bytes());
    }
    debug_assert_eq!(out.len(), QOPT_LEN);

    let corr_written = delay.is_some_and(|d| d.correlation.is_some())
        || [&netem.loss, &netem.duplicate, &netem.corrupt]
            .iter()
            .any(|c| c.is_some_and(|c| c.correlation.is_some()))
        || netem.reorder.is_some_and(|r| r.correlation.is_some());
    if corr_written {
        attr_u32s(&mut out, TCA_NETEM_CORR, &[delay_corr, loss_corr, dup_corr]);
    }
    if let Some(r) = &netem.reorder {
        let values = [r.probability.to_kernel(), kernel(r.correlation)];
        attr_u32s(&mut out, TCA_NETEM_REORDER, &values);
    }
    if let Some(c) = &netem.corrupt {
        let values = [c.probability.to_kernel(), kernel(c.correlation)];
        attr_u32s(&mut out, TCA_NETEM_CORRUPT, &values);
    }
    if let Some(bits) = netem.rate_bits_per_second {
        let bytes = bits / 8;
        let rate32 = match u32::try_from(bytes) {
            Ok(rate) => rate,
            Err(_) => {
                attr(&mut out, TCA_NETEM_RATE64, &bytes.to_ne_bytes());
                u32::MAX
            }
        };
        // struct tc_netem_rate: rate, packet_overhead, cell_size, cell_overhead.
        attr_u32s(&mut out, TCA_NETEM_RATE, &[rate32, 0, 0, 0]);
    }
    if let (Some(dist), Some(table)) = (delay.and_then(|d| d.distribution), table) {
        if dist != Distribution::Uniform {
            let table = table
                .filter(|t| t.distribution == dist)
                .ok_or(NetemError::TableMissing { distribution: dist })?;
            let bytes: Vec<u8> = table.values.iter().flat_map(|v| v.to_ne_bytes()).collect();
            attr(&mut out, TCA_NETEM_DELAY_DIST, &bytes);
        }
    }
    if !exact_in_ticks(latency_ns) {
        attr(
            &mut out,
            TCA_NETEM_LATENCY64,
            &(latency_ns as i64).to_ne_bytes(),
        );
    }
    if !exact_in_ticks(jitter_ns) {
        attr(
            &mut out,
            TCA_NETEM_JITTER64,
            &(jitter_ns as i64).to_ne_bytes(),
        );
    }
    Ok(out)
}

/// A time in scheduler ticks, rounded down and capped at `u32::MAX`.
fn ticks(ns: u64) -> u32 {
    u32::try_from(ns / TICK_NS).unwrap_or(u32::MAX)
}

/// Whether [`ticks`] carries `ns` exactly.
fn exact_in_ticks(ns: u64) -> bool {
    ns % TICK_NS == 0 && ns / TICK_NS <= u64::from(u32::MAX)
}

fn attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = 4 + value.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn attr_u32s(out: &mut Vec<u8>, kind: u16, values: &[u32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    attr(out, kind, &bytes);
}

/// What a netem qdisc holds, in the kernel's own units: what conlink asks for
/// ([`NetemParams::requested`]) and what a dump reports ([`NetemParams::decode`]), so
/// the two can be compared. Fields the request leaves out are zero, as the kernel
/// then keeps them. (The distribution table is not dumped by the kernel.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetemParams {
    pub latency_ns: i64,
    pub jitter_ns: i64,
    pub limit: u32,
    pub loss: u32,
    pub gap: u32,
    pub duplicate: u32,
    pub delay_corr: u32,
    pub loss_corr: u32,
    pub dup_corr: u32,
    pub reorder: u32,
    pub reorder_corr: u32,
    pub corrupt: u32,
    pub corrupt_corr: u32,
    /// Bytes per second.
    pub rate: u64,
}

impl NetemParams {
    /// The kernel's values for `netem` once conlink's request is applied.
    pub fn requested(netem: &Netem) -> NetemParams {
        let options = encode_netem(netem, None).expect("only a missing table fails");
        NetemParams::decode(&options).expect("conlink's own netem options decode")
    }

    /// Decodes netem's `TCA_OPTIONS` value, from a request or a dump.
    pub fn decode(options: &[u8]) -> Option<NetemParams> {
        let u32_at = |b: &[u8], i: usize| -> Option<u32> {
            Some(u32::from_ne_bytes(
                b.get(i * 4..i * 4 + 4)?.try_into().ok()?,
            ))
        };
        let qopt = options.get(..QOPT_LEN)?;
        let mut p = NetemParams {
            latency_ns: i64::from(u32_at(qopt, 0)?) * TICK_NS as i64,
            limit: u32_at(qopt, 1)?,
            loss: u32_at(qopt, 2)?,
            gap: u32_at(qopt, 3)?,
            duplicate: u32_at(qopt, 4)?,
            jitter_ns: i64::from(u32_at(qopt, 5)?) * TICK_NS as i64,
            ..NetemParams::default()
        };
        let mut rate64 = None;
        let mut at = QOPT_LEN;
        while at + 4 <= options.len() {
            let len = usize::from(u16::from_ne_bytes([options[at], options[at + 1]]));
            let kind = u16::from_ne_bytes([options[at + 2], options[at + 3]]) & 0x3fff;
            if len < 4 || at + len > options.len() {
                return None;
            }
            let v = &options[at + 4..at + len];
            let i64_value = || Some(i64::from_ne_bytes(v.get(..8)?.try_into().ok()?));
            match kind {
                TCA_NETEM_CORR => {
                    p.delay_corr = u32_at(v, 0)?;
                    p.loss_corr = u32_at(v, 1)?;
                    p.dup_corr = u32_at(v, 2)?;
                }
                TCA_NETEM_REORDER => {
                    p.reorder = u32_at(v, 0)?;
                    p.reorder_corr = u32_at(v, 1)?;
                }
                TCA_NETEM_CORRUPT => {
                    p.corrupt = u32_at(v, 0)?;
                    p.corrupt_corr = u32_at(v, 1)?;
                }
                TCA_NETEM_RATE => p.rate = u64::from(u32_at(v, 0)?),
                TCA_NETEM_RATE64 => rate64 = Some(i64_value()? as u64),
                TCA_NETEM_LATENCY64 => p.latency_ns = i64_value()?,
                TCA_NETEM_JITTER64 => p.jitter_ns = i64_value()?,
                _ => {}
            }
            at += len.next_multiple_of(4);
        }
        if let Some(rate) = rate64 {
            p.rate = rate;
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests;
