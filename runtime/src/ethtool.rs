//! Offload features (`ethtool -k` / `ethtool -K`) through the `SIOCETHTOOL` ioctl.
//!
//! The kernel numbers a device's features as bits and names each bit in the
//! `ETH_SS_FEATURES` string set; the names are the same for every device of a kernel,
//! so [`Ethtool::open`] learns them once (from `lo`, present in every namespace) and
//! keeps them with the socket. The ioctl acts on devices of the socket's namespace: a
//! socket stays in the namespace it was created in, so open one per namespace (inside
//! [`crate::netns::enter`]).
//!
//! Per bit, `ETHTOOL_GFEATURES` reports `available` (the driver lets it change),
//! `requested` (what was asked), `active` (what is in effect) and `never_changed`; a
//! bit is "fixed" unless it is available and not never-changed, as `ethtool -k` shows.
//! A requested bit need not be active: the kernel keeps a feature off while one it
//! depends on is off (TSO without tx checksumming), and turns it back on by itself
//! when the dependency returns. That is why [`Saved`] records `requested` values:
//! putting those back restores the dependants too.

use compiler::plan::{Ethtool as Settings, FeatureSetting};
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::netlink::KernelError;

// From <linux/sockios.h> and <linux/ethtool.h>.
const SIOCETHTOOL: libc::Ioctl = 0x8946;
const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GSSET_INFO: u32 = 0x37;
const ETHTOOL_GFEATURES: u32 = 0x3a;
const ETHTOOL_SFEATURES: u32 = 0x3b;
const ETH_SS_FEATURES: u32 = 4;
const ETH_GSTRING_LEN: usize = 32;
/// Device names are at most 15 bytes plus the NUL (`IFNAMSIZ`).
const IFNAMSIZ: usize = 16;

/// The kernel's feature names, indexed by feature bit.
#[derive(Clone, Debug)]
pub struct Features {
    names: Vec<String>,
}

impl Features {
    /// Feature names by bit (an unnamed bit has an empty name).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Bits whose name matches `pattern`: an exact name, or a glob where `*` stands
    /// for any run of characters (ethtool's legacy names, e.g. `tx-checksum-*`).
    pub fn matching(&self, pattern: &str) -> Vec<usize> {
        (0..self.names.len())
            .filter(|&i| !self.names[i].is_empty() && glob(pattern, &self.names[i]))
            .collect()
    }

    /// 32-bit words of the feature bitmaps (`ETHTOOL_DEV_FEATURE_WORDS`), which the
    /// kernel insists on in `ETHTOOL_SFEATURES`.
    fn words(&self) -> usize {
        self.names.len().div_ceil(32)
    }
}

/// An open `SIOCETHTOOL` socket in one namespace, with the kernel's feature names.
#[derive(Debug)]
pub struct Ethtool {
    socket: OwnedFd,
    features: Features,
}

/// The feature values an [`Ethtool::apply`] found before changing them: exactly the
/// bits it requested, by kernel name, with their requested (wanted) value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub features: Vec<SavedFeature>,
}

/// One feature's previous requested value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFeature {
    pub name: String,
    pub enabled: bool,
}

