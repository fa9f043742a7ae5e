//! Where lines and blanks start and end in YAML text: byte scanning shared by the tree
//! builder (to find the text a node spans) and the syntax-error explainer (to look
//! around the place saphyr gave up). Every function stops only at ASCII bytes or at
//! the end of the text, so the offsets they return are character boundaries.

/// A space, tab or line break.
pub(super) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Byte length of the character at `at`, or 0 at a line break or the end of the text.
pub(super) fn char_width(text: &str, at: usize) -> usize {
    match text.get(at..).and_then(|s| s.chars().next()) {
        Some(c) if c != '\n' && c != '\r' => c.len_utf8(),
        _ => 0,
    }
}

/// Start of the line holding byte offset `at`.
pub(super) fn line_start(b: &[u8], at: usize) -> usize {
    let at = at.min(b.len());
    b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1)
}

/// End of the line holding byte offset `at` (its `\n`, or the end of the text).
pub(super) fn line_end(b: &[u8], at: usize) -> usize {
    let at = at.min(b.len());
    b[at..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |i| at + i)
}

/// First offset from `i` that is not a space or tab.
pub(super) fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// `i` moved back over spaces and tabs, not before `floor`.
pub(super) fn skip_blanks_back(b: &[u8], floor: usize, mut i: usize) -> usize {
    while i > floor && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    i
}

/// `end` moved back over blanks (`\r` included), not before `floor`.
pub(super) fn trim_end(b: &[u8], floor: usize, mut end: usize) -> usize {
    end = end.min(b.len());
    while end > floor && is_blank(b[end - 1]) {
        end -= 1;
    }
    end
}
