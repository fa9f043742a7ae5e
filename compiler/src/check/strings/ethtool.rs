//! `ethtool` strings: ethtool arguments without the device name (docs/configuration.md,
//! "String languages: route, netem, ethtool").
//!
//! conlink supports one ethtool command, the one containers need: changing offload
//! features, `-K|--offload|--features FEATURE on|off [FEATURE on|off …]`. A feature is
//! named as ethtool accepts it: one of ethtool's legacy short names (`tx`, `rx`, `sg`,
//! `tso`, …) or their long forms (`tx-checksumming`, …), or a kernel feature name as
//! `ethtool -k` lists it (`tx-checksum-ipv4`, `rx-gro-list`, …). Names are matched
//! exactly, as ethtool matches them. Every other ethtool command (`-s`, `-G`, `-A`, …)
//! is refused with an "unsupported ethtool setting" error. Features keep the order they
//! were written in, and each may be given once.

use super::scan::{Cursor, StringError, Word};
use crate::diag::did_you_mean;
use crate::plan::ethtool::LEGACY;
use crate::plan::{Ethtool, FeatureSetting};

/// The kernel's feature names (`netdev_features_strings` in net/ethtool/common.c), which
/// `ethtool -k DEV` lists and `ethtool -K` accepts. Whether a device can change a
/// feature is only known at run time ("[fixed]" features refuse).
const KERNEL: &[&str] = &[
    "tx-scatter-gather",
    "tx-checksum-ipv4",
    "tx-checksum-ip-generic",
    "tx-checksum-ipv6",
    "highdma",
    "tx-scatter-gather-fraglist",
    "tx-vlan-hw-insert",
    "rx-vlan-hw-parse",
    "rx-vlan-filter",
    "tx-vlan-stag-hw-insert",
    "rx-vlan-stag-hw-parse",
    "rx-vlan-stag-filter",
    "vlan-challenged",
    "tx-generic-segmentation",
    "tx-lockless",
    "netns-local",
    "rx-gro",
    "rx-gro-hw",
    "rx-lro",
    "tx-tcp-segmentation",
    "tx-gso-robust",
    "tx-tcp-ecn-segmentation",
    "tx-tcp-mangleid-segmentation",
    "tx-tcp6-segmentation",
    "tx-fcoe-segmentation",
    "tx-gre-segmentation",
    "tx-gre-csum-segmentation",
    "tx-ipxip4-segmentation",
    "tx-ipxip6-segmentation",
    "tx-udp_tnl-segmentation",
    "tx-udp_tnl-csum-segmentation",
    "tx-gso-partial",
    "tx-tunnel-remcsum-segmentation",
    "tx-sctp-segmentation",
    "tx-esp-segmentation",
    "tx-udp-segmentation",
    "tx-gso-list",
    "tx-checksum-fcoe-crc",
    "tx-checksum-sctp",
    "fcoe-mtu",
    "rx-ntuple-filter",
    "rx-hashing",
    "rx-checksum",
    "tx-nocache-copy",
    "loopback",
    "rx-fcs",
    "rx-all",
    "l2-fwd-offload",
    "hw-tc-offload",
    "esp-hw-offload",
    "esp-tx-csum-hw-offload",
    "rx-udp_tunnel-port-offload",
    "tls-hw-record",
    "tls-hw-tx-offload",
    "tls-hw-rx-offload",
    "rx-gro-list",
    "macsec-hw-offload",
    "rx-udp-gro-forwarding",
    "hsr-tag-ins-offload",
    "hsr-tag-rm-offload",
    "hsr-fwd-offload",
    "hsr-dup-offload",
];

/// The spellings of the one supported command.
const OFFLOAD_FLAGS: &[&str] = &["-K", "--offload", "--features"];

fn is_feature(name: &str) -> bool {
    KERNEL.contains(&name)
        || LEGACY
            .iter()
            .any(|(short, long, _)| *short == name || *long == name)
}

fn all_feature_names() -> Vec<&'static str> {
    let legacy = LEGACY.iter().flat_map(|(short, long, _)| [*short, *long]);
    legacy.chain(KERNEL.iter().copied()).collect()
}

