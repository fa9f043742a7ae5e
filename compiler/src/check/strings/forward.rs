//! `forward` strings: `PORT:PORT/tcp|udp` (docs/configuration.md, "Links" and "forward
//! and nat").
//!
//! The first port is conlink's external port, the second the target's port behind the
//! link; both are 1–65535 and the protocol is required (2.x's syntax). Docker-style
//! extras (a host address in front, port ranges) are refused with a clear error. For
//! scaled services the external port of replica `i` is the written one plus `i−1`
//! ([`Forward::offset`]).

use super::scan::{parse_integer, StringError, Word};
use crate::diag::did_you_mean;
use crate::plan::Protocol;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A port forward from conlink's external interface to a port of the link's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Forward {
    /// Port on conlink's external interface (written first), 1–65535.
    #[schemars(range(min = 1))]
    pub external_port: u16,
    /// Port on the target that traffic is forwarded to (written second), 1–65535.
    #[schemars(range(min = 1))]
    pub target_port: u16,
    /// Transport protocol.
    pub protocol: Protocol,
}

impl Forward {
    /// The same forward with the external port moved up by `n` (replica `i` of a
    /// scaled service uses `offset(i - 1)`); `None` if that passes 65535.
    pub fn offset(&self, n: u16) -> Option<Forward> {
        let external_port = self.external_port.checked_add(n)?;
        Some(Forward {
            external_port,
            ..*self
        })
    }
}

const EXAMPLE: &str = "write `EXTERNAL:TARGET/tcp` or `EXTERNAL:TARGET/udp`, e.g. `8080:80/tcp`";

/// Parses a `forward` string such as `8080:80/tcp`.
pub fn parse_forward(input: &str) -> Result<Forward, StringError> {
    let words = super::scan::words(input);
    let [word] = words.as_slice() else {
        return Err(match words.get(1) {
            None => StringError::whole(input, "empty forward").with_help(EXAMPLE),
            Some(extra) => StringError::at(
                *extra,
                format!("unexpected `{}` after the forward", extra.text),
            )
            .with_help("a forward is one word without spaces, e.g. `8080:80/tcp`"),
        });
    };
    let word = *word;

    // Offsets below are of ASCII `/` and `:`, so every slice is on character boundaries.
    let Some(slash) = word.text.find('/') else {
        return Err(
            StringError::at(word, format!("forward `{}` has no protocol", word.text))
                .with_help(format!("write `{}/tcp` or `{}/udp`", word.text, word.text)),
        );
    };
    let ports = word.slice(0..slash);
    let protocol = parse_protocol(word.slice(slash + 1..word.text.len()))?;

    let parts: Vec<&str> = ports.text.split(':').collect();
    match parts.len() {
        1 => {
            return Err(StringError::at(
                ports,
                "a forward needs two ports, external first, then the target's",
            )
            .with_help(format!("e.g. `{}:{}/{protocol}`", ports.text, ports.text)));
        }
        2 => {}
        _ => {
            return Err(StringError::at(
                ports,
                "a forward has exactly two ports; a listening address is not supported",
            )
            .with_help(EXAMPLE));
        }
    }
    let colon = parts[0].len();
    let external_port = parse_port(ports.slice(0..colon), "external")?;
    let target_port = parse_port(ports.slice(colon + 1..ports.text.len()), "target")?;
    Ok(Forward {
        external_port,
        target_port,
        protocol,
    })
}

fn parse_protocol(word: Word<'_>) -> Result<Protocol, StringError> {
    match word.text {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "" => {
            Err(StringError::at(word, "missing protocol after `/`")
                .with_help("write `tcp` or `udp`"))
        }
        other => {
            let error = StringError::at(word, format!("unsupported protocol `{other}`"));
            // Only a case slip gets a suggestion: `sctp` is one letter from `tcp` but
            // means something else.
            Err(match did_you_mean(other, &["tcp", "udp"]) {
                Some(close) if other.eq_ignore_ascii_case(close) => {
                    error.with_help(format!("did you mean `{close}`?"))
                }
                _ => error.with_help("a forward is `tcp` or `udp`"),
            })
        }
    }
}

