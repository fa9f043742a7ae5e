//! `netem` strings: the options of `tc qdisc add … netem` (docs/configuration.md,
//! "String languages: route, netem, ethtool").
//!
//! Supported: `delay TIME [JITTER [CORR%]]`, `distribution uniform|normal|pareto|paretonormal`,
//! `loss [random] PCT [CORR%]`, `duplicate PCT [CORR%]`, `corrupt PCT [CORR%]`,
//! `reorder PCT [CORR%]`, `gap N`, `rate RATE` and `limit N`, in any order; an option
//! given twice takes its last value, as `tc` does, with a warning (2.x files merged two
//! netem strings and relied on that); `latency` and `drop` are accepted as `tc` accepts
//! them, for `delay` and `loss`.
//! The rest of netem (`slot`, `ecn`, `seed`, the `loss state`/`loss gemodel` models, rate
//! overheads, a rate relative to the link speed) is refused with an "unsupported netem
//! option" error rather than half-supported.
//!
//! Values are spelled as `tc` spells them and stored as exact integers: times in
//! nanoseconds (units `s`/`sec`/`secs`, `ms`/`msec`/`msecs`, `us`/`usec`/`usecs`,
//! `ns`/`nsec`/`nsecs`, case-insensitive; a bare number is microseconds, as tc(8)
//! documents), percentages in parts per billion (see [`Percent`]), rates in bits per
//! second (tc's units, where `bps` means *bytes* per second; a bare number is bits per
//! second). Optional positional values (jitter, correlations) are recognised as `tc`
//! recognises them: the next word starts with a digit. The same checks as `tc` apply
//! across options: `reorder` needs a non-zero `delay`, `gap` needs `reorder`, and
//! `distribution` needs a delay with jitter.

use super::scan::{
    looks_numeric, one_of, parse_integer, split_unit, Cursor, Decimal, NumberError, Seen,
    StringError, Word,
};
use crate::diag::did_you_mean;
use crate::plan::netem::RATE_UNITS;
use crate::plan::{Chance, Delay, Distribution, Netem, Percent, Reorder};

const KEYWORDS: &[&str] = &[
    "delay",
    "distribution",
    "loss",
    "duplicate",
    "corrupt",
    "reorder",
    "gap",
    "rate",
    "limit",
];

/// Parts of netem that conlink refuses outright.
const UNSUPPORTED: &[&str] = &["slot", "ecn", "seed"];

/// Nanoseconds per unit, by the unit names tc accepts (matched case-insensitively).
const TIME_UNITS: &[(&str, u64)] = &[
    ("s", 1_000_000_000),
    ("sec", 1_000_000_000),
    ("secs", 1_000_000_000),
    ("ms", 1_000_000),
    ("msec", 1_000_000),
    ("msecs", 1_000_000),
    ("us", 1_000),
    ("usec", 1_000),
    ("usecs", 1_000),
    ("ns", 1),
    ("nsec", 1),
    ("nsecs", 1),
];

/// The kernel keeps times as signed 64-bit nanoseconds.
const MAX_TIME_NS: u64 = i64::MAX as u64;

/// Parses a `netem` string such as `delay 40ms 10ms 25% loss 1%`. An empty string is
/// valid and sets nothing ([`Netem::is_empty`]), as a bare `netem` qdisc is valid for tc.
/// Repeated options are not reported; see [`parse_netem_with_warnings`].
pub fn parse_netem(input: &str) -> Result<Netem, StringError> {
    parse_netem_with_warnings(input).map(|(netem, _)| netem)
}

