//! Long values in messages, shortened.
//!
//! Messages quote the value at fault in backticks (`` invalid `dev`: `eth0/1` ``). A
//! value can be as long as its file, and one 10 MB name printed 55 MB of errors: a
//! quoted value longer than [`QUOTED_MAX`] characters keeps its start and end around
//! a note of its length, and a whole text longer than [`TEXT_MAX`] bytes is cut. The
//! diagnostic still points at the whole value in its file.

/// The longest quoted value shown in full, in characters.
pub const QUOTED_MAX: usize = 64;
/// Characters kept from the start and the end of a longer quoted value.
const KEEP_START: usize = 32;
const KEEP_END: usize = 16;
/// The longest message, label or help shown in full, in bytes.
pub const TEXT_MAX: usize = 1000;

/// `text` with long quoted values shortened (`` `xxxx…(N bytes)…xxxx` ``) and cut to
/// [`TEXT_MAX`] bytes.
pub fn shorten(text: String) -> String {
    // Most texts are short: nothing in them can be too long.
    if text.len() <= QUOTED_MAX {
        return text;
    }
    let mut out = String::with_capacity(text.len().min(TEXT_MAX + 8));
    // Between the backticks of a pair: a quoted value. An odd backtick at the end is
    // plain text.
    let pieces: Vec<&str> = text.split('`').collect();
    let closed = if pieces.len() % 2 == 0 {
        pieces.len() - 1
    } else {
        pieces.len()
    };
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && i < closed {
            push_value(&mut out, piece);
        } else {
            out.push_str(piece);
        }
        if out.len() > TEXT_MAX {
            break;
        }
    }
    if out.len() > TEXT_MAX {
        let mut cut = TEXT_MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Appends a quoted value, shortened when it is long.
fn push_value(out: &mut String, value: &str) {
    if value.chars().nth(QUOTED_MAX).is_none() {
        out.push_str(value);
        return;
    }
    let start_end = value
        .char_indices()
        .nth(KEEP_START)
        .map_or(value.len(), |(i, _)| i);
    let end_start = value
        .char_indices()
        .rev()
        .nth(KEEP_END - 1)
        .map_or(0, |(i, _)| i);
    out.push_str(&value[..start_end]);
    out.push_str(&format!("…({} bytes)…", value.len()));
    out.push_str(&value[end_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_stay_as_they_are() {
        let text = "invalid `dev`: `eth0/1` contains `/`".to_string();
        assert_eq!(shorten(text.clone()), text);
        let long_but_no_long_value = format!("{} `a` `b`", "word ".repeat(30));
        assert_eq!(
            shorten(long_but_no_long_value.clone()),
            long_but_no_long_value
        );
    }

    #[test]
    fn long_quoted_values_keep_their_ends_and_say_their_length() {
        let value = format!("{}{}{}", "a".repeat(32), "x".repeat(1000), "z".repeat(16));
        let text = format!("invalid `dev`: `{value}` is too long");
        assert_eq!(
            shorten(text),
            format!(
                "invalid `dev`: `{}…(1048 bytes)…{}` is too long",
                "a".repeat(32),
                "z".repeat(16)
            )
        );
        // Characters, not bytes, are kept; multi-byte ones are not split.
        let value = "é".repeat(100);
        let short = shorten(format!("`{value}`"));
        assert_eq!(
            short,
            format!("`{}…(200 bytes)…{}`", "é".repeat(32), "é".repeat(16))
        );
    }

    #[test]
    fn an_unclosed_backtick_is_plain_text_and_long_texts_are_cut() {
        let text = format!("a ` {}", "b".repeat(2000));
        let short = shorten(text);
        assert!(short.starts_with("a ` bbb"), "{short}");
        assert!(short.ends_with('…'));
        assert!(short.len() <= TEXT_MAX + '…'.len_utf8());
        let text = "ü".repeat(1000);
        let short = shorten(text);
        assert!(short.len() <= TEXT_MAX + '…'.len_utf8());
    }

    #[test]
    fn a_huge_value_costs_a_short_message() {
        let value = "x".repeat(10 * 1024 * 1024);
        let short = shorten(format!("`{value}` is {} bytes long", value.len()));
        assert!(short.len() < 200, "{} bytes", short.len());
    }
}
