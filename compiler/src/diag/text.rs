//! Diagnostics as rustc-style text, drawn by miette: the message, the lines of the
//! file around the value at fault with the value underlined, and the help.
//!
//! The cost of a diagnostic is the size of what it prints: miette reads the file
//! through an [`Excerpt`] (the file's line index) rather than scanning it from the
//! start, and a label on a line longer than [`LONG_LINE`] bytes is not drawn (the
//! line would be printed whole, and underlined byte by byte) but named as a place,
//! `at FILE:LINE:COLUMN`. [`render_text_first`] renders only the first diagnostics,
//! for callers that say how many more there are.

use super::excerpt::Excerpt;
use super::{Diagnostic, Diagnostics, Label, Severity};
use crate::source::SourceMap;
use std::fmt;

/// Lines longer than this many bytes are not drawn under a diagnostic.
pub const LONG_LINE: usize = 500;

/// Adapter that lets miette render one of our diagnostics against its source file.
struct MietteView<'a> {
    diag: &'a Diagnostic,
    source: Option<Excerpt<'a>>,
    /// The labels drawn on the source (those in its file, on lines short enough).
    drawn: Vec<(&'a Label, bool)>,
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for MietteView<'_> {}

fn miette_label(l: &Label, primary: bool) -> miette::LabeledSpan {
    let span = (l.span.start as usize, l.span.len());
    if primary {
        // The report's header (file:line:column) then names the primary label, not
        // whichever label comes first in the file.
        miette::LabeledSpan::new_primary_with_span(Some(l.message.clone()), span)
    } else {
        miette::LabeledSpan::new_with_span(Some(l.message.clone()), span)
    }
}

impl miette::Diagnostic for MietteView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let labels = self
            .drawn
            .iter()
            .map(|(label, primary)| miette_label(label, *primary));
        Some(Box::new(labels))
    }
}

/// Renders diagnostics as rustc-style text. `color` selects ANSI colours; tests use
/// `false` and a fixed width so snapshots are stable.
pub fn render_text(diags: &Diagnostics, sources: &SourceMap, color: bool, width: usize) -> String {
    render_text_first(diags, sources, color, width, usize::MAX)
}

/// Renders the first `limit` diagnostics as [`render_text`] does.
pub fn render_text_first(
    diags: &Diagnostics,
    sources: &SourceMap,
    color: bool,
    width: usize,
    limit: usize,
) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .without_syntax_highlighting()
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    for d in diags.iter().take(limit) {
        let view = view(d, sources);
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &view);
        // Labels not drawn are listed as places: those in another file (miette draws
        // one source per report) and those on lines too long to draw.
        if let Some(primary) = &d.primary {
            let all = std::iter::once((primary, true));
            for (label, is_primary) in all.chain(d.secondary.iter().map(|l| (l, false))) {
                if view.drawn.iter().any(|(l, _)| std::ptr::eq(*l, label)) {
                    continue;
                }
                let f = sources.get(label.span.file);
                let (line, col) = f.line_col(label.span.start);
                let place = format!("{}:{line}:{col}", f.name);
                let text = &label.message;
                out.push_str(&if is_primary {
                    format!("  at {place}: {text} (the line is too long to show)\n")
                } else if label.span.file != primary.span.file {
                    format!("  note: {text} ({place})\n")
                } else {
                    format!("  note: {text} ({place}; the line is too long to show)\n")
                });
            }
        }
        out.push('\n');
    }
    out
}

/// What miette is given of one diagnostic: its primary label's file, and the labels
/// it can draw there.
fn view<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> MietteView<'a> {
    let Some(primary) = &d.primary else {
        return MietteView {
            diag: d,
            source: None,
            drawn: Vec::new(),
        };
    };
    let excerpt = Excerpt {
        file: sources.get(primary.span.file),
    };
    let short =
        |l: &Label| excerpt.longest_line(l.span.start as usize, l.span.end as usize) <= LONG_LINE;
    if !short(primary) {
        return MietteView {
            diag: d,
            source: None,
            drawn: Vec::new(),
        };
    }
    let mut drawn = vec![(primary, true)];
    drawn.extend(
        d.secondary
            .iter()
            .filter(|l| l.span.file == primary.span.file && short(l))
            .map(|l| (l, false)),
    );
    MietteView {
        diag: d,
        source: Some(excerpt),
        drawn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile, SourceKind, Span};

    fn one_file(text: &str) -> SourceMap {
        let mut sources = SourceMap::new();
        sources.add(SourceFile::new("f.yaml", text, SourceKind::Network));
        sources
    }

    #[test]
    fn a_label_on_a_huge_line_is_named_not_drawn() {
        let name = "x".repeat(1_000_000);
        let text = format!("links:\n  - {{node: h1, dev: {name}}}\n");
        let sources = one_file(&text);
        let start = text.find('x').expect("the name");
        let d = Diagnostic::error("conlink::test", format!("invalid `dev`: `{name}`"))
            .at(Span::new(FileId(0), start, start + name.len()), "here");
        let out = render_text(&Diagnostics(vec![d]), &sources, false, 80);
        assert!(out.len() < 1000, "{} bytes:\n{}", out.len(), &out[..2000]);
        assert!(
            out.contains("at f.yaml:2:21: here (the line is too long to show)"),
            "{out}"
        );
    }

    #[test]
    fn only_the_first_diagnostics_are_rendered_when_asked() {
        let sources = one_file("a: 1\nb: 2\n");
        let d = |i: usize| {
            Diagnostic::error("conlink::test", format!("problem {i}"))
                .at(Span::new(FileId(0), 0, 1), "here")
        };
        let diags = Diagnostics((0..10).map(d).collect());
        let out = render_text_first(&diags, &sources, false, 80, 3);
        assert_eq!(out.matches("conlink::test").count(), 3, "{out}");
        assert!(out.contains("problem 2") && !out.contains("problem 3"));
    }

    #[test]
    fn labels_far_apart_get_snippets_of_their_own() {
        // miette's own reader joined these two into one snippet with every line
        // between them.
        let text: String = (1..=40).map(|i| format!("k{i}: {i}\n")).collect();
        let sources = one_file(&text);
        let at = |line: usize| text.match_indices('k').nth(line - 1).expect("a line").0;
        let d = Diagnostic::error("conlink::test", "twice")
            .at(Span::new(FileId(0), at(35), at(35) + 3), "again")
            .also(Span::new(FileId(0), at(20), at(20) + 3), "first");
        let out = render_text(&Diagnostics(vec![d]), &sources, false, 80);
        assert!(!out.contains("k27"), "{out}");
        assert!(out.contains("k20") && out.contains("k35"), "{out}");
    }
}