/// Why an ethtool setting could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum EthtoolError {
    /// The name matches no feature of this kernel.
    #[error("{}", unknown_text(.feature, .pattern, .dev))]
    UnknownFeature {
        dev: String,
        feature: String,
        pattern: String,
    },
    /// The feature exists but the device does not let it change, and it does not
    /// already have the requested value.
    #[error("feature {} cannot be changed on {dev} (fixed)", fixed_text(.feature, .fixed))]
    Fixed {
        dev: String,
        feature: String,
        /// The kernel features behind `feature` that are fixed at the other value.
        fixed: Vec<String>,
    },
    /// The kernel accepted the request but kept these features (name, value now) as
    /// they were, usually because a feature they depend on is off; the device was put
    /// back as it was.
    #[error(
        "cannot change {dev}: the kernel kept {} (does it depend on a feature that is off?); \
         nothing was changed",
        kept_text(.kept)
    )]
    NotApplied {
        dev: String,
        kept: Vec<(String, bool)>,
    },
    /// The ioctl itself failed.
    #[error("ethtool {what} on {dev}: {}", device_text(.source, .dev))]
    Kernel {
        dev: String,
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

impl EthtoolError {
    /// The kernel's errno, for failures the kernel reported.
    pub fn kernel(&self) -> Option<KernelError> {
        match self {
            EthtoolError::Kernel { source, .. } => KernelError::from_os(source),
            _ => None,
        }
    }
}

fn unknown_text(feature: &str, pattern: &str, dev: &str) -> String {
    if feature == pattern {
        format!("no feature {feature} on {dev}: this kernel has no such offload feature")
    } else {
        format!("no feature {feature} on {dev}: this kernel has no feature matching {pattern}")
    }
}

fn fixed_text(feature: &str, fixed: &[String]) -> String {
    if fixed.len() == 1 && fixed[0] == feature {
        feature.to_string()
    } else {
        format!("{feature} ({})", fixed.join(", "))
    }
}

fn kept_text(kept: &[(String, bool)]) -> String {
    let each = kept
        .iter()
        .map(|(name, on)| format!("{name} {}", if *on { "on" } else { "off" }));
    each.collect::<Vec<_>>().join(", ")
}

fn device_text(e: &io::Error, dev: &str) -> String {
    if e.raw_os_error() == Some(libc::ENODEV) {
        format!("no such device {dev} in this namespace")
    } else {
        e.to_string()
    }
}

/// One device's feature bitmaps, as `ETHTOOL_GFEATURES` returns them.
struct DeviceFeatures {
    blocks: Vec<GetBlock>,
}

/// `struct ethtool_get_features_block`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct GetBlock {
    available: u32,
    requested: u32,
    active: u32,
    never_changed: u32,
}

fn bit(words: &[u32], i: usize) -> bool {
    words.get(i / 32).is_some_and(|w| w & (1 << (i % 32)) != 0)
}

impl DeviceFeatures {
    fn field(&self, i: usize, f: impl Fn(&GetBlock) -> u32) -> bool {
        let words: Vec<u32> = self.blocks.iter().map(f).collect();
        bit(&words, i)
    }

    fn active(&self, i: usize) -> bool {
        self.field(i, |b| b.active)
    }

    fn requested(&self, i: usize) -> bool {
        self.field(i, |b| b.requested)
    }

    /// What `ethtool -k` shows without "[fixed]".
    fn changeable(&self, i: usize) -> bool {
        self.field(i, |b| b.available) && !self.field(i, |b| b.never_changed)
    }
}

/// The bits a setting list asks for, each with its value, in first-mention order (a
/// later setting of the same bit wins, as on ethtool's command line).
type Request = Vec<(usize, bool)>;

impl Ethtool {
    /// Opens a socket in the calling thread's namespace and reads the kernel's
    /// feature names.
    pub fn open() -> io::Result<Ethtool> {
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut ethtool = Ethtool {
            socket,
            features: Features { names: Vec::new() },
        };
        ethtool.features = ethtool
            .read_names()
            .map_err(|e| io::Error::new(e.kind(), format!("reading feature names: {e}")))?;
        Ok(ethtool)
    }

