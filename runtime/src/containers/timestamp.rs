//! The engines' timestamps: RFC 3339 text in inspect answers (`Created`,
//! `State.StartedAt`), seconds and nanoseconds since the epoch in list answers and
//! events.
//!
//! Docker writes UTC with a `Z` and up to nine fraction digits; Podman may write a
//! numeric offset. "Never" is written as year 1, `0001-01-01T00:00:00Z`: such times
//! (anything before the epoch) read as `None`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // A leap second (60) is read as the last second of its minute.
    let second = second.min(59);

    let mut rest = &text[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in frac[..digits].bytes().enumerate().take(9) {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let rest = &rest[1..];
            if rest.len() != 5 || rest.as_bytes()[2] != b':' {
                return None;
            }
            let h: i64 = rest[0..2].parse().ok()?;
            let m: i64 = rest[3..5].parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };

    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let secs = u64::try_from(secs).ok()?;
    // The epoch itself is as good as "never" for a container.
    if secs == 0 && nanos == 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// A time given as seconds since the epoch (`0` or less means "not set").
pub fn from_unix_seconds(secs: i64) -> Option<SystemTime> {
    u64::try_from(secs)
        .ok()
        .filter(|s| *s > 0)
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// A time given as nanoseconds since the epoch (`0` or less means "not set").
pub fn from_unix_nanos(nanos: i64) -> Option<SystemTime> {
    u64::try_from(nanos)
        .ok()
        .filter(|n| *n > 0)
        .map(|n| UNIX_EPOCH + Duration::from_nanos(n))
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative before).
/// The usual era-based computation: years counted from March, so the leap day is the
/// last day of its year.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: SystemTime) -> (u64, u32) {
        let d = t.duration_since(UNIX_EPOCH).unwrap();
        (d.as_secs(), d.subsec_nanos())
    }

    #[test]
    fn docker_utc_with_nanoseconds() {
        // 2026-12-06T00:50:45Z is 1796518245 s after the epoch (as `date -d` says).
        let t = parse_rfc3339("2026-12-06T00:50:45.698576259Z").unwrap();
        assert_eq!(secs(t), (1_796_518_245, 698_576_259));
    }

    #[test]
    fn offsets_and_short_fractions() {
        let utc = parse_rfc3339("2024-02-29T12:00:00.5Z").unwrap();
        let plus = parse_rfc3339("2024-02-29T13:30:00.5+01:30").unwrap();
        let minus = parse_rfc3339("2024-02-29T07:00:00.500-05:00").unwrap();
        assert_eq!(utc, plus);
        assert_eq!(utc, minus);
        assert_eq!(secs(utc), (1_709_208_000, 500_000_000));
    }

    #[test]
    fn never_and_garbage_read_as_none() {
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339(""), None);
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00.Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00+0100"), None);
    }

    #[test]
    fn unix_seconds_and_nanos() {
        assert_eq!(from_unix_seconds(0), None);
        assert_eq!(from_unix_nanos(-1), None);
        assert_eq!(
            secs(from_unix_nanos(1_796_518_236_544_894_322).unwrap()),
            (1_796_518_236, 544_894_322)
        );
        assert_eq!(
            secs(from_unix_seconds(1_796_518_245).unwrap()),
            (1_796_518_245, 0)
        );
    }
}
