//! Explaining syntax errors.
//!
//! saphyr's messages describe the parser's state ("while parsing a block mapping, did
//! not find expected key") and its position is where it gave up, which is often a line
//! or more after the mistake. For the common mistakes the message is replaced by an
//! explanation pointing at the likely cause, found by looking at the source around
//! that position; anything not recognised keeps saphyr's message.
//!
//! The helpers below work on bytes and only ever stop at ASCII bytes (or at the end of
//! the text), so every offset they return is a character boundary.

use super::lines::{
    char_width, is_blank, line_end, line_start, skip_blanks, skip_blanks_back, trim_end,
};
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

const SYNTAX: &str = "conlink::yaml::syntax";

/// The innermost collection still open when the parse stopped: where it starts, and
/// whether it is a flow collection and whether a sequence. A misplaced line is judged
/// against it.
#[derive(Clone, Copy)]
pub(super) struct OpenCollection {
    pub start: usize,
    pub flow: bool,
    pub seq: bool,
}

/// The diagnostic for saphyr's error `info` at byte offset `at` of `text`.
pub(super) fn diagnose(
    file: FileId,
    text: &str,
    info: &str,
    at: usize,
    open: Option<OpenCollection>,
) -> Diagnostic {
    let explainer = Explainer { file, text, open };
    explainer.explain(info, at).unwrap_or_else(|| {
        // Unrecognised: saphyr's own message, underlining the character the scanner
        // stopped at (an empty span at a line break or the end of the file).
        let span = explainer.span(at, at + char_width(text, at));
        Diagnostic::error(SYNTAX, info).at(span, "here")
    })
}

/// Looks at the text around a syntax error for the mistake that caused it.
struct Explainer<'t> {
    file: FileId,
    text: &'t str,
    open: Option<OpenCollection>,
}

impl Explainer<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    /// A diagnostic explaining saphyr's error `info` at byte offset `at`, or `None` when
    /// the error is not one of the recognised mistakes.
    fn explain(&self, info: &str, at: usize) -> Option<Diagnostic> {
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
        let frame = self
            .open
            .filter(|f| !f.flow && f.seq == seq && line_start(b, f.start) != start);
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

/// Whether one of saphyr's messages is about a tab.
fn mentions_tab(info: &str) -> bool {
    info.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w == "tab" || w == "tabs")
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diag::Diagnostic;

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
}
