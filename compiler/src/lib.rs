//! conlink's compiler: configuration sources in, a deterministic plan out.
//!
//! Pure data in, data out: the caller reads files and the environment and passes them
//! in; nothing here touches the system. [`compile`] runs the stages in order, each one
//! a folder or file of its own, and each gated on the stages before it reporting no
//! errors (so one mistake does not cascade into many):
//!
//! 1. [`load`]: source text to typed configuration fragments (YAML with spans,
//!    fragments found and interpolated, the schema, the [`model`] types);
//! 2. [`merge`]: the fragments folded into one configuration;
//! 3. [`project`]: the project's name;
//! 4. [`check`]: semantic checks, which also parse the small string languages and
//!    settle replica counts;
//! 5. [`lower`]: the [`plan::Plan`].
//!
//! [`render`] turns a plan into text, JSON or a shell script, and a [`graph`] (built
//! by [`compile_graph`] from the checked configuration and its plan) into a drawing. [`plan`] is the contract with the
//! runtime and imports nothing else from here; [`source`] (files, spans) and [`diag`]
//! (diagnostics) are shared by every stage.

pub mod check;
pub mod diag;
pub mod graph;
pub mod load;
pub mod lower;
pub mod merge;
pub mod model;
pub mod plan;
pub mod project;
pub mod render;
pub mod source;

// Paths callers already use, kept where they were before the stages had folders.
pub use check::strings;
pub use load::{interpolate, schema};
pub use project::is_valid_project_name;

use diag::{Diagnostic, Diagnostics};
use interpolate::Env;
use model::BridgeMode;
use plan::Plan;
use source::{SourceFile, SourceKind, SourceMap};

/// Options that shape the plan (the CLI's common options).
#[derive(Clone, Debug)]
pub struct Options {
    /// `--project`.
    pub project: Option<String>,
    /// Used when nothing else names the project: the first file's directory name,
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
/// merged before network files, each kind in the order given (docs/configuration.md,
/// "Sources and merging").
pub fn compile(files: Vec<SourceFile>, env: &Env, opts: &Options) -> Compilation {
    compile_keeping(files, env, opts, |_, _| ()).0
}

/// Compiles sources as [`compile`] does and, when they plan, draws the topology
/// ([`graph::build`]). The graph exists exactly when the plan does.
pub fn compile_graph(
    files: Vec<SourceFile>,
    env: &Env,
    opts: &Options,
) -> (Compilation, Option<graph::Graph>) {
    compile_keeping(files, env, opts, graph::build)
}

/// [`compile`], also giving what `keep` makes of the checked configuration and the plan
/// when there is a plan.
fn compile_keeping<T>(
    files: Vec<SourceFile>,
    env: &Env,
    opts: &Options,
    keep: impl FnOnce(&check::Checked, &Plan) -> T,
) -> (Compilation, Option<T>) {
    let sources = in_merge_order(files);
    let mut diags = Diagnostics::default();
    let stages = run(&sources, env, opts, &mut diags);
    load::fill_pointers(&sources, &mut diags);
    diags.sort();
    let (plan, kept) = match stages {
        Some((checked, plan)) => {
            let kept = keep(&checked, &plan);
            (Some(plan), Some(kept))
        }
        None => (None, None),
    };
    let compilation = Compilation {
        sources,
        diagnostics: diags,
        plan,
    };
    (compilation, kept)
}

/// The configuration the sources give, loaded and merged: interpolated, schema-valid,
/// not checked any further (`conlink run --show-config`). There is a configuration
/// exactly when loading found no error.
pub struct Merged {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub config: Option<model::Config>,
}

/// Runs the first two stages, [`load`] and [`merge`], on sources given in any order, as
/// [`compile`] does.
pub fn load_merged(files: Vec<SourceFile>, env: &Env) -> Merged {
    let sources = in_merge_order(files);
    let mut diags = Diagnostics::default();
    let loaded = gate(&mut diags, load::load(&sources, env));
    let config = loaded.map(|l| merge::merge(l.fragments));
    load::fill_pointers(&sources, &mut diags);
    diags.sort();
    Merged {
        sources,
        diagnostics: diags,
        config,
    }
}

/// The files in a source map, compose files first, each kind in the order given
/// (docs/configuration.md, "Sources and merging").
fn in_merge_order(files: Vec<SourceFile>) -> SourceMap {
    let mut sources = SourceMap::new();
    let (compose, network): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| f.kind == SourceKind::Compose);
    for f in compose.into_iter().chain(network) {
        sources.add(f);
    }
    sources
}

/// The stages, in order; the checked configuration comes back with the plan.
fn run(
    sources: &SourceMap,
    env: &Env,
    opts: &Options,
    diags: &mut Diagnostics,
) -> Option<(check::Checked, Plan)> {
    let loaded = gate(diags, load::load(sources, env))?;
    let cfg = merge::merge(loaded.fragments);
    let project = project::project_name(
        opts.project.as_deref(),
        &opts.project_fallback,
        env,
        loaded.compose_name,
    );
    let project = gate(diags, project)?;
    let check_opts = check::CheckOptions {
        default_bridge_mode: opts.default_bridge_mode,
        compose_replicas: loaded.compose_replicas,
        scale: opts.scale.clone(),
    };
    let checked = gate(diags, check::check(&cfg, &check_opts, sources))?;
    let lower_opts = lower::LowerOptions {
        project,
        ovs_available: opts.ovs_available,
        default_mtu: opts.default_mtu,
        keep_veth_offload: opts.keep_veth_offload,
    };
    let plan = gate(diags, lower::lower(&checked, &lower_opts))?;
    Some((checked, plan))
}

/// Takes a stage's diagnostics; its output goes on to the next stage only if nothing
/// reported so far is an error.
fn gate<T>(diags: &mut Diagnostics, (output, found): (T, Vec<Diagnostic>)) -> Option<T> {
    diags.extend(found);
    (!diags.has_errors()).then_some(output)
}
