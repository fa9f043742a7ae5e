//! Scalars and tags, resolved by the YAML 1.2 core schema, as compose reads YAML: an
//! unquoted `00:0a:0b:0c:0d:01` stays a string and `yes` is not a boolean; quoted and
//! block scalars are strings; core-schema tags (`!!str`, `!!int`, …) are obeyed and
//! other tags (such as compose's `!reset`) ignored.

use crate::load::node::Value;
use saphyr_parser::{ScalarStyle, Tag};

/// Prefix of the tags of the YAML core schema (`!!str` is `tag:yaml.org,2002:str`).
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// What is wrong with a core-schema tag on a collection (a mapping when `map`), if
/// anything: `!!str` on a mapping, say. Other tags are ignored, as on scalars.
pub(super) fn collection_tag_problem(map: bool, tag: &Tag) -> Option<String> {
    let name = tag_name(tag);
    let expected = if map { "map" } else { "seq" };
    let wrong = name.strip_prefix(CORE_TAG_PREFIX).is_some_and(|t| {
        t != expected && matches!(t, "map" | "seq" | "str" | "int" | "float" | "bool" | "null")
    });
    let kind = if map { "a mapping" } else { "a sequence" };
    wrong.then(|| format!("{kind} cannot have the tag {}", short_tag(tag)))
}

/// A tag as one string: `!!int` is `tag:yaml.org,2002:int`, the non-specific tag `!`
/// is `!`, a local tag `!foo` is `!foo`.
pub(super) fn tag_name(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

/// A tag the way users write it, for messages.
fn short_tag(tag: &Tag) -> String {
    let name = tag_name(tag);
    match name.strip_prefix(CORE_TAG_PREFIX) {
        Some(core) => format!("!!{core}"),
        None => name,
    }
}

/// The value of a scalar: plain scalars are resolved by the core schema, every quoted
/// or block scalar is a string, and core-schema tags are obeyed. Other tags (such as
/// compose's `!reset`) are ignored, so a file using them still reads as untagged.
pub(super) fn scalar_value(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Value, String> {
    let untagged = || {
        if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::Str(text.to_string())
        }
    };
    let Some(tag) = tag else {
        return Ok(untagged());
    };
    let name = tag_name(tag);
    let invalid = || format!("`{text}` is not a valid {}", short_tag(tag));
    match name.strip_prefix(CORE_TAG_PREFIX) {
        Some("str") => Ok(Value::Str(text.to_string())),
        Some("null") => is_null(text).then_some(Value::Null).ok_or_else(invalid),
        Some("bool") => parse_bool(text).map(Value::Bool).ok_or_else(invalid),
        Some("int") => match parse_int(text) {
            ParsedInt::Fits(i) => Ok(Value::Int(i)),
            ParsedInt::Overflow => Err(format!("`{text}` does not fit in a 64-bit integer")),
            ParsedInt::NotInt => Err(invalid()),
        },
        Some("float") => match (parse_float(text), parse_int(text)) {
            (Some(f), _) => Ok(Value::Float(f)),
            (None, ParsedInt::Fits(i)) => Ok(Value::Float(i as f64)),
            _ => Err(invalid()),
        },
        Some("seq" | "map") => Err(format!("a scalar cannot have the tag {}", short_tag(tag))),
        // The non-specific tag `!` means "a string" for scalars.
        _ if name == "!" => Ok(Value::Str(text.to_string())),
        _ => Ok(untagged()),
    }
}

/// Resolves a plain (unquoted) scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    if is_null(text) {
        return Value::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    match parse_int(text) {
        ParsedInt::Fits(i) => return Value::Int(i),
        // Too large for conlink's integers: keep the text rather than lose precision.
        ParsedInt::Overflow => return Value::Str(text.to_string()),
        ParsedInt::NotInt => {}
    }
    match parse_float(text) {
        Some(f) => Value::Float(f),
        None => Value::Str(text.to_string()),
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// What a scalar's text is as an integer.
enum ParsedInt {
    NotInt,
    Fits(i64),
    /// Has the form of an integer but does not fit in an `i64`.
    Overflow,
}

/// Core-schema integers: `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`.
fn parse_int(text: &str) -> ParsedInt {
    let (digits, radix) = if let Some(oct) = text.strip_prefix("0o") {
        (oct, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        (text.strip_prefix(['-', '+']).unwrap_or(text), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return ParsedInt::NotInt;
    }
    // Decimal parsing includes the sign; the digits were checked above, so the only
    // possible failure is overflow.
    let parsed = if radix == 10 {
        text.parse::<i64>()
    } else {
        i64::from_str_radix(digits, radix)
    };
    parsed.map_or(ParsedInt::Overflow, ParsedInt::Fits)
}

/// Core-schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` and the
/// spellings of infinity and not-a-number.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let b = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::load::node::Value;

    #[test]
    fn core_schema_resolves_plain_scalars_only() {
        for s in ["~", "null", "Null", "NULL", ""] {
            assert_eq!(plain(s), Value::Null, "{s:?}");
        }
        for (s, b) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("FALSE", false),
        ] {
            assert_eq!(plain(s), Value::Bool(b), "{s:?}");
        }
        for (s, i) in [
            ("0", 0),
            ("-17", -17),
            ("+5", 5),
            ("007", 7),
            ("0o17", 15),
            ("0x1F", 31),
            ("0xff", 255),
        ] {
            assert_eq!(plain(s), Value::Int(i), "{s:?}");
        }
        for (s, f) in [
            ("1.5", 1.5),
            ("-.5", -0.5),
            ("1.", 1.0),
            ("1e3", 1000.0),
            ("+2.5E-1", 0.25),
        ] {
            assert_eq!(plain(s), Value::Float(f), "{s:?}");
        }
        assert_eq!(plain(".inf"), Value::Float(f64::INFINITY));
        assert_eq!(plain("-.Inf"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(plain(".NaN"), Value::Float(f) if f.is_nan()));
        // Everything else, including YAML 1.1 booleans and MAC addresses, is a string.
        for s in [
            "yes",
            "on",
            "off",
            "00:0a:0b:0c:0d:01",
            "0b101",
            "1_000",
            "0o8",
            "0x",
            ".",
            "1.2.3",
            "nul",
        ] {
            assert_eq!(plain(s), Value::Str(s.into()), "{s:?}");
        }
        // Integers beyond i64 stay strings rather than losing precision.
        assert_eq!(
            plain("99999999999999999999"),
            Value::Str("99999999999999999999".into())
        );
        // Quoted and block scalars are always strings.
        assert_eq!(plain("'true'"), Value::Str("true".into()));
        assert_eq!(plain("\"12\""), Value::Str("12".into()));
        assert_eq!(plain("|\n  12"), Value::Str("12\n".into()));
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(plain("!!str 12"), Value::Str("12".into()));
        assert_eq!(plain("!!str true"), Value::Str("true".into()));
        assert_eq!(plain("! 12"), Value::Str("12".into()));
        assert_eq!(plain("!!int \"12\""), Value::Int(12));
        assert_eq!(plain("!!float 2"), Value::Float(2.0));
        assert_eq!(plain("!!bool 'true'"), Value::Bool(true));
        assert_eq!(plain("!!null ''"), Value::Null);
        // Unknown tags (compose's `!reset`) are ignored.
        assert_eq!(plain("!reset 12"), Value::Int(12));
        let d = errs("k: !!int abc\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "conlink::yaml::tag");
        assert_eq!(d[0].message, "`abc` is not a valid !!int");
        assert_eq!(errs("k: !!map [1]\n")[0].code, "conlink::yaml::tag");
    }
}