fn parse_port(word: Word<'_>, which: &str) -> Result<u16, StringError> {
    if word.text.is_empty() {
        return Err(StringError::at(word, format!("missing {which} port")).with_help(EXAMPLE));
    }
    if word.text.contains('-') && !word.text.starts_with('-') {
        return Err(
            StringError::at(word, format!("port range `{}` is not supported", word.text))
                .with_help("give one forward per port"),
        );
    }
    // Digits (and a sign) that do not make a port are out of range, anything else is
    // not a number at all.
    let numeric = word.text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    match parse_integer(word.text) {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ if numeric => Err(StringError::at(
            word,
            format!("{which} port `{}` is out of range", word.text),
        )
        .with_help("a port is from 1 to 65535")),
        _ => Err(StringError::at(
            word,
            format!("{which} port `{}` is not a number", word.text),
        )
        .with_help(EXAMPLE)),
    }
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.external_port, self.target_port, self.protocol
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(input: &str) -> Forward {
        match parse_forward(input) {
            Ok(value) => value,
            Err(e) => panic!("{input:?}: {e:?}"),
        }
    }

    fn error(input: &str) -> (StringError, &str) {
        let e = parse_forward(input).expect_err(input);
        let covered = &input[e.range()];
        (e, covered)
    }

    #[test]
    fn valid_forwards() {
        assert_eq!(
            forward("8080:80/tcp"),
            Forward {
                external_port: 8080,
                target_port: 80,
                protocol: Protocol::Tcp
            }
        );
        assert_eq!(
            forward(" 53:5353/udp\n"),
            Forward {
                external_port: 53,
                target_port: 5353,
                protocol: Protocol::Udp
            }
        );
        let f = forward("1:65535/tcp");
        assert_eq!((f.external_port, f.target_port), (1, 65535));
        assert_eq!(forward("08080:080/tcp").external_port, 8080);
    }

    #[test]
    fn display_round_trips() {
        for (input, canonical) in [
            ("8080:80/tcp", "8080:80/tcp"),
            ("53:53/udp", "53:53/udp"),
            ("08080:080/tcp", "8080:80/tcp"),
            ("65535:1/udp", "65535:1/udp"),
        ] {
            let f = forward(input);
            assert_eq!(f.to_string(), canonical);
            assert_eq!(forward(canonical), f);
        }
    }

    #[test]
    fn offsets_for_replicas() {
        let f = forward("8080:80/tcp");
        assert_eq!(f.offset(0), Some(f));
        assert_eq!(f.offset(2).unwrap().to_string(), "8082:80/tcp");
        assert_eq!(
            forward("65534:80/udp").offset(1).unwrap().external_port,
            65535
        );
        assert_eq!(forward("65535:80/udp").offset(1), None);
        assert_eq!(forward("1:80/udp").offset(u16::MAX), None);
    }

    #[test]
    fn serialises() {
        assert_eq!(
            serde_json::to_value(forward("8080:80/tcp")).unwrap(),
            serde_json::json!({"external_port": 8080, "target_port": 80, "protocol": "tcp"})
        );
        let schema = serde_json::to_value(schemars::schema_for!(Forward)).unwrap();
        assert_eq!(schema["properties"]["external_port"]["minimum"], 1);
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let (e, at) = error("");
        assert_eq!((e.message.as_str(), at), ("empty forward", ""));
        let (e, at) = error("8080:80/tcp 9090:90/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            ("unexpected `9090:90/tcp` after the forward", "9090:90/tcp")
        );

        let (e, at) = error("8080:80");
        assert_eq!(
            (e.message.as_str(), at),
            ("forward `8080:80` has no protocol", "8080:80")
        );
        assert_eq!(
            e.help.as_deref(),
            Some("write `8080:80/tcp` or `8080:80/udp`")
        );
        let (e, at) = error("8080:80/");
        assert_eq!((e.message.as_str(), at), ("missing protocol after `/`", ""));
        assert_eq!(e.range(), 8..8);
        let (e, at) = error("8080:80/sctp");
        assert_eq!(
            (e.message.as_str(), at),
            ("unsupported protocol `sctp`", "sctp")
        );
        assert_eq!(e.help.as_deref(), Some("a forward is `tcp` or `udp`"));
        let (e, at) = error("8080:80/TCP");
        assert_eq!(
            (e.help.as_deref(), at),
            (Some("did you mean `tcp`?"), "TCP")
        );
        let (_, at) = error("8080:80/tcp/udp");
        assert_eq!(at, "tcp/udp");

        let (e, at) = error("80/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            (
                "a forward needs two ports, external first, then the target's",
                "80"
            )
        );
        assert_eq!(e.help.as_deref(), Some("e.g. `80:80/tcp`"));
        let (e, at) = error("127.0.0.1:8080:80/tcp");
        assert!(e.message.contains("listening address is not supported"));
        assert_eq!(at, "127.0.0.1:8080:80");

        let (e, at) = error(":80/tcp");
        assert_eq!((e.message.as_str(), at), ("missing external port", ""));
        assert_eq!(e.range(), 0..0);
        let (e, at) = error("8080:/tcp");
        assert_eq!((e.message.as_str(), at), ("missing target port", ""));
        assert_eq!(e.range(), 5..5);

        let (e, at) = error("0:80/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            ("external port `0` is out of range", "0")
        );
        let (e, at) = error("8080:65536/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            ("target port `65536` is out of range", "65536")
        );
        assert_eq!(e.help.as_deref(), Some("a port is from 1 to 65535"));
        let (_, at) = error("8080:99999999999999999999999999/tcp");
        assert_eq!(at, "99999999999999999999999999");
        let (e, at) = error("-1:80/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            ("external port `-1` is out of range", "-1")
        );
        let (e, at) = error("http:80/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            ("external port `http` is not a number", "http")
        );
        let (e, at) = error("8000-8010:80/tcp");
        assert_eq!(
            (e.message.as_str(), at),
            ("port range `8000-8010` is not supported", "8000-8010")
        );
    }

    #[test]
    fn unicode_and_garbage() {
        let (_, at) = error("８０:80/tcp");
        assert_eq!(at, "８０");
        let (_, at) = error("80:80/tcp🦀");
        assert_eq!(at, "tcp🦀");
        let (_, at) = error("é:ü/tcp");
        assert_eq!(at, "é");
        let (_, at) = error("/");
        assert_eq!(at, "");
        let (_, at) = error(":");
        assert_eq!(at, ":");
    }
}