/// Parses an `ethtool` string such as `-K tx off rx off`.
pub fn parse_ethtool(input: &str) -> Result<Ethtool, StringError> {
    let mut cursor = Cursor::new(input);
    let Some(command) = cursor.next() else {
        return Err(StringError::whole(input, "empty ethtool setting")
            .with_help("write `-K FEATURE on|off …`, e.g. `-K tx off`"));
    };
    if !OFFLOAD_FLAGS.contains(&command.text) {
        return Err(not_offload(command));
    }

    let mut features: Vec<FeatureSetting> = Vec::new();
    while let Some(word) = cursor.next() {
        if OFFLOAD_FLAGS.contains(&word.text) {
            return Err(
                StringError::at(word, format!("`{}` is given more than once", word.text))
                    .with_help(format!("list all features after one `{}`", command.text)),
            );
        }
        if word.text.starts_with('-') {
            return Err(unsupported(word));
        }
        if !is_feature(word.text) {
            return Err(unknown_feature(word, cursor.peek()));
        }
        if features.iter().any(|f| f.feature == word.text) {
            return Err(StringError::at(
                word,
                format!("feature `{}` is given more than once", word.text),
            )
            .with_help("give each feature once"));
        }
        let value = cursor.value(word, "`on` or `off`")?;
        let enabled = match value.text {
            "on" => true,
            "off" => false,
            other => {
                return Err(StringError::at(
                    value,
                    format!(
                        "expected `on` or `off` after `{}`, found `{other}`",
                        word.text
                    ),
                )
                .suggest(other, &["on", "off"]));
            }
        };
        features.push(FeatureSetting {
            feature: word.text.to_string(),
            enabled,
        });
    }
    if features.is_empty() {
        return Err(StringError::at(
            command,
            format!("`{}` needs at least one `FEATURE on|off`", command.text),
        )
        .with_help(format!("e.g. `{} tx off`", command.text)));
    }
    Ok(Ethtool { features })
}

/// The first word is not `-K`: some other ethtool command, or a forgotten `-K`.
fn not_offload(word: Word<'_>) -> StringError {
    if word.text.starts_with('-') {
        let error = unsupported(word);
        // `-k` shows features instead of setting them: an easy slip.
        return if word.text == "-k" {
            error.with_help("did you mean `-K`? (`-k` only shows the features)")
        } else {
            error
        };
    }
    let error = StringError::at(
        word,
        format!("an ethtool setting starts with `-K`, found `{}`", word.text),
    );
    if is_feature(word.text) {
        error.with_help(format!("write `-K {} …`", word.text))
    } else {
        error.with_help("write `-K FEATURE on|off …`, e.g. `-K tx off`")
    }
}

fn unsupported(word: Word<'_>) -> StringError {
    StringError::at(
        word,
        format!(
            "unsupported ethtool setting `{}`: conlink supports only `-K/--offload/--features`",
            word.text
        ),
    )
}

