//! YAML parsing into [`crate::node::Node`] trees.
//!
//! [`parse`] drives saphyr-parser's event stream and builds the tree itself, so that it
//! controls everything conlink cares about: byte-offset spans on every node and key,
//! YAML 1.2 core-schema resolution of plain scalars (an unquoted `00:0a:0b:0c:0d:01`
//! stays a string, `yes` is not a boolean), anchors and aliases expanded with a cap
//! against alias bombs, `<<` merge keys, and duplicate keys reported as errors rather
//! than silently overwritten. Problems are returned as [`Diagnostic`]s; the parser never
//! panics, whatever the input.

use crate::diag::Diagnostic;
use crate::load::node::{Key, Node, Value};
use crate::source::{FileId, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};
use std::collections::{HashMap, HashSet};

/// Upper bound on the number of nodes in one document, counting every copy an alias
/// makes. A handful of nested aliases can otherwise describe an exponentially large
/// tree ("billion laughs"); real configuration files are many orders of magnitude
/// smaller than this.
const MAX_NODES: usize = 1_000_000;

/// Upper bound on collection nesting. Later stages (serde, the schema validator,
/// dropping the tree) recurse per level, so an absurdly deep document must be refused
/// here instead of overflowing the stack there.
const MAX_DEPTH: usize = 256;

