//! Diagnostics as GitHub Actions workflow commands (`conlink validate --format
//! github`): one `::error` or `::warning` line per diagnostic, which GitHub shows as an
//! annotation on the file and line in the pull request, the way linters such as ruff
//! report there.
//!
//! A line is `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::MESSAGE`.
//! GitHub reads the properties up to the first `::` and splits them at `,`, so values
//! are escaped as its toolkit escapes them: `%`, `\r` and `\n` in the message (as `%25`,
//! `%0D`, `%0A`), and in properties also `:` and `,` (`%3A`, `%2C`). Columns are given
//! only when the problem starts and ends on one line, where GitHub uses them; the end
//! column is the one after the last character, as in the JSON form. A diagnostic with
//! no place in a file has only its title.

use super::{Diagnostics, Severity};
use crate::source::SourceMap;
use std::fmt::Write;

/// Renders diagnostics as workflow commands, one line each.
pub fn render_github(diags: &Diagnostics, sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(label) = &d.primary {
            let f = sources.get(label.span.file);
            let (line, col) = f.line_col(label.span.start);
            let (end_line, end_col) = f.line_col(label.span.end);
            properties.push(("file", f.name.clone()));
            properties.push(("line", line.to_string()));
            if line == end_line {
                properties.push(("col", col.to_string()));
            }
            properties.push(("endLine", end_line.to_string()));
            if line == end_line {
                properties.push(("endColumn", end_col.to_string()));
            }
        }
        properties.push(("title", d.code.to_string()));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let properties: Vec<String> = properties
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(v)))
            .collect();
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&message)
        );
    }
    out
}

/// The message of a workflow command: `%`, `\r` and `\n` escaped.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a workflow command: as [`escape_data`], and `:` and `,`, which
/// end properties.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;
    use crate::source::{SourceFile, SourceKind, Span};

    #[test]
    fn messages_escape_percent_and_line_breaks() {
        assert_eq!(escape_data("loss 5%"), "loss 5%25");
        assert_eq!(escape_data("a\r\nb"), "a%0D%0Ab");
        // `%` first, so an escape is never escaped again, nor a literal `%0A` taken
        // for a line break.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_data("a: b, c"), "a: b, c");
    }

    #[test]
    fn properties_also_escape_colons_and_commas() {
        assert_eq!(
            escape_property("conlink::check::route"),
            "conlink%3A%3Acheck%3A%3Aroute"
        );
        assert_eq!(escape_property("dir,1/a:b.yaml"), "dir%2C1/a%3Ab.yaml");
        assert_eq!(escape_property("50%\n"), "50%25%0A");
    }

    #[test]
    fn one_line_per_diagnostic_with_its_place() {
        let mut sources = SourceMap::default();
        let text = "links:\n  - {node: a, netem: loss 5%}\n";
        let file = sources.add(SourceFile::new(
            "net,1.yaml",
            text.to_string(),
            SourceKind::Network,
        ));
        let start = text.find("loss").unwrap() as u32;
        let span = Span {
            file,
            start,
            end: start + 4,
        };
        let mut diags = Diagnostics::default();
        let mut d = Diagnostic::warning("conlink::check::x", "twice: 5%\nreally").at(span, "here");
        d.help = Some("remove one".into());
        diags.push(d);
        diags.push(Diagnostic::error("conlink::scale::unknown", "no place"));
        let whole = Span {
            file,
            start: 0,
            end: text.len() as u32 - 1,
        };
        diags.push(Diagnostic::error("conlink::y", "two lines").at(whole, "all"));
        assert_eq!(
            render_github(&diags, &sources),
            "::warning file=net%2C1.yaml,line=2,col=22,endLine=2,endColumn=26,title=conlink%3A%3Acheck%3A%3Ax::twice: 5%25%0Areally%0Ahelp: remove one\n\
             ::error title=conlink%3A%3Ascale%3A%3Aunknown::no place\n\
             ::error file=net%2C1.yaml,line=1,endLine=2,title=conlink%3A%3Ay::two lines\n"
        );
    }
}
