//! The command line (docs/cli.md), declared with clap.

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "conlink",
    version,
    about = "Declarative low-level (layer 2 and 3) networking between containers"
)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(ClapArgs, Debug)]
pub struct Common {
    /// More messages on stderr: `-v` each step as apply, status and destroy go through
    /// it; `-vv` with timings.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When another run is changing the project (apply, destroy), fail at once naming
    /// it, instead of waiting for it.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Project name (default: COMPOSE_PROJECT_NAME, else the compose file's `name:`, else
    /// the first file's directory name; `destroy` and `exec` without files: the one
    /// project on this machine).
    #[arg(long, global = true, value_parser = parse_project)]
    pub project: Option<String>,
    /// Where state is kept.
    #[arg(long, global = true, default_value = "/run/conlink")]
    pub state_dir: PathBuf,
    /// Mode of bridges that do not set one.
    #[arg(long, global = true, value_enum, default_value_t = BridgeModeArg::Auto)]
    pub default_bridge_mode: BridgeModeArg,
    /// MTU of veth and dummy links that do not set one (default 65535).
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(68..=65535))]
    pub default_mtu: Option<u32>,
    /// Keep the kernel's offload settings on veth links (no `ethtool -K tx off`).
    #[arg(long, global = true)]
    pub keep_veth_offload: bool,
    /// Whether Open vSwitch counts as usable for `auto` bridges: `detect` looks for an
    /// OVSDB socket.
    #[arg(long, global = true, value_enum, default_value_t = OvsArg::Detect)]
    pub ovs: OvsArg,
    /// Where bridges, outer veth ends and tunnels live: `own`, a namespace conlink
    /// creates for the project; `current`, the namespace conlink runs in; `auto`,
    /// `current` inside a container, else `own`.
    #[arg(long, global = true, value_enum, default_value_t = ConlinkNsArg::Auto)]
    pub conlink_netns: ConlinkNsArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConlinkNsArg {
    Auto,
    Own,
    Current,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BridgeModeArg {
    Auto,
    Linux,
    Ovs,
    Patch,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OvsArg {
    Detect,
    Yes,
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Where the configuration comes from.
#[derive(ClapArgs, Debug)]
pub struct Sources {
    /// Network file (YAML or JSON); repeatable; a colon-separated list is allowed.
    #[arg(short = 'n', long = "network-file", value_name = "FILE")]
    pub network_files: Vec<String>,
    /// Compose file whose `x-network` keys hold configuration; repeatable; a
    /// colon-separated list is allowed (so $COMPOSE_FILE can be passed through).
    #[arg(short = 'c', long = "compose-file", value_name = "FILE")]
    pub compose_files: Vec<String>,
}

#[derive(ClapArgs, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// `text`: rustc-style diagnostics on stderr; `json`: a JSON array on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Replica count of a compose service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
}

#[derive(ClapArgs, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Replica count of a compose service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
}

/// Commands that need only the project name: `--project`, or the same sources
/// `apply` was given (to derive it the same way).
#[derive(ClapArgs, Debug)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub sources: Sources,
}

#[derive(ClapArgs, Debug)]
pub struct SchemaArgs {
    /// Print the schema of the plan's JSON form instead of the configuration's.
    #[arg(long)]
    pub plan: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check configuration: every error, with file, line and column.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the configuration language.
    Schema(SchemaArgs),
    /// Print the plan: the ordered kernel-level steps `apply` would run.
    Plan(ValidateArgs),
    /// Build the network: carry out the plan, skipping what is already in place.
    Apply(ApplyArgs),
    /// Remove everything conlink created for the project.
    Destroy(ProjectArgs),
    /// Apply, then follow container events (not implemented yet).
    Run(Sources),
    /// Run a command inside a node's namespace.
    Exec {
        #[command(flatten)]
        project: ProjectArgs,
        /// The node.
        node: String,
        /// The command and its arguments (after `--`).
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Compare the live system with the plan: what is missing, extra or different.
    Status(ApplyArgs),
    /// Draw the topology (not implemented yet).
    Graph(Sources),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Validate(_) => "validate",
            Command::Schema(_) => "schema",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Destroy(_) => "destroy",
            Command::Run(_) => "run",
            Command::Exec { .. } => "exec",
            Command::Status(_) => "status",
            Command::Graph(_) => "graph",
        }
    }
}

/// A project name is checked where it is given, so that a bad one is the same usage
/// error for every command.
fn parse_project(s: &str) -> Result<String, String> {
    if compiler::is_valid_project_name(s) {
        Ok(s.to_string())
    } else {
        Err("a project name has at most 63 lower-case letters, digits, `-` and `_`, and starts with a letter or digit".into())
    }
}

fn parse_scale(s: &str) -> Result<(String, u32), String> {
    let (svc, n) = s
        .split_once('=')
        .ok_or_else(|| format!("expected SERVICE=N, got `{s}`"))?;
    if svc.is_empty() {
        return Err(format!("expected SERVICE=N, got `{s}`"));
    }
    let n: u32 = n
        .parse()
        .map_err(|_| format!("`{n}` is not a replica count (a whole number)"))?;
    Ok((svc.to_string(), n))
}