    /// The kernel's feature names.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Every named feature of `dev`: (name, active, changeable), in bit order.
    pub fn get(&self, dev: &str) -> io::Result<Vec<(String, bool, bool)>> {
        let state = self.device(dev).map_err(into_io)?;
        Ok(self
            .features
            .names
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.is_empty())
            .map(|(i, name)| (name.clone(), state.active(i), state.changeable(i)))
            .collect())
    }

    /// Applies `settings` to `dev` in one request and returns the previous values of
    /// the bits it requested. Either every requested bit ends up active as asked, or
    /// the device is put back and an error says which did not.
    pub fn apply(&self, dev: &str, settings: &Settings) -> Result<Saved, EthtoolError> {
        let before = self.device(dev)?;
        let request = self.resolve(dev, settings, &before)?;
        if request.is_empty() {
            return Ok(Saved::default());
        }
        let saved = Saved {
            features: request
                .iter()
                .map(|&(i, _)| SavedFeature {
                    name: self.features.names[i].clone(),
                    enabled: before.requested(i),
                })
                .collect(),
        };
        self.set(dev, &request)?;
        let after = self.device(dev)?;
        let kept: Vec<(String, bool)> = request
            .iter()
            .filter(|&&(i, on)| after.active(i) != on)
            .map(|&(i, on)| (self.features.names[i].clone(), !on))
            .collect();
        if !kept.is_empty() {
            // Best effort: the error that matters is the one being reported.
            let _ = self.restore(dev, &saved);
            return Err(EthtoolError::NotApplied {
                dev: dev.to_string(),
                kept,
            });
        }
        Ok(saved)
    }

    /// Puts back the values [`Ethtool::apply`] saved. A device that is gone counts as
    /// restored (undoing something already gone is success, docs/plan.md "Steps and
    /// inverses"), and so does a name this kernel no longer has.
    pub fn restore(&self, dev: &str, saved: &Saved) -> Result<(), EthtoolError> {
        let request: Request = saved
            .features
            .iter()
            .filter_map(|f| {
                let i = self.features.names.iter().position(|n| *n == f.name)?;
                Some((i, f.enabled))
            })
            .collect();
        if request.is_empty() {
            return Ok(());
        }
        match self.set(dev, &request) {
            Err(EthtoolError::Kernel { source, .. })
                if source.raw_os_error() == Some(libc::ENODEV) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Whether every feature `settings` asks for is active with the asked value now.
    pub fn matches(&self, dev: &str, settings: &Settings) -> io::Result<bool> {
        let state = self.device(dev).map_err(into_io)?;
        let request = self.resolve(dev, settings, &state).map_err(into_io)?;
        Ok(request.iter().all(|&(i, on)| state.active(i) == on))
    }

    /// Turns settings into feature bits for `dev`. A pattern's changeable bits are
    /// requested and its fixed bits left alone (so `tx off` works on a veth, whose
    /// `tx-checksum-ipv4` is fixed off), as ethtool does. A pattern with no
    /// changeable bit is fine when its fixed bits already have the value, an error
    /// otherwise.
    fn resolve(
        &self,
        dev: &str,
        settings: &Settings,
        state: &DeviceFeatures,
    ) -> Result<Request, EthtoolError> {
        let mut request: Request = Vec::new();
        for setting in &settings.features {
            for i in self.resolve_one(dev, setting, state)? {
                match request.iter_mut().find(|(bit, _)| *bit == i) {
                    Some(entry) => entry.1 = setting.enabled,
                    None => request.push((i, setting.enabled)),
                }
            }
        }
        Ok(request)
    }

    fn resolve_one(
        &self,
        dev: &str,
        setting: &FeatureSetting,
        state: &DeviceFeatures,
    ) -> Result<Vec<usize>, EthtoolError> {
        let pattern = setting.kernel_pattern();
        let bits = self.features.matching(pattern);
        if bits.is_empty() {
            return Err(EthtoolError::UnknownFeature {
                dev: dev.to_string(),
                feature: setting.feature.clone(),
                pattern: pattern.to_string(),
            });
        }
        let (changeable, fixed): (Vec<usize>, Vec<usize>) =
            bits.into_iter().partition(|&i| state.changeable(i));
        let wrong: Vec<String> = fixed
            .iter()
            .filter(|&&i| state.active(i) != setting.enabled)
            .map(|&i| self.features.names[i].clone())
            .collect();
        if changeable.is_empty() && !wrong.is_empty() {
            return Err(EthtoolError::Fixed {
                dev: dev.to_string(),
                feature: setting.feature.clone(),
                fixed: wrong,
            });
        }
        Ok(changeable)
    }

    /// `ETHTOOL_SFEATURES` for the requested bits, all in one call.
    fn set(&self, dev: &str, request: &Request) -> Result<(), EthtoolError> {
        let words = self.features.words();
        // struct ethtool_sfeatures { u32 cmd; u32 size; { u32 valid; u32 requested; }[size] }
        let mut buf = vec![0u32; 2 + 2 * words];
        buf[0] = ETHTOOL_SFEATURES;
        buf[1] = words as u32;
        for &(i, on) in request {
            let (word, mask) = (i / 32, 1u32 << (i % 32));
            buf[2 + 2 * word] |= mask;
            if on {
                buf[3 + 2 * word] |= mask;
            }
        }
        // The return value flags partial success (ETHTOOL_F_WISH, …); `apply` reads
        // the result back instead, which also covers what the flags do not say.
        self.ioctl(dev, buf.as_mut_ptr().cast())
            .map_err(|source| kernel(dev, "-K", source))?;
        Ok(())
    }

    /// `ETHTOOL_GFEATURES` for `dev`.
    fn device(&self, dev: &str) -> Result<DeviceFeatures, EthtoolError> {
        let words = self.features.words();
        // struct ethtool_gfeatures { u32 cmd; u32 size; ethtool_get_features_block[size] }
        let mut buf = vec![0u32; 2 + 4 * words];
        buf[0] = ETHTOOL_GFEATURES;
        buf[1] = words as u32;
        self.ioctl(dev, buf.as_mut_ptr().cast())
            .map_err(|source| kernel(dev, "-k", source))?;
        let blocks = buf[2..]
            .chunks_exact(4)
            .map(|b| GetBlock {
                available: b[0],
                requested: b[1],
                active: b[2],
                never_changed: b[3],
            })
            .collect();
        Ok(DeviceFeatures { blocks })
    }

    /// The `ETH_SS_FEATURES` strings, asked of `lo`: the set is the kernel's, not the
    /// driver's, and `lo` exists in every namespace.
    fn read_names(&self) -> io::Result<Features> {
        // struct ethtool_sset_info { u32 cmd; u32 reserved; u64 sset_mask; u32 data[] }
        #[repr(C)]
        struct SsetInfo {
            cmd: u32,
            reserved: u32,
            mask: u64,
            data: [u32; 1],
        }
        let mut info = SsetInfo {
            cmd: ETHTOOL_GSSET_INFO,
            reserved: 0,
            mask: 1 << ETH_SS_FEATURES,
            data: [0],
        };
        self.ioctl("lo", (&raw mut info).cast())?;
        if info.mask & (1 << ETH_SS_FEATURES) == 0 {
            return Err(io::Error::other("the kernel reports no feature names"));
        }
        let count = info.data[0] as usize;
        // struct ethtool_gstrings { u32 cmd; u32 string_set; u32 len; u8 data[len * 32] },
        // kept in u32s for alignment.
        let mut buf = vec![0u32; 3 + count * ETH_GSTRING_LEN / 4];
        buf[0] = ETHTOOL_GSTRINGS;
        buf[1] = ETH_SS_FEATURES;
        buf[2] = count as u32;
        self.ioctl("lo", buf.as_mut_ptr().cast())?;
        let count = (buf[2] as usize).min(count);
        let bytes: Vec<u8> = buf[3..].iter().flat_map(|w| w.to_ne_bytes()).collect();
        let names = bytes
            .chunks_exact(ETH_GSTRING_LEN)
            .take(count)
            .map(|s| {
                let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                String::from_utf8_lossy(&s[..end]).into_owned()
            })
            .collect();
        Ok(Features { names })
    }

    /// `SIOCETHTOOL` on `dev` with `data` as the command buffer.
    fn ioctl(&self, dev: &str, data: *mut libc::c_void) -> io::Result<i32> {
        if dev.is_empty() || dev.len() >= IFNAMSIZ || dev.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid device name {dev:?}"),
            ));
        }
        // SAFETY: ifreq is plain data; all-zero is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, byte) in ifr.ifr_name.iter_mut().zip(dev.bytes()) {
            *slot = byte as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = data.cast();
        // SAFETY: ifr points at a valid ifreq whose data pointer is a buffer of the
        // size its command header declares, alive for the call.
        let rc = unsafe { libc::ioctl(self.socket.as_raw_fd(), SIOCETHTOOL, &mut ifr) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    }
}

