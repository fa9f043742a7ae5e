//! Scanning configuration strings: what every parser of the small languages shares.
//!
//! Words with their byte ranges in the input (`words`, `Cursor`), errors located by
//! those ranges ([`StringError`]), options given at most once (`Seen`), exact
//! decimal numbers (no floats, so results are deterministic on every platform) and
//! plain-English lists of keywords.

use crate::diag::did_you_mean;
use std::ops::Range;

/// A problem in a configuration string, located by byte offsets within that string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StringError {
    /// What is wrong, in one line.
    pub message: String,
    /// Byte offset of the first byte of the offending word in the input string.
    pub start: usize,
    /// Byte offset one past its last byte (the whole string when no word is to blame).
    pub end: usize,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

impl StringError {
    /// An error about the bytes `start..end` of the input.
    pub(crate) fn new(range: Range<usize>, message: impl Into<String>) -> StringError {
        StringError {
            message: message.into(),
            start: range.start,
            end: range.end,
            help: None,
        }
    }

    /// An error about one word.
    pub(crate) fn at(word: Word<'_>, message: impl Into<String>) -> StringError {
        StringError::new(word.range(), message)
    }

    /// An error about the input as a whole (e.g. it is empty).
    pub(crate) fn whole(input: &str, message: impl Into<String>) -> StringError {
        StringError::new(0..input.len(), message)
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> StringError {
        self.help = Some(help.into());
        self
    }

    /// Adds a "did you mean" help when one of `candidates` is close to `word`.
    pub(crate) fn suggest(self, word: &str, candidates: &[&str]) -> StringError {
        match did_you_mean(word, candidates) {
            Some(close) => self.with_help(format!("did you mean `{close}`?")),
            None => self,
        }
    }

    /// The offending bytes of the input string.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// One whitespace-separated word of an input string and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    pub text: &'a str,
    /// Byte offset of the word's first byte in the input.
    pub start: usize,
}

impl<'a> Word<'a> {
    pub(crate) fn end(&self) -> usize {
        self.start + self.text.len()
    }

    pub(crate) fn range(&self) -> Range<usize> {
        self.start..self.end()
    }

    /// The part of this word at byte offsets `range` relative to the word's start, e.g.
    /// the port in `8080:80/tcp`. Callers only split at ASCII bytes, so the bounds are
    /// always character boundaries.
    pub(crate) fn slice(&self, range: Range<usize>) -> Word<'a> {
        Word {
            text: &self.text[range.clone()],
            start: self.start + range.start,
        }
    }
}

/// Splits `input` into words at ASCII whitespace, as a shell would for these plain
/// strings (no quoting: none of the languages here needs it). Non-ASCII whitespace stays
/// inside words, where it makes the word invalid rather than silently splitting it.
pub(crate) fn words(input: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    // Splitting on ASCII bytes is safe for UTF-8: they never occur inside a multi-byte
    // character, so every slice boundary below is a character boundary.
    for (i, byte) in input.bytes().enumerate() {
        match (byte.is_ascii_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Word {
                    text: &input[s..i],
                    start: s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: &input[s..],
            start: s,
        });
    }
    out
}

/// The words of an input, consumed front to back by a parser.
pub(crate) struct Cursor<'a> {
    words: Vec<Word<'a>>,
    next: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(input: &'a str) -> Cursor<'a> {
        Cursor {
            words: words(input),
            next: 0,
        }
    }

    pub(crate) fn peek(&self) -> Option<Word<'a>> {
        self.words.get(self.next).copied()
    }

    /// The word after `keyword`, which needs one; the error (pointing at the keyword)
    /// says what was expected, e.g. "`via` needs a gateway address".
    pub(crate) fn value(&mut self, keyword: Word<'a>, what: &str) -> Result<Word<'a>, StringError> {
        self.next()
            .ok_or_else(|| StringError::at(keyword, format!("`{}` needs {what}", keyword.text)))
    }

    /// Consumes and returns the next word if `wanted` accepts it.
    pub(crate) fn next_if(&mut self, wanted: impl Fn(&str) -> bool) -> Option<Word<'a>> {
        let word = self.peek().filter(|w| wanted(w.text))?;
        self.next += 1;
        Some(word)
    }
}

impl<'a> Iterator for Cursor<'a> {
    type Item = Word<'a>;

    fn next(&mut self) -> Option<Word<'a>> {
        let word = self.peek()?;
        self.next += 1;
        Some(word)
    }
}

