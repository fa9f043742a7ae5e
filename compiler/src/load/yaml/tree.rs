//! Building the tree from saphyr-parser's events.
//!
//! The [`Builder`] receives the event stream and assembles [`Node`]s with byte-offset
//! spans on every node and key: saphyr reports character indices, and spans that
//! include anchors and tags or start past a block scalar's indicator, so the text
//! conlink wants to underline is recovered here. Collections are built on a stack,
//! nested no deeper than [`MAX_DEPTH`]; scalars are resolved by [`super::scalar`],
//! aliases expanded by [`super::anchors`], mappings assembled by [`super::mapping`],
//! and a syntax error is explained by [`super::syntax_error`].

use super::anchors::Anchors;
use super::lines::{is_blank, line_end, skip_blanks_back, trim_end};
use super::mapping::{is_merge_key, MapBuilder};
use super::scalar::{collection_tag_problem, scalar_value};
use super::syntax_error::{self, OpenCollection};
use crate::diag::Diagnostic;
use crate::load::node::{Node, Value};
use crate::source::{FileId, Span};
use saphyr_parser::{Event, ScalarStyle, ScanError, Tag};

/// Upper bound on collection nesting. Later stages (serde, the schema validator,
/// dropping the tree) recurse per level, so an absurdly deep document must be refused
/// here instead of overflowing the stack there.
pub(super) const MAX_DEPTH: usize = 256;

// ---------------------------------------------------------------------------------
// Offsets.

/// Converts saphyr's character indices into byte offsets.
///
/// For ASCII text the two are equal and no table is built; otherwise a table of the
/// byte offset of every character (plus one entry for the end) is built once, so each
/// conversion is O(1) and the whole parse stays O(n).
struct Offsets {
    table: Option<Vec<u32>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let table = (!text.is_ascii()).then(|| {
            let mut t: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
            t.push(text.len() as u32);
            t
        });
        Offsets {
            table,
            len: text.len(),
        }
    }

    /// Byte offset of a character index; indices past the end clamp to the end.
    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).map_or(self.len, |&b| b as usize),
        }
    }
}

// ---------------------------------------------------------------------------------
// The tree builder.

/// Whether to keep reading events.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Continue,
    Stop,
}

/// A collection being built: its children arrive as events until its end event.
struct Frame {
    /// saphyr's anchor id of the collection (0 when it has none).
    anchor: usize,
    /// Byte offset where the collection starts (`[`/`{`, first `-`, or first key).
    start: usize,
    /// Flow collections end at their closing bracket; block ones at their last child.
    flow: bool,
    /// Furthest byte offset reached by a child so far, for the end of block collections.
    last_end: usize,
    /// Value of [`Builder::nodes`] when the collection started, to count its nodes.
    nodes_before: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map(MapBuilder),
}

/// One node finished by an event, ready to be attached to its parent.
struct Done {
    node: Node,
    /// Anchor id to register the node under (0 for none).
    anchor: usize,
    /// How many nodes the value holds (itself included), for the alias cap.
    count: usize,
    /// Byte offset where the node's text ends *at this place* in the file. For an alias
    /// this is the end of `*name`, not of the anchored node the copy's span points to.
    extent_end: usize,
    /// A plain `<<` scalar: a merge key if it is in key position.
    merge_key: bool,
}

pub(super) struct Builder<'t> {
    file: FileId,
    text: &'t str,
    offsets: Offsets,
    stack: Vec<Frame>,
    /// Finished anchored nodes, for aliases.
    anchors: Anchors,
    root: Option<Node>,
    documents: usize,
    /// Nodes created so far, alias copies included (see [`Anchors::expand`]).
    nodes: usize,
    /// Byte offset where the previous event ended; block scalar headers are searched
    /// for from here.
    prev_end: usize,
    diags: Vec<Diagnostic>,
}

