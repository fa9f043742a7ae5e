//! Mappings: keys kept in document order, duplicate keys reported (not silently
//! overwritten), and `<<` merge keys resolved as compose resolves them.

use super::scalar::tag_name;
use crate::diag::Diagnostic;
use crate::load::node::{Key, Node, Value};
use crate::source::Span;
use saphyr_parser::{ScalarStyle, Tag};
use std::collections::{HashMap, HashSet};

/// A mapping being built. Entries are kept in document order; merge-key entries are
/// only resolved at the end, because explicit keys win over merged ones even when
/// they are written after the `<<`.
#[derive(Default)]
pub(super) struct MapBuilder {
    entries: Vec<Entry>,
    /// The key whose value is expected next.
    pending: Option<PendingKey>,
    /// Where each explicit key was first written, to report duplicates.
    first_seen: HashMap<String, Span>,
}

enum PendingKey {
    Key(Key),
    /// A `<<` merge key (its span, for errors about the merged value).
    Merge(Span),
}

enum Entry {
    Pair(Key, Node),
    /// The entries a `<<` brings in, in priority order (earlier ones win).
    Merge(Vec<(Key, Node)>),
}

/// Whether a scalar is a merge key when it stands in key position: a plain `<<`,
/// untagged or tagged `!!merge`.
pub(super) fn is_merge_key(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> bool {
    text == "<<"
        && style == ScalarStyle::Plain
        && tag.is_none_or(|t| tag_name(t) == "tag:yaml.org,2002:merge")
}

impl MapBuilder {
    /// Takes the mapping's next node: a key (a merge key when `merge_key`), or the value
    /// of the key before it. `text` is the file's, for keys that are not strings.
    /// Returns what is wrong with the node, if anything; the mapping goes on without it.
    pub(super) fn push(&mut self, node: Node, merge_key: bool, text: &str) -> Option<Diagnostic> {
        match self.pending.take() {
            None if merge_key => self.pending = Some(PendingKey::Merge(node.span)),
            None => {
                let name = match node.value {
                    Value::Str(s) => s,
                    // Keys are strings in conlink's language: a number, boolean, null or
                    // collection used as a key is taken as written.
                    _ => slice(text, node.span).to_string(),
                };
                self.pending = Some(PendingKey::Key(Key {
                    name,
                    span: node.span,
                }));
            }
            Some(PendingKey::Key(key)) => {
                if let Some(&first) = self.first_seen.get(&key.name) {
                    return Some(
                        Diagnostic::error(
                            "conlink::yaml::duplicate_key",
                            format!("duplicate key `{}`", key.name),
                        )
                        .at(key.span, "duplicate key")
                        .also(first, "first defined here"),
                    );
                }
                self.first_seen.insert(key.name.clone(), key.span);
                self.entries.push(Entry::Pair(key, node));
            }
            Some(PendingKey::Merge(key_span)) => match merged_entries(node) {
                Ok(entries) => self.entries.push(Entry::Merge(entries)),
                Err(bad) => {
                    return Some(
                        Diagnostic::error(
                            "conlink::yaml::merge",
                            format!(
                                "a merge key `<<` needs a mapping or a list of mappings, found {}",
                                bad.type_name()
                            ),
                        )
                        .at(bad.span, "not a mapping")
                        .also(key_span, "merged here"),
                    )
                }
            },
        }
        None
    }

    /// The mapping's entries: explicit keys where written, and at the place of each `<<`
    /// the merged keys not written explicitly and not brought in by an earlier merge.
    pub(super) fn finish(self) -> Vec<(Key, Node)> {
        // `first_seen` holds exactly the explicit keys.
        let explicit = self.first_seen;
        let mut merged: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in self.entries {
            match entry {
                Entry::Pair(k, v) => out.push((k, v)),
                Entry::Merge(pairs) => {
                    for (k, v) in pairs {
                        if !explicit.contains_key(&k.name) && merged.insert(k.name.clone()) {
                            out.push((k, v));
                        }
                    }
                }
            }
        }
        out
    }
}

/// The pairs a `<<` value brings in: a mapping's own pairs, or those of a list of
/// mappings in order (earlier mappings take precedence). Returns the offending node
/// when the value is not of that shape.
fn merged_entries(value: Node) -> Result<Vec<(Key, Node)>, Node> {
    match value.value {
        Value::Map(entries) => Ok(entries),
        Value::Seq(items) => {
            let mut out = Vec::new();
            for item in items {
                match item.value {
                    Value::Map(entries) => out.extend(entries),
                    _ => return Err(item),
                }
            }
            Ok(out)
        }
        _ => Err(value),
    }
}

fn slice(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::load::node::Value;

    #[test]
    fn merge_keys() {
        let text = "\
base: &base {a: 1, b: 2}
other: &other {b: 20, c: 30, d: 40}
one:
  <<: *base
  b: 3
list:
  x: 0
  <<: [*other, *base]
  d: 4
";
        let doc = ok(text);
        let one = get(&doc, "one");
        // Merged keys take the place of `<<`; explicit keys win even when written after.
        assert_eq!(names(one), ["a", "b"]);
        assert_eq!(get(one, "a").value, Value::Int(1));
        assert_eq!(get(one, "b").value, Value::Int(3));
        assert_eq!(at(text, map(one)[1].0.span), "b");
        let list = get(&doc, "list");
        assert_eq!(names(list), ["x", "b", "c", "a", "d"]);
        // Earlier mappings in the list win over later ones.
        assert_eq!(get(list, "b").value, Value::Int(20));
        assert_eq!(get(list, "d").value, Value::Int(4));
        // A quoted "<<" is an ordinary key.
        assert_eq!(names(&ok("'<<': 1\n")), ["<<"]);
        // A key provided by a merge is not a duplicate of an explicit one.
        ok("a: &a {k: 1}\nb: {<<: *a, k: 2}\n");
    }

    #[test]
    fn merging_a_non_mapping_is_an_error() {
        let text = "a: {<<: 5}\nb: {<<: [{x: 1}, [2]]}\n";
        let d = errs(text);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.code == "conlink::yaml::merge"));
        assert_eq!(at(text, d[0].primary.as_ref().unwrap().span), "5");
        assert_eq!(at(text, d[1].primary.as_ref().unwrap().span), "[2]");
    }

    #[test]
    fn all_duplicate_keys_are_reported() {
        let text = "a: 1\nb:\n  x: 1\n  x: 2\na: 3\n";
        let d = errs(text);
        assert_eq!(d.len(), 2);
        for diag in &d {
            assert_eq!(diag.code, "conlink::yaml::duplicate_key");
        }
        let inner = &d[0];
        assert_eq!(inner.message, "duplicate key `x`");
        let primary = inner.primary.as_ref().unwrap();
        assert_eq!(primary.message, "duplicate key");
        assert_eq!(primary.span.start as usize, text.find("x: 2").unwrap());
        assert_eq!(inner.secondary[0].message, "first defined here");
        assert_eq!(
            inner.secondary[0].span.start as usize,
            text.find("x: 1").unwrap()
        );
        let outer = &d[1];
        assert_eq!(
            outer.primary.as_ref().unwrap().span.start as usize,
            text.find("a: 3").unwrap()
        );
        assert_eq!(outer.secondary[0].span.start, 0);
    }

    #[test]
    fn non_string_keys_use_their_text() {
        let text = "1: a\ntrue: b\n~: c\n0x10: d\n[p, q]: e\n";
        assert_eq!(names(&ok(text)), ["1", "true", "~", "0x10", "[p, q]"]);
        // `1` and `"1"` are the same key in conlink's string-keyed language.
        assert_eq!(
            errs("1: a\n\"1\": b\n")[0].code,
            "conlink::yaml::duplicate_key"
        );
    }
}