/// Prefix of the tags of the YAML core schema (`!!str` is `tag:yaml.org,2002:str`).
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

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
enum Step {
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

/// A mapping being built. Entries are kept in document order; merge-key entries are
/// only resolved at the end, because explicit keys win over merged ones even when
/// they are written after the `<<`.
#[derive(Default)]
struct MapBuilder {
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

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    offsets: Offsets,
    stack: Vec<Frame>,
    /// Finished anchored nodes by saphyr's anchor id, with their node counts.
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    documents: usize,
    /// Nodes created so far, alias copies included (see [`MAX_NODES`]).
    nodes: usize,
    /// Byte offset where the previous event ended; block scalar headers are searched
    /// for from here.
    prev_end: usize,
    diags: Vec<Diagnostic>,
}

impl<'t> Builder<'t> {
    fn new(file: FileId, text: &'t str) -> Builder<'t> {
        Builder {
            file,
            text,
            offsets: Offsets::new(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
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

    fn finish(self) -> Result<Node, Vec<Diagnostic>> {
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

    fn syntax_error(&mut self, error: &ScanError) {
        let at = self.offsets.byte(error.marker().index());
        let info = error.info();
        let diag = self.explain_syntax_error(info, at).unwrap_or_else(|| {
            // Unrecognised: saphyr's own message, underlining the character the scanner
            // stopped at (an empty span at a line break or the end of the file).
            let span = self.span(at, at + char_width(self.text, at));
            Diagnostic::error(SYNTAX, info).at(span, "here")
        });
        self.diags.push(diag);
    }

    fn event(&mut self, event: Event<'_>, span: saphyr_parser::Span) -> Step {
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
        let merge_key = text == "<<"
            && style == ScalarStyle::Plain
            && tag.is_none_or(|t| tag_name(t) == "tag:yaml.org,2002:merge");
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

    fn alias(&mut self, id: usize, start: usize, end: usize) -> Step {
        let Some((node, count)) = self.anchors.get(&id) else {
            // saphyr rejects unknown anchors itself; an anchor it knows but we have not
            // finished is one whose alias sits inside the anchored node.
            return self.stop(
                Diagnostic::error(
                    "conlink::yaml::alias",
                    "an alias cannot refer to a node that contains it",
                )
                .at(self.span(start, end), "recursive alias"),
            );
        };
        let count = *count;
        self.nodes = self.nodes.saturating_add(count);
        if self.nodes > MAX_NODES {
            return self.stop(
                Diagnostic::error(
                    "conlink::yaml::too_large",
                    format!("aliases expand this document to more than {MAX_NODES} nodes"),
                )
                .at(
                    self.span(start, end),
                    "expanding this alias exceeds the limit",
                ),
            );
        }
        let node = node.clone();
        self.complete(Done {
            node,
            anchor: 0,
            count,
            extent_end: end,
            merge_key: false,
        })
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
        if let Some(tag) = tag {
            let name = tag_name(tag);
            let expected = if map { "map" } else { "seq" };
            let wrong = name.strip_prefix(CORE_TAG_PREFIX).is_some_and(|t| {
                t != expected
                    && matches!(t, "map" | "seq" | "str" | "int" | "float" | "bool" | "null")
            });
            if wrong {
                let span = self.span(start, end);
                let kind = if map { "a mapping" } else { "a sequence" };
                self.diags.push(
                    Diagnostic::error(
                        "conlink::yaml::tag",
                        format!("{kind} cannot have the tag {}", short_tag(tag)),
                    )
                    .at(span, "here"),
                );
            }
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
            self.anchors
                .insert(done.anchor, (done.node.clone(), done.count));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(done.node);
            return Step::Continue;
        };
        frame.last_end = frame.last_end.max(done.extent_end);
        let map = match &mut frame.kind {
            FrameKind::Seq(items) => {
                items.push(done.node);
                return Step::Continue;
            }
            FrameKind::Map(map) => map,
        };
        match map.pending.take() {
            None if done.merge_key => map.pending = Some(PendingKey::Merge(done.node.span)),
            None => {
                let name = match done.node.value {
                    Value::Str(s) => s,
                    // Keys are strings in conlink's language: a number, boolean, null or
                    // collection used as a key is taken as written.
                    _ => slice(self.text, done.node.span).to_string(),
                };
                map.pending = Some(PendingKey::Key(Key {
                    name,
                    span: done.node.span,
                }));
            }
            Some(PendingKey::Key(key)) => {
                if let Some(&first) = map.first_seen.get(&key.name) {
                    self.diags.push(
                        Diagnostic::error(
                            "conlink::yaml::duplicate_key",
                            format!("duplicate key `{}`", key.name),
                        )
                        .at(key.span, "duplicate key")
                        .also(first, "first defined here"),
                    );
                } else {
                    map.first_seen.insert(key.name.clone(), key.span);
                    map.entries.push(Entry::Pair(key, done.node));
                }
            }
            Some(PendingKey::Merge(key_span)) => match merged_entries(done.node) {
                Ok(entries) => map.entries.push(Entry::Merge(entries)),
                Err(bad) => self.diags.push(
                    Diagnostic::error(
                        "conlink::yaml::merge",
                        format!(
                            "a merge key `<<` needs a mapping or a list of mappings, found {}",
                            bad.type_name()
                        ),
                    )
                    .at(bad.span, "not a mapping")
                    .also(key_span, "merged here"),
                ),
            },
        }
        Step::Continue
    }
}

impl MapBuilder {
    /// The mapping's entries: explicit keys where written, and at the place of each `<<`
    /// the merged keys not written explicitly and not brought in by an earlier merge.
    fn finish(self) -> Vec<(Key, Node)> {
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

// ---------------------------------------------------------------------------------
// Syntax errors. saphyr's messages describe the parser's state ("while parsing a block
// mapping, did not find expected key") and its position is where it gave up, which is
// often a line or more after the mistake. For the common mistakes the message is
// replaced by an explanation pointing at the likely cause, found by looking at the
// source around that position; anything not recognised keeps saphyr's message.
//
// The helpers below work on bytes and only ever stop at ASCII bytes (or at the end of
// the text), so every offset they return is a character boundary.

const SYNTAX: &str = "conlink::yaml::syntax";

impl Builder<'_> {
    /// A diagnostic explaining saphyr's error `info` at byte offset `at`, or `None` when
    /// the error is not one of the recognised mistakes.
    fn explain_syntax_error(&self, info: &str, at: usize) -> Option<Diagnostic> {
        let at = at.min(self.text.len());
        let b = self.text.as_bytes();
        // saphyr rejects some tabs after `-` and `:` with a message about whitespace.
        let after_tab = b.get(at) == Some(&b'\t') || (at > 0 && b[at - 1] == b'\t');
        if mentions_tab(info)
            || (info.ends_with("must be followed by a valid YAML whitespace") && after_tab)
        {
            return self.tab(info, at);
        }
        match info {
            "invalid indentation in quoted scalar"
            | "while scanning a quoted scalar, found unexpected end of stream"
            | "while scanning a quoted scalar, found unexpected document indicator" => {
                self.unclosed_quote(info, at)
            }
            "while parsing a block collection, did not find expected '-' indicator" => {
                self.misplaced_line(info, at, true)
            }
            "while parsing a block mapping, did not find expected key" => {
                self.misplaced_line(info, at, false)
            }
            "while parsing node, found unknown anchor" => self.unknown_alias(at),
            "mapping values are not allowed in this context" => self.unexpected_colon(info, at),
            "simple key expect ':'" => self.missing_colon(info, at),
            "illegal placement of ':' indicator"
            | "while parsing a flow sequence, expected ',' or ']'"
            | "while parsing a flow mapping, did not find expected ',' or '}'" => {
                self.unclosed_bracket(info, at)
            }
            "misplaced bracket" => self.unmatched_bracket(at),
            "invalid trailing content after double-quoted scalar" => self.after_quote(at),
            "block sequence entries are not allowed in this context" => self.list_after_key(at),
            "while scanning an anchor or alias, did not find expected alphabetic or numeric character" => {
                self.nameless_anchor(at)
            }
            "comment intercepting the multiline text" => self.comment_in_value(at),
            _ if info.starts_with("unexpected character: ") => self.reserved_char(at),
            _ => None,
        }
    }

    /// 1-based column (in characters) of a byte offset, as shown in diagnostics.
    fn column(&self, at: usize) -> usize {
        let start = line_start(self.text.as_bytes(), at);
        self.text
            .get(start..at)
            .map_or(at.saturating_sub(start), |s| s.chars().count())
            + 1
    }

    /// The span of the content of the line starting at `start`: from its first
    /// non-blank character to its last one.
    fn content_span(&self, start: usize) -> Span {
        let b = self.text.as_bytes();
        let first = skip_blanks(b, start);
        self.span(first, trim_end(b, first, line_end(b, start)))
    }

    /// Tabs: saphyr reports them at the start of the scalar or line it was reading, so
    /// look for the tab itself near that position.
    fn tab(&self, info: &str, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let tab = find_tab(b, at)?;
        let before = &b[line_start(b, tab)..tab];
        let indentation = before
            .iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'-' | b'?'));
        let diag = if indentation {
            Diagnostic::error(SYNTAX, "tab character used for indentation")
                .help("YAML indentation must use spaces")
        } else {
            Diagnostic::error(SYNTAX, "tab character where YAML does not allow one")
                .help(format!("replace the tab with spaces (YAML parser: {info})"))
        };
        Some(diag.at(self.span(tab, tab + 1), "replace this tab with spaces"))
    }

    /// A quoted scalar running into a less indented line or the end of the file: almost
    /// always a missing closing quote.
    fn unclosed_quote(&self, info: &str, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let quote = *b.get(at)?;
        if !matches!(quote, b'"' | b'\'') || closing_quote(b, at, true).is_some() {
            return None;
        }
        let mut help = format!("close the string with a matching `{}`", quote as char);
        if info == "invalid indentation in quoted scalar" {
            help.push_str(", or indent its continuation lines further");
        }
        Some(
            Diagnostic::error(SYNTAX, "quoted string is never closed")
                .at(self.span(at, at + 1), "this quote is never closed")
                .help(help),
        )
    }

    /// A line that does not continue the block collection above it (`seq` for a list
    /// expecting `- `, otherwise a mapping expecting a key): usually an indentation
    /// mistake, or a list and a mapping mixed at one level.
    fn misplaced_line(&self, info: &str, at: usize, seq: bool) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let start = line_start(b, at);
        let first = skip_blanks(b, start);
        if first >= trim_end(b, first, line_end(b, start)) {
            return None;
        }
        let line = self.content_span(start);
        let col = self.column(first);
        let frame = self.stack.last().filter(|f| {
            !f.flow && matches!(f.kind, FrameKind::Seq(_)) == seq && line_start(b, f.start) != start
        });
        let prev = prev_content_line(b, start);
        let prev_col = prev.map(|p| self.column(skip_blanks(b, p)));
        let differs = match frame {
            Some(f) => self.column(f.start) != col,
            None => prev_col.is_some_and(|c| c != col),
        };
        if differs {
            // A line more indented than the mapping's keys, after a key with a value.
            if let (false, Some(p), Some(pc)) = (seq, prev, prev_col) {
                if col > pc {
                    if let Some(diag) = self.under_value(line, p, info) {
                        return Some(diag);
                    }
                }
            }
            let mut diag = Diagnostic::error(
                SYNTAX,
                "this line is indented differently from the entries above it",
            )
            .at(line, format!("this line starts at column {col}"))
            .help("entries of one list or mapping must start at the same column");
            if let (Some(p), Some(pc)) = (prev, prev_col) {
                if pc != col {
                    diag = diag.also(
                        self.content_span(p),
                        format!("the line above starts at column {pc}"),
                    );
                }
            }
            return Some(diag);
        }
        let f = frame?;
        let first_entry = self.span(f.start, f.start + char_width(self.text, f.start));
        if seq {
            Some(
                Diagnostic::error(SYNTAX, "expected a `- ` list entry at this indentation")
                    .at(line, "not a list entry")
                    .also(first_entry, "the list at this indentation starts here")
                    .help(
                        "a list and a mapping cannot share an indentation level: start this line \
                         with `- `, or indent it under the entry above",
                    ),
            )
        } else if is_list_entry(b, first) {
            Some(
                Diagnostic::error(
                    SYNTAX,
                    "expected a `key: value` entry at this indentation, found a list entry",
                )
                .at(line, "list entry")
                .also(first_entry, "the mapping at this indentation starts here")
                .help(
                    "a list and a mapping cannot share an indentation level; to give the key \
                     above a list as its value, leave its value empty and indent the list",
                ),
            )
        } else {
            None
        }
    }

    /// `*name` with no `&name` before it.
    fn unknown_alias(&self, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        if b.get(at) != Some(&b'*') {
            return None;
        }
        let end = token_end(b, at + 1);
        let name = self.text.get(at + 1..end).filter(|n| !n.is_empty())?;
        let diag = Diagnostic::error(SYNTAX, format!("unknown alias `*{name}`")).at(
            self.span(at, end),
            format!("no anchor `&{name}` is defined before this"),
        );
        Some(match find_anchor(self.text, name, end) {
            Some(def) => diag
                .also(
                    self.span(def, def + 1 + name.len()),
                    "defined only here, after its use",
                )
                .help(format!(
                    "an alias can only refer to an anchor defined before it: move the node \
                     with `&{name}` above this alias"
                )),
            None => diag.help(format!(
                "define it first with `&{name}` on the node you want to reuse"
            )),
        })
    }

    /// A `: ` where no key may start: inside a value (`a: b: c`), after a line whose
    /// colon lacks its space (`a:b`) or whose colon is missing, or on a line indented
    /// under a key that already has a value.
    fn unexpected_colon(&self, info: &str, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        if b.get(at) != Some(&b':') {
            return None;
        }
        let start = line_start(b, at);
        if mapping_colon(&b[start..at]).is_some() {
            return Some(
                Diagnostic::error(SYNTAX, "`: ` inside an unquoted value")
                    .at(
                        self.span(at, at + 1),
                        "this `:` would start another key on the same line",
                    )
                    .help("put the value in quotes if the colon is part of it: `key: \"a: b\"`"),
            );
        }
        let prev = prev_content_line(b, start)?;
        if let Some(diag) = self.missing_space(prev) {
            return Some(diag);
        }
        let first = skip_blanks(b, start);
        if self.column(first) > self.column(skip_blanks(b, prev)) {
            return self.under_value(self.span(first, trim_end(b, first, at)), prev, info);
        }
        self.line_without_colon(prev, info)
    }

    /// `line` is indented under the line starting at `prev`, which cannot take nested
    /// entries when it already has a value.
    fn under_value(&self, line: Span, prev: usize, info: &str) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        if !has_value(&b[prev..line_end(b, prev)]) {
            return None;
        }
        Some(
            Diagnostic::error(
                SYNTAX,
                "this line is indented under a line that already has a value",
            )
            .at(line, "indented as if nested under the line above")
            .also(self.content_span(prev), "this already has a value")
            .help(format!(
                "to nest entries under a key, leave its value empty; otherwise align this line \
                 with the entries above (YAML parser: {info})"
            )),
        )
    }

    /// A key whose line ends without `:` (saphyr notices on the next line).
    fn missing_colon(&self, info: &str, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let prev = prev_content_line(b, line_start(b, at))?;
        self.missing_space(prev)
            .or_else(|| self.line_without_colon(prev, info))
    }

    /// `key:value` on the line starting at `line`.
    fn missing_space(&self, line: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let end = line_end(b, line);
        let colon = line + colon_without_space(&b[line..end])?;
        let word_start = skip_indicators(b, line);
        let word = self.text.get(word_start..token_end(b, colon))?;
        Some(
            Diagnostic::error(SYNTAX, "missing space after `:`")
                .at(self.span(colon, colon + 1), "add a space after this `:`")
                .help(format!(
                    "without the space, `{word}` is one string rather than a key and its value; \
                     write `key: value`"
                )),
        )
    }

    /// A line that looks like a key but has no `:` at all.
    fn line_without_colon(&self, line: usize, info: &str) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let first = skip_blanks(b, line);
        let content = &b[first..line_end(b, line)];
        if mapping_colon(content).is_some()
            || is_list_entry(b, first)
            || matches!(
                content.first(),
                None | Some(b'"' | b'\'' | b'[' | b'{' | b'|' | b'>' | b'#' | b'&' | b'*' | b'!')
            )
        {
            return None;
        }
        Some(
            Diagnostic::error(SYNTAX, "expected `key: value`, found a line without `:`")
                .at(self.content_span(line), "this line has no `:`")
                .help(format!(
                    "each entry of a mapping is written `key: value` (YAML parser: {info})"
                )),
        )
    }

    /// Flow collections: an unclosed `[`/`{`, one closed by the other bracket, or a
    /// missing `,` between two entries.
    fn unclosed_bracket(&self, info: &str, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let (open, close) = flow_brackets(b)
            .into_iter()
            .filter(|&(o, c)| o < at && c.is_none_or(|c| c >= at))
            .max_by_key(|&(o, _)| o)?;
        let (kind, closer) = if b[open] == b'[' {
            ("list", b']')
        } else {
            ("mapping", b'}')
        };
        let opener = b[open] as char;
        if let Some(&c) = b
            .get(at)
            .filter(|&&c| matches!(c, b']' | b'}') && c != closer)
        {
            return Some(
                Diagnostic::error(
                    SYNTAX,
                    format!("mismatched brackets: `{opener}` closed by `{}`", c as char),
                )
                .at(
                    self.span(at, at + 1),
                    format!("expected `{}` here", closer as char),
                )
                .also(self.span(open, open + 1), format!("the {kind} opened here"))
                .help("close a list with `]` and a mapping with `}`"),
            );
        }
        if close.is_some() {
            // saphyr stops at the entry after the missing comma.
            let prev = prev_code(b, at)?;
            if info.starts_with("illegal placement") || prev <= open || b[prev] == b',' {
                return None;
            }
            return Some(
                Diagnostic::error(
                    SYNTAX,
                    format!("missing `,` between the entries of a {kind}"),
                )
                .at(
                    self.span(at, at + char_width(self.text, at)),
                    "expected `,` before this entry",
                )
                .also(self.span(open, open + 1), format!("the {kind} opened here"))
                .help(format!(
                    "separate the entries of a {kind} with `,` (YAML parser: {info})"
                )),
            );
        }
        let mut diag = Diagnostic::error(SYNTAX, format!("`{opener}` is never closed"))
            .at(
                self.span(open, open + 1),
                format!("this `{opener}` is never closed"),
            )
            .help(format!(
                "close the {kind} with `{}`, and separate its entries with `,`",
                closer as char
            ));
        let width = char_width(self.text, at);
        if width > 0 {
            diag = diag.also(
                self.span(at, at + width),
                format!("still inside the {kind} here"),
            );
        }
        Some(diag)
    }

    /// A closing bracket with no opening one.
    fn unmatched_bracket(&self, at: usize) -> Option<Diagnostic> {
        let c = *self.text.as_bytes().get(at)?;
        let opener = match c {
            b']' => '[',
            b'}' => '{',
            _ => return None,
        };
        Some(
            Diagnostic::error(SYNTAX, format!("unmatched `{}`", c as char))
                .at(self.span(at, at + 1), format!("no `{opener}` opens this"))
                .help("remove it, or put the value in quotes if the bracket belongs to the text"),
        )
    }

    /// `"text" more`: something after a quoted scalar's closing quote.
    fn after_quote(&self, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let q = skip_blanks_back(b, 0, at);
        if q == 0 || !matches!(b[q - 1], b'"' | b'\'') || at >= b.len() {
            return None;
        }
        let end = trim_end(b, at, line_end(b, at));
        Some(
            Diagnostic::error(SYNTAX, "unexpected text after a quoted string")
                .at(self.span(at, end.max(at + 1)), "after the closing quote")
                .help("put the whole value inside the quotes"),
        )
    }

    /// `key: - item`: a block list on its key's line.
    fn list_after_key(&self, at: usize) -> Option<Diagnostic> {
        let b = self.text.as_bytes();
        let start = line_start(b, at);
        let before = &b[start..trim_end(b, start, at)];
        if b.get(at) != Some(&b'-') || before.last() != Some(&b':') {
            return None;
        }
        Some(
            Diagnostic::error(SYNTAX, "a list cannot start on the same line as its key")
                .at(self.span(at, at + 1), "list entry after `key:`")
                .help(
                    "put the `- ` entries on the following lines, indented under the key; \
                     put the value in quotes if the `-` belongs to the text",
                ),
        )
    }

    /// `&` or `*` with no name after it.
    fn nameless_anchor(&self, at: usize) -> Option<Diagnostic> {
        let message = match self.text.as_bytes().get(at)? {
            b'&' => "`&` must be followed by an anchor name",
            b'*' => "`*` must be followed by the name of an anchor",
            _ => return None,
        };
        Some(
            Diagnostic::error(SYNTAX, message)
                .at(self.span(at, at + 1), "name missing")
                .help(
                    "`&name` marks a node and `*name` reuses it; put the value in quotes if \
                     the character belongs to the text",
                ),
        )
    }

    /// `key: text # comment` followed by a line continuing the text.
    fn comment_in_value(&self, at: usize) -> Option<Diagnostic> {
        if self.text.as_bytes().get(at) != Some(&b'#') {
            return None;
        }
        Some(
            Diagnostic::error(SYNTAX, "comment in the middle of a multi-line value")
                .at(self.span(at, at + 1), "this comment interrupts the value")
                .help(
                    "the next line is indented as a continuation of this value, and a comment \
                     cannot sit between its lines: move the comment, or fix the next line's \
                     indentation",
                ),
        )
    }

    /// `@`, `` ` `` or `%` starting a plain scalar.
    fn reserved_char(&self, at: usize) -> Option<Diagnostic> {
        let c = *self.text.as_bytes().get(at)?;
        let shown = match c {
            b'`' => "`` ` ``".to_string(),
            b'@' | b'%' => format!("`{}`", c as char),
            _ => return None,
        };
        Some(
            Diagnostic::error(SYNTAX, format!("{shown} cannot start an unquoted value"))
                .at(self.span(at, at + 1), "reserved character")
                .help(format!(
                    "{shown} is reserved in YAML; put the text in quotes"
                )),
        )
    }
}

/// Byte length of the character at `at`, or 0 at a line break or the end of the text.
fn char_width(text: &str, at: usize) -> usize {
    match text.get(at..).and_then(|s| s.chars().next()) {
        Some(c) if c != '\n' && c != '\r' => c.len_utf8(),
        _ => 0,
    }
}

/// Whether one of saphyr's messages is about a tab.
fn mentions_tab(info: &str) -> bool {
    info.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w == "tab" || w == "tabs")
}

/// Start of the line holding byte offset `at`.
fn line_start(b: &[u8], at: usize) -> usize {
    let at = at.min(b.len());
    b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1)
}

/// End of the line holding byte offset `at` (its `\n`, or the end of the text).
fn line_end(b: &[u8], at: usize) -> usize {
    let at = at.min(b.len());
    b[at..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |i| at + i)
}

/// First offset from `i` that is not a space or tab.
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// `i` moved back over spaces and tabs, not before `floor`.
fn skip_blanks_back(b: &[u8], floor: usize, mut i: usize) -> usize {
    while i > floor && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    i
}

/// `end` moved back over blanks (`\r` included), not before `floor`.
fn trim_end(b: &[u8], floor: usize, mut end: usize) -> usize {
    end = end.min(b.len());
    while end > floor && is_blank(b[end - 1]) {
        end -= 1;
    }
    end
}

/// End of the word starting at `i`: the next blank or flow indicator.
fn token_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !is_blank(b[i]) && !matches!(b[i], b',' | b'[' | b']' | b'{' | b'}') {
        i += 1;
    }
    i
}

