//! Loading: the text of every source file in, typed configuration fragments out
//! (docs/configuration.md, "Sources and merging" and "Interpolation").
//!
//! Two steps, the second only when the first found no error (a file that is not YAML
//! has nothing more to say):
//!
//! 1. every file is parsed into a [`node::Node`] tree with spans ([`yaml`]);
//! 2. each document is checked to be the kind of file it was given as ([`kind`]), then
//!    its configuration fragments are found and interpolated ([`fragments`],
//!    [`interpolate`]), validated against the JSON Schema generated from
//!    the model ([`schema`]) and deserialized into the [`crate::model`] types ([`de`]).
//!
//! The trees are dropped once the typed fragments exist; [`fill_pointers`] parses a
//! file again only when a diagnostic about it needs a JSON pointer.

pub mod de;
pub mod fragments;
pub mod interpolate;
pub mod kind;
pub mod node;
pub mod schema;
pub mod yaml;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Config;
use crate::source::{SourceKind, SourceMap};
use interpolate::Env;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The schema validator, built on first use and kept for the life of the process:
/// building it (generating the schema, compiling its patterns) costs more than
/// loading a small configuration, and the schema cannot change while the process
/// runs. Tests and the fuzzing harness compile thousands of inputs in one process.
static VALIDATOR: LazyLock<schema::SchemaValidator> = LazyLock::new(schema::SchemaValidator::new);

/// What the sources hold, ready to merge.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every configuration fragment, in merge order.
    pub fragments: Vec<Config>,
    /// The project name the first compose file that gives one gives (`name:`).
    pub compose_name: Option<String>,
    /// Replica counts compose files give, in file order (a later file's count for a
    /// service overrides an earlier one's).
    pub compose_replicas: Vec<(String, u32)>,
}

/// Reads every source, in the source map's order (which is the merge order).
pub fn load(sources: &SourceMap, env: &Env) -> (Loaded, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut docs = Vec::new();
    for (id, file) in sources.files() {
        match yaml::parse(id, &file.text) {
            Ok(node) => docs.push((file.kind, node)),
            Err(errs) => diags.extend(errs),
        }
    }
    let mut loaded = Loaded::default();
    if diags.iter().any(Diagnostic::is_error) {
        return (loaded, diags);
    }
    for (kind, doc) in docs {
        read_document(kind, doc, env, &VALIDATOR, &mut loaded, &mut diags);
    }
    (loaded, diags)
}

/// Finds one document's fragments and what it says about the compose project, and
/// turns each fragment that passes the schema into a typed [`Config`].
fn read_document(
    kind: SourceKind,
    doc: node::Node,
    env: &Env,
    validator: &schema::SchemaValidator,
    loaded: &mut Loaded,
    diags: &mut Vec<Diagnostic>,
) {
    let (frags, facts, errs) = fragments::extract(kind, doc, env);
    diags.extend(errs);
    if loaded.compose_name.is_none() {
        loaded.compose_name = facts.name.map(|n| n.value);
    }
    for (service, replicas) in facts.services {
        if let Some(n) = replicas {
            loaded.compose_replicas.push((service.value, n.value));
        }
    }
    for f in frags {
        let errs = validator.validate(&f.node);
        if !errs.is_empty() {
            diags.extend(errs);
            continue;
        }
        match de::from_node::<Config>(&f.node) {
            Ok(cfg) => loaded.fragments.push(cfg),
            Err(e) => diags.push(
                Diagnostic::error("conlink::schema::invalid", e.message.clone())
                    .at(e.span, e.message),
            ),
        }
    }
}

/// Fills in the JSON pointer of located diagnostics, for `--format json`. Runs only when
/// there is something to report, so the files are parsed again rather than kept.
pub fn fill_pointers(sources: &SourceMap, diags: &mut Diagnostics) {
    if diags.is_empty() {
        return;
    }
    let mut trees = BTreeMap::new();
    for d in diags.0.iter_mut().filter(|d| d.pointer.is_none()) {
        let Some(l) = &d.primary else { continue };
        let tree = trees
            .entry(l.span.file)
            .or_insert_with(|| yaml::parse(l.span.file, &sources.get(l.span.file).text).ok());
        if let Some(t) = tree {
            d.pointer = t.pointer_of(l.span);
        }
    }
}