/// An unknown feature name; `next` is the word after it, which tells a misspelling from
/// a device name given by habit (`-K eth0 tx off`).
fn unknown_feature(word: Word<'_>, next: Option<Word<'_>>) -> StringError {
    let error = StringError::at(word, format!("unknown ethtool feature `{}`", word.text));
    if let Some(close) = did_you_mean(word.text, &all_feature_names()) {
        return error.with_help(format!("did you mean `{close}`?"));
    }
    if next.is_some_and(|n| n.text != "on" && n.text != "off") {
        return error.with_help(
            "leave out the device name: conlink applies the setting to the link's `dev`",
        );
    }
    error.with_help("`ethtool -k DEV` lists a device's features")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ethtool(input: &str) -> Ethtool {
        match parse_ethtool(input) {
            Ok(value) => value,
            Err(e) => panic!("{input:?}: {e:?}"),
        }
    }

    fn error(input: &str) -> (StringError, &str) {
        let e = parse_ethtool(input).expect_err(input);
        let covered = &input[e.range()];
        (e, covered)
    }

    fn settings(value: &Ethtool) -> Vec<(&str, bool)> {
        value
            .features
            .iter()
            .map(|f| (f.feature.as_str(), f.enabled))
            .collect()
    }

    #[test]
    fn all_spellings_of_the_command() {
        for command in ["-K", "--offload", "--features"] {
            let value = ethtool(&format!("{command} tx off"));
            assert_eq!(settings(&value), vec![("tx", false)]);
            assert_eq!(value.to_string(), "-K tx off");
        }
    }

    #[test]
    fn features_keep_their_order() {
        let value = ethtool("-K tx off rx on tso off gso on");
        assert_eq!(
            settings(&value),
            vec![("tx", false), ("rx", true), ("tso", false), ("gso", true)]
        );
        assert_eq!(value.to_string(), "-K tx off rx on tso off gso on");
        assert_eq!(ethtool(&value.to_string()), value);
    }

    #[test]
    fn every_known_name_is_accepted_and_round_trips() {
        for name in all_feature_names() {
            let value = ethtool(&format!("--offload {name} on"));
            assert_eq!(settings(&value), vec![(name, true)]);
            assert_eq!(ethtool(&value.to_string()), value, "{name}");
        }
        for name in [
            "sg", "ufo", "gro", "lro", "rxvlan", "txvlan", "ntuple", "rxhash",
        ] {
            assert!(is_feature(name), "{name}");
        }
        for name in [
            "tx-checksumming",
            "tx-checksum-ipv4",
            "rx-gro-list",
            "rx-udp-gro-forwarding",
            "highdma",
            "rx-all",
        ] {
            assert!(is_feature(name), "{name}");
        }
    }

    #[test]
    fn kernel_patterns() {
        let patterns: Vec<String> =
            ethtool("-K tx off tso on tx-checksum-ipv4 off generic-receive-offload on")
                .features
                .iter()
                .map(|f| f.kernel_pattern().to_string())
                .collect();
        assert_eq!(
            patterns,
            [
                "tx-checksum-*",
                "tx-tcp*-segmentation",
                "tx-checksum-ipv4",
                "rx-gro"
            ]
        );
    }

    #[test]
    fn serialises_in_order() {
        let value = ethtool("-K tx off rx on");
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            serde_json::json!({"features": [
                {"feature": "tx", "enabled": false},
                {"feature": "rx", "enabled": true}
            ]})
        );
        let schema = serde_json::to_value(schemars::schema_for!(Ethtool)).unwrap();
        assert!(schema["properties"]["features"]["description"].is_string());
    }

    #[test]
    fn other_commands_are_unsupported() {
        for (input, word) in [
            ("-s speed 1000", "-s"),
            ("-G rx 4096", "-G"),
            ("--change speed 100", "--change"),
            ("-A autoneg off", "-A"),
            ("--set-ring rx 1", "--set-ring"),
        ] {
            let (e, at) = error(input);
            let expected = format!(
                "unsupported ethtool setting `{word}`: conlink supports only `-K/--offload/--features`"
            );
            assert_eq!(e.message, expected);
            assert_eq!(at, word);
        }
        let (e, _) = error("-k tx off");
        assert!(e.help.unwrap().starts_with("did you mean `-K`?"));
        let (e, at) = error("-K tx off -s speed 10");
        assert_eq!(at, "-s");
        assert!(e.message.starts_with("unsupported ethtool setting `-s`"));
    }

    #[test]
    fn structural_errors() {
        let (e, at) = error("");
        assert_eq!((e.message.as_str(), at), ("empty ethtool setting", ""));
        let (e, at) = error("tx off");
        assert_eq!(
            (e.message.as_str(), at),
            ("an ethtool setting starts with `-K`, found `tx`", "tx")
        );
        assert_eq!(e.help.as_deref(), Some("write `-K tx …`"));
        let (e, _) = error("offload");
        assert!(e.help.unwrap().contains("-K FEATURE on|off"));
        let (e, at) = error("-K");
        assert_eq!(
            (e.message.as_str(), at),
            ("`-K` needs at least one `FEATURE on|off`", "-K")
        );
        let (e, at) = error("--offload ");
        assert_eq!(
            (e.help.as_deref(), at),
            (Some("e.g. `--offload tx off`"), "--offload")
        );
        let (e, at) = error("-K tx");
        assert_eq!((e.message.as_str(), at), ("`tx` needs `on` or `off`", "tx"));
        let (e, at) = error("-K tx of");
        assert_eq!(
            (e.message.as_str(), at),
            ("expected `on` or `off` after `tx`, found `of`", "of")
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `off`?"));
        let (e, _) = error("-K tx yes");
        assert_eq!(e.help, None);
        let (e, at) = error("-K tx off -K rx off");
        assert_eq!(
            (e.message.as_str(), at),
            ("`-K` is given more than once", "-K")
        );
        assert_eq!(e.start, 10);
    }

    #[test]
    fn unknown_and_duplicate_features() {
        let (e, at) = error("-K tz off");
        assert_eq!(
            (e.message.as_str(), at),
            ("unknown ethtool feature `tz`", "tz")
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `tx`?"));
        let (e, _) = error("-K TSO off");
        assert_eq!(e.help.as_deref(), Some("did you mean `tso`?"));
        let (e, _) = error("-K tx-checksum-ip4 off");
        assert_eq!(e.help.as_deref(), Some("did you mean `tx-checksum-ipv4`?"));
        let (e, _) = error("-K rx-gro-lst on");
        assert_eq!(e.help.as_deref(), Some("did you mean `rx-gro-list`?"));
        let (e, at) = error("-K eth0 tx off");
        assert_eq!(at, "eth0");
        assert!(e.help.unwrap().contains("leave out the device name"));
        let (e, _) = error("-K frobnication off");
        assert!(e.help.unwrap().contains("ethtool -k DEV"));

        let (e, at) = error("-K tx off rx on tx on");
        assert_eq!(
            (e.message.as_str(), at),
            ("feature `tx` is given more than once", "tx")
        );
        assert_eq!(e.start, 16);
        // Different names for overlapping features are ethtool's business, not an error.
        assert_eq!(ethtool("-K tx off tx-checksum-ipv4 off").features.len(), 2);
    }

    #[test]
    fn unicode_and_garbage() {
        let (_, at) = error("-K tx off 🦀 on");
        assert_eq!(at, "🦀");
        let (_, at) = error("—K tx off");
        assert_eq!(at, "—K");
        let (_, at) = error("-K tx\u{a0}off");
        assert_eq!(at, "tx\u{a0}off");
    }
}
