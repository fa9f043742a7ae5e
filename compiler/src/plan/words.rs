//! The words of a step's command line (docs/plan.md, "Text form"): quoting, and the
//! placeholders that stand for values only known at run time.
//!
//! Words that contain spaces or shell metacharacters are single-quoted so a line reads
//! unambiguously, though nothing is ever run through a shell. A word with a character
//! that would break the line or hide what follows (newlines and other control
//! characters, Unicode line separators, bidirectional overrides) is quoted as bash's
//! `$'…'` with that character escaped (`$'a\nb'`): one step is one line, and a value
//! from the configuration cannot make a reviewed plan show steps it does not have.
//! Text that is not a word (numbers, addresses, the renderings of routes, netem and
//! ethtool settings) has such characters escaped too ([`escape_hidden`]), though the
//! checks never let one through.

use super::ns::Ns;
use std::borrow::Cow;
use std::fmt::Display;
use std::rc::Rc;

/// Placeholder for conlink's external address, resolved at run time.
pub const EXTERNAL_ADDR: &str = "$CONLINK_EXTERNAL";

/// Placeholder for conlink's external interface, resolved at run time.
pub const EXTERNAL_IF: &str = "$CONLINK_EXTERNAL_IF";

/// Placeholder for a value the runtime records before changing it and puts back on undo.
pub const SAVED: &str = "$CONLINK_SAVED";

/// How namespaces are written in a command line: as shell text (already quoted), e.g.
/// the real pinned name of a namespace in a shell script. Without one, the symbol.
pub type NsNames = Rc<dyn Fn(&Ns) -> String>;

/// A command line under construction: words separated by single spaces, namespaces
/// written by the [`NsNames`] when there is one.
#[derive(Default)]
pub(crate) struct Cmd(pub(crate) String, pub(crate) Option<NsNames>);

impl Cmd {
    /// Appends text that needs no quoting (fixed syntax, numbers, addresses, placeholders).
    pub(crate) fn raw(&mut self, text: impl Display) -> &mut Cmd {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(&escape_hidden(&text.to_string()));
        self
    }

    /// Appends a word from the configuration, quoted if it needs to be: for a line
    /// of the plan by [`shell_quote`], for a line of a shell script (when namespaces
    /// have [`NsNames`]) by [`posix_quote`].
    pub(crate) fn word(&mut self, word: &str) -> &mut Cmd {
        if self.1.is_some() {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            self.0.push_str(&posix_quote(word));
            self
        } else {
            self.raw(shell_quote(word))
        }
    }

    /// Appends a namespace: its symbol, or what the [`NsNames`] makes of it.
    pub(crate) fn ns(&mut self, ns: &Ns) -> &mut Cmd {
        match self.1.clone() {
            Some(names) => self.raw(names(ns)),
            None => self.word(&ns.to_string()),
        }
    }

    /// Appends text to the last word, without a space.
    pub(crate) fn glue(&mut self, text: &str) -> &mut Cmd {
        self.0.push_str(&escape_hidden(text));
        self
    }
}

/// Whether `c` must not appear as itself in a line of the plan: it ends the line
/// (`\n`, `\r`, vertical tab, form feed, NEL, U+2028, U+2029), is another control
/// character (terminal escapes start with one), or reorders what follows on screen
/// (bidirectional marks, embeddings, overrides and isolates).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `c` as an escape of bash's `$'…'` quoting: `\n`, `\t`, `\r`, `\xHH` for other
/// ASCII, `\uHHHH` beyond.
fn escape(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{:04x}", c as u32)),
    }
}

/// `text` with every [`is_hidden`] character escaped as in [`escape`]; unchanged (and
/// not copied) when it has none.
pub fn escape_hidden(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `word` as a shell would need it: unchanged when it is made only of safe characters,
/// in bash's `$'…'` when it has a [hidden](is_hidden) character (escaped there, with
/// `\\` and `\'` for a backslash and a quote), otherwise in single quotes (a `'`
/// inside becoming `'\''`).
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    if word.chars().any(is_hidden) {
        let mut out = String::from("$'");
        for c in word.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                c if is_hidden(c) => escape(c, &mut out),
                c => out.push(c),
            }
        }
        out.push('\'');
        return Cow::Owned(out);
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_#^".contains(c);
    // `#` starts a comment only at the beginning of a word.
    if !word.is_empty() && word.chars().all(safe) && !word.starts_with('#') {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// `word` as POSIX `sh` reads it back unchanged: as it is when made only of safe
/// characters, otherwise in single quotes (a `'` inside becoming `'\''`). Unlike
/// [`shell_quote`] it never uses bash's `$'…'`, which POSIX `sh` before 2024 lacks, so
/// a newline stays a newline inside the quotes.
pub fn posix_quote(word: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_^".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_leaves_plain_words_alone() {
        assert_eq!(shell_quote("eth0"), "eth0");
        assert_eq!(shell_quote("service:web#1"), "service:web#1");
        assert_eq!(
            shell_quote("net.ipv4.ip_forward=1"),
            "net.ipv4.ip_forward=1"
        );
        assert_eq!(shell_quote("10.0.0.1/24"), "10.0.0.1/24");
    }

    #[test]
    fn shell_quote_quotes_spaces_and_metacharacters() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("#x"), "'#x'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("a;b"), "'a;b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("x*"), "'x*'");
    }

    #[test]
    fn shell_quote_escapes_what_would_break_or_hide_the_line() {
        assert_eq!(shell_quote("a\nb"), r"$'a\nb'");
        assert_eq!(shell_quote("a\r\tb"), r"$'a\r\tb'");
        assert_eq!(shell_quote("\x1b[2J"), r"$'\x1b[2J'");
        assert_eq!(shell_quote("it's\n"), r"$'it\'s\n'");
        assert_eq!(shell_quote("a\\b\n"), r"$'a\\b\n'");
        assert_eq!(shell_quote("x\u{2028}y"), r"$'x\u2028y'");
        assert_eq!(shell_quote("\u{202e}evil"), r"$'\u202eevil'");
        assert_eq!(shell_quote("x\u{85}"), r"$'x\u0085'");
        assert_eq!(escape_hidden("plain"), "plain");
        assert_eq!(escape_hidden("a\nb\u{2029}"), r"a\nb\u2029");
    }

    /// bash reads each quoted word back as the word itself.
    #[test]
    fn bash_reads_quoted_words_back() {
        let words = [
            "a\nb",
            "it's",
            "tab\there",
            "\x1b[31mred",
            "back\\slash'\n",
            "\u{2028}\u{202e}é",
            "$HOME",
            "",
        ];
        let script: String = words
            .iter()
            .map(|w| format!("printf '%s\\0' {}\n", shell_quote(w)))
            .collect();
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .expect("run bash");
        let read: Vec<&str> = std::str::from_utf8(&out.stdout)
            .expect("utf-8")
            .split_terminator('\0')
            .collect();
        assert_eq!(read, words);
    }
}
