//! conlink's compiler: configuration sources in, a deterministic plan out.
//!
//! Pure data in, data out: the caller reads files and the environment and passes them
//! in; nothing here touches the system. The stages, each gated on the one before
//! reporting no errors (so one mistake does not cascade into many):
//!
//! 1. [`yaml`]: parse every file into a [`node::Node`] tree with spans;
//! 2. [`fragments`]: find the configuration in each document, interpolate it
//!    ([`interpolate`]) and give service-level links their service;
//! 3. [`schema`]: validate each fragment against the generated JSON Schema, then
//!    deserialize it into the [`model`] types ([`de`]);
//! 4. [`merge`]: fold the fragments into one configuration;
//! 5. [`check`]: semantic checks, parsing the small string languages ([`strings`]);
//! 6. [`lower`]: build the [`plan::Plan`].

pub mod check;
pub mod de;
pub mod diag;
pub mod fragments;
pub mod interpolate;
pub mod lower;
pub mod merge;
pub mod model;
pub mod node;
pub mod plan;
pub mod render;
pub mod schema;
pub mod source;
pub mod strings;
pub mod yaml;

use diag::{Diagnostic, Diagnostics};
use interpolate::Env;
use model::{BridgeMode, Config, Target};
use plan::{Plan, ScaleSource, ServiceScale};
use source::{SourceFile, SourceKind, SourceMap};

/// Options that shape the plan (the CLI's common options).
#[derive(Clone, Debug)]
pub struct Options {
    /// `--project`.
    pub project: Option<String>,
    /// Used when nothing else names the project: the compose file's directory name,
    /// chosen by the caller (the compiler does not look at the file system).
    pub project_fallback: String,
    /// `--scale SERVICE=N`, in command-line order.
    pub scale: Vec<(String, u32)>,
    /// `--default-bridge-mode`.
    pub default_bridge_mode: BridgeMode,
    /// Whether Open vSwitch is usable, for `auto` bridges.
    pub ovs_available: bool,
    /// `--default-mtu`.
    pub default_mtu: Option<u32>,
    /// `--keep-veth-offload`.
    pub keep_veth_offload: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            project: None,
            project_fallback: "conlink".into(),
            scale: Vec::new(),
            default_bridge_mode: BridgeMode::Auto,
            ovs_available: false,
            default_mtu: None,
            keep_veth_offload: false,
        }
    }
}

/// The result of a compilation: the plan if there were no errors, and every
/// diagnostic (errors and warnings) either way.
pub struct Compilation {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub plan: Option<Plan>,
}

/// Compiles sources into a plan. `files` may come in any order; compose files are
/// merged before network files, each kind in the order given (config.md §1).
pub fn compile(files: Vec<SourceFile>, env: &Env, opts: &Options) -> Compilation {
    let mut sources = SourceMap::new();
    let mut ordered: Vec<SourceFile> = Vec::with_capacity(files.len());
    let (compose, network): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| f.kind == SourceKind::Compose);
    ordered.extend(compose);
    ordered.extend(network);
    for f in ordered {
        sources.add(f);
    }
    let mut diags = Diagnostics::default();
    let plan = run(&sources, env, opts, &mut diags);
    fill_pointers(&sources, &mut diags);
    diags.sort();
    Compilation {
        sources,
        diagnostics: diags,
        plan,
    }
}

