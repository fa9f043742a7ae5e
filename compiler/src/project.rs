//! The project a plan is for: its name, from the options, the environment or the
//! compose file (docs/cli.md, "Common options").
//!
//! The name is in every namespace, ownership mark and nft table the plan creates, so
//! it is settled (and checked) before the configuration is.

use crate::diag::Diagnostic;
use crate::load::interpolate::Env;

/// Compose's rules for project names: at most 63 lower-case letters, digits, `-` and
/// `_`, starting with a letter or digit. (So a project name never contains `.`,
/// which the runtime relies on in the names it gives namespaces and nft tables.)
pub fn is_valid_project_name(name: &str) -> bool {
    name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The project name: `--project` (`option`), else `COMPOSE_PROJECT_NAME`, else the
/// compose file's `name:`, else the fallback the caller chose (the first file's
/// directory name).
/// Compose's own rules apply: lower case letters, digits, `-` and `_`, starting with a
/// letter or digit.
pub fn project_name(
    option: Option<&str>,
    fallback: &str,
    env: &Env,
    compose: Option<String>,
) -> (String, Vec<Diagnostic>) {
    let (name, from) = if let Some(p) = option {
        (p.to_string(), "--project")
    } else if let Some(p) = env.get("COMPOSE_PROJECT_NAME").filter(|p| !p.is_empty()) {
        (p.clone(), "COMPOSE_PROJECT_NAME")
    } else if let Some(p) = compose {
        (p, "the compose file's `name:`")
    } else {
        // Directory names are normalised as compose does.
        let n: String = fallback
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let n = n.trim_start_matches(['-', '_']).to_string();
        (
            if n.is_empty() {
                "conlink".to_string()
            } else {
                n
            },
            "the directory name",
        )
    };
    if is_valid_project_name(&name) {
        return (name, Vec::new());
    }
    let error = Diagnostic::error(
        "conlink::project_name",
        format!("invalid project name `{name}` (from {from})"),
    )
    .help("project names use lower-case letters, digits, `-` and `_`, start with a letter or digit, and have at most 63 characters");
    (name, vec![error])
}