/// [`parse_netem`], with a warning for each option given again (the whole later option
/// replaces the earlier one, its optional values included).
pub fn parse_netem_with_warnings(input: &str) -> Result<(Netem, Vec<StringError>), StringError> {
    let mut cursor = Cursor::new(input);
    let mut seen = Seen::default();
    let mut warnings = Vec::new();
    let mut netem = Netem::default();
    // Where the options with cross-option rules were written, for pointing at them.
    let mut reorder_word = None;
    let mut gap: Option<(u32, Word)> = None;
    let mut distribution: Option<(Distribution, Word)> = None;

    while let Some(word) = cursor.next() {
        match word.text {
            "delay" | "latency" => {
                warnings.extend(seen.last_counts("delay", word));
                let value = cursor.value(word, "a time, e.g. `40ms`")?;
                let time_ns = parse_time(value, "delay")?;
                let jitter_ns = match cursor.next_if(looks_numeric) {
                    Some(jitter) => Some(parse_time(jitter, "jitter")?),
                    None => None,
                };
                let correlation = match jitter_ns.and_then(|_| cursor.next_if(looks_numeric)) {
                    Some(corr) => Some(parse_percent(corr, "delay correlation")?),
                    None => None,
                };
                netem.delay = Some(Delay {
                    time_ns,
                    jitter_ns,
                    correlation,
                    distribution: None,
                });
            }
            "distribution" => {
                warnings.extend(seen.last_counts("distribution", word));
                let value = cursor.value(word, "a distribution name")?;
                distribution = Some((parse_distribution(value)?, word));
            }
            "loss" | "drop" => {
                warnings.extend(seen.last_counts("loss", word));
                let mut value = cursor.value(word, "a percentage, e.g. `1%`")?;
                match value.text {
                    // The explicit name of the default model: same meaning without it.
                    "random" => value = cursor.value(value, "a percentage, e.g. `1%`")?,
                    "state" | "gemodel" => {
                        let both = StringError::new(
                            word.start..value.end(),
                            format!("unsupported netem option `{} {}`", word.text, value.text),
                        );
                        return Err(both.with_help(
                            "conlink supports the random loss model: `loss PCT [CORR%]`",
                        ));
                    }
                    _ => {}
                }
                netem.loss = Some(parse_chance(value, "loss", &mut cursor)?);
            }
            "duplicate" => {
                warnings.extend(seen.last_counts("duplicate", word));
                let value = cursor.value(word, "a percentage, e.g. `1%`")?;
                netem.duplicate = Some(parse_chance(value, "duplicate", &mut cursor)?);
            }
            "corrupt" => {
                warnings.extend(seen.last_counts("corrupt", word));
                let value = cursor.value(word, "a percentage, e.g. `1%`")?;
                netem.corrupt = Some(parse_chance(value, "corrupt", &mut cursor)?);
            }
            "reorder" => {
                warnings.extend(seen.last_counts("reorder", word));
                let value = cursor.value(word, "a percentage, e.g. `25%`")?;
                let chance = parse_chance(value, "reorder", &mut cursor)?;
                netem.reorder = Some(Reorder {
                    probability: chance.probability,
                    correlation: chance.correlation,
                    gap: None,
                });
                reorder_word = Some(word);
            }
            "gap" => {
                warnings.extend(seen.last_counts("gap", word));
                let value = cursor.value(word, "a number of packets")?;
                gap = Some((parse_count(value, "gap", 1)?, word));
            }
            "rate" => {
                warnings.extend(seen.last_counts("rate", word));
                let value = cursor.value(word, "a rate, e.g. `10mbit`")?;
                netem.rate_bits_per_second = Some(parse_rate(value)?);
                // tc's optional PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]] after the rate.
                if let Some(extra) = cursor.next_if(looks_numeric) {
                    return Err(StringError::at(
                        extra,
                        "unsupported netem option: packet overhead and cell size after `rate`",
                    )
                    .with_help("give only the rate, e.g. `rate 10mbit`"));
                }
            }
            "limit" => {
                warnings.extend(seen.last_counts("limit", word));
                let value = cursor.value(word, "a number of packets")?;
                netem.limit = Some(parse_count(value, "limit", 0)?);
            }
            _ => return Err(unknown_option(word)),
        }
    }

    // The rules tc (and the kernel) apply across options.
    if let Some(word) = reorder_word {
        if netem.delay.as_ref().is_none_or(|d| d.time_ns == 0) {
            return Err(StringError::at(word, "`reorder` needs a delay").with_help(
                "reordering sends some packets at once while the rest wait: add e.g. `delay 10ms`",
            ));
        }
    }
    if let Some((n, word)) = gap {
        match netem.reorder.as_mut() {
            Some(reorder) => reorder.gap = Some(n),
            None => {
                return Err(StringError::at(word, "`gap` needs `reorder`")
                    .with_help("e.g. `delay 10ms reorder 25% gap 5`"));
            }
        }
    }
    if let Some((kind, word)) = distribution {
        match netem.delay.as_mut() {
            Some(delay) if delay.time_ns > 0 && delay.jitter_ns.is_some_and(|j| j > 0) => {
                delay.distribution = Some(kind);
            }
            _ => {
                let example = format!("delay 40ms 10ms distribution {kind}");
                return Err(
                    StringError::at(word, "`distribution` needs a delay with jitter").with_help(
                        format!("the distribution shapes the jitter: e.g. `{example}`"),
                    ),
                );
            }
        }
    }
    Ok((netem, warnings))
}

fn unknown_option(word: Word<'_>) -> StringError {
    if UNSUPPORTED.contains(&word.text) {
        return StringError::at(word, format!("unsupported netem option `{}`", word.text))
            .with_help(format!("conlink supports {}", one_of(KEYWORDS)));
    }
    if looks_numeric(word.text) {
        let help = "options take at most the values in `delay TIME [JITTER [CORR%]]`, \
                    `loss PCT [CORR%]`, `reorder PCT [CORR%]`, …";
        return StringError::at(word, format!("unexpected value `{}`", word.text)).with_help(help);
    }
    let error = StringError::at(word, format!("unknown netem option `{}`", word.text));
    match did_you_mean(word.text, KEYWORDS) {
        Some(close) => error.with_help(format!("did you mean `{close}`?")),
        None => error.with_help(format!("conlink supports {}", one_of(KEYWORDS))),
    }
}

