//! The command line (docs/cli.md), declared with clap.

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

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
#[derive(ClapArgs, Debug, Clone)]
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
    /// The container engine's socket (Docker's API; Podman's compatible service too).
    /// Default: DOCKER_HOST (unix:// only), else /var/run/docker.sock.
    #[arg(long, global = true, value_name = "PATH")]
    pub engine_socket: Option<PathBuf>,
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

/// `conlink wait`'s options. The conditions (`--file`, `--intf`, `--ip`, `--tcp`,
/// `--cmd`, `--links`) are checked in the order they are given, each `--sleep` applying
/// to the conditions after it, as conlink 2.x's `wait` did; clap keeps each kind in its
/// own list, and `commands::wait` puts them back in order from where each appeared.
#[derive(ClapArgs, Debug)]
pub struct WaitArgs {
    /// Wait until FILE exists.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Wait until interface IFACE exists.
    #[arg(short = 'i', long = "intf", visible_alias = "if", value_name = "IFACE")]
    pub intf: Vec<String>,
    /// Wait until interface IFACE has an IPv4 route in the main table (as an address on
    /// it gives it).
    #[arg(short = 'I', long = "ip", value_name = "IFACE")]
    pub ip: Vec<String>,
    /// Wait until a TCP connection to HOST:PORT succeeds.
    #[arg(short = 't', long = "tcp", value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub tcp: Vec<HostPort>,
    /// Wait until COMMAND succeeds: its words, split at whitespace, run without a shell.
    #[arg(short = 'c', long = "cmd", visible_alias = "command", value_name = "COMMAND",
          value_parser = parse_command_words)]
    pub cmd: Vec<Vec<String>>,
    /// Wait until every link of this container is up (conlink's ready marker is in this
    /// network namespace). The only condition when no other is given.
    #[arg(long)]
    pub links: bool,
    /// Seconds between two checks of the conditions after it (default 1; fractions
    /// allowed).
    #[arg(short = 's', long = "sleep", value_name = "SECONDS", value_parser = parse_seconds)]
    pub sleep: Vec<Duration>,
    /// Give up after SECONDS: exit 1, naming the condition that did not hold.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// The command to run once every condition holds, after `--` (conlink replaces
    /// itself with it); without one, conlink exits 0.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// A `--tcp` target: a host name or address, and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

#[derive(ClapArgs, Debug)]
pub struct CopyArgs {
    /// The directory to copy conlink into (as DIR/conlink); it must exist.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
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
    /// Apply, then follow the container engine's events: wire containers as they start,
    /// unwire them as they stop; remove everything on SIGTERM or SIGINT.
    Run(ApplyArgs),
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
    /// Inside a container: wait until its links are up (or other conditions hold),
    /// then run a command.
    Wait(WaitArgs),
    /// Copy this conlink binary into DIR (a volume shared with other containers).
    Copy(CopyArgs),
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
            Command::Wait(_) => "wait",
            Command::Copy(_) => "copy",
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

/// `HOST:PORT`; an IPv6 address is written in brackets (`[fd00::1]:80`), as in URLs.
fn parse_host_port(s: &str) -> Result<HostPort, String> {
    let bad = || format!("expected HOST:PORT, got `{s}`");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let host = match host.strip_prefix('[') {
        Some(h) => h.strip_suffix(']').ok_or_else(bad)?,
        None if host.contains(':') => {
            return Err(format!(
            "expected HOST:PORT, got `{s}`: write an IPv6 address in brackets, `[{host}]:{port}`"
        ))
        }
        None => host,
    };
    if host.is_empty() {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(HostPort {
            host: host.to_string(),
            port,
        }),
        _ => Err(format!("`{port}` is not a TCP port (1-65535)")),
    }
}

/// A command line split at whitespace, as conlink 2.x's `wait` ran `-c` (no shell, no
/// quoting).
fn parse_command_words(s: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = s.split_whitespace().map(String::from).collect();
    if words.is_empty() {
        return Err("the command is empty".into());
    }
    Ok(words)
}

/// A number of seconds, possibly fractional (`0.5`), not negative.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .ok_or_else(|| format!("`{s}` is not a number of seconds (such as 2 or 0.5)"))
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
