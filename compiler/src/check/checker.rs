//! The checker's state while the rules run: where diagnostics go, and how a rule points
//! inside a string.

use super::checked::CheckedNode;
use super::strings::StringError;
use crate::diag::Diagnostic;
use crate::source::{SourceMap, Span, Spanned};
use indexmap::IndexMap;
use std::cell::Cell;

/// Collects diagnostics while the rules run.
pub struct Checker<'a> {
    pub sources: &'a SourceMap,
    pub diags: Vec<Diagnostic>,
    /// How many of `diags` [`Checker::errors`] has looked at, and the errors among
    /// them: it is asked once per link, and counting from the start each time made
    /// 100k invalid links take 30 s.
    counted: Cell<(usize, usize)>,
}

impl<'a> Checker<'a> {
    pub fn new(sources: &'a SourceMap) -> Checker<'a> {
        Checker {
            sources,
            diags: Vec::new(),
            counted: Cell::new((0, 0)),
        }
    }

    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// How many errors have been reported so far: a part whose checks add one is left
    /// out of the checked configuration.
    pub fn errors(&self) -> usize {
        let (seen, errors) = match self.counted.get() {
            (seen, errors) if seen <= self.diags.len() => (seen, errors),
            _ => (0, 0),
        };
        let errors = errors + self.diags[seen..].iter().filter(|d| d.is_error()).count();
        self.counted.set((self.diags.len(), errors));
        errors
    }

    /// Reports a parse error from one of the string languages, pointing inside the string
    /// when the string was written as-is in the file.
    pub fn string_error(
        &mut self,
        code: &'static str,
        what: &str,
        s: &Spanned<String>,
        e: StringError,
    ) {
        let d = Diagnostic::error(code, format!("invalid {what} `{}`: {}", s.value, e.message));
        self.report_in_string(d, s, e);
    }

    /// A warning about the bytes `w.start..w.end` of the string `s` (something conlink
    /// accepts, but probably not what was meant).
    pub fn string_warning(&mut self, code: &'static str, s: &Spanned<String>, w: StringError) {
        let d = Diagnostic::warning(code, format!("in `{}`: {}", s.value, w.message));
        self.report_in_string(d, s, w);
    }

    fn report_in_string(&mut self, d: Diagnostic, s: &Spanned<String>, e: StringError) {
        let span = inner_span(self.sources, s, e.start, e.end);
        let mut d = d.at(span, e.message);
        if let Some(h) = e.help {
            d = d.help(h);
        }
        self.report(d);
    }
}

/// Nodes by name.
pub type NodeIndex = IndexMap<String, CheckedNode>;

/// The span of bytes `start..end` of a string value, if the value appears verbatim in
/// the file (plain, or quoted without escapes, and not changed by interpolation);
/// otherwise the span of the whole value.
pub fn inner_span(sources: &SourceMap, s: &Spanned<String>, start: usize, end: usize) -> Span {
    let whole = s.span;
    let written = sources.get(whole.file).slice(whole);
    let v = s.value.as_str();
    // Plain scalars span exactly the value; quoted ones add the quotes.
    let offset = if written == v {
        0
    } else if written.len() == v.len() + 2 && &written[1..written.len() - 1] == v {
        1
    } else {
        return whole;
    };
    whole.sub(offset + start, offset + end.max(start + 1).min(v.len()))
}
