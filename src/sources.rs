//! Reading the configuration sources the command line names, and everything else the
//! compiler needs from the system (the environment, the project's fallback name, whether
//! Open vSwitch runs). The compiler itself never touches the system.

use crate::cli::{BridgeModeArg, Common, OvsArg, Sources};
use compiler::interpolate::Env;
use compiler::model::BridgeMode;
use compiler::source::{SourceFile, SourceKind};
use std::path::Path;

/// Why the sources could not be read.
pub enum ReadError {
    /// No source was named: a usage error.
    NoSources(String),
    /// A named file could not be read.
    Unreadable(String),
}

/// Reads every named file. Colon-separated lists are split (docs/configuration.md,
/// "Sources and merging").
pub fn read(sources: &Sources) -> Result<Vec<SourceFile>, ReadError> {
    let mut files = Vec::new();
    let named = sources
        .compose_files
        .iter()
        .map(|v| (v, SourceKind::Compose))
        .chain(
            sources
                .network_files
                .iter()
                .map(|v| (v, SourceKind::Network)),
        );
    for (value, kind) in named {
        for path in value.split(':').filter(|p| !p.is_empty()) {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ReadError::Unreadable(format!("cannot read {path}: {e}")))?;
            files.push(SourceFile::new(path, text, kind));
        }
    }
    if files.is_empty() {
        return Err(ReadError::NoSources(
            "no configuration given: name at least one --network-file (-n) or --compose-file (-c)"
                .into(),
        ));
    }
    Ok(files)
}

/// The process environment, for interpolation.
pub fn env() -> Env {
    std::env::vars().collect()
}

/// Compiler options from the common command-line options.
pub fn options(common: &Common, sources: &Sources, scale: &[(String, u32)]) -> compiler::Options {
    compiler::Options {
        project: common.project.clone(),
        project_fallback: fallback_project(sources),
        scale: scale.to_vec(),
        default_bridge_mode: match common.default_bridge_mode {
            BridgeModeArg::Auto => BridgeMode::Auto,
            BridgeModeArg::Linux => BridgeMode::Linux,
            BridgeModeArg::Ovs => BridgeMode::Ovs,
            BridgeModeArg::Patch => BridgeMode::Patch,
        },
        ovs_available: match common.ovs {
            OvsArg::Yes => true,
            OvsArg::No => false,
            OvsArg::Detect => ovs_detected(),
        },
        default_mtu: common.default_mtu,
        keep_veth_offload: common.keep_veth_offload,
    }
}

/// The name of the directory of the first file, as compose names a project after its
/// first compose file's directory: the first compose file, else the first network file
/// (the merge order, docs/configuration.md "Sources and merging"). Two projects in two
/// directories are then two projects, where a shared default name made the second
/// `apply` replace the first.
fn fallback_project(sources: &Sources) -> String {
    let first = |values: &[String]| {
        values
            .iter()
            .flat_map(|v| v.split(':'))
            .find(|p| !p.is_empty())
            .map(str::to_string)
    };
    first(&sources.compose_files)
        .or_else(|| first(&sources.network_files))
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| {
            p.parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "conlink".into())
}

/// Open vSwitch counts as usable when its database socket exists.
fn ovs_detected() -> bool {
    let dir = std::env::var("OVS_RUNDIR").unwrap_or_else(|_| "/run/openvswitch".into());
    Path::new(&dir).join("db.sock").exists()
}
