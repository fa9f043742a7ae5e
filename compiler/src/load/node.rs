//! The YAML document tree with spans.
//!
//! Every configuration file is parsed into a [`Node`] tree (anchors, aliases and merge
//! keys already expanded). Interpolation, fragment extraction, schema validation and
//! typed deserialization all work on this tree, and every node remembers where it came
//! from, so a diagnostic can always point at the exact node that is wrong.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    /// For scalars: the scalar's text in the file (including quotes, if any).
    /// For collections: from the first to the last character of the collection.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order. Keys are always strings in conlink's language; a
    /// non-string key in the YAML is turned into its text by the parser.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its own span, so "unknown key" errors point at the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

// ---------------------------------------------------------------------------------
// Accessors and JSON views. The schema validator works on the JSON form of a tree and
// reports JSON pointers; these functions map between the two.

impl Node {
    /// The string, if this is a string node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// Mutable access to the value under `key`, if this is a mapping that has it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(m) => m.iter_mut().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The name of the node's type as used in messages ("expected a string, found
    /// mapping"): `null`, `boolean`, `integer`, `number`, `string`, `sequence`, `mapping`.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }

    /// The tree as JSON, for schema validation. Mappings keep their key order; a
    /// non-finite float (`.inf`, `.nan`) has no JSON form and becomes `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The node an RFC 6901 JSON pointer designates (`""` is this node, `/links/0/ip`
    /// an entry below it). `~1` and `~0` in a segment stand for `/` and `~`.
    pub fn at_pointer(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for segment in pointer_segments(pointer)? {
            node = match &node.value {
                Value::Map(_) => node.get(&segment)?,
                Value::Seq(items) => items.get(array_index(&segment)?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The key of the mapping entry a JSON pointer designates (its last segment must
    /// name a key of a mapping), so errors about a key can point at the key itself.
    pub fn key_at_pointer(&self, pointer: &str) -> Option<&Key> {
        let cut = pointer.rfind('/')?;
        let parent = self.at_pointer(&pointer[..cut])?;
        let name = unescape_segment(&pointer[cut + 1..]);
        parent
            .as_map()?
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(k, _)| k)
    }

    /// The JSON pointer of the deepest node, or mapping key, whose span contains `span`
    /// (a key stands for its entry, so it has the pointer of its value). `None` when not
    /// even this node contains it, e.g. when the span is in another file. When aliases
    /// copied a node, the first copy in document order is the one found.
    pub fn pointer_of(&self, span: Span) -> Option<String> {
        if !contains(self.span, span) {
            return None;
        }
        let mut pointer = String::new();
        let mut node = self;
        'descend: loop {
            match &node.value {
                Value::Seq(items) => {
                    let found = first_holding(
                        items,
                        |item| item.span.start,
                        span.start,
                        |item| contains(item.span, span),
                    );
                    if let Some(i) = found {
                        pointer.push('/');
                        pointer.push_str(&i.to_string());
                        node = &items[i];
                        continue 'descend;
                    }
                }
                Value::Map(entries) => {
                    let found = first_holding(
                        entries,
                        |(key, _)| key.span.start,
                        span.start,
                        |(key, value)| contains(key.span, span) || contains(value.span, span),
                    );
                    if let Some(i) = found {
                        let (key, value) = &entries[i];
                        pointer.push('/');
                        pointer.push_str(&escape_segment(&key.name));
                        if contains(key.span, span) {
                            break 'descend;
                        }
                        node = value;
                        continue 'descend;
                    }
                }
                _ => {}
            }
            break;
        }
        Some(pointer)
    }
}

/// The index of the first child for which `holds` is true, where `holds` can only be
/// true of children starting at or before `at`. Children usually come in the order of
/// the text (`start` rising), so a binary search finds the one, and a diagnostic's
/// pointer costs a few steps per level however long the list (pointers for 10k
/// errors in one list took quadratic time). Anchors and merge keys can put a child
/// out of order: when the search finds nothing, every child is looked at.
fn first_holding<T>(
    children: &[T],
    start: impl Fn(&T) -> u32,
    at: u32,
    holds: impl Fn(&T) -> bool,
) -> Option<usize> {
    let after = children.partition_point(|c| start(c) <= at);
    if let Some(mut found) = after.checked_sub(1).filter(|&i| holds(&children[i])) {
        // Empty children at a boundary can hold as well as their neighbour: the first
        // wins, as in a scan.
        while found > 0 && holds(&children[found - 1]) {
            found -= 1;
        }
        return Some(found);
    }
    children.iter().position(holds)
}

/// Whether `outer` contains `inner` (same file, and `inner`'s range within `outer`'s;
/// an empty `inner` at either end counts as inside).
fn contains(outer: Span, inner: Span) -> bool {
    outer.file == inner.file && outer.start <= inner.start && inner.end <= outer.end
}

/// The unescaped segments of a JSON pointer; `None` if it is neither empty nor starts
/// with `/`.
fn pointer_segments(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(unescape_segment).collect())
}

/// `~1` is `/` and `~0` is `~`, replaced in that order as RFC 6901 requires (so
/// `~01` is the text `~1`).
fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// An array index segment: digits without a leading zero (RFC 6901).
fn array_index(segment: &str) -> Option<usize> {
    let canonical = segment == "0"
        || (!segment.starts_with('0') && segment.bytes().all(|b| b.is_ascii_digit()));
    if canonical {
        segment.parse().ok()
    } else {
        None
    }
}

impl Node {
    /// The node's type with an article, as messages use it ("found a mapping").
    pub fn type_phrase(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn sp(start: usize, end: usize) -> Span {
        Span::new(FileId(0), start, end)
    }

    fn leaf(value: Value, start: usize, end: usize) -> Node {
        Node {
            value,
            span: sp(start, end),
        }
    }

    fn key(name: &str, start: usize) -> Key {
        Key {
            name: name.into(),
            span: sp(start, start + name.len()),
        }
    }

    /// `{"a/b": [1, 2.5], "t~": {"x": "s"}, "n": null}`, with made-up but nested spans.
    fn tree() -> Node {
        let list = leaf(
            Value::Seq(vec![
                leaf(Value::Int(1), 6, 7),
                leaf(Value::Float(2.5), 9, 12),
            ]),
            5,
            13,
        );
        let inner = leaf(
            Value::Map(vec![(key("x", 20), leaf(Value::Str("s".into()), 23, 24))]),
            20,
            24,
        );
        leaf(
            Value::Map(vec![
                (key("a/b", 0), list),
                (key("t~", 15), inner),
                (key("n", 30), leaf(Value::Null, 32, 32)),
            ]),
            0,
            32,
        )
    }

    #[test]
    fn accessors() {
        let t = tree();
        assert_eq!(t.type_name(), "mapping");
        assert_eq!(t.get("a/b").map(Node::type_name), Some("sequence"));
        assert_eq!(
            t.get("t~").and_then(|n| n.get("x")).and_then(Node::as_str),
            Some("s")
        );
        assert_eq!(t.get("n").map(Node::type_name), Some("null"));
        assert!(t.get("zz").is_none());
        assert_eq!(t.as_map().map(<[_]>::len), Some(3));
        let mut t = t;
        t.get_mut("n").unwrap().value = Value::Bool(true);
        assert_eq!(t.get("n").map(Node::type_name), Some("boolean"));
    }

    #[test]
    fn to_json_keeps_order_and_maps_non_finite_to_null() {
        let json = tree().to_json();
        assert_eq!(
            json.to_string(),
            r#"{"a/b":[1,2.5],"t~":{"x":"s"},"n":null}"#
        );
        assert_eq!(
            leaf(Value::Float(f64::NAN), 0, 0).to_json(),
            serde_json::Value::Null
        );
    }

    #[test]
    fn json_pointers() {
        let t = tree();
        assert_eq!(t.at_pointer(""), Some(&t));
        assert_eq!(t.at_pointer("/a~1b/1").map(|n| n.span), Some(sp(9, 12)));
        assert_eq!(t.at_pointer("/t~0/x").and_then(Node::as_str), Some("s"));
        assert!(t.at_pointer("/a~1b/01").is_none());
        assert!(t.at_pointer("/a~1b/7").is_none());
        assert!(t.at_pointer("a~1b").is_none());
        assert_eq!(t.key_at_pointer("/t~0/x").map(|k| k.span), Some(sp(20, 21)));
        assert_eq!(
            t.key_at_pointer("/a~1b").map(|k| k.name.as_str()),
            Some("a/b")
        );
        assert!(t.key_at_pointer("/a~1b/0").is_none());
        assert!(t.key_at_pointer("").is_none());
    }

    #[test]
    fn pointer_of_finds_the_deepest_node() {
        let t = tree();
        assert_eq!(t.pointer_of(sp(10, 11)).as_deref(), Some("/a~1b/1"));
        assert_eq!(t.pointer_of(sp(23, 24)).as_deref(), Some("/t~0/x"));
        // A key stands for its entry.
        assert_eq!(t.pointer_of(sp(15, 16)).as_deref(), Some("/t~0"));
        assert_eq!(t.pointer_of(sp(32, 32)).as_deref(), Some("/n"));
        // Inside the root but no child: the root.
        assert_eq!(t.pointer_of(sp(13, 14)).as_deref(), Some(""));
        assert_eq!(t.pointer_of(sp(40, 41)), None);
        assert_eq!(t.pointer_of(Span::new(FileId(1), 1, 2)), None);
    }
}
