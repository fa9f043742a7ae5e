//! Parsers for the small languages inside configuration strings (docs/configuration.md,
//! "String languages: route, netem, ethtool", and "forward and nat").
//!
//! A few properties carry a command-line language of their own: `route` (the arguments
//! of `ip route add`), `netem` (the options of `tc qdisc … netem`), `ethtool` (the
//! arguments of `ethtool -K`) and `forward` (`PORT:PORT/PROTO`). conlink never hands
//! these strings to a shell or to the tools themselves; each parser here turns one
//! string, already environment-interpolated, into the structured value the plan
//! carries ([`crate::plan`]'s `Route`, `Netem`, `Ethtool`; a [`Forward`] for the
//! lowering), or into a [`StringError`] whose byte range points at the offending word
//! *inside* the string, so the caller can underline it in the source file (see
//! `Span::sub`). Every value prints, through `Display`, the canonical command-line form
//! of what it means, and parsing that form gives the value back.
//!
//! What the parsers share (words, located errors, exact numbers) is in [`scan`].

pub mod ethtool;
pub mod forward;
pub mod netem;
pub mod route;
pub mod scan;

pub use ethtool::parse_ethtool;
pub use forward::{parse_forward, Forward};
pub use netem::{parse_netem, parse_netem_with_warnings};
pub use route::{parse_link_route, parse_route};
pub use scan::StringError;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parser on a few thousand strings made of plausible and implausible pieces:
    /// none may panic, every error must point at whole characters inside the input, and
    /// every success must survive a round trip through its canonical form.
    #[test]
    fn garbage_never_panics_and_successes_round_trip() {
        let pieces = [
            "default",
            "via",
            "10.0.0.1",
            "10.0.0.0/8",
            "fe80::1",
            "::/0",
            "metric",
            "src",
            "table",
            "main",
            "proto",
            "static",
            "scope",
            "link",
            "onlink",
            "dev",
            "delay",
            "40ms",
            "5ms",
            "25%",
            "loss",
            "random",
            "1%",
            "rate",
            "1mbit",
            "limit",
            "1000",
            "reorder",
            "gap",
            "5",
            "distribution",
            "normal",
            "duplicate",
            "corrupt",
            "-K",
            "--offload",
            "tx",
            "off",
            "on",
            "gso",
            "8080:80/tcp",
            "53:53/udp",
            ":",
            "/",
            "%",
            "-",
            "é",
            "\u{a0}",
            "🦀",
            "99999999999999999999999999",
            "-1",
            "0",
            "",
            " ",
            "\t",
            "1.5",
            ".",
            "1e3",
            "65536:1/tcp",
            "slot",
            "ecn",
        ];
        // A small deterministic generator, so the test needs no extra dependencies.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..4000 {
            let count = next() % 7;
            let mut input = String::new();
            for _ in 0..count {
                input.push_str(pieces[next() % pieces.len()]);
                input.push_str(if next() % 5 == 0 { "" } else { " " });
            }
            check_parser(&input, route::parse_route);
            check_parser(&input, netem::parse_netem);
            check_parser(&input, ethtool::parse_ethtool);
            check_parser(&input, forward::parse_forward);
        }
    }

    fn check_parser<T, F>(input: &str, parse: F)
    where
        T: std::fmt::Display + PartialEq + std::fmt::Debug,
        F: Fn(&str) -> Result<T, StringError>,
    {
        match parse(input) {
            Ok(value) => {
                let text = value.to_string();
                assert_eq!(
                    parse(&text).as_ref(),
                    Ok(&value),
                    "{input:?} printed as {text:?}"
                );
            }
            Err(error) => {
                assert!(
                    error.start <= error.end && error.end <= input.len(),
                    "{input:?}: {error:?}"
                );
                assert!(input.is_char_boundary(error.start) && input.is_char_boundary(error.end));
                assert!(!error.message.is_empty());
            }
        }
    }
}
