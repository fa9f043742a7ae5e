//! The part of a source file miette shows under a diagnostic, found through the file's
//! line index.
//!
//! miette's own `SourceCode` for strings scans the text from its first byte to the
//! label on every call, and the renderer calls it a few times per diagnostic: rendering
//! N diagnostics of one file cost O(N × file size), 30 s for 20k errors. An
//! [`Excerpt`] answers the same questions from `SourceFile`'s line starts (a binary
//! search), so each call costs the size of the lines it returns.
//!
//! It answers exactly as miette's scan does (the same lines of context, the same
//! line and byte column), with one difference: `line_count` is the number of lines
//! returned. miette's scan counts every line from the start of the file, which made
//! the renderer join two labels' snippets whenever the first was far enough down the
//! file, printing every line between them.

use crate::source::SourceFile;
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// One source file, as miette reads it.
#[derive(Debug)]
pub(super) struct Excerpt<'a> {
    pub file: &'a SourceFile,
}

impl Excerpt<'_> {
    /// The length in bytes of the longest line of `[start, end)` (the lines it touches).
    pub fn longest_line(&self, start: usize, end: usize) -> usize {
        let first = self.file.line_of(start);
        let last = self.file.line_of(end.max(start));
        (first..=last)
            .map(|line| self.line_end(line) - self.start_of(line))
            .max()
            .unwrap_or(0)
    }

    /// The offset of line `line`'s first byte (the end of the text past the last line).
    fn start_of(&self, line: usize) -> usize {
        self.file.line_start(line).unwrap_or(self.file.text.len())
    }

    /// The offset just past line `line`'s newline (or the end of the text).
    fn line_end(&self, line: usize) -> usize {
        self.start_of(line + 1)
    }
}

impl SourceCode for Excerpt<'_> {
    fn read_span<'s>(
        &'s self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'s> + 's>, MietteError> {
        let text = self.file.text.as_bytes();
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first_line = self.file.line_of(start);
        let name = self.file.name.clone();
        if context_lines_before == 0 && context_lines_after == 0 {
            // The span alone, with its line and (byte) column: what the report's header
            // names.
            let column = start - self.start_of(first_line);
            return Ok(Box::new(MietteSpanContents::new_named(
                name,
                &text[start..end],
                *span,
                first_line,
                column,
                1,
            )));
        }
        // The line the span ends on; a span ending with a newline ends on the next one
        // (as miette counts).
        let last_line = match end.checked_sub(1).filter(|_| end > start) {
            Some(last) => self.file.line_of(last) + usize::from(text[last] == b'\n'),
            None => first_line,
        };
        let from_line = first_line.saturating_sub(context_lines_before);
        let to_line = last_line + context_lines_after;
        let from = self.start_of(from_line);
        let to = self.line_end(to_line).min(text.len());
        let lines = (to_line.min(self.file.line_count() - 1) + 1).saturating_sub(from_line);
        Ok(Box::new(MietteSpanContents::new_named(
            name,
            &text[from..to],
            (from, to - from).into(),
            from_line,
            0,
            lines,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceKind;

    /// What miette's own reader answers, for comparison.
    fn miette_answer(
        text: &str,
        span: (usize, usize),
        around: usize,
    ) -> (String, usize, usize, (usize, usize)) {
        let c = text
            .read_span(&span.into(), around, around)
            .expect("in bounds");
        (
            String::from_utf8(c.data().to_vec()).expect("utf-8"),
            c.line(),
            c.column(),
            (c.span().offset(), c.span().len()),
        )
    }

    fn our_answer(
        text: &str,
        span: (usize, usize),
        around: usize,
    ) -> (String, usize, usize, (usize, usize)) {
        let file = SourceFile::new("f.yaml", text, SourceKind::Network);
        let e = Excerpt { file: &file };
        let c = e
            .read_span(&span.into(), around, around)
            .expect("in bounds");
        (
            String::from_utf8(c.data().to_vec()).expect("utf-8"),
            c.line(),
            c.column(),
            (c.span().offset(), c.span().len()),
        )
    }

    #[test]
    fn answers_as_miette_reads_a_whole_string() {
        let text = "a: 1\nbb: 22\nccc: 333\n\nd: é4\nlast";
        for start in 0..text.len() {
            if !text.is_char_boundary(start) {
                continue;
            }
            for end in start..=text.len() {
                if !text.is_char_boundary(end) {
                    continue;
                }
                for around in [0, 1, 2] {
                    let span = (start, end - start);
                    let (ours, theirs) = (
                        our_answer(text, span, around),
                        miette_answer(text, span, around),
                    );
                    if around == 0 {
                        // Without context only the place is read (the report's
                        // header); miette's bytes for an empty span vary.
                        assert_eq!((ours.1, ours.2), (theirs.1, theirs.2), "span {span:?}");
                    } else {
                        assert_eq!(ours, theirs, "span {span:?}, {around} lines around");
                    }
                }
            }
        }
    }

    #[test]
    fn counts_only_the_lines_it_returns() {
        let text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let file = SourceFile::new("f.yaml", text, SourceKind::Network);
        let e = Excerpt { file: &file };
        // Line 7 (index 6) with one line around it: lines 6 to 8.
        let c = e.read_span(&(12, 1).into(), 1, 1).expect("in bounds");
        assert_eq!((c.line(), c.line_count()), (5, 3));
    }

    #[test]
    fn measures_the_longest_line_of_a_span() {
        let text = "short\na much longer line\nx";
        let file = SourceFile::new("f.yaml", text, SourceKind::Network);
        let e = Excerpt { file: &file };
        assert_eq!(e.longest_line(0, 2), 6);
        assert_eq!(e.longest_line(0, 10), 19);
        assert_eq!(e.longest_line(26, 27), 1);
    }
}