/// Remembers which options a string has set: each at most once, or (netem) the last one
/// counts.
#[derive(Default)]
pub(crate) struct Seen(Vec<&'static str>);

impl Seen {
    /// Records option `name` (its canonical spelling) written as `word`; an error if it
    /// was already given, pointing at the repetition.
    pub(crate) fn first(&mut self, name: &'static str, word: Word<'_>) -> Result<(), StringError> {
        if self.0.contains(&name) {
            let mut error = StringError::at(word, format!("`{name}` is given more than once"));
            error = if word.text == name {
                error.with_help(format!("give `{name}` once"))
            } else {
                error.with_help(format!(
                    "`{}` is another name for `{name}`; give it once",
                    word.text
                ))
            };
            return Err(error);
        }
        self.0.push(name);
        Ok(())
    }

    /// Records option `name` written as `word` where a repetition is allowed and the
    /// last one counts (netem, as `tc` reads it): a warning pointing at the repetition
    /// when it was already given.
    pub(crate) fn last_counts(
        &mut self,
        name: &'static str,
        word: Word<'_>,
    ) -> Option<StringError> {
        if !self.0.contains(&name) {
            self.0.push(name);
            return None;
        }
        let warning = StringError::at(
            word,
            format!("`{name}` is given more than once; the last one counts"),
        );
        Some(warning.with_help(format!(
            "as `tc` does, this `{}` replaces the earlier one; remove the one you do not mean",
            word.text
        )))
    }
}

/// Why a word is not the number it should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Not digits (with at most one decimal point) at all.
    NotANumber,
    /// A well-formed number with a leading `-`.
    Negative,
    /// More than fits.
    TooLarge,
}

/// Parses a non-negative decimal integer: ASCII digits only (no sign, no `0x`; leading
/// zeros are fine).
pub(crate) fn parse_integer(text: &str) -> Result<u64, NumberError> {
    if let Some(rest) = text.strip_prefix('-') {
        return match parse_integer(rest) {
            Ok(_) | Err(NumberError::TooLarge) => Err(NumberError::Negative),
            Err(e) => Err(e),
        };
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    // Only digits remain, so the only way `parse` can fail is overflow.
    text.parse().map_err(|_| NumberError::TooLarge)
}

/// A non-negative decimal number as written (`40`, `0.5`, `.25`, `3.`), held exactly as
/// `mantissa / 10^scale` so that unit conversions round once and identically everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    mantissa: u128,
    scale: u32,
}

impl Decimal {
    /// Decimal places kept; later digits are checked but ignored. With at most 18 the
    /// arithmetic in [`Decimal::times`] cannot overflow for the factors used here, and
    /// no unit in these languages resolves anything near 10^-18.
    const MAX_SCALE: u32 = 18;

    pub(crate) fn parse(text: &str) -> Result<Decimal, NumberError> {
        if let Some(rest) = text.strip_prefix('-') {
            return match Decimal::parse(rest) {
                Ok(_) | Err(NumberError::TooLarge) => Err(NumberError::Negative),
                Err(e) => Err(e),
            };
        }
        let (int_part, frac_part) = match text.split_once('.') {
            Some((int_part, frac_part)) => (int_part, frac_part),
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(NumberError::NotANumber);
        }
        let mut mantissa: u128 = 0;
        for digit in int_part.bytes() {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(digit - b'0')))
                .ok_or(NumberError::TooLarge)?;
        }
        let mut scale = 0;
        for digit in frac_part.bytes().take(Decimal::MAX_SCALE as usize) {
            match mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(digit - b'0')))
            {
                Some(m) => {
                    mantissa = m;
                    scale += 1;
                }
                // A huge integer part: the remaining decimals cannot matter.
                None => break,
            }
        }
        Ok(Decimal { mantissa, scale })
    }

    /// `round(value × factor)`, halves rounded up; `None` if the result does not fit.
    pub(crate) fn times(self, factor: u128) -> Option<u128> {
        let divisor = 10u128.pow(self.scale);
        let whole = (self.mantissa / divisor).checked_mul(factor)?;
        // The fraction is below 10^18 and factors stay below 10^14, so this fits.
        let fraction = (self.mantissa % divisor).checked_mul(factor)?;
        let mut rounded = fraction / divisor;
        if (fraction % divisor) * 2 >= divisor {
            rounded += 1;
        }
        whole.checked_add(rounded)
    }

    /// Whether the value is strictly greater than `limit` (exactly, before any rounding).
    pub(crate) fn exceeds(self, limit: u128) -> bool {
        let divisor = 10u128.pow(self.scale);
        let whole = self.mantissa / divisor;
        whole > limit || (whole == limit && self.mantissa > whole * divisor)
    }
}

/// Splits `text` into its leading number (digits, `.` and a leading `-`) and the unit
/// that follows, e.g. `40ms` into `40` and `ms`. The split is at an ASCII character, so
/// both halves are valid slices.
pub(crate) fn split_unit(text: &str) -> (&str, &str) {
    let body = text.strip_prefix('-').unwrap_or(text);
    let sign_len = text.len() - body.len();
    let number_len = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    text.split_at(sign_len + number_len)
}