impl<'t> Builder<'t> {
    pub(super) fn new(file: FileId, text: &'t str) -> Builder<'t> {
        Builder {
            file,
            text,
            offsets: Offsets::new(text),
            stack: Vec::new(),
            anchors: Anchors::default(),
            root: None,
            documents: 0,
            nodes: 0,
            prev_end: 0,
            diags: Vec::new(),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    pub(super) fn finish(self) -> Result<Node, Vec<Diagnostic>> {
        if !self.diags.is_empty() {
            return Err(self.diags);
        }
        Ok(self.root.unwrap_or_else(|| Node {
            value: Value::Null,
            span: Span::new(self.file, 0, 0),
        }))
    }

    /// Records an error that ends the parse.
    fn stop(&mut self, diag: Diagnostic) -> Step {
        self.diags.push(diag);
        Step::Stop
    }

    /// Records the syntax error that ended the parse, explained where it can be.
    pub(super) fn syntax_error(&mut self, error: &ScanError) {
        let at = self.offsets.byte(error.marker().index());
        let open = self.stack.last().map(|f| OpenCollection {
            start: f.start,
            flow: f.flow,
            seq: matches!(f.kind, FrameKind::Seq(_)),
        });
        let diag = syntax_error::diagnose(self.file, self.text, error.info(), at, open);
        self.diags.push(diag);
    }

    pub(super) fn event(&mut self, event: Event<'_>, span: saphyr_parser::Span) -> Step {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index()).max(start);
        // saphyr gives an implicit document start the span of the document's first
        // token, which for a block scalar lies past its `|`/`>` header; only comments
        // and blanks can precede that header, so searching from 0 finds it.
        let next_from = if matches!(event, Event::DocumentStart(false)) {
            0
        } else {
            end
        };
        let step = match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => Step::Continue,
            Event::StreamEnd => Step::Stop,
            Event::DocumentStart(_) => self.document_start(start, end),
            Event::Scalar(value, style, anchor, tag) => {
                self.scalar(&value, style, anchor, tag.as_deref(), start, end)
            }
            Event::Alias(id) => self.alias(id, start, end),
            Event::SequenceStart(anchor, tag) => {
                self.collection_start(false, anchor, tag.as_deref(), start, end)
            }
            Event::MappingStart(anchor, tag) => {
                self.collection_start(true, anchor, tag.as_deref(), start, end)
            }
            Event::SequenceEnd | Event::MappingEnd => self.collection_end(start),
        };
        self.prev_end = next_from;
        step
    }

    fn document_start(&mut self, start: usize, end: usize) -> Step {
        self.documents += 1;
        if self.documents == 1 {
            return Step::Continue;
        }
        self.stop(
            Diagnostic::error(
                "conlink::yaml::multiple_documents",
                "a conlink configuration file must hold a single YAML document",
            )
            .at(self.span(start, end), "a second document starts here")
            .help("remove the `---` line, or split the documents into separate files"),
        )
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Step {
        let has_properties = anchor > 0 || tag.is_some();
        let span = self.scalar_span(text, style, has_properties, start, end);
        let value = match scalar_value(text, style, tag) {
            Ok(v) => v,
            Err(message) => {
                // Point at the tag and the value together: it is their combination
                // that is wrong.
                let at = self.span(start, span.end as usize);
                self.diags
                    .push(Diagnostic::error("conlink::yaml::tag", message).at(at, "here"));
                Value::Str(text.to_string())
            }
        };
        let merge_key = is_merge_key(text, style, tag);
        self.nodes += 1;
        let done = Done {
            node: Node { value, span },
            anchor,
            count: 1,
            extent_end: end,
            merge_key,
        };
        self.complete(done)
    }

    /// The span of a scalar as written: without its anchor and tag, with its quotes,
    /// and for block scalars from the `|`/`>` indicator to the last non-blank character
    /// (saphyr reports block scalars from their first content line, trailing blank
    /// lines included).
    fn scalar_span(
        &self,
        value: &str,
        style: ScalarStyle,
        has_properties: bool,
        start: usize,
        end: usize,
    ) -> Span {
        let bytes = self.text.as_bytes();
        match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let from = if has_properties {
                    start
                } else {
                    self.prev_end.min(start)
                };
                let header = find_block_header(bytes, from, end).unwrap_or(start);
                self.span(header, trim_end(bytes, header, end))
            }
            _ => {
                let s = if has_properties {
                    skip_properties(bytes, start, end)
                } else {
                    start
                };
                if value.is_empty() && style == ScalarStyle::Plain {
                    // An empty value has no text; an empty span where it would be.
                    self.span(s, s)
                } else {
                    self.span(s, end)
                }
            }
        }
    }

    /// An alias: a copy of the node its anchor marks.
    fn alias(&mut self, id: usize, start: usize, end: usize) -> Step {
        let at = self.span(start, end);
        match self.anchors.expand(id, &mut self.nodes, at) {
            Ok((node, count)) => self.complete(Done {
                node,
                anchor: 0,
                count,
                extent_end: end,
                merge_key: false,
            }),
            Err(diag) => self.stop(*diag),
        }
    }

    fn collection_start(
        &mut self,
        map: bool,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Step {
        if self.stack.len() >= MAX_DEPTH {
            return self.stop(
                Diagnostic::error(
                    "conlink::yaml::too_deep",
                    format!("collections are nested more than {MAX_DEPTH} levels deep"),
                )
                .at(self.span(start, end), "too deep"),
            );
        }
        if let Some(message) = tag.and_then(|t| collection_tag_problem(map, t)) {
            let span = self.span(start, end);
            self.diags
                .push(Diagnostic::error("conlink::yaml::tag", message).at(span, "here"));
        }
        let bytes = self.text.as_bytes();
        // Flow collections: saphyr's span ends just after the opening bracket (it starts
        // at the anchor or tag, if any).
        let flow = end > start && matches!(bytes[end - 1], b'[' | b'{');
        let begin = if flow {
            end - 1
        } else if map {
            // Block mappings (and single-pair mappings in flow sequences) start at their
            // first key, which is where saphyr's span ends.
            end
        } else {
            block_sequence_start(bytes, self.prev_end, end)
        };
        let kind = if map {
            FrameKind::Map(MapBuilder::default())
        } else {
            FrameKind::Seq(Vec::new())
        };
        self.stack.push(Frame {
            anchor,
            start: begin,
            flow,
            last_end: begin,
            nodes_before: self.nodes,
            kind,
        });
        Step::Continue
    }

    fn collection_end(&mut self, start: usize) -> Step {
        let Some(frame) = self.stack.pop() else {
            return Step::Continue;
        };
        let bytes = self.text.as_bytes();
        let end = if frame.flow && matches!(bytes.get(start), Some(b']' | b'}')) {
            start + 1
        } else {
            frame.last_end
        };
        let value = match frame.kind {
            FrameKind::Seq(items) => Value::Seq(items),
            FrameKind::Map(map) => Value::Map(map.finish()),
        };
        self.nodes += 1;
        let node = Node {
            value,
            span: self.span(frame.start, end),
        };
        let count = self.nodes - frame.nodes_before;
        self.complete(Done {
            node,
            anchor: frame.anchor,
            count,
            extent_end: end,
            merge_key: false,
        })
    }

    /// Registers a finished node's anchor and attaches it to its parent.
    fn complete(&mut self, done: Done) -> Step {
        if done.anchor > 0 {
            self.anchors.register(done.anchor, &done.node, done.count);
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(done.node);
            return Step::Continue;
        };
        frame.last_end = frame.last_end.max(done.extent_end);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(done.node),
            FrameKind::Map(map) => {
                if let Some(problem) = map.push(done.node, done.merge_key, self.text) {
                    self.diags.push(problem);
                }
            }
        }
        Step::Continue
    }
}

// ---------------------------------------------------------------------------------
// Locating node text. saphyr's event spans include a node's anchor and tag and, for
// block scalars, start at the content rather than at the indicator; these helpers
// recover the text conlink wants to underline. All stop at `limit` and only look at
// ASCII bytes, so they are safe on any UTF-8 text.

/// Skips a node's anchor (`&a`) and tag (`!t`), and the blanks and comments around
/// them, returning where the node's own text starts.
fn skip_properties(bytes: &[u8], mut i: usize, limit: usize) -> usize {
    while i < limit {
        match bytes[i] {
            b if is_blank(b) => i += 1,
            b'#' => i = line_end(bytes, i).min(limit),
            b'&' | b'!' => {
                while i < limit && !is_blank(bytes[i]) {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    i.min(limit)
}

/// Finds the `|` or `>` of a block scalar written between `from` and `limit`, skipping
/// what may come before it: blanks, comments, properties and the `:`, `-`, `?`
/// indicators. `None` when something else is found.
fn find_block_header(bytes: &[u8], from: usize, limit: usize) -> Option<usize> {
    let mut i = from;
    while i < limit {
        i = skip_properties(bytes, i, limit);
        match bytes.get(i) {
            Some(b'|' | b'>') if i < limit => return Some(i),
            Some(b':' | b'-' | b'?') if i < limit => i += 1,
            _ => return None,
        }
    }
    None
}

/// Where a block sequence starts: saphyr reports the position of its first entry,
/// which is the `-` itself for an indented sequence but just after `- ` for a sequence
/// at the same indentation as its parent key; in that case step back to the `-`.
fn block_sequence_start(bytes: &[u8], floor: usize, at: usize) -> usize {
    if bytes.get(at) == Some(&b'-') {
        return at;
    }
    let i = skip_blanks_back(bytes, floor, at);
    if i > floor && bytes[i - 1] == b'-' {
        i - 1
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::MAX_DEPTH;
    use crate::load::node::Value;
    use crate::source::Span;

    #[test]
    fn scalar_spans_are_the_text_as_written() {
        let text = "a: plain\nb: 'single'\nc: \"dou\\\"ble\"\nd: &x !!str tagged\ne: |\n  one\n  two\n\n\nf: >-  # c\n  folded\ng:\nh: *x\n";
        let doc = ok(text);
        assert_eq!(at(text, get(&doc, "a").span), "plain");
        assert_eq!(at(text, get(&doc, "b").span), "'single'");
        assert_eq!(at(text, get(&doc, "c").span), "\"dou\\\"ble\"");
        assert_eq!(at(text, get(&doc, "d").span), "tagged");
        assert_eq!(at(text, get(&doc, "e").span), "|\n  one\n  two");
        assert_eq!(get(&doc, "e").value, Value::Str("one\ntwo\n".into()));
        let root = "# c\n|\n  root\n";
        assert_eq!(at(root, ok(root).span), "|\n  root");
        assert_eq!(at(text, get(&doc, "f").span), ">-  # c\n  folded");
        let g = get(&doc, "g");
        assert_eq!(g.value, Value::Null);
        assert!(g.span.is_empty());
        assert_eq!(g.span.start as usize, text.find("g:").unwrap() + 1);
        // An alias copy keeps the span of the anchored node.
        assert_eq!(at(text, get(&doc, "h").span), "tagged");
        // Keys have their own spans.
        let keys: Vec<&str> = map(&doc).iter().map(|(k, _)| at(text, k.span)).collect();
        assert_eq!(keys, ["a", "b", "c", "d", "e", "f", "g", "h"]);
    }

    #[test]
    fn collection_spans() {
        let text = "top:\n  inner: 1\n  list:\n  - x\n  - y   # c\nflow: &f [1, {a: b}]  \nblock:\n  - - z\n";
        let doc = ok(text);
        assert_eq!(at(text, doc.span), text.trim_end());
        assert_eq!(
            at(text, get(&doc, "top").span),
            "inner: 1\n  list:\n  - x\n  - y"
        );
        assert_eq!(at(text, get(get(&doc, "top"), "list").span), "- x\n  - y");
        let flow = get(&doc, "flow");
        assert_eq!(at(text, flow.span), "[1, {a: b}]");
        assert_eq!(at(text, seq(flow)[1].span), "{a: b}");
        let block = get(&doc, "block");
        assert_eq!(at(text, block.span), "- - z");
        assert_eq!(at(text, seq(block)[0].span), "- z");
    }

    #[test]
    fn spans_are_byte_offsets_after_non_ascii_text() {
        let text = "# größe ✓\nnäme: \"wert ✓\"\nlist: [é, 'ü']\n\u{1F600}: 1\n";
        let doc = ok(text);
        let (key, value) = &map(&doc)[0];
        assert_eq!(at(text, key.span), "näme");
        assert_eq!(at(text, value.span), "\"wert ✓\"");
        assert_eq!(key.span.start as usize, text.find("näme").unwrap());
        let list = seq(get(&doc, "list"));
        assert_eq!(at(text, list[0].span), "é");
        assert_eq!(at(text, list[1].span), "'ü'");
        assert_eq!(at(text, map(&doc)[2].0.span), "\u{1F600}");
        // A byte order mark is a character too.
        let text = "\u{FEFF}a: ö\n";
        let doc = ok(text);
        assert_eq!(at(text, get(&doc, "a").span), "ö");
    }

    #[test]
    fn empty_documents_are_null() {
        for text in ["", "# just a comment\n", "\n\n"] {
            let n = ok(text);
            assert_eq!(n.value, Value::Null);
            assert_eq!(n.span, Span::new(F, 0, 0));
        }
        assert_eq!(ok("---\n").value, Value::Null);
        assert_eq!(names(&ok("--- \na: 1\n...\n")), ["a"]);
    }

    #[test]
    fn multiple_documents_are_an_error() {
        let text = "a: 1\n---\nb: 2\n";
        let d = errs(text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "conlink::yaml::multiple_documents");
        assert_eq!(at(text, d[0].primary.as_ref().unwrap().span), "---");
    }

    #[test]
    fn deep_nesting_is_refused() {
        // Nested block sequences: `- - - … x`, one level per dash.
        let nested = |levels: usize| format!("{}x\n", "- ".repeat(levels));
        assert_eq!(
            errs(&nested(MAX_DEPTH + 1))[0].code,
            "conlink::yaml::too_deep"
        );
        ok(&nested(MAX_DEPTH));
        // saphyr limits flow nesting itself.
        let flow = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(!errs(&flow).is_empty());
    }
}
