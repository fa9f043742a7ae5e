//! Whether a document is the kind of file it was given as (docs/configuration.md,
//! "Sources and merging"). A network file given with `-c` would be read as a compose
//! file with no `x-network`, so all of it would be ignored without a word; a compose
//! file given with `-n` fails the schema on `services` without saying why. Each is
//! reported as what it is, with the option to use.

use super::node::{Node, Value};
use crate::diag::Diagnostic;

/// The keys a network file has at its top level.
const NETWORK_KEYS: [&str; 5] = ["links", "bridges", "tunnels", "nodes", "commands"];

/// A file given as a compose file (`-c`) that has no `services` but has the top-level
/// keys of a network file.
pub fn network_file_as_compose(doc: &Node) -> Option<Diagnostic> {
    let Value::Map(entries) = &doc.value else {
        return None;
    };
    if entries.iter().any(|(k, _)| k.name == "services") {
        return None;
    }
    let (key, _) = entries
        .iter()
        .find(|(k, _)| NETWORK_KEYS.contains(&k.name.as_str()))?;
    Some(
        Diagnostic::error(
            "conlink::source::network_file_as_compose",
            format!(
                "this looks like a network file given as a compose file: it has `{}` and no `services`",
                key.name
            ),
        )
        .at(key.span, "a key of network files")
        .help("give it with -n (--network-file); a compose file holds conlink's configuration under `x-network`"),
    )
}

/// A file given as a network file (`-n`) that has `services`, as compose files do.
pub fn compose_file_as_network(doc: &Node) -> Option<Diagnostic> {
    let Value::Map(entries) = &doc.value else {
        return None;
    };
    let (key, _) = entries.iter().find(|(k, _)| k.name == "services")?;
    Some(
        Diagnostic::error(
            "conlink::source::compose_file_as_network",
            "this looks like a compose file given as a network file: it has `services`",
        )
        .at(key.span, "a key of compose files")
        .help("give it with -c (--compose-file); conlink reads its `x-network` keys"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml;
    use crate::source::FileId;

    fn doc(text: &str) -> Node {
        yaml::parse(FileId(0), text).expect("YAML")
    }

    #[test]
    fn network_file_as_compose_reports_network_keys_without_services() {
        let code = |t: &str| network_file_as_compose(&doc(t)).map(|d| d.code);
        assert_eq!(
            code("links: [{node: a, bridge: s}]"),
            Some("conlink::source::network_file_as_compose")
        );
        assert_eq!(
            code("name: x\nnodes: [{name: a}]"),
            Some("conlink::source::network_file_as_compose")
        );
        assert_eq!(code("services: {a: {image: x}}\nx-network: {}"), None);
        assert_eq!(code("x-network: {links: []}"), None);
        assert_eq!(code(""), None);
    }

    #[test]
    fn compose_file_as_network_reports_services() {
        let code = |t: &str| compose_file_as_network(&doc(t)).map(|d| d.code);
        assert_eq!(
            code("services: {a: {image: x}}"),
            Some("conlink::source::compose_file_as_network")
        );
        assert_eq!(code("links: [{node: a, bridge: s}]"), None);
        assert_eq!(code("[1, 2]"), None);
    }
}