/// `PCT [CORR%]`: the probability, then a correlation if the next word is a number.
fn parse_chance(
    value: Word<'_>,
    what: &str,
    cursor: &mut Cursor<'_>,
) -> Result<Chance, StringError> {
    let probability = parse_percent(value, what)?;
    let correlation = match cursor.next_if(looks_numeric) {
        Some(corr) => Some(parse_percent(corr, &format!("{what} correlation"))?),
        None => None,
    };
    Ok(Chance {
        probability,
        correlation,
    })
}

/// `N%` or `N`, 0 to 100, with any number of decimals (rounded to the nearest part per
/// billion).
fn parse_percent(word: Word<'_>, what: &str) -> Result<Percent, StringError> {
    let number = word.text.strip_suffix('%').unwrap_or(word.text);
    let too_large = || StringError::at(word, format!("{what} `{}` is more than 100%", word.text));
    let decimal = Decimal::parse(number).map_err(|e| match e {
        NumberError::NotANumber => StringError::at(
            word,
            format!("{what} needs a percentage, found `{}`", word.text),
        )
        .with_help("write e.g. `1%` or `0.5%`"),
        NumberError::Negative => {
            StringError::at(word, format!("{what} `{}` must not be negative", word.text))
        }
        NumberError::TooLarge => too_large(),
    })?;
    if decimal.exceeds(100) {
        return Err(too_large());
    }
    let ppb = decimal
        .times(u128::from(Percent::PPB_PER_PERCENT))
        .and_then(|ppb| u32::try_from(ppb).ok())
        .and_then(Percent::from_ppb);
    ppb.ok_or_else(too_large)
}

/// A time as tc spells it, in nanoseconds.
fn parse_time(word: Word<'_>, what: &str) -> Result<u64, StringError> {
    let (number, unit) = split_unit(word.text);
    let unit_names: Vec<&str> = TIME_UNITS.iter().map(|(name, _)| *name).collect();
    let factor = if unit.is_empty() {
        // tc(8): "us, usec, usecs or a bare number: microseconds".
        1_000
    } else if unit == "%" && !number.is_empty() {
        return Err(
            StringError::at(word, format!("{what} needs a time, found `{}`", word.text))
                .with_help("a correlation comes after the jitter: `delay TIME JITTER CORR%`"),
        );
    } else {
        let lower = unit.to_ascii_lowercase();
        match TIME_UNITS.iter().find(|(name, _)| *name == lower) {
            Some((_, factor)) => *factor,
            None if number.is_empty() => {
                return Err(StringError::at(
                    word,
                    format!("{what} needs a time, found `{}`", word.text),
                )
                .with_help("write e.g. `40ms`"));
            }
            None => {
                let error = StringError::at(
                    word,
                    format!("unknown time unit `{unit}` in `{}`", word.text),
                );
                // The micro sign (or Greek mu) is a natural slip; tc spells it `u`.
                let ascii = lower.replace(['µ', 'μ'], "u");
                if TIME_UNITS.iter().any(|(name, _)| *name == ascii) {
                    return Err(
                        error.with_help(format!("write `{number}{ascii}`: tc spells micro as `u`"))
                    );
                }
                return Err(match did_you_mean(unit, &unit_names) {
                    Some(close) => error.with_help(format!("did you mean `{number}{close}`?")),
                    None => error.with_help("use `s`, `ms`, `us` or `ns`, e.g. `40ms`"),
                });
            }
        }
    };
    let too_large = || StringError::at(word, format!("{what} `{}` is too large", word.text));
    let decimal = Decimal::parse(number).map_err(|e| match e {
        NumberError::NotANumber => {
            StringError::at(word, format!("{what} needs a time, found `{}`", word.text))
                .with_help("write e.g. `40ms`")
        }
        NumberError::Negative => {
            StringError::at(word, format!("{what} `{}` must not be negative", word.text))
        }
        NumberError::TooLarge => too_large(),
    })?;
    match decimal.times(u128::from(factor)) {
        Some(ns) if ns <= u128::from(MAX_TIME_NS) => Ok(ns as u64),
        _ => Err(too_large()),
    }
}