fn kernel(dev: &str, what: &'static str, source: io::Error) -> EthtoolError {
    EthtoolError::Kernel {
        dev: dev.to_string(),
        what,
        source,
    }
}

/// An [`EthtoolError`] as an io::Error with the same text, keeping the kernel's
/// error kind where there was one.
fn into_io(e: EthtoolError) -> io::Error {
    let kind = match &e {
        EthtoolError::Kernel { source, .. } => source.kind(),
        _ => io::ErrorKind::InvalidInput,
    };
    io::Error::new(kind, e.to_string())
}

/// Glob match where `*` is any run of characters and everything else is literal
/// (all ethtool's legacy patterns need).
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            // Try every split point for the rest of the pattern (patterns are short).
            (0..=tail.len())
                .filter(|&k| tail.is_char_boundary(k))
                .any(|k| glob(rest, &tail[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{can_touch_kernel, TempNetns};
    use compiler::strings::ethtool::parse_ethtool;
    use std::process::Command;

    #[test]
    fn globs() {
        assert!(glob("tx-checksum-*", "tx-checksum-ipv4"));
        assert!(glob("tx-checksum-*", "tx-checksum-"));
        assert!(!glob("tx-checksum-*", "tx-checksumming"));
        assert!(glob("tx-tcp*-segmentation", "tx-tcp-segmentation"));
        assert!(glob("tx-tcp*-segmentation", "tx-tcp6-segmentation"));
        assert!(glob("tx-tcp*-segmentation", "tx-tcp-mangleid-segmentation"));
        assert!(!glob("tx-tcp*-segmentation", "tx-udp-segmentation"));
        assert!(glob("tx-scatter-gather*", "tx-scatter-gather"));
        assert!(glob("tx-scatter-gather*", "tx-scatter-gather-fraglist"));
        assert!(glob("rx-gro", "rx-gro"));
        assert!(!glob("rx-gro", "rx-gro-list"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXbYbc"));
        assert!(!glob("a*b*c", "aXcYb"));
    }

    #[test]
    fn saved_round_trips_through_json() {
        let saved = Saved {
            features: vec![SavedFeature {
                name: "tx-checksum-ip-generic".into(),
                enabled: true,
            }],
        };
        let json = serde_json::to_string(&saved).unwrap();
        assert_eq!(
            json,
            r#"{"features":[{"name":"tx-checksum-ip-generic","enabled":true}]}"#
        );
        assert_eq!(serde_json::from_str::<Saved>(&json).unwrap(), saved);
    }

    /// A namespace holding a veth pair `va`/`vb` (made with `ip`, which only tests use).
    fn veth_netns() -> TempNetns {
        let ns = TempNetns::new("cl-ethtool-").unwrap();
        let status = ns.run(|| {
            Command::new("ip")
                .args(["link", "add", "va", "type", "veth", "peer", "name", "vb"])
                .status()
                .unwrap()
        });
        assert!(status.success());
        ns
    }

    /// `ethtool -k DEV` run inside `ns`: the reference reading.
    fn ethtool_k(ns: &TempNetns, dev: &str) -> String {
        let out = ns.run(|| Command::new("ethtool").args(["-k", dev]).output().unwrap());
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn has_line(text: &str, line: &str) -> bool {
        text.lines().any(|l| l.trim() == line)
    }

    fn active(features: &[(String, bool, bool)], name: &str) -> bool {
        features.iter().find(|f| f.0 == name).expect(name).1
    }

    fn settings(text: &str) -> Settings {
        parse_ethtool(text).unwrap()
    }

    fn setting(feature: &str, enabled: bool) -> Settings {
        Settings {
            features: vec![FeatureSetting {
                feature: feature.into(),
                enabled,
            }],
        }
    }

    #[test]
    fn feature_names_come_from_the_kernel() {
        if !can_touch_kernel("ethtool::feature_names_come_from_the_kernel") {
            return;
        }
        let ns = TempNetns::new("cl-ethtool-").unwrap();
        let ethtool = ns.run(Ethtool::open).unwrap();
        let names = ethtool.features().names();
        for name in [
            "tx-checksum-ipv4",
            "tx-tcp-segmentation",
            "rx-gro",
            "highdma",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        let tx = ethtool.features().matching("tx-checksum-*");
        assert!(tx.len() >= 5, "{tx:?}");
        let lo = ethtool.get("lo").unwrap();
        assert_eq!(lo.len(), names.iter().filter(|n| !n.is_empty()).count());
        assert!(lo.iter().any(|(name, on, _)| name == "loopback" && *on));
    }

    #[test]
    fn tx_off_applies_reads_back_and_restores() {
        if !can_touch_kernel("ethtool::tx_off_applies_reads_back_and_restores") {
            return;
        }
        let ns = veth_netns();
        // Opened inside, used from outside: the socket keeps the namespace.
        let ethtool = ns.run(Ethtool::open).unwrap();
        let tx_off = settings("-K tx off");
        assert!(!ethtool.matches("va", &tx_off).unwrap());

        let saved = ethtool.apply("va", &tx_off).unwrap();
        // Exactly the changeable tx-checksum-* bits of a veth, with their old value.
        let names: Vec<(&str, bool)> = saved
            .features
            .iter()
            .map(|f| (f.name.as_str(), f.enabled))
            .collect();
        assert_eq!(
            names,
            [("tx-checksum-ip-generic", true), ("tx-checksum-sctp", true)]
        );
        let now = ethtool.get("va").unwrap();
        assert!(!active(&now, "tx-checksum-ip-generic"));
        assert!(!active(&now, "tx-checksum-sctp"));
        // The kernel dropped TSO with checksumming: expected.
        assert!(!active(&now, "tx-tcp-segmentation"));
        assert!(ethtool.matches("va", &tx_off).unwrap());
        let shown = ethtool_k(&ns, "va");
        assert!(has_line(&shown, "tx-checksumming: off"), "{shown}");
        assert!(has_line(&shown, "tx-checksum-ip-generic: off"), "{shown}");
        // The peer is untouched.
        assert!(has_line(&ethtool_k(&ns, "vb"), "tx-checksumming: on"));

        // The saved values survive the state file.
        let saved: Saved = serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap();
        ethtool.restore("va", &saved).unwrap();
        let now = ethtool.get("va").unwrap();
        assert!(active(&now, "tx-checksum-ip-generic"));
        assert!(
            active(&now, "tx-tcp-segmentation"),
            "TSO comes back by itself"
        );
        assert!(!ethtool.matches("va", &tx_off).unwrap());
        let shown = ethtool_k(&ns, "va");
        assert!(has_line(&shown, "tx-checksumming: on"), "{shown}");
        assert!(has_line(&shown, "tcp-segmentation-offload: on"), "{shown}");
    }

    #[test]
    fn several_features_in_one_request() {
        if !can_touch_kernel("ethtool::several_features_in_one_request") {
            return;
        }
        let ns = veth_netns();
        let ethtool = ns.run(Ethtool::open).unwrap();
        let wanted = settings("-K gro on sg off rx-gro-list on");
        let saved = ethtool.apply("va", &wanted).unwrap();
        assert!(ethtool.matches("va", &wanted).unwrap());
        let shown = ethtool_k(&ns, "va");
        for line in [
            "generic-receive-offload: on",
            "scatter-gather: off",
            "rx-gro-list: on",
        ] {
            assert!(has_line(&shown, line), "{line} in {shown}");
        }
        ethtool.restore("va", &saved).unwrap();
        let shown = ethtool_k(&ns, "va");
        for line in [
            "generic-receive-offload: off",
            "scatter-gather: on",
            "rx-gro-list: off",
        ] {
            assert!(has_line(&shown, line), "{line} in {shown}");
        }
    }

    #[test]
    fn unknown_and_fixed_features_are_clear_errors() {
        if !can_touch_kernel("ethtool::unknown_and_fixed_features_are_clear_errors") {
            return;
        }
        let ns = veth_netns();
        let ethtool = ns.run(Ethtool::open).unwrap();
        let before = ethtool_k(&ns, "va");

        let e = ethtool
            .apply("va", &setting("frobnicate", false))
            .unwrap_err();
        assert!(matches!(e, EthtoolError::UnknownFeature { .. }));
        assert_eq!(
            e.to_string(),
            "no feature frobnicate on va: this kernel has no such offload feature"
        );
        // A legacy name whose kernel feature left the kernel (UFO, 4.14).
        let e = ethtool.apply("va", &settings("-K ufo off")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no feature ufo on va: this kernel has no feature matching tx-udp-fragmentation"
        );
        // veth: tx-checksum-ipv4 is "off [fixed]".
        let e = ethtool
            .apply("va", &setting("tx-checksum-ipv4", true))
            .unwrap_err();
        assert!(matches!(e, EthtoolError::Fixed { .. }));
        assert_eq!(
            e.to_string(),
            "feature tx-checksum-ipv4 cannot be changed on va (fixed)"
        );
        let e = ethtool.apply("va", &settings("-K lro on")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "feature lro (rx-lro) cannot be changed on va (fixed)"
        );
        assert!(ethtool
            .matches("va", &setting("tx-checksum-ipv4", true))
            .unwrap_err()
            .to_string()
            .contains("(fixed)"));
        // Asking a fixed feature for the value it has changes nothing and is fine.
        let saved = ethtool.apply("va", &settings("-K lro off")).unwrap();
        assert_eq!(saved, Saved::default());
        assert!(ethtool.matches("va", &settings("-K lro off")).unwrap());
        // Failed requests changed nothing.
        assert_eq!(ethtool_k(&ns, "va"), before);
    }

    #[test]
    fn a_feature_the_kernel_keeps_off_rolls_back() {
        if !can_touch_kernel("ethtool::a_feature_the_kernel_keeps_off_rolls_back") {
            return;
        }
        let ns = veth_netns();
        let ethtool = ns.run(Ethtool::open).unwrap();
        let before = ethtool_k(&ns, "va");
        // TSO needs tx checksumming: the kernel accepts the request and keeps TSO off.
        let e = ethtool
            .apply("va", &settings("-K tx off tx-tcp-segmentation on"))
            .unwrap_err();
        assert!(matches!(e, EthtoolError::NotApplied { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "cannot change va: the kernel kept tx-tcp-segmentation off (does it depend on a \
             feature that is off?); nothing was changed"
        );
        assert_eq!(ethtool_k(&ns, "va"), before);
    }

    #[test]
    fn missing_devices() {
        if !can_touch_kernel("ethtool::missing_devices") {
            return;
        }
        let ns = TempNetns::new("cl-ethtool-").unwrap();
        let ethtool = ns.run(Ethtool::open).unwrap();
        let e = ethtool.apply("nodev0", &settings("-K tx off")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ethtool -k on nodev0: no such device nodev0 in this namespace"
        );
        assert!(e.kernel().unwrap().is_gone());
        let e = ethtool.get("nodev0").unwrap_err();
        assert!(e.to_string().contains("no such device nodev0"));
        // Restoring a device that went away is done.
        let saved = Saved {
            features: vec![SavedFeature {
                name: "rx-gro".into(),
                enabled: true,
            }],
        };
        ethtool.restore("nodev0", &saved).unwrap();
        let e = ethtool.get("a-name-too-long-for-linux").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
