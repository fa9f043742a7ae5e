//! Names and values the lowering derives: outer interface names (with the 15-byte
//! rule), MAC addresses, MAC offsets of replicas and the project's interface group
//! (address offsets are `check::offset_addr`, which the checks use too).
//!
//! Everything here is a pure function of the configuration, so the same input gives
//! the same names and addresses on every run and every machine (docs/plan.md,
//! "Properties").

use crate::model::Target;
use crate::plan::Mac;

/// FNV-1a, 64 bits, with a final avalanche step: tiny, stable across Rust versions and
/// platforms (unlike `std::hash`). Plain FNV-1a barely changes its high bits when only
/// the last byte differs (`eth1` vs `eth2`); the finaliser (splitmix64's) spreads every
/// input bit over the whole output, so derived MACs and names differ everywhere.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator, so ("ab","c") and ("a","bc") hash differently.
            h ^= 0xff;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The interface group of a project: non-zero (0 is every interface's default group)
/// and below 2^31 (some tools print groups as signed).
pub fn project_group(project: &str) -> u32 {
    1 + (fnv1a(&[b"conlink-group", project.as_bytes()]) % 0x7fff_fffe) as u32
}

/// The outer end's name before shortening (docs/configuration.md, "Replicas, names and
/// derived values").
pub fn long_outer_name(target: &Target, replica: Option<u32>, dev: &str) -> String {
    match (target, replica) {
        (Target::Service(s), Some(i)) => format!("{s}_{i}-{dev}"),
        (t, _) => format!("{}-{dev}", t.name()),
    }
}

/// The longest altname the kernel takes: ALTIFNAMSIZ (128) less the NUL.
pub const ALTNAME_MAX: usize = 127;

/// Shortens a name to 15 bytes when needed: the first 7 bytes (on a character
/// boundary) of the long name, `-`, and 7 hex digits of its hash. Returns the name to
/// use and, when shortened, the full name to record as an altname, unless that is
/// longer than the kernel takes (a container may be named with hundreds of
/// characters; the link is still made, with its short name only).
pub fn fit_interface_name(long: &str) -> (String, Option<String>) {
    if long.len() <= 15 {
        return (long.to_string(), None);
    }
    let mut cut = 7;
    while !long.is_char_boundary(cut) {
        cut -= 1;
    }
    let prefix: String = long[..cut]
        .chars()
        .map(|c| {
            if c == '/' || c == ':' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let hash = fnv1a(&[long.as_bytes()]) & 0x0fff_ffff;
    let altname = (long.len() <= ALTNAME_MAX).then(|| long.to_string());
    (format!("{prefix}-{hash:07x}"), altname)
}

/// A MAC derived from a link's identity: locally administered, unicast, the same on
/// every run (docs/configuration.md, "Replicas, names and derived values"; conlink 2.x
/// drew a random one per start).
pub fn derived_mac(project: &str, target: &Target, replica: Option<u32>, dev: &str) -> Mac {
    let replica = replica.unwrap_or(0).to_be_bytes();
    let h = fnv1a(&[
        b"conlink-mac",
        project.as_bytes(),
        target.kind().as_bytes(),
        target.name().as_bytes(),
        &replica,
        dev.as_bytes(),
    ]);
    let mut mac = Mac::from_u64(h);
    // Locally administered (bit 1) and unicast (bit 0 clear).
    mac.0[0] = (mac.0[0] | 0x02) & 0xfe;
    mac
}

/// `mac + offset` as a 48-bit number, or `None` past ff:ff:ff:ff:ff:ff or when the
/// carry made it a multicast address (which no interface can have).
pub fn offset_mac(mac: Mac, offset: u32) -> Option<Mac> {
    let v = mac.to_u64().checked_add(u64::from(offset))?;
    (v <= 0xffff_ffff_ffff)
        .then(|| Mac::from_u64(v))
        .filter(|m| !m.is_multicast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept_and_long_ones_hashed() {
        assert_eq!(
            fit_interface_name("web_1-eth0"),
            ("web_1-eth0".to_string(), None)
        );
        let (short, full) = fit_interface_name("frontend_12-eth0");
        assert_eq!(short.len(), 15);
        assert!(short.starts_with("fronten-"), "{short}");
        assert_eq!(full.as_deref(), Some("frontend_12-eth0"));
        // Deterministic, and different long names give different short ones.
        assert_eq!(fit_interface_name("frontend_12-eth0").0, short);
        assert_ne!(fit_interface_name("frontend_13-eth0").0, short);
        // Multi-byte characters are never split.
        let (s, _) = fit_interface_name("ééééééééé-eth0");
        assert!(s.len() <= 15);
        // A full name the kernel would refuse as an altname is not recorded.
        let longest = format!("{}-eth0", "c".repeat(ALTNAME_MAX - 5));
        assert_eq!(fit_interface_name(&longest).1.as_deref(), Some(&*longest));
        let too_long = format!("{}-eth0", "c".repeat(ALTNAME_MAX - 4));
        let (s, full) = fit_interface_name(&too_long);
        assert_eq!((s.len(), full), (15, None));
    }

    #[test]
    fn derived_macs_are_local_unicast_and_stable() {
        let t = Target::Service("web".into());
        let a = derived_mac("p", &t, Some(1), "eth0");
        assert_eq!(a, derived_mac("p", &t, Some(1), "eth0"));
        assert_ne!(a, derived_mac("p", &t, Some(2), "eth0"));
        assert_ne!(a, derived_mac("q", &t, Some(1), "eth0"));
        assert_eq!(a.0[0] & 0x03, 0x02);
    }

    #[test]
    fn mac_offsets_carry_and_stop_at_the_end() {
        let m = Mac::parse("02:00:00:00:00:ff").unwrap();
        assert_eq!(offset_mac(m, 1).unwrap().to_string(), "02:00:00:00:01:00");
        let last = Mac::parse("fe:ff:ff:ff:ff:fe").unwrap();
        assert!(offset_mac(last, 1).is_some());
        // The carry into the first byte would set the multicast bit.
        assert!(offset_mac(last, 2).is_none());
    }

    #[test]
    fn hashes_differ_in_every_byte_for_nearby_inputs() {
        let a = fnv1a(&[b"eth1"]).to_be_bytes();
        let b = fnv1a(&[b"eth2"]).to_be_bytes();
        let same = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
        assert!(same <= 2, "{a:?} vs {b:?}");
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }

    #[test]
    fn groups_are_nonzero_and_positive() {
        for p in ["a", "b", "demo", ""] {
            let g = project_group(p);
            assert!((1..0x8000_0000).contains(&g));
        }
        assert_ne!(project_group("a"), project_group("b"));
    }
}