/// Whether a word looks like a number, which is how optional positional values (netem's
/// jitter and correlations) are recognised, as `tc` does by the first character. A
/// leading `-` counts, so that negative values get a clear error instead of "unknown
/// option".
pub(crate) fn looks_numeric(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

/// Plain English for a list of keywords: "`a`, `b` and `c`".
pub(crate) fn one_of(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<(&str, usize)> {
        words(input).iter().map(|w| (w.text, w.start)).collect()
    }

    #[test]
    fn words_carry_their_byte_ranges() {
        assert_eq!(texts(""), vec![]);
        assert_eq!(texts("   \t\n"), vec![]);
        assert_eq!(texts("a"), vec![("a", 0)]);
        assert_eq!(
            texts("  via\t10.0.0.1 \n metric 5 "),
            vec![("via", 2), ("10.0.0.1", 6), ("metric", 17), ("5", 24)]
        );
        // Non-ASCII characters stay inside words; offsets are bytes.
        let input = "défaut via\u{a0}x é";
        let ws = words(input);
        assert_eq!(ws.len(), 3);
        assert_eq!(ws[0].text, "défaut");
        assert_eq!(ws[1].text, "via\u{a0}x");
        assert_eq!(ws[2].text, "é");
        for w in ws {
            assert_eq!(&input[w.range()], w.text);
        }
    }

    #[test]
    fn cursor_values_and_errors() {
        let mut cursor = Cursor::new("via 10.0.0.1 metric");
        let via = cursor.next().unwrap();
        assert_eq!(cursor.value(via, "an address").unwrap().text, "10.0.0.1");
        let metric = cursor.next().unwrap();
        let error = cursor.value(metric, "a number").unwrap_err();
        assert_eq!(error.message, "`metric` needs a number");
        assert_eq!(error.range(), 13..19);
        assert_eq!(cursor.next(), None);

        let mut cursor = Cursor::new("5ms 25%");
        assert_eq!(cursor.next_if(looks_numeric).unwrap().text, "5ms");
        assert_eq!(cursor.next_if(|w| w == "x"), None);
        assert_eq!(cursor.next().unwrap().text, "25%");
    }

    #[test]
    fn seen_rejects_repeats() {
        let ws = words("metric 1 priority 2 metric 3");
        let mut seen = Seen::default();
        seen.first("metric", ws[0]).unwrap();
        let error = seen.first("metric", ws[2]).unwrap_err();
        assert_eq!(error.message, "`metric` is given more than once");
        assert_eq!(error.range(), 9..17);
        assert!(error.help.unwrap().contains("another name"));
        let error = seen.first("metric", ws[4]).unwrap_err();
        assert_eq!(error.help.as_deref(), Some("give `metric` once"));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("0"), Ok(0));
        assert_eq!(parse_integer("007"), Ok(7));
        assert_eq!(parse_integer("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_integer("18446744073709551616"),
            Err(NumberError::TooLarge)
        );
        assert_eq!(parse_integer("-5"), Err(NumberError::Negative));
        assert_eq!(
            parse_integer("-99999999999999999999999"),
            Err(NumberError::Negative)
        );
        for bad in ["", "-", "+5", "0x10", "1.5", "1e3", "５", " 5"] {
            assert_eq!(parse_integer(bad), Err(NumberError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn decimals_convert_exactly() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(d("40").times(1_000_000), Some(40_000_000));
        assert_eq!(d("1.5").times(1_000_000), Some(1_500_000));
        assert_eq!(d(".25").times(100), Some(25));
        assert_eq!(d("3.").times(10), Some(30));
        assert_eq!(d("0.0000001").times(10_000_000), Some(1));
        // Rounds half up, once.
        assert_eq!(d("0.5").times(1), Some(1));
        assert_eq!(d("0.49").times(1), Some(0));
        assert_eq!(d("2.5").times(1), Some(3));
        // Decimals past the 18th are ignored.
        assert_eq!(d("1.0000000000000000009").times(1), Some(1));
        assert_eq!(
            d("0.1234567890123456789999").times(1_000_000_000_000),
            Some(123_456_789_012)
        );
        // Overflow is reported, not wrapped.
        assert_eq!(d("340282366920938463463374607431768211455").times(2), None);
        assert_eq!(
            Decimal::parse("340282366920938463463374607431768211456"),
            Err(NumberError::TooLarge)
        );
        assert!(d("100.0000001").exceeds(100));
        assert!(d("101").exceeds(100));
        assert!(!d("100.000").exceeds(100));
        assert!(!d("99.9").exceeds(100));
        assert_eq!(Decimal::parse("-1.5"), Err(NumberError::Negative));
        for bad in [
            "", ".", "-", "1.2.3", "1,5", "1e3", "+1", "inf", "nan", "1 ",
        ] {
            assert_eq!(Decimal::parse(bad), Err(NumberError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn units_split_at_the_first_non_digit() {
        assert_eq!(split_unit("40ms"), ("40", "ms"));
        assert_eq!(split_unit("1.5"), ("1.5", ""));
        assert_eq!(split_unit("-3us"), ("-3", "us"));
        assert_eq!(split_unit("ms"), ("", "ms"));
        assert_eq!(split_unit("5µs"), ("5", "µs"));
        assert_eq!(split_unit(""), ("", ""));
        assert!(looks_numeric("5ms") && looks_numeric(".5") && looks_numeric("-1"));
        assert!(!looks_numeric("loss") && !looks_numeric("-") && !looks_numeric(""));
    }

    #[test]
    fn lists_in_english() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["on"]), "`on`");
        assert_eq!(one_of(&["on", "off"]), "`on` and `off`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` and `c`");
    }
}
