//! Diagnostics: one type for every error and warning the compiler reports.
//!
//! Stages collect [`Diagnostic`]s instead of returning on the first problem, so a user
//! sees every error of a run at once. A diagnostic is plain data (code, message, spans);
//! its texts are shortened when they quote a long value (`shorten.rs`). Rendering
//! happens at the end, either as rustc-style text through miette ([`render_text`],
//! `text.rs`, which reads the source through the file's line index, `excerpt.rs`) or
//! as JSON objects for editors and CI ([`render_json`], `json.rs`), or as GitHub Actions
//! annotations ([`render_github`], `github.rs`); each costs time in
//! proportion to what they print. The "did you mean" suggestion that many diagnostics
//! offer as help is here too ([`did_you_mean`]).

mod excerpt;
mod github;
mod json;
mod shorten;
mod text;

pub use github::{escape_data, escape_property, render_github};
pub use json::render_json;
pub use shorten::{shorten, QUOTED_MAX, TEXT_MAX};
pub use text::{render_text, render_text_first, LONG_LINE};

use crate::source::Span;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with the text shown under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable identifier, e.g. `conlink::schema::unknown_key`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is. `None` only for problems with no place in any file
    /// (e.g. a `--scale` option naming an unknown service).
    pub primary: Option<Label>,
    /// Other places worth showing ("first defined here").
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// JSON pointer of the offending node inside its file's document, when known.
    pub pointer: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: shorten(message.into()),
            primary: None,
            secondary: Vec::new(),
            help: None,
            pointer: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the primary location and the text under it.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            span,
            message: shorten(label.into()),
        });
        self
    }

    pub fn also(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: shorten(label.into()),
        });
        self
    }

    /// Adds a secondary label only when `cond` holds.
    pub fn also_if(self, cond: bool, span: Span, label: impl Into<String>) -> Diagnostic {
        if cond {
            self.also(span, label)
        } else {
            self
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(shorten(help.into()));
        self
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Diagnostic {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one compilation, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Orders diagnostics by file and position so output does not depend on which
    /// stage found what first; diagnostics without a place go last.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| {
            let place = d
                .primary
                .as_ref()
                .map(|l| (l.span.file, l.span.start, l.span.end));
            (place.is_none(), place, d.severity)
        });
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely misspelling:
/// an edit distance of at most 2, or at most a third of the word's length for long
/// words. Case is ignored (so `VIA` suggests `via`), and a candidate is never suggested
/// when every character would have to change. Among equally distant candidates, one
/// that the word abbreviates wins (`of` → `off`, not `on`), then one of the same length
/// (`µs` → `us`, not `s`), then the earlier one, so suggestions are deterministic.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word: Vec<char> = word.chars().map(|c| c.to_ascii_lowercase()).collect();
    let limit = (word.len() / 3).max(2);
    // Ranked by (distance, not abbreviated, length difference): lower is better.
    let mut best: Option<((usize, bool, usize), &'a str)> = None;
    for &candidate in candidates {
        let cand: Vec<char> = candidate.chars().map(|c| c.to_ascii_lowercase()).collect();
        // The distance is at least the difference in length: skip hopeless candidates
        // before the quadratic work (this also bounds the cost for huge input words).
        let length_difference = word.len().abs_diff(cand.len());
        if length_difference > limit {
            continue;
        }
        let distance = levenshtein(&word, &cand);
        if distance > limit || distance >= word.len() {
            continue;
        }
        let rank = (distance, !cand.starts_with(&word), length_difference);
        if best.is_none_or(|(best_rank, _)| rank < best_rank) {
            best = Some((rank, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Edit distance (insertions, deletions, substitutions) between two strings, with the
/// usual two-row dynamic programme.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_distances() {
        let d = |a: &str, b: &str| {
            levenshtein(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("", ""), 0);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("via", "vai"), 2);
        assert_eq!(d("metric", "metirc"), 2);
        assert_eq!(d("é", "e"), 1);
    }

    #[test]
    fn did_you_mean_suggests_close_words_only() {
        let options = ["via", "src", "metric", "table", "proto", "scope", "onlink"];
        assert_eq!(did_you_mean("vai", &options), Some("via"));
        assert_eq!(did_you_mean("VIA", &options), Some("via"));
        assert_eq!(did_you_mean("metirc", &options), Some("metric"));
        assert_eq!(did_you_mean("tabel", &options), Some("table"));
        assert_eq!(did_you_mean("onlnk", &options), Some("onlink"));
        assert_eq!(did_you_mean("xyzzy", &options), None);
        assert_eq!(did_you_mean("", &options), None);
        // Two-letter words: never "replace everything".
        assert_eq!(did_you_mean("ab", &["sg", "tx"]), None);
        assert_eq!(did_you_mean("tz", &["sg", "tx"]), Some("tx"));
        // Long words allow a third of their length.
        let features = ["tx-tcp-segmentation", "tx-udp-segmentation"];
        assert_eq!(
            did_you_mean("tx-tcp-segmentatoin", &features),
            Some("tx-tcp-segmentation")
        );
        assert_eq!(
            did_you_mean("tx-tcpsegmntation", &features),
            Some("tx-tcp-segmentation")
        );
        // Ties go to an abbreviated candidate, then one of the same length, then the first.
        assert_eq!(did_you_mean("of", &["on", "off"]), Some("off"));
        assert_eq!(did_you_mean("µs", &["s", "us"]), Some("us"));
        assert_eq!(did_you_mean("ab", &["ac", "ad"]), Some("ac"));
        // Huge and non-ASCII words are fine.
        assert_eq!(did_you_mean(&"x".repeat(100_000), &options), None);
        assert_eq!(did_you_mean("vía", &options), Some("via"));
    }
}
