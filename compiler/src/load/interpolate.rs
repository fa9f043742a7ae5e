//! Environment interpolation of string values (docs/configuration.md, "Interpolation").
//!
//! Runs on the YAML tree before validation. Only string *values* are interpolated, never
//! keys. The environment is passed in ([`Env`]); the compiler never reads the process
//! environment itself.

use super::node::{Node, Value};
use crate::diag::Diagnostic;
use std::collections::BTreeMap;

/// The variables interpolation may use.
pub type Env = BTreeMap<String, String>;

/// Interpolates every string value in `node` in place, returning one diagnostic per
/// string that failed (`${X:?message}` with X unset, or a malformed `${`).
pub fn interpolate(node: &mut Node, env: &Env) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    walk(node, env, &mut errors);
    errors
}

fn walk(node: &mut Node, env: &Env, errors: &mut Vec<Diagnostic>) {
    match &mut node.value {
        Value::Str(s) if s.contains('$') => match expand(s, env) {
            Ok(out) => *s = out,
            Err(e) => errors.push(
                Diagnostic::error(e.code, e.message)
                    .at(node.span, e.label)
                    .help(e.help),
            ),
        },
        Value::Seq(items) => items.iter_mut().for_each(|n| walk(n, env, errors)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, n)| walk(n, env, errors)),
        _ => {}
    }
}

/// Why a string could not be interpolated.
#[derive(Debug, PartialEq, Eq)]
pub struct InterpolationError {
    pub code: &'static str,
    pub message: String,
    pub label: String,
    pub help: String,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands one string.
pub fn expand(s: &str, env: &Env) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let mut chars = after.chars();
        match chars.next() {
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some('{') => {
                let close = matching_brace(after).ok_or_else(|| InterpolationError {
                    code: "conlink::interpolate::unclosed",
                    message: "unclosed `${` in string".into(),
                    label: "this `${` has no closing `}`".into(),
                    help: "close the variable reference with `}`, or write `$$` for a literal `$`"
                        .into(),
                })?;
                let inner = &after[1..close];
                out.push_str(&braced(inner, env)?);
                rest = &after[close + 1..];
            }
            Some(c) if is_name_start(c) => {
                let end = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                let name = &after[..end];
                out.push_str(env.get(name).map_or("", String::as_str));
                rest = &after[end..];
            }
            // Anything else after `$` is left as written.
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Byte index of the `}` closing the `{` at the start of `s`, allowing nested
/// `${…}` in a default value.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Expands the inside of `${…}`; default values are themselves interpolated.
fn braced(inner: &str, env: &Env) -> Result<String, InterpolationError> {
    let name_end = inner
        .find(|c: char| !is_name_char(c))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    let op = &inner[name_end..];
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(InterpolationError {
            code: "conlink::interpolate::bad_name",
            message: format!("invalid variable reference `${{{inner}}}`"),
            label: "not a variable name".into(),
            help: "variable names match [A-Za-z_][A-Za-z0-9_]*; write `$$` for a literal `$`"
                .into(),
        });
    }
    let value = env.get(name);
    let set = value.is_some();
    let non_empty = value.is_some_and(|v| !v.is_empty());
    let value = value.map_or("", String::as_str);
    let missing = |msg: &str, how: &str| InterpolationError {
        code: "conlink::interpolate::required",
        message: if msg.is_empty() {
            format!("required variable {name} is {how}")
        } else {
            format!("{msg} (variable {name} is {how})")
        },
        label: format!("needs {name}"),
        help: format!("set {name} in the environment before running conlink"),
    };
    Ok(match op {
        "" => value.to_string(),
        _ if op.starts_with(":-") => if non_empty { value.to_string() } else { expand(&op[2..], env)? },
        _ if op.starts_with('-') => if set { value.to_string() } else { expand(&op[1..], env)? },
        _ if op.starts_with(":?") => {
            if non_empty {
                value.to_string()
            } else {
                return Err(missing(&op[2..], if set { "empty" } else { "unset" }));
            }
        }
        _ if op.starts_with('?') => {
            if set {
                value.to_string()
            } else {
                return Err(missing(&op[1..], "unset"));
            }
        }
        _ => {
            return Err(InterpolationError {
                code: "conlink::interpolate::bad_operator",
                message: format!("invalid variable reference `${{{inner}}}`"),
                label: "unknown form".into(),
                help: "supported forms: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}".into(),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        [("A", "x"), ("EMPTY", ""), ("MTU", "1400")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_form() {
        let e = env();
        let cases = [
            ("$A", "x"),
            ("${A}", "x"),
            ("pre-$A-post", "pre-x-post"),
            ("$UNSET", ""),
            ("${UNSET}", ""),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${A:-d}", "x"),
            ("${UNSET-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${A:?m}", "x"),
            ("${EMPTY?m}", ""),
            ("$$", "$"),
            ("$${A}", "${A}"),
            ("cost: 5$", "cost: 5$"),
            ("$1", "$1"),
            ("${MTU:-1500}", "1400"),
            ("${UNSET:-${A}}", "x"),
            ("${UNSET:-a-${UNSET2:-b}}", "a-b"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, &e).unwrap(), want, "input {input}");
        }
    }

    #[test]
    fn required_variables_fail_with_their_message() {
        let e = env();
        let err = expand("${NODE_IP:?set NODE_IP to this host's overlay address}", &e).unwrap_err();
        assert_eq!(err.code, "conlink::interpolate::required");
        assert!(
            err.message
                .contains("set NODE_IP to this host's overlay address"),
            "{}",
            err.message
        );
        assert!(err.message.contains("unset"));
        let err = expand("${EMPTY:?}", &e).unwrap_err();
        assert_eq!(err.message, "required variable EMPTY is empty");
        assert!(expand("${UNSET?x}", &e).is_err());
    }

    #[test]
    fn malformed_references_are_errors() {
        let e = env();
        assert_eq!(
            expand("${A", &e).unwrap_err().code,
            "conlink::interpolate::unclosed"
        );
        assert_eq!(
            expand("${1A}", &e).unwrap_err().code,
            "conlink::interpolate::bad_name"
        );
        assert_eq!(
            expand("${A:x}", &e).unwrap_err().code,
            "conlink::interpolate::bad_operator"
        );
    }
}