/// A rate as tc spells it, in bits per second.
fn parse_rate(word: Word<'_>) -> Result<u64, StringError> {
    if word.text.contains('%') {
        return Err(StringError::at(
            word,
            "unsupported netem option: a rate relative to the link speed",
        )
        .with_help("give an absolute rate, e.g. `rate 100mbit`"));
    }
    let (number, unit) = split_unit(word.text);
    let factor = if unit.is_empty() {
        1
    } else {
        let lower = unit.to_ascii_lowercase();
        match RATE_UNITS.iter().find(|(name, _)| *name == lower) {
            Some((_, factor)) => *factor,
            None if number.is_empty() => {
                return Err(StringError::at(
                    word,
                    format!("`rate` needs a rate, found `{}`", word.text),
                )
                .with_help("write e.g. `10mbit`"));
            }
            None => {
                let unit_names: Vec<&str> = RATE_UNITS.iter().map(|(name, _)| *name).collect();
                let error = StringError::at(
                    word,
                    format!("unknown rate unit `{unit}` in `{}`", word.text),
                );
                return Err(match did_you_mean(unit, &unit_names) {
                    Some(close) => error.with_help(format!("did you mean `{number}{close}`?")),
                    None => error.with_help(
                        "use `bit`, `kbit`, `mbit`, `gbit` or `tbit` (or `kibit`, …); \
                         `bps`, `kbps`, … are bytes per second",
                    ),
                });
            }
        }
    };
    let too_large = || StringError::at(word, format!("rate `{}` is too large", word.text));
    let decimal = Decimal::parse(number).map_err(|e| match e {
        NumberError::NotANumber => {
            StringError::at(word, format!("`rate` needs a rate, found `{}`", word.text))
                .with_help("write e.g. `10mbit`")
        }
        NumberError::Negative => {
            StringError::at(word, format!("rate `{}` must not be negative", word.text))
        }
        NumberError::TooLarge => too_large(),
    })?;
    decimal
        .times(u128::from(factor))
        .and_then(|bits| u64::try_from(bits).ok())
        .ok_or_else(too_large)
}

/// A whole number of packets from `min` to `u32::MAX`.
fn parse_count(word: Word<'_>, keyword: &str, min: u32) -> Result<u32, StringError> {
    match parse_integer(word.text) {
        Ok(n) if n < u64::from(min) => Err(StringError::at(
            word,
            format!("`{keyword}` must be at least {min}"),
        )),
        Ok(n) => u32::try_from(n).map_err(|_| {
            StringError::at(
                word,
                format!(
                    "`{keyword}` value `{}` is too large (at most {})",
                    word.text,
                    u32::MAX
                ),
            )
        }),
        Err(NumberError::TooLarge) => Err(StringError::at(
            word,
            format!(
                "`{keyword}` value `{}` is too large (at most {})",
                word.text,
                u32::MAX
            ),
        )),
        Err(NumberError::Negative) => Err(StringError::at(
            word,
            format!("`{keyword}` value `{}` must not be negative", word.text),
        )),
        Err(NumberError::NotANumber) => Err(StringError::at(
            word,
            format!(
                "`{keyword}` needs a number of packets, found `{}`",
                word.text
            ),
        )),
    }
}