/// Whether a `- ` list entry indicator is at `i`.
fn is_list_entry(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b'-') && b.get(i + 1).is_none_or(|&c| is_blank(c))
}

/// Skips a line's indentation and its `- `/`? ` indicators.
fn skip_indicators(b: &[u8], mut i: usize) -> usize {
    loop {
        i = skip_blanks(b, i);
        if is_list_entry(b, i) || (b.get(i) == Some(&b'?') && b.get(i + 1) == Some(&b' ')) {
            i += 1;
        } else {
            return i;
        }
    }
}

/// Start of the nearest line before the one starting at `start` that holds something
/// other than blanks and comments.
fn prev_content_line(b: &[u8], start: usize) -> Option<usize> {
    let mut end = start.checked_sub(1)?;
    loop {
        let s = line_start(b, end);
        let first = skip_blanks(b, s);
        if first < trim_end(b, first, end) && b[first] != b'#' {
            return Some(s);
        }
        end = s.checked_sub(1)?;
    }
}

/// The tab saphyr complains about near byte offset `at`: at it, in the indentation of
/// its line or of a following line (saphyr reports a tab indenting the continuation of
/// a plain scalar at the scalar's start), in the blanks just before it, or failing that
/// the nearest tab on its line or after it.
fn find_tab(b: &[u8], at: usize) -> Option<usize> {
    let at = at.min(b.len());
    if b.get(at) == Some(&b'\t') {
        return Some(at);
    }
    let start = line_start(b, at);
    let end = line_end(b, at);
    let mut line = start;
    loop {
        let indent_end = skip_blanks(b, line);
        if let Some(p) = b[line..indent_end].iter().position(|&c| c == b'\t') {
            return Some(line + p);
        }
        let e = line_end(b, line);
        if e >= b.len() {
            break;
        }
        line = e + 1;
    }
    let blanks = skip_blanks_back(b, start, at);
    if let Some(p) = b[blanks..at].iter().rposition(|&c| c == b'\t') {
        return Some(blanks + p);
    }
    let tabs = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c == b'\t')
            .map(move |(i, _)| from + i)
    };
    tabs(start, end)
        .min_by_key(|&i| i.abs_diff(at))
        .or_else(|| tabs(end, b.len()).next())
}

