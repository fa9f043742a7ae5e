//! The words of a step's command line (docs/plan.md, "Text form"): quoting, and the
//! placeholders that stand for values only known at run time.
//!
//! Words that contain spaces or shell metacharacters are single-quoted so a line reads
//! unambiguously, though nothing is ever run through a shell.

use super::ns::Ns;
use std::borrow::Cow;
use std::fmt::Display;

/// Placeholder for conlink's external address, resolved at run time.
pub const EXTERNAL_ADDR: &str = "$CONLINK_EXTERNAL";

/// Placeholder for conlink's external interface, resolved at run time.
pub const EXTERNAL_IF: &str = "$CONLINK_EXTERNAL_IF";

/// Placeholder for a value the runtime records before changing it and puts back on undo.
pub const SAVED: &str = "$CONLINK_SAVED";

/// A command line under construction: words separated by single spaces.
#[derive(Default)]
pub(crate) struct Cmd(pub(crate) String);

impl Cmd {
    /// Appends text that needs no quoting (fixed syntax, numbers, addresses, placeholders).
    pub(crate) fn raw(&mut self, text: impl Display) -> &mut Cmd {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(&text.to_string());
        self
    }

    /// Appends a word from the configuration, quoted if it needs to be.
    pub(crate) fn word(&mut self, word: &str) -> &mut Cmd {
        self.raw(shell_quote(word))
    }

    /// Appends a namespace symbol.
    pub(crate) fn ns(&mut self, ns: &Ns) -> &mut Cmd {
        self.word(&ns.to_string())
    }

    /// Appends text to the last word, without a space.
    pub(crate) fn glue(&mut self, text: &str) -> &mut Cmd {
        self.0.push_str(text);
        self
    }
}

/// `word` as a shell would need it: unchanged when it is made only of safe characters,
/// otherwise in single quotes (a `'` inside becoming `'\''`).
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_#^".contains(c);
    // `#` starts a comment only at the beginning of a word.
    if !word.is_empty() && word.chars().all(safe) && !word.starts_with('#') {
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
}
