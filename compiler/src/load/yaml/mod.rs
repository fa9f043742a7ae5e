//! YAML parsing into [`Node`] trees.
//!
//! [`parse`] drives saphyr-parser's event stream and builds the tree itself, so that it
//! controls everything conlink cares about: byte-offset spans on every node and key,
//! YAML 1.2 core-schema resolution of plain scalars (an unquoted `00:0a:0b:0c:0d:01`
//! stays a string, `yes` is not a boolean), anchors and aliases expanded with a cap
//! against alias bombs, `<<` merge keys, and duplicate keys reported as errors rather
//! than silently overwritten. Problems are returned as [`Diagnostic`]s; the parser never
//! panics, whatever the input.
//!
//! One file per job: `tree.rs` builds the tree from the events, `scalar.rs` resolves
//! scalars and tags, `anchors.rs` expands aliases, `mapping.rs` assembles mappings
//! (with duplicate and merge keys), `syntax_error.rs` explains what saphyr could not
//! parse, and `lines.rs` holds the byte scanning the explainer and the tree builder
//! share.

mod anchors;
mod lines;
mod mapping;
mod scalar;
mod syntax_error;
mod tree;

use crate::diag::Diagnostic;
use crate::load::node::Node;
use crate::source::FileId;
use saphyr_parser::Parser;
use tree::{Builder, Step};

/// Parses one YAML file (a single document) into a [`Node`] tree.
///
/// All spans are byte ranges in `text` tagged with `file`. An empty file (or one with
/// only comments) is a null node with an empty span at offset 0. On failure every
/// problem found is returned: all duplicate keys, all bad merges and tags, or the first
/// syntax error (the parser cannot continue past one).
pub fn parse(file: FileId, text: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder::new(file, text);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let step = match next {
            Ok((event, span)) => builder.event(event, span),
            Err(error) => {
                builder.syntax_error(&error);
                Step::Stop
            }
        };
        if step == Step::Stop {
            break;
        }
    }
    builder.finish()
}

/// What the tests of every part of the parser share: parsing with expectations, and
/// looking into the tree.
#[cfg(test)]
mod testing {
    pub(in crate::load::yaml) use super::parse;
    pub(in crate::load::yaml) use crate::diag::Diagnostic;
    use crate::load::node::{Key, Node, Value};
    use crate::source::{FileId, Span};

    pub(in crate::load::yaml) const F: FileId = FileId(3);

    pub(in crate::load::yaml) fn ok(text: &str) -> Node {
        match parse(F, text) {
            Ok(n) => n,
            Err(d) => panic!("unexpected errors for {text:?}: {d:#?}"),
        }
    }

    pub(in crate::load::yaml) fn errs(text: &str) -> Vec<Diagnostic> {
        match parse(F, text) {
            Ok(n) => panic!("expected errors for {text:?}, got {n:#?}"),
            Err(d) => d,
        }
    }

    pub(in crate::load::yaml) fn at(text: &str, span: Span) -> &str {
        assert_eq!(span.file, F);
        &text[span.start as usize..span.end as usize]
    }

    pub(in crate::load::yaml) fn map(node: &Node) -> &[(Key, Node)] {
        match &node.value {
            Value::Map(m) => m,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    pub(in crate::load::yaml) fn seq(node: &Node) -> &[Node] {
        match &node.value {
            Value::Seq(s) => s,
            other => panic!("not a sequence: {other:?}"),
        }
    }

    pub(in crate::load::yaml) fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        map(node)
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
            .expect("key")
    }

    pub(in crate::load::yaml) fn names(node: &Node) -> Vec<&str> {
        map(node).iter().map(|(k, _)| k.name.as_str()).collect()
    }

    /// The value of `key: <plain>` for each plain scalar.
    pub(in crate::load::yaml) fn plain(s: &str) -> Value {
        get(&ok(&format!("k: {s}\n")), "k").value.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "- ",
            ": ",
            "? ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&a ",
            "*a",
            "!!str ",
            "!x ",
            "|",
            ">-",
            "#c",
            "\n",
            "\n  ",
            "\t",
            "'",
            "\"",
            "\\",
            "<<: ",
            "a",
            "é",
            "\u{FEFF}",
            "---",
            "...",
            "%YAML 1.2\n",
            "~",
            "0x",
            "\r\n",
            "a:b",
            " #",
            "\t- ",
            "*ä",
            "&ä ",
            "ü:",
        ];
        // A deterministic pseudo-random walk over combinations of YAML's special pieces.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(state % 12) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match parse(F, &text) {
                Ok(node) => assert!(node.span.end as usize <= text.len()),
                Err(diags) => {
                    for d in diags {
                        let primary = d.primary.expect("located");
                        for span in d.secondary.iter().map(|l| l.span).chain([primary.span]) {
                            assert!(
                                text.get(span.start as usize..span.end as usize).is_some(),
                                "{text:?}: {span:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