fn run(sources: &SourceMap, env: &Env, opts: &Options, diags: &mut Diagnostics) -> Option<Plan> {
    // 1. Parse.
    let mut docs = Vec::new();
    for (id, file) in sources.files() {
        match yaml::parse(id, &file.text) {
            Ok(node) => docs.push((file.kind, node)),
            Err(errs) => diags.extend(errs),
        }
    }
    if diags.has_errors() {
        return None;
    }

    // 2. Fragments, 3. schema and types.
    let validator = schema::SchemaValidator::new();
    let mut configs = Vec::new();
    let mut compose_name = None;
    let mut compose_replicas: Vec<(String, u32)> = Vec::new();
    for (kind, doc) in docs {
        let (frags, facts, errs) = fragments::extract(kind, doc, env);
        diags.extend(errs);
        if compose_name.is_none() {
            compose_name = facts.name.map(|n| n.value);
        }
        for (svc, n) in facts.services {
            if let Some(n) = n {
                compose_replicas.push((svc.value, n.value));
            }
        }
        for f in frags {
            let errs = validator.validate(&f.node);
            if !errs.is_empty() {
                diags.extend(errs);
                continue;
            }
            match de::from_node::<Config>(&f.node) {
                Ok(cfg) => configs.push(cfg),
                Err(e) => diags.push(
                    Diagnostic::error("conlink::schema::invalid", e.message.clone())
                        .at(e.span, e.message),
                ),
            }
        }
    }
    if diags.has_errors() {
        return None;
    }

    // 4. Merge.
    let cfg = merge::merge(configs);

    // Project and replica counts.
    let project = project_name(opts, env, compose_name, diags)?;
    let services = service_scales(&cfg, &compose_replicas, opts, diags);

    // 5. Check.
    let check_opts = check::CheckOptions {
        default_bridge_mode: opts.default_bridge_mode,
    };
    let (checked, errs) = check::check(&cfg, &check_opts, sources);
    diags.extend(errs);
    if diags.has_errors() {
        return None;
    }

    // 6. Lower.
    let lower_opts = lower::LowerOptions {
        project,
        ovs_available: opts.ovs_available,
        default_mtu: opts.default_mtu,
        keep_veth_offload: opts.keep_veth_offload,
        services,
    };
    match lower::lower(&checked, &lower_opts) {
        Ok(plan) => Some(plan),
        Err(errs) => {
            diags.extend(errs);
            None
        }
    }
}

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

/// The project name (cli.md): `--project`, else `COMPOSE_PROJECT_NAME`, else the compose
/// file's `name:`, else the fallback the caller chose. Compose's own rules apply: lower
/// case letters, digits, `-` and `_`, starting with a letter or digit.
fn project_name(
    opts: &Options,
    env: &Env,
    compose: Option<String>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let (name, from) = if let Some(p) = &opts.project {
        (p.clone(), "--project")
    } else if let Some(p) = env.get("COMPOSE_PROJECT_NAME").filter(|p| !p.is_empty()) {
        (p.clone(), "COMPOSE_PROJECT_NAME")
    } else if let Some(p) = compose {
        (p, "the compose file's `name:`")
    } else {
        // Directory names are normalised as compose does.
        let n: String = opts
            .project_fallback
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
    if !is_valid_project_name(&name) {
        diags.push(
            Diagnostic::error("conlink::project_name", format!("invalid project name `{name}` (from {from})"))
                .help("project names use lower-case letters, digits, `-` and `_`, start with a letter or digit, and have at most 63 characters"),
        );
        return None;
    }
    Some(name)
}

/// Replica counts for every service the configuration targets, in order of first
/// mention: compose's count, overridden by `--scale`.
fn service_scales(
    cfg: &Config,
    compose: &[(String, u32)],
    opts: &Options,
    diags: &mut Diagnostics,
) -> Vec<ServiceScale> {
    let compose: indexmap::IndexMap<&str, u32> =
        compose.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let mut out: indexmap::IndexMap<String, ServiceScale> = indexmap::IndexMap::new();
    let targets = cfg
        .links
        .iter()
        .filter_map(|l| l.target())
        .chain(cfg.commands.iter().filter_map(|c| c.target()));
    for t in targets {
        if let Target::Service(s) = t {
            if !out.contains_key(&s) {
                // Later compose files override earlier ones (the map keeps the last).
                let scale = match compose.get(s.as_str()) {
                    Some(n) => ServiceScale {
                        service: s.clone(),
                        replicas: *n,
                        source: ScaleSource::Compose,
                    },
                    None => ServiceScale {
                        service: s.clone(),
                        replicas: 1,
                        source: ScaleSource::Default,
                    },
                };
                out.insert(s, scale);
            }
        }
    }
    for (svc, n) in &opts.scale {
        match out.get_mut(svc) {
            Some(x) => {
                x.replicas = *n;
                x.source = ScaleSource::ScaleOption;
            }
            None if compose.contains_key(svc.as_str()) => {}
            None => {
                let known: Vec<&str> = out.keys().map(String::as_str).collect();
                let mut d = Diagnostic::error(
                    "conlink::scale_unknown_service",
                    format!("--scale names service `{svc}`, which no link or command targets"),
                );
                if let Some(s) = strings::did_you_mean(svc, &known) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
    }
    out.into_values().collect()
}

/// Fills in the JSON pointer of located diagnostics, for `--format json`. Runs only when
/// there is something to report, so the files are parsed again rather than kept.
fn fill_pointers(sources: &SourceMap, diags: &mut Diagnostics) {
    if diags.is_empty() {
        return;
    }
    let mut trees = std::collections::BTreeMap::new();
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