fn parse_distribution(word: Word<'_>) -> Result<Distribution, StringError> {
    let names = Distribution::ALL.map(Distribution::name);
    Distribution::ALL
        .into_iter()
        .find(|d| d.name() == word.text)
        .ok_or_else(|| {
            let error = StringError::at(word, format!("unknown distribution `{}`", word.text));
            match did_you_mean(word.text, &names) {
                Some(close) => error.with_help(format!("did you mean `{close}`?")),
                None => error.with_help(format!("conlink supports {}", one_of(&names))),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn netem(input: &str) -> Netem {
        match parse_netem(input) {
            Ok(netem) => netem,
            Err(e) => panic!("{input:?}: {e:?}"),
        }
    }

    fn error(input: &str) -> (StringError, &str) {
        let e = parse_netem(input).expect_err(input);
        let covered = &input[e.range()];
        (e, covered)
    }

    fn pct(ppb: u32) -> Percent {
        Percent::from_ppb(ppb).unwrap()
    }

    fn delay_ns(input: &str) -> u64 {
        netem(&format!("delay {input}")).delay.unwrap().time_ns
    }

    fn loss(input: &str) -> Percent {
        netem(&format!("loss {input}")).loss.unwrap().probability
    }

    fn rate(input: &str) -> u64 {
        netem(&format!("rate {input}"))
            .rate_bits_per_second
            .unwrap()
    }

    fn round_trips(input: &str, canonical: &str) {
        let parsed = netem(input);
        assert_eq!(parsed.to_string(), canonical, "{input:?}");
        assert_eq!(netem(canonical), parsed, "{canonical:?}");
    }

    #[test]
    fn empty_is_nothing() {
        assert!(netem("").is_empty());
        assert!(netem(" \t ").is_empty());
        assert_eq!(Netem::default().to_string(), "");
        assert!(!netem("limit 5").is_empty());
    }

    #[test]
    fn times_in_every_unit() {
        for (text, ns) in [
            ("1s", 1_000_000_000),
            ("2sec", 2_000_000_000),
            ("3secs", 3_000_000_000),
            ("1.5S", 1_500_000_000),
            ("40ms", 40 * MS),
            ("40msec", 40 * MS),
            ("40msecs", 40 * MS),
            ("40MS", 40 * MS),
            ("0.5ms", 500_000),
            ("100us", 100_000),
            ("100usec", 100_000),
            ("100usecs", 100_000),
            ("100", 100_000),
            ("2.5", 2_500),
            ("7ns", 7),
            ("7nsec", 7),
            ("7nsecs", 7),
            ("0", 0),
            (".5ms", 500_000),
            ("1.0000005ms", 1_000_001),
            ("9223372036854775807ns", i64::MAX as u64),
        ] {
            assert_eq!(delay_ns(text), ns, "{text}");
        }
    }

    #[test]
    fn delay_with_jitter_correlation_and_distribution() {
        let d = netem("delay 100ms 10ms 25% distribution normal")
            .delay
            .unwrap();
        assert_eq!(
            d,
            Delay {
                time_ns: 100 * MS,
                jitter_ns: Some(10 * MS),
                correlation: Some(pct(250_000_000)),
                distribution: Some(Distribution::Normal),
            }
        );
        // Bare numbers: jitter in microseconds, correlation in percent.
        let d = netem("latency 10ms 500 30").delay.unwrap();
        assert_eq!(
            (d.jitter_ns, d.correlation),
            (Some(500_000), Some(pct(300_000_000)))
        );
        let d = netem("delay 10ms 1ms").delay.unwrap();
        assert_eq!((d.jitter_ns, d.correlation), (Some(MS), None));
        for (name, kind) in [
            ("uniform", Distribution::Uniform),
            ("normal", Distribution::Normal),
            ("pareto", Distribution::Pareto),
            ("paretonormal", Distribution::ParetoNormal),
        ] {
            // `distribution` may come first, as tc reads it.
            let n = netem(&format!("distribution {name} delay 40ms 10ms"));
            assert_eq!(n.delay.unwrap().distribution, Some(kind));
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(loss("1%"), pct(10_000_000));
        assert_eq!(loss("1"), pct(10_000_000));
        assert_eq!(loss("0.5%"), pct(5_000_000));
        assert_eq!(loss("100%"), pct(1_000_000_000));
        assert_eq!(loss("0%"), pct(0));
        assert_eq!(loss("0.0000001%"), pct(1));
        assert_eq!(loss("0.00000005%"), pct(1)); // rounded half up
        assert_eq!(loss("0.00000004%"), pct(0));
        assert_eq!(loss("33.3333333333%"), pct(333_333_333));
        assert_eq!(loss("100.000%"), pct(1_000_000_000));
        assert_eq!(loss("random 2%"), pct(20_000_000));
        assert_eq!(netem("drop 3%").loss.unwrap().probability, pct(30_000_000));
        let l = netem("loss 1% 25%").loss.unwrap();
        assert_eq!(l.correlation, Some(pct(250_000_000)));
        let l = netem("loss random 1% 25").loss.unwrap();
        assert_eq!(l.correlation, Some(pct(250_000_000)));
    }

    #[test]
    fn percent_encodings() {
        assert_eq!(pct(0).to_kernel(), 0);
        assert_eq!(pct(1_000_000_000).to_kernel(), u32::MAX);
        assert_eq!(pct(10_000_000).to_kernel(), 42_949_673); // 1%, as tc's rint(0.01 × 2³²−1)
        assert_eq!(pct(500_000_000).to_kernel(), 2_147_483_648);
        assert_eq!(Percent::from_ppb(1_000_000_001), None);
        assert_eq!(pct(5_000_000).to_string(), "0.5%");
        assert_eq!(pct(1).to_string(), "0.0000001%");
        assert_eq!(pct(123_456_789).to_string(), "12.3456789%");
        assert_eq!(pct(1_000_000_000).to_string(), "100%");
        assert_eq!(serde_json::to_value(pct(7)).unwrap(), serde_json::json!(7));
        assert!(serde_json::from_value::<Percent>(serde_json::json!(1_000_000_001)).is_err());
    }

    #[test]
    fn other_options() {
        let n = netem("duplicate 1% 10% corrupt 0.1% limit 2000");
        assert_eq!(
            n.duplicate,
            Some(Chance {
                probability: pct(10_000_000),
                correlation: Some(pct(100_000_000))
            })
        );
        assert_eq!(
            n.corrupt,
            Some(Chance {
                probability: pct(1_000_000),
                correlation: None
            })
        );
        assert_eq!(n.limit, Some(2000));
        // reorder needs a delay:
        assert!(parse_netem("reorder 25%").is_err());
        let n = netem("reorder 25% 50% gap 5 delay 10ms");
        assert_eq!(
            n.reorder,
            Some(Reorder {
                probability: pct(250_000_000),
                correlation: Some(pct(500_000_000)),
                gap: Some(5)
            })
        );
        assert_eq!(netem("delay 10ms reorder 1%").reorder.unwrap().gap, None);
        assert_eq!(netem("limit 0").limit, Some(0));
        assert_eq!(netem("limit 4294967295").limit, Some(u32::MAX));
    }

    #[test]
    fn rates_in_every_unit() {
        for (text, bits) in [
            ("1000", 1_000),
            ("8bit", 8),
            ("1kbit", 1_000),
            ("1mbit", 1_000_000),
            ("1gbit", 1_000_000_000),
            ("1tbit", 1_000_000_000_000),
            ("1kibit", 1_024),
            ("1Kibit", 1_024),
            ("1mibit", 1 << 20),
            ("1gibit", 1 << 30),
            ("1tibit", 1 << 40),
            ("1bps", 8),
            ("1Bps", 8),
            ("1kbps", 8_000),
            ("1KBps", 8_000),
            ("1mbps", 8_000_000),
            ("1gbps", 8_000_000_000),
            ("1tbps", 8_000_000_000_000),
            ("1kibps", 8_192),
            ("1mibps", 8 << 20),
            ("1gibps", 8 << 30),
            ("1tibps", 8 << 40),
            ("1.5mbit", 1_500_000),
            ("100MBIT", 100_000_000),
            ("0", 0),
            ("0.5bit", 1),
        ] {
            assert_eq!(rate(text), bits, "{text}");
        }
        assert_eq!(rate("18446744073709551615bit"), u64::MAX);
    }

    #[test]
    fn display_round_trips() {
        round_trips("delay 40ms", "delay 40ms");
        round_trips("delay 100", "delay 100us");
        round_trips("delay 1.5s", "delay 1500ms");
        round_trips("delay 1s 1500us 25", "delay 1s 1500us 25%");
        round_trips("delay 7ns 0", "delay 7ns 0s");
        round_trips(
            "distribution paretonormal latency 40ms 10ms 25.5%",
            "delay 40ms 10ms 25.5% distribution paretonormal",
        );
        round_trips("loss random 1% 25%", "loss 1% 25%");
        round_trips("drop 0.0001", "loss 0.0001%");
        round_trips("duplicate 2 corrupt 3", "duplicate 2% corrupt 3%");
        round_trips("gap 3 reorder 10% delay 5ms", "delay 5ms reorder 10% gap 3");
        round_trips("rate 10mbit", "rate 10mbit");
        round_trips("rate 1kbps", "rate 8kbit");
        round_trips("rate 1mibit", "rate 1mibit");
        round_trips("rate 1.5mbit", "rate 1500kbit");
        round_trips("rate 12", "rate 12bit");
        round_trips("rate 0", "rate 0bit");
        round_trips("limit 100 rate 1gbit", "rate 1gbit limit 100");
        round_trips(
            "limit 1 rate 1 reorder 1 2 gap 2 corrupt 3 4 duplicate 5 6 loss 7 8 delay 9 10 11 distribution pareto",
            "delay 9us 10us 11% distribution pareto loss 7% 8% duplicate 5% 6% corrupt 3% 4% reorder 1% 2% gap 2 rate 1bit limit 1",
        );
    }

    #[test]
    fn serialises_as_integers() {
        let n = netem("delay 40ms 10ms loss 1% rate 1mbit");
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            serde_json::json!({
                "delay": {"time_ns": 40_000_000, "jitter_ns": 10_000_000},
                "loss": {"probability": 10_000_000},
                "rate_bits_per_second": 1_000_000
            })
        );
        let back: Netem = serde_json::from_value(serde_json::to_value(&n).unwrap()).unwrap();
        assert_eq!(back, n);
        let schema = serde_json::to_value(schemars::schema_for!(Netem)).unwrap();
        assert_eq!(schema["$defs"]["Percent"]["maximum"], 1_000_000_000);
        assert!(schema["properties"]["rate_bits_per_second"]["description"]
            .as_str()
            .unwrap()
            .contains("bits per second"));
        let json = serde_json::to_value(netem("distribution paretonormal delay 1ms 1ms")).unwrap();
        assert_eq!(json["delay"]["distribution"], "paretonormal");
    }

    #[test]
    fn bad_times() {
        let (e, at) = error("delay");
        assert_eq!(
            (e.message.as_str(), at),
            ("`delay` needs a time, e.g. `40ms`", "delay")
        );
        let (e, at) = error("delay fast");
        assert_eq!(
            (e.message.as_str(), at),
            ("delay needs a time, found `fast`", "fast")
        );
        let (e, at) = error("delay 40mss");
        assert_eq!(
            (e.message.as_str(), at),
            ("unknown time unit `mss` in `40mss`", "40mss")
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `40ms`?"));
        let (e, _) = error("delay 40µs");
        assert_eq!(
            e.help.as_deref(),
            Some("write `40us`: tc spells micro as `u`")
        );
        let (e, _) = error("delay 40μsec");
        assert_eq!(
            e.help.as_deref(),
            Some("write `40usec`: tc spells micro as `u`")
        );
        let (e, _) = error("delay 40minutes");
        assert_eq!(
            e.help.as_deref(),
            Some("use `s`, `ms`, `us` or `ns`, e.g. `40ms`")
        );
        let (e, at) = error("delay -5ms");
        assert_eq!(
            (e.message.as_str(), at),
            ("delay `-5ms` must not be negative", "-5ms")
        );
        let (e, at) = error("delay 10ms -5ms");
        assert_eq!(
            (e.message.as_str(), at),
            ("jitter `-5ms` must not be negative", "-5ms")
        );
        let (e, at) = error("delay 10ms 25%");
        assert_eq!(
            (e.message.as_str(), at),
            ("jitter needs a time, found `25%`", "25%")
        );
        assert!(e
            .help
            .unwrap()
            .contains("correlation comes after the jitter"));
        let (e, at) = error("delay 9223372036854775808ns");
        assert_eq!(
            (e.message.as_str(), at),
            (
                "delay `9223372036854775808ns` is too large",
                "9223372036854775808ns"
            )
        );
        let (_, at) = error("delay 99999999999999999999999999999999999999999s");
        assert_eq!(at, "99999999999999999999999999999999999999999s");
        let (e, _) = error("delay 1.2.3ms");
        assert_eq!(e.message, "delay needs a time, found `1.2.3ms`");
        let (e, _) = error("delay 1e3ms");
        assert!(e.message.starts_with("unknown time unit `e3ms`"));
        let (e, _) = error("delay 10ms 5ms 25% 3");
        assert_eq!(e.message, "unexpected value `3`");
    }

    #[test]
    fn bad_percentages() {
        let (e, at) = error("loss 101%");
        assert_eq!(
            (e.message.as_str(), at),
            ("loss `101%` is more than 100%", "101%")
        );
        let (e, _) = error("loss 100.0000001%");
        assert_eq!(e.message, "loss `100.0000001%` is more than 100%");
        let (e, at) = error("loss -1%");
        assert_eq!(
            (e.message.as_str(), at),
            ("loss `-1%` must not be negative", "-1%")
        );
        let (e, at) = error("loss 1% -1%");
        assert_eq!(
            (e.message.as_str(), at),
            ("loss correlation `-1%` must not be negative", "-1%")
        );
        let (e, at) = error("loss lots");
        assert_eq!(
            (e.message.as_str(), at),
            ("loss needs a percentage, found `lots`", "lots")
        );
        let (e, _) = error("loss 1%%");
        assert_eq!(e.message, "loss needs a percentage, found `1%%`");
        let (e, _) = error("duplicate 1% 200%");
        assert_eq!(e.message, "duplicate correlation `200%` is more than 100%");
        let (e, _) = error("delay 1ms 1ms 100.5");
        assert_eq!(e.message, "delay correlation `100.5` is more than 100%");
        let (_, at) = error("corrupt 999999999999999999999999999999999999999999%");
        assert_eq!(at, "999999999999999999999999999999999999999999%");
        let (e, at) = error("loss random");
        assert_eq!(
            (e.message.as_str(), at),
            ("`random` needs a percentage, e.g. `1%`", "random")
        );
    }

    #[test]
    fn bad_rates_and_counts() {
        let (e, at) = error("rate 10mbits");
        assert_eq!(
            (e.message.as_str(), at),
            ("unknown rate unit `mbits` in `10mbits`", "10mbits")
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `10mbit`?"));
        let (e, _) = error("rate 10furlongs");
        assert!(e.help.unwrap().contains("bytes per second"));
        let (e, at) = error("rate fast");
        assert_eq!(
            (e.message.as_str(), at),
            ("`rate` needs a rate, found `fast`", "fast")
        );
        let (e, _) = error("rate -1mbit");
        assert_eq!(e.message, "rate `-1mbit` must not be negative");
        let (e, _) = error("rate 18446744073709551616bit");
        assert_eq!(e.message, "rate `18446744073709551616bit` is too large");
        let (e, at) = error("rate 10%");
        assert!(e.message.contains("relative to the link speed"));
        assert_eq!(at, "10%");
        let (e, at) = error("rate 10mbit 20");
        assert!(e.message.contains("packet overhead"));
        assert_eq!(at, "20");
        let (_, at) = error("rate 10mbit -4");
        assert_eq!(at, "-4");

        let (e, at) = error("limit many");
        assert_eq!(
            (e.message.as_str(), at),
            ("`limit` needs a number of packets, found `many`", "many")
        );
        let (e, _) = error("limit 4294967296");
        assert_eq!(
            e.message,
            "`limit` value `4294967296` is too large (at most 4294967295)"
        );
        let (e, _) = error("limit 99999999999999999999999");
        assert!(e.message.contains("too large"));
        let (e, _) = error("limit -1");
        assert_eq!(e.message, "`limit` value `-1` must not be negative");
        let (e, _) = error("limit 1.5");
        assert!(e.message.starts_with("`limit` needs a number"));
        let (e, at) = error("delay 1ms reorder 5% gap 0");
        assert_eq!((e.message.as_str(), at), ("`gap` must be at least 1", "0"));
    }

    #[test]
    fn cross_option_rules() {
        let (e, at) = error("reorder 25%");
        assert_eq!(
            (e.message.as_str(), at),
            ("`reorder` needs a delay", "reorder")
        );
        let (_, at) = error("delay 0ms reorder 25%");
        assert_eq!(at, "reorder");
        let (e, at) = error("delay 10ms gap 5");
        assert_eq!((e.message.as_str(), at), ("`gap` needs `reorder`", "gap"));
        let (e, at) = error("distribution normal");
        assert_eq!(
            (e.message.as_str(), at),
            ("`distribution` needs a delay with jitter", "distribution")
        );
        assert!(e.help.unwrap().contains("distribution normal"));
        let (_, at) = error("delay 10ms distribution normal");
        assert_eq!(at, "distribution");
        let (_, at) = error("delay 10ms 0ms distribution pareto");
        assert_eq!(at, "distribution");
    }

    #[test]
    fn unknown_unsupported_and_repeated() {
        let (e, at) = error("dealy 10ms");
        assert_eq!(
            (e.message.as_str(), at),
            ("unknown netem option `dealy`", "dealy")
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `delay`?"));
        let (e, _) = error("delay 10ms los 1%");
        assert_eq!(e.help.as_deref(), Some("did you mean `loss`?"));
        let (e, _) = error("jitter 5ms");
        assert!(e.help.unwrap().starts_with("conlink supports `delay`"));
        for option in ["slot 10ms", "ecn", "seed 42"] {
            let (e, at) = error(option);
            assert!(
                e.message.starts_with("unsupported netem option `"),
                "{option}"
            );
            assert_eq!(at, option.split(' ').next().unwrap());
        }
        let (e, at) = error("loss state 1% 2%");
        assert_eq!(
            (e.message.as_str(), at),
            ("unsupported netem option `loss state`", "loss state")
        );
        let (e, at) = error("delay 1ms  loss gemodel 1%");
        assert_eq!(
            (e.message.as_str(), at),
            ("unsupported netem option `loss gemodel`", "loss gemodel")
        );
        let (e, _) = error("distribution gaussian");
        assert_eq!(e.message, "unknown distribution `gaussian`");
        let (e, _) = error("distribution norml");
        assert_eq!(e.help.as_deref(), Some("did you mean `normal`?"));
    }

    /// A repeated option takes its last value, whole, with a warning at the repetition.
    #[test]
    fn repeated_options_take_the_last_value_with_a_warning() {
        let warned = |input: &'static str| {
            let (netem, warnings) = parse_netem_with_warnings(input).expect(input);
            let ws: Vec<(String, &str)> = warnings
                .iter()
                .map(|w| (w.message.clone(), &input[w.range()]))
                .collect();
            (netem, ws)
        };
        let (n, ws) = warned("delay 200ms rate 10mbit delay 40ms");
        assert_eq!(n, netem("rate 10mbit delay 40ms"));
        assert_eq!(
            ws,
            [(
                "`delay` is given more than once; the last one counts".to_string(),
                "delay"
            )]
        );
        assert_eq!(warned("delay 200ms rate 10mbit delay 40ms").1.len(), 1);
        // The later option replaces the earlier one whole: no jitter left over.
        assert_eq!(warned("delay 1ms 5ms latency 2ms").0, netem("delay 2ms"));
        let (n, ws) = warned("loss 1% drop 2%");
        assert_eq!((n, ws[0].1), (netem("loss 2%"), "drop"));
        let (n, ws) = warned("rate 1mbit limit 5 rate 2mbit limit 7");
        assert_eq!((n, ws.len()), (netem("rate 2mbit limit 7"), 2));
        let (n, _) = warned("distribution normal distribution pareto delay 1ms 1ms");
        assert_eq!(n, netem("delay 1ms 1ms distribution pareto"));
        assert!(warned("delay 1ms loss 1%").1.is_empty());
        // The cross-option rules see the values that count.
        let (e, _) = error("delay 10ms reorder 5% delay 0ms");
        assert_eq!(e.message, "`reorder` needs a delay");
    }

    #[test]
    fn unicode_and_garbage() {
        let (_, at) = error("délai 10ms");
        assert_eq!(at, "délai");
        let (_, at) = error("delay 10ms 🦀");
        assert_eq!(at, "🦀");
        let (_, at) = error("delay １０ms");
        assert_eq!(at, "１０ms");
        let (_, at) = error("loss 1٪");
        assert_eq!(at, "1٪");
        let (_, at) = error("%");
        assert_eq!(at, "%");
    }
}