/// The quote closing the quoted scalar opened at `open`: `\` escapes the next byte in
/// a `"…"` scalar and `''` stands for a quote in a `'…'` one. With `one_line`, the
/// search stops at the first unescaped line break.
fn closing_quote(b: &[u8], open: usize, one_line: bool) -> Option<usize> {
    let quote = b[open];
    let mut i = open + 1;
    while i < b.len() && !(one_line && b[i] == b'\n') {
        match b[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
            c if c == quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Offset in `line` of the first `:` that separates a key from its value (followed by
/// a blank or the end of the line), outside quotes and comments.
fn mapping_colon(line: &[u8]) -> Option<usize> {
    Unquoted::key_line(line)
        .take_while(|p| !p.comment)
        .find(|p| p.byte == b':' && line.get(p.at + 1).is_none_or(|&n| is_blank(n)))
        .map(|p| p.at)
}

/// Offset in `line` of a `:` glued to the value after it in the line's first word
/// (`key:value`), when the line has no proper `key: ` separator.
fn colon_without_space(line: &[u8]) -> Option<usize> {
    if mapping_colon(line).is_some() {
        return None;
    }
    let start = skip_indicators(line, 0);
    if !line
        .get(start)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return None;
    }
    let end = token_end(line, start);
    (start + 1..end.saturating_sub(1)).find(|&i| {
        line[i] == b':' && !matches!(line[i - 1], b':') && !matches!(line[i + 1], b':' | b'/')
    })
}

/// Whether a line holds a value after its key (`key: value`) or list indicator
/// (`- value`), so that nothing can be nested under it.
fn has_value(line: &[u8]) -> bool {
    let rest = match mapping_colon(line) {
        Some(c) => c + 1,
        None => {
            let first = skip_blanks(line, 0);
            if !is_list_entry(line, first) {
                return false;
            }
            first + 1
        }
    };
    let v = skip_blanks(line, rest);
    v < trim_end(line, v, line.len()) && line[v] != b'#'
}

/// Every flow collection's opening bracket with its closing bracket, if any. Quoted
/// scalars and comments are skipped; a bracket in a plain word (`a[1]`) outside any
/// flow collection is not one.
fn flow_brackets(b: &[u8]) -> Vec<(usize, Option<usize>)> {
    let mut pairs: Vec<(usize, Option<usize>)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for p in Unquoted::new(b) {
        match p.byte {
            b'[' | b'{' if p.token_start || !open.is_empty() => {
                open.push(pairs.len());
                pairs.push((p.at, None));
            }
            b']' | b'}' => {
                if let Some(o) = open.pop() {
                    pairs[o].1 = Some(p.at);
                }
            }
            _ => {}
        }
    }
    pairs
}

/// Offset of the last character before `at` that is neither blank nor in a comment.
fn prev_code(b: &[u8], at: usize) -> Option<usize> {
    let mut start = line_start(b, at);
    let mut end = at.min(b.len());
    loop {
        let line = &b[start..end];
        let code = comment_start(line).unwrap_or(line.len());
        let e = trim_end(b, start, start + code);
        if e > start {
            return Some(e - 1);
        }
        end = start.checked_sub(1)?;
        start = line_start(b, end);
    }
}

/// Offset in `line` of a `#` starting a comment, outside quotes.
fn comment_start(line: &[u8]) -> Option<usize> {
    Unquoted::new(line).find(|p| p.comment).map(|p| p.at)
}

/// A byte outside quoted scalars, as yielded by [`Unquoted`].
struct Plain {
    at: usize,
    byte: u8,
    /// The byte is at the start of the text, after a blank or after a byte that ends
    /// a token (a flow indicator), so a quote here would open a quoted scalar.
    token_start: bool,
    /// The byte is a `#` starting a comment (at the start of the text or after a
    /// blank); the rest of its line is skipped.
    comment: bool,
}

/// The bytes of a text outside quoted scalars and comments, in order. A quote opens a
/// scalar only where a token starts; the quotes and everything between them are
/// skipped (an unclosed quote runs to the end of the text), and so is a comment after
/// its `#`.
struct Unquoted<'a> {
    b: &'a [u8],
    i: usize,
    /// What counts as a blank before a token or a comment.
    blank: fn(u8) -> bool,
    /// The bytes besides blanks after which a token starts.
    token_after: &'static [u8],
}

impl<'a> Unquoted<'a> {
    /// Reads `b` as flow collections do: any blank (line breaks included) separates
    /// tokens, and so do `[`, `{`, `,` and `:` (`{a:"b"}`).
    fn new(b: &'a [u8]) -> Unquoted<'a> {
        Unquoted {
            b,
            i: 0,
            blank: is_blank,
            token_after: b"[{,:",
        }
    }

    /// Reads a block line as [`mapping_colon`] does: only spaces and tabs are blanks,
    /// and a quote glued to a `:` (`a:'b'`) is part of the word.
    fn key_line(line: &'a [u8]) -> Unquoted<'a> {
        Unquoted {
            b: line,
            i: 0,
            blank: |c| matches!(c, b' ' | b'\t'),
            token_after: b"[{,",
        }
    }
}

impl Iterator for Unquoted<'_> {
    type Item = Plain;

    fn next(&mut self) -> Option<Plain> {
        let b = self.b;
        while self.i < b.len() {
            let at = self.i;
            let byte = b[at];
            let after_blank = at == 0 || (self.blank)(b[at - 1]);
            let token_start = after_blank || self.token_after.contains(&b[at - 1]);
            if matches!(byte, b'"' | b'\'') && token_start {
                self.i = closing_quote(b, at, false).map_or(b.len(), |c| c + 1);
                continue;
            }
            let comment = byte == b'#' && after_blank;
            self.i = if comment { line_end(b, at) + 1 } else { at + 1 };
            return Some(Plain {
                at,
                byte,
                token_start,
                comment,
            });
        }
        None
    }
}

/// Offset of the first `&name` anchor at or after `from`.
fn find_anchor(text: &str, name: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let needle = format!("&{name}");
    text.get(from..)?
        .match_indices(&needle)
        .map(|(i, _)| from + i)
        .find(|&i| {
            let end = i + needle.len();
            (i == 0 || is_blank(b[i - 1]) || matches!(b[i - 1], b'[' | b'{' | b','))
                && token_end(b, end) == end
        })
}

// ---------------------------------------------------------------------------------
// Locating node text. saphyr's event spans include a node's anchor and tag and, for
// block scalars, start at the content rather than at the indicator; these helpers
// recover the text conlink wants to underline. All stop at `limit` and only look at
// ASCII bytes, so they are safe on any UTF-8 text.

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

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

// ---------------------------------------------------------------------------------
// Scalar resolution (YAML 1.2 core schema).

/// A tag as one string: `!!int` is `tag:yaml.org,2002:int`, the non-specific tag `!`
/// is `!`, a local tag `!foo` is `!foo`.
fn tag_name(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

/// A tag the way users write it, for messages.
fn short_tag(tag: &Tag) -> String {
    let name = tag_name(tag);
    match name.strip_prefix(CORE_TAG_PREFIX) {
        Some(core) => format!("!!{core}"),
        None => name,
    }
}

/// The value of a scalar: plain scalars are resolved by the core schema, every quoted
/// or block scalar is a string, and core-schema tags are obeyed. Other tags (such as
/// compose's `!reset`) are ignored, so a file using them still reads as untagged.
fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let untagged = || {
        if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::Str(text.to_string())
        }
    };
    let Some(tag) = tag else {
        return Ok(untagged());
    };
    let name = tag_name(tag);
    let invalid = || format!("`{text}` is not a valid {}", short_tag(tag));
    match name.strip_prefix(CORE_TAG_PREFIX) {
        Some("str") => Ok(Value::Str(text.to_string())),
        Some("null") => is_null(text).then_some(Value::Null).ok_or_else(invalid),
        Some("bool") => parse_bool(text).map(Value::Bool).ok_or_else(invalid),
        Some("int") => match parse_int(text) {
            ParsedInt::Fits(i) => Ok(Value::Int(i)),
            ParsedInt::Overflow => Err(format!("`{text}` does not fit in a 64-bit integer")),
            ParsedInt::NotInt => Err(invalid()),
        },
        Some("float") => match (parse_float(text), parse_int(text)) {
            (Some(f), _) => Ok(Value::Float(f)),
            (None, ParsedInt::Fits(i)) => Ok(Value::Float(i as f64)),
            _ => Err(invalid()),
        },
        Some("seq" | "map") => Err(format!("a scalar cannot have the tag {}", short_tag(tag))),
        // The non-specific tag `!` means "a string" for scalars.
        _ if name == "!" => Ok(Value::Str(text.to_string())),
        _ => Ok(untagged()),
    }
}

/// Resolves a plain (unquoted) scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    if is_null(text) {
        return Value::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    match parse_int(text) {
        ParsedInt::Fits(i) => return Value::Int(i),
        // Too large for conlink's integers: keep the text rather than lose precision.
        ParsedInt::Overflow => return Value::Str(text.to_string()),
        ParsedInt::NotInt => {}
    }
    match parse_float(text) {
        Some(f) => Value::Float(f),
        None => Value::Str(text.to_string()),
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// What a scalar's text is as an integer.
enum ParsedInt {
    NotInt,
    Fits(i64),
    /// Has the form of an integer but does not fit in an `i64`.
    Overflow,
}

/// Core-schema integers: `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`.
fn parse_int(text: &str) -> ParsedInt {
    let (digits, radix) = if let Some(oct) = text.strip_prefix("0o") {
        (oct, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        (text.strip_prefix(['-', '+']).unwrap_or(text), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return ParsedInt::NotInt;
    }
    // Decimal parsing includes the sign; the digits were checked above, so the only
    // possible failure is overflow.
    let parsed = if radix == 10 {
        text.parse::<i64>()
    } else {
        i64::from_str_radix(digits, radix)
    };
    parsed.map_or(ParsedInt::Overflow, ParsedInt::Fits)
}

/// Core-schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` and the
/// spellings of infinity and not-a-number.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let b = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: FileId = FileId(3);

    fn ok(text: &str) -> Node {
        match parse(F, text) {
            Ok(n) => n,
            Err(d) => panic!("unexpected errors for {text:?}: {d:#?}"),
        }
    }

    fn errs(text: &str) -> Vec<Diagnostic> {
        match parse(F, text) {
            Ok(n) => panic!("expected errors for {text:?}, got {n:#?}"),
            Err(d) => d,
        }
    }

    fn at(text: &str, span: Span) -> &str {
        assert_eq!(span.file, F);
        &text[span.start as usize..span.end as usize]
    }

    fn map(node: &Node) -> &[(Key, Node)] {
        match &node.value {
            Value::Map(m) => m,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    fn seq(node: &Node) -> &[Node] {
        match &node.value {
            Value::Seq(s) => s,
            other => panic!("not a sequence: {other:?}"),
        }
    }

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        map(node)
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
            .expect("key")
    }

    fn names(node: &Node) -> Vec<&str> {
        map(node).iter().map(|(k, _)| k.name.as_str()).collect()
    }

    /// The value of `key: <plain>` for each plain scalar.
    fn plain(s: &str) -> Value {
        get(&ok(&format!("k: {s}\n")), "k").value.clone()
    }

    #[test]
    fn core_schema_resolves_plain_scalars_only() {
        for s in ["~", "null", "Null", "NULL", ""] {
            assert_eq!(plain(s), Value::Null, "{s:?}");
        }
        for (s, b) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("FALSE", false),
        ] {
            assert_eq!(plain(s), Value::Bool(b), "{s:?}");
        }
        for (s, i) in [
            ("0", 0),
            ("-17", -17),
            ("+5", 5),
            ("007", 7),
            ("0o17", 15),
            ("0x1F", 31),
            ("0xff", 255),
        ] {
            assert_eq!(plain(s), Value::Int(i), "{s:?}");
        }
        for (s, f) in [
            ("1.5", 1.5),
            ("-.5", -0.5),
            ("1.", 1.0),
            ("1e3", 1000.0),
            ("+2.5E-1", 0.25),
        ] {
            assert_eq!(plain(s), Value::Float(f), "{s:?}");
        }
        assert_eq!(plain(".inf"), Value::Float(f64::INFINITY));
        assert_eq!(plain("-.Inf"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(plain(".NaN"), Value::Float(f) if f.is_nan()));
        // Everything else, including YAML 1.1 booleans and MAC addresses, is a string.
        for s in [
            "yes",
            "on",
            "off",
            "00:0a:0b:0c:0d:01",
            "0b101",
            "1_000",
            "0o8",
            "0x",
            ".",
            "1.2.3",
            "nul",
        ] {
            assert_eq!(plain(s), Value::Str(s.into()), "{s:?}");
        }
        // Integers beyond i64 stay strings rather than losing precision.
        assert_eq!(
            plain("99999999999999999999"),
            Value::Str("99999999999999999999".into())
        );
        // Quoted and block scalars are always strings.
        assert_eq!(plain("'true'"), Value::Str("true".into()));
        assert_eq!(plain("\"12\""), Value::Str("12".into()));
        assert_eq!(plain("|\n  12"), Value::Str("12\n".into()));
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(plain("!!str 12"), Value::Str("12".into()));
        assert_eq!(plain("!!str true"), Value::Str("true".into()));
        assert_eq!(plain("! 12"), Value::Str("12".into()));
        assert_eq!(plain("!!int \"12\""), Value::Int(12));
        assert_eq!(plain("!!float 2"), Value::Float(2.0));
        assert_eq!(plain("!!bool 'true'"), Value::Bool(true));
        assert_eq!(plain("!!null ''"), Value::Null);
        // Unknown tags (compose's `!reset`) are ignored.
        assert_eq!(plain("!reset 12"), Value::Int(12));
        let d = errs("k: !!int abc\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "conlink::yaml::tag");
        assert_eq!(d[0].message, "`abc` is not a valid !!int");
        assert_eq!(errs("k: !!map [1]\n")[0].code, "conlink::yaml::tag");
    }

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
    fn anchors_and_aliases_are_expanded() {
        let text = "base: &b {x: 1, y: [a, b]}\ncopy: *b\nname: &n hello\nagain: *n\n";
        let doc = ok(text);
        assert_eq!(get(&doc, "copy").value, get(&doc, "base").value);
        assert_eq!(get(&doc, "again").value, Value::Str("hello".into()));
        // Anchors may be redefined; an alias takes the latest definition.
        let doc = ok("a: &x 1\nb: &x 2\nc: *x\n");
        assert_eq!(get(&doc, "c").value, Value::Int(2));
    }

    #[test]
    fn alias_bombs_are_capped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let d = errs(&text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "conlink::yaml::too_large");
    }

    #[test]
    fn recursive_alias_is_an_error() {
        assert_eq!(errs("a: &a [1, *a]\n")[0].code, "conlink::yaml::alias");
    }

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

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(text: &str, offset: u32) -> (usize, usize) {
        let before = &text[..offset as usize];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    /// The single syntax error of `text`.
    fn syntax(text: &str) -> Diagnostic {
        let mut d = errs(text);
        assert_eq!(d.len(), 1, "{d:#?}");
        let d = d.remove(0);
        assert_eq!(d.code, "conlink::yaml::syntax");
        d
    }

    /// Checks a syntax error's message, and the text, label and 1-based line/column of
    /// its primary label.
    #[track_caller]
    fn check(
        text: &str,
        message: &str,
        label: &str,
        underlined: &str,
        place: (usize, usize),
    ) -> Diagnostic {
        let d = syntax(text);
        assert_eq!(d.message, message, "{text:?}: {d:#?}");
        let primary = d.primary.as_ref().expect("located");
        assert_eq!(primary.message, label, "{text:?}");
        assert_eq!(at(text, primary.span), underlined, "{text:?}");
        assert_eq!(line_col(text, primary.span.start), place, "{text:?}");
        d
    }

    #[test]
    fn tabs_are_pointed_at() {
        let tab = "tab character used for indentation";
        let label = "replace this tab with spaces";
        // Reported by saphyr at the plain scalar before the tab, on the line above.
        let d = check(
            "links:\n  - service: web\n\tbridge: s1\n",
            tab,
            label,
            "\t",
            (3, 1),
        );
        assert_eq!(d.help.as_deref(), Some("YAML indentation must use spaces"));
        // Reported by saphyr just after the tab.
        let text = "# A tab indents the list item.\nlinks:\n\t- service: web\n\t  bridge: s1\n";
        check(text, tab, label, "\t", (3, 1));
        check("ä:\n\t- b\n", tab, label, "\t", (2, 1));
        check("a:\n  b: 1\n  \tc: 1\n", tab, label, "\t", (3, 3));
        check("a: |\n\tfoo\n", tab, label, "\t", (2, 1));
        check("a: \"x\n\ty\"\n", tab, label, "\t", (2, 1));
        // A tab after a value is fine; the one indenting the next line is not.
        check("a: 1 \t\n\tb: 2\n", tab, label, "\t", (2, 1));
        check(":\t\u{e9}\n \n\t\\,", tab, label, "\t", (3, 1));
        check("? \tb: 1\n", tab, label, "\t", (1, 3));
        check("- a\n-\t- b\n", tab, label, "\t", (2, 2));
        // A tab that is not indentation.
        let d = check(
            "a:\t\tb\n",
            "tab character where YAML does not allow one",
            label,
            "\t",
            (1, 4),
        );
        assert!(d.help.unwrap().starts_with("replace the tab with spaces"));
    }

    #[test]
    fn unclosed_quotes() {
        let text = "links:\n  - service: web\n    bridge: \"s1\n    dev: eth1\n";
        let d = check(
            text,
            "quoted string is never closed",
            "this quote is never closed",
            "\"",
            (3, 13),
        );
        assert!(d
            .help
            .unwrap()
            .starts_with("close the string with a matching `\"`"));
        let d = check(
            "a: 'abc\n",
            "quoted string is never closed",
            "this quote is never closed",
            "'",
            (1, 4),
        );
        assert_eq!(
            d.help.as_deref(),
            Some("close the string with a matching `'`")
        );
        // An escaped quote does not close the string.
        check(
            "a:\n  b: \"x\\\"\nc: 1\n",
            "quoted string is never closed",
            "this quote is never closed",
            "\"",
            (2, 6),
        );
        check(
            "a: 'it''s\n",
            "quoted string is never closed",
            "this quote is never closed",
            "'",
            (1, 4),
        );
    }

    #[test]
    fn misindented_lines() {
        let text = "links:\n  - service: web\n    bridge: s1\n   dev: eth1\n";
        let d = check(
            text,
            "this line is indented differently from the entries above it",
            "this line starts at column 4",
            "dev: eth1",
            (4, 4),
        );
        assert_eq!(
            d.help.as_deref(),
            Some("entries of one list or mapping must start at the same column")
        );
        assert_eq!(line_col(text, d.secondary[0].span.start), (3, 5));
        check(
            "a:\n  b: 1\n c: 2\n",
            "this line is indented differently from the entries above it",
            "this line starts at column 2",
            "c: 2",
            (3, 2),
        );
        check(
            "- - - a\n - b\n",
            "this line is indented differently from the entries above it",
            "this line starts at column 2",
            "- b",
            (2, 2),
        );
        // A list and a mapping at the same indentation.
        check(
            "a:\n  - b\n  c: 1\n",
            "expected a `- ` list entry at this indentation",
            "not a list entry",
            "c: 1",
            (3, 3),
        );
        let d = check(
            "a: 1\n- b\n",
            "expected a `key: value` entry at this indentation, found a list entry",
            "list entry",
            "- b",
            (2, 1),
        );
        assert_eq!(d.secondary[0].span.start, 0);
    }

    #[test]
    fn lines_nested_under_a_value() {
        let message = "this line is indented under a line that already has a value";
        let label = "indented as if nested under the line above";
        let d = check("a: 1\n b: 2\n", message, label, "b", (2, 2));
        assert_eq!(d.secondary[0].message, "this already has a value");
        assert!(d.help.unwrap().contains("mapping values are not allowed"));
        check("- a\n  b: 1\n", message, label, "b", (2, 3));
        check("a: 'x'\n  b\n", message, label, "b", (2, 3));
    }

    #[test]
    fn unknown_aliases() {
        let d = check(
            "links:\n  - <<: *common\n    service: web\n",
            "unknown alias `*common`",
            "no anchor `&common` is defined before this",
            "*common",
            (2, 9),
        );
        assert_eq!(
            d.help.as_deref(),
            Some("define it first with `&common` on the node you want to reuse")
        );
        check(
            "a: [*x]\n",
            "unknown alias `*x`",
            "no anchor `&x` is defined before this",
            "*x",
            (1, 5),
        );
        // Defined, but only after its use.
        let text = "a: *base\nb: &base {x: 1}\n";
        let d = check(
            text,
            "unknown alias `*base`",
            "no anchor `&base` is defined before this",
            "*base",
            (1, 4),
        );
        assert_eq!(at(text, d.secondary[0].span), "&base");
        assert!(d.help.unwrap().contains("defined before it"));
    }

    #[test]
    fn stray_and_missing_colons() {
        check(
            "a: b: c\n",
            "`: ` inside an unquoted value",
            "this `:` would start another key on the same line",
            ":",
            (1, 5),
        );
        check(
            "url: http://x: y\n",
            "`: ` inside an unquoted value",
            "this `:` would start another key on the same line",
            ":",
            (1, 14),
        );
        let d = check(
            "a:b\nc: d\n",
            "missing space after `:`",
            "add a space after this `:`",
            ":",
            (1, 2),
        );
        assert!(d.help.unwrap().contains("`a:b`"));
        check(
            "a:\n  b:c\n  d: e\n",
            "missing space after `:`",
            "add a space after this `:`",
            ":",
            (2, 4),
        );
        // saphyr notices a missing space or colon on the line after it.
        check(
            "a: x\nb:1\nc: 2\n",
            "missing space after `:`",
            "add a space after this `:`",
            ":",
            (2, 2),
        );
        let d = check(
            "a: 1\nkey value\n\n# c\nb: 1\n",
            "expected `key: value`, found a line without `:`",
            "this line has no `:`",
            "key value",
            (2, 1),
        );
        assert!(d.help.unwrap().contains("simple key expect ':'"));
        check(
            "key value\nb: 1\n",
            "expected `key: value`, found a line without `:`",
            "this line has no `:`",
            "key value",
            (1, 1),
        );
    }

    #[test]
    fn flow_brackets_are_matched() {
        for (text, open, closer, place) in [
            ("a: [1, 2\n", "[", "]", (1, 4)),
            ("a: {x: 1\n", "{", "}", (1, 4)),
            ("a: [1, 2\nb: 3\n", "[", "]", (1, 4)),
            ("a: [1, 'x]', 2\n", "[", "]", (1, 4)),
            ("a: [1,\n  [2, 3],\n  4\nb: 1\n", "[", "]", (1, 4)),
            ("a: {b: [c\n", "[", "]", (1, 8)),
        ] {
            let d = check(
                text,
                &format!("`{open}` is never closed"),
                &format!("this `{open}` is never closed"),
                open,
                place,
            );
            assert!(d.help.unwrap().contains(&format!("`{closer}`")));
        }
        let text = "a: [b, c}\n";
        let d = check(
            text,
            "mismatched brackets: `[` closed by `}`",
            "expected `]` here",
            "}",
            (1, 9),
        );
        assert_eq!(at(text, d.secondary[0].span), "[");
        check(
            "a: [1, 2]]\n",
            "unmatched `]`",
            "no `[` opens this",
            "]",
            (1, 10),
        );
        check("a: }\n", "unmatched `}`", "no `{` opens this", "}", (1, 4));
        // JSON with a missing comma between two entries.
        let text = "{\"links\": [\n  {\"service\": \"web\", \"bridge\": \"s1\",}\n  {\"service\": \"db\"}\n]}\n";
        let d = check(
            text,
            "missing `,` between the entries of a list",
            "expected `,` before this entry",
            "{",
            (3, 3),
        );
        assert_eq!(line_col(text, d.secondary[0].span.start), (1, 11));
        check(
            "a: [x, 'y' # c, d\n  z]\n",
            "missing `,` between the entries of a list",
            "expected `,` before this entry",
            "z",
            (2, 3),
        );
        // A comma in a comment does not count.
        check(
            "a: {x: 1 # c,\n  y: 2}\n",
            "missing `,` between the entries of a mapping",
            "expected `,` before this entry",
            "y",
            (2, 3),
        );
    }

    #[test]
    fn other_syntax_errors_are_explained() {
        check(
            "a: \"x\" y z\n",
            "unexpected text after a quoted string",
            "after the closing quote",
            "y z",
            (1, 8),
        );
        check(
            "a: - b\n",
            "a list cannot start on the same line as its key",
            "list entry after `key:`",
            "-",
            (1, 4),
        );
        check(
            "a: &\n",
            "`&` must be followed by an anchor name",
            "name missing",
            "&",
            (1, 4),
        );
        check(
            "a: x #c\n  y\n",
            "comment in the middle of a multi-line value",
            "this comment interrupts the value",
            "#",
            (1, 6),
        );
        check(
            "a: @foo\n",
            "`@` cannot start an unquoted value",
            "reserved character",
            "@",
            (1, 4),
        );
        check(
            "a: `foo\n",
            "`` ` `` cannot start an unquoted value",
            "reserved character",
            "`",
            (1, 4),
        );
    }

    #[test]
    fn unrecognised_syntax_errors_keep_the_parser_message() {
        let text = "a: [,]\n";
        check(
            text,
            "while parsing a node, did not find expected node content",
            "here",
            ",",
            (1, 5),
        );
        // At the end of the file, the span is empty.
        let d = syntax("a: !<x\n");
        assert!(d.primary.unwrap().span.end as usize <= "a: !<x\n".len());
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
