//! The command line (docs/cli.md), declared with clap.

use clap::parser::ValueSource;
use clap::{
    ArgMatches, Args as ClapArgs, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "conlink",
    version,
    about = "Declarative low-level (layer 2 and 3) networking between containers",
    after_help = "Options before the command apply to it when it takes them (`conlink --ovs no plan …`); \
each command's --help lists the options it takes."
)]
pub struct Args {
    // Every group is also accepted before the command, where conlink has always taken
    // its options; a group the command does not take is ignored there.
    #[command(flatten)]
    pub verbose: VerboseOption,
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub config: ConfigOptions,
    #[command(flatten)]
    pub runtime: RuntimeOptions,
    /// The options of every group as the command reads them, with the defaults of the
    /// groups it does not take; filled in by [`Args::parse_with_matches`].
    #[arg(skip)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

impl Args {
    /// Parses the command line; also returns clap's matches, where `wait` sees the
    /// order of its conditions.
    pub fn parse_with_matches() -> (Args, ArgMatches) {
        let matches = Args::command().get_matches();
        let mut args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Some((_, sub)) = matches.subcommand() {
            args.common = Common::from_matches(&matches, sub);
        }
        (args, matches)
    }
}

// ---------------------------------------------------------------------------------
// Option groups. Each command takes the groups it uses, and its `--help` shows only
// those (docs/cli.md, "Common options"): a command's arguments struct flattens a group
// with one line each, e.g. `#[command(flatten)] pub runtime: RuntimeOptions,`, and
// [`Common::from_matches`] finds the values by their ids (the fields' names) whichever
// command took them.

/// `-v`: for the commands that report progress (validate, apply, status, destroy,
/// wait, run).
#[derive(ClapArgs, Debug)]
pub struct VerboseOption {
    /// More messages on stderr: `-v` each step as apply, status and destroy go through
    /// it; `-vv` with timings.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// How the configuration is compiled: for the commands that compile it (validate,
/// plan, graph, apply, status, run).
#[derive(ClapArgs, Debug)]
#[command(next_help_heading = "Configuration options")]
pub struct ConfigOptions {
    /// Mode of bridges that do not set one.
    #[arg(long, env = "CONLINK_BRIDGE_MODE", value_enum, value_name = "MODE", default_value_t = BridgeModeArg::Auto)]
    pub default_bridge_mode: BridgeModeArg,
    /// MTU of veth and dummy links that do not set one (default 65535).
    #[arg(long, value_name = "MTU", value_parser = clap::value_parser!(u32).range(68..=65535))]
    pub default_mtu: Option<u32>,
    /// Keep the kernel's offload settings on veth links (no `ethtool -K tx off`).
    #[arg(long)]
    pub keep_veth_offload: bool,
    /// Whether Open vSwitch counts as usable for `auto` bridges: `detect` looks for an
    /// OVSDB socket.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = OvsArg::Detect)]
    pub ovs: OvsArg,
}

/// Where and how conlink works on the live system: for the commands that change or
/// read it (apply, destroy, status, run, exec).
#[derive(ClapArgs, Debug)]
#[command(next_help_heading = "Runtime options")]
pub struct RuntimeOptions {
    /// Where state is kept.
    #[arg(long, value_name = "DIR", default_value = "/run/conlink")]
    pub state_dir: PathBuf,
    /// When another run is changing the project (apply, destroy), fail at once naming
    /// it, instead of waiting for it.
    #[arg(long)]
    pub no_wait: bool,
    /// Where bridges, outer veth ends and tunnels live: `own`, a namespace conlink
    /// creates for the project; `current`, the namespace conlink runs in; `auto`,
    /// `current` inside a container, else `own`.
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = ConlinkNsArg::Auto)]
    pub conlink_netns: ConlinkNsArg,
    /// The container engine's socket (Docker's API; Podman's compatible service too;
    /// `--docker-socket` is conlink 2.x's name for it); wins over --podman-socket.
    /// Default: DOCKER_HOST (unix:// only), else /var/run/docker.sock when it exists,
    /// else Podman's socket.
    #[arg(long, visible_alias = "docker-socket", value_name = "PATH")]
    pub engine_socket: Option<PathBuf>,
    /// Podman's API socket, used unless --engine-socket is given (it wins over
    /// DOCKER_HOST). Default /run/podman/podman.sock, when /var/run/docker.sock does
    /// not exist and DOCKER_HOST is not set.
    #[arg(long, value_name = "PATH")]
    pub podman_socket: Option<PathBuf>,
}

/// The project's name: for every command that works on a project.
#[derive(ClapArgs, Debug)]
pub struct ProjectOption {
    /// Project name (default: COMPOSE_PROJECT_NAME, else the compose file's `name:`, else
    /// the first file's directory name; `destroy` and `exec` without files: the one
    /// project on this machine).
    #[arg(long, visible_alias = "compose-project", value_name = "NAME", value_parser = parse_project)]
    pub project: Option<String>,
}

/// The options of all groups together, as the commands read them: a group the command
/// does not take has its defaults.
#[derive(Debug, Clone)]
pub struct Common {
    pub verbose: u8,
    pub no_wait: bool,
    pub project: Option<String>,
    pub state_dir: PathBuf,
    pub default_bridge_mode: BridgeModeArg,
    pub default_mtu: Option<u32>,
    pub keep_veth_offload: bool,
    pub ovs: OvsArg,
    pub conlink_netns: ConlinkNsArg,
    pub engine_socket: Option<PathBuf>,
    pub podman_socket: Option<PathBuf>,
}

/// The defaults the options show in `--help`.
impl Default for Common {
    fn default() -> Common {
        Common {
            verbose: 0,
            no_wait: false,
            project: None,
            state_dir: PathBuf::from("/run/conlink"),
            default_bridge_mode: BridgeModeArg::Auto,
            default_mtu: None,
            keep_veth_offload: false,
            ovs: OvsArg::Detect,
            conlink_netns: ConlinkNsArg::Auto,
            engine_socket: None,
            podman_socket: None,
        }
    }
}

impl Common {
    /// The values from the command line: an option given to the command (`sub`) wins
    /// over one given before it (`top`), which wins over the default. An option the
    /// command does not take is unknown to its matches (asked with `try_` methods,
    /// which say so rather than panic) and is read from `top` only.
    pub fn from_matches(top: &ArgMatches, sub: &ArgMatches) -> Common {
        // What `m` holds for `id` when it came from `from` (the command line, or an
        // environment variable an option reads, such as `CONLINK_BRIDGE_MODE`); never a
        // default, which would hide a value given before the command.
        fn from<T: Clone + Send + Sync + 'static>(
            m: &ArgMatches,
            id: &str,
            from: ValueSource,
        ) -> Option<T> {
            if m.try_contains_id(id).ok()? && m.value_source(id)? == from {
                m.try_get_one::<T>(id).ok().flatten().cloned()
            } else {
                None
            }
        }
        fn given<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
            from(m, id, ValueSource::CommandLine)
        }
        // The command line first (after the command, then before it), then the
        // environment.
        fn get<T: Clone + Send + Sync + 'static>(
            top: &ArgMatches,
            sub: &ArgMatches,
            id: &str,
        ) -> Option<T> {
            given(sub, id)
                .or_else(|| given(top, id))
                .or_else(|| from(sub, id, ValueSource::EnvVariable))
                .or_else(|| from(top, id, ValueSource::EnvVariable))
        }
        let d = Common::default();
        let count = |m: &ArgMatches| given::<u8>(m, "verbose").unwrap_or(0);
        Common {
            verbose: match count(top).saturating_add(count(sub)) {
                // conlink 2.x's VERBOSE=1 (any value but empty, 0 or false).
                0 if verbose_from_env() => 1,
                n => n,
            },
            no_wait: get(top, sub, "no_wait").unwrap_or(d.no_wait),
            project: get(top, sub, "project"),
            state_dir: get(top, sub, "state_dir").unwrap_or(d.state_dir),
            default_bridge_mode: get(top, sub, "default_bridge_mode")
                .unwrap_or(d.default_bridge_mode),
            default_mtu: get(top, sub, "default_mtu"),
            keep_veth_offload: get(top, sub, "keep_veth_offload").unwrap_or(d.keep_veth_offload),
            ovs: get(top, sub, "ovs").unwrap_or(d.ovs),
            conlink_netns: get(top, sub, "conlink_netns").unwrap_or(d.conlink_netns),
            engine_socket: get(top, sub, "engine_socket"),
            podman_socket: get(top, sub, "podman_socket"),
        }
    }
}

/// Whether `VERBOSE` asks for messages, as conlink 2.x read it.
fn verbose_from_env() -> bool {
    std::env::var("VERBOSE").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
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

/// How `validate` reports problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Github,
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
    /// Files to check one by one, each on its own (as pre-commit passes them): a
    /// compose file when it has `services`, else a network file; one that configures
    /// nothing (a compose file without `x-network`) passes.
    #[arg(value_name = "FILE", conflicts_with_all = ["network_files", "compose_files"])]
    pub files: Vec<String>,
    /// How to report problems: `text`, rustc-style diagnostics on stderr; `json`, a
    /// JSON array on stdout; `github`, GitHub Actions annotations on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Replica count of a compose service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub verbose: VerboseOption,
    #[command(flatten)]
    pub config: ConfigOptions,
}

/// `conlink plan`'s forms (docs/cli.md, "plan").
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// One command line per step, grouped by unit.
    Text,
    /// The plan as data.
    Json,
    /// A POSIX shell script that builds the network (for people; conlink never runs it).
    Script,
}

#[derive(ClapArgs, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// The plan's form on stdout: `text`, one line per step, written as the command a
    /// person would type, with its undo; `json`, the plan as JSON (its schema: `conlink
    /// schema --plan`); `script`, a POSIX shell script of `ip`, `tc`, `nft`, … that
    /// builds the same network, for people to read or run (conlink never runs it).
    /// Problems go to stderr as rustc-style diagnostics whatever the form.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Replica count of a compose service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub config: ConfigOptions,
}

/// `conlink graph`'s drawings (docs/cli.md, "graph").
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormatArg {
    /// Graphviz (`dot -Tpng`).
    Dot,
    /// A Mermaid flowchart, for Markdown on GitHub and GitLab.
    Mermaid,
    /// The graph as data.
    Json,
    /// A picture laid out by conlink itself: no Graphviz needed.
    Svg,
}

#[derive(ClapArgs, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// The drawing's language.
    #[arg(long, value_enum, default_value_t = GraphFormatArg::Dot)]
    pub format: GraphFormatArg,
    /// Replica count of a compose service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub config: ConfigOptions,
}

/// `apply` and `status`: compile the configuration and work on the live system.
#[derive(ClapArgs, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// `text`: lines for people; `json`: one JSON document on stdout, for CI and tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Replica count of a compose service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
    #[command(flatten)]
    pub groups: LiveGroups,
}

/// The option groups of the commands that compile the configuration and work on the
/// live system (`apply`, `status`, `run`), after their own options.
#[derive(ClapArgs, Debug)]
pub struct LiveGroups {
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub verbose: VerboseOption,
    #[command(flatten)]
    pub config: ConfigOptions,
    #[command(flatten)]
    pub runtime: RuntimeOptions,
}

/// `run`: what `apply` takes, without a report format (it runs until stopped, and says
/// what it does on stderr).
#[derive(ClapArgs, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Replica count of a compose service, overriding the compose file (repeatable);
    /// replicas the engine starts beyond it are planned when they start.
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
    /// conlink 2.x's option naming its schema file: accepted and ignored (conlink's
    /// schema is built in; `conlink schema` prints it).
    #[arg(long, value_name = "FILE")]
    pub config_schema: Option<PathBuf>,
    /// Print the configuration as read, merged and interpolated (JSON, which reads back
    /// as a network file), and exit: conlink 2.x's option. Needs no engine.
    #[arg(long)]
    pub show_config: bool,
    #[command(flatten)]
    pub groups: LiveGroups,
}

/// Commands that need only the project name: `--project`, or the same sources
/// `apply` was given (to derive it the same way).
#[derive(ClapArgs, Debug)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub sources: Sources,
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub verbose: VerboseOption,
    #[command(flatten)]
    pub runtime: RuntimeOptions,
}

#[derive(ClapArgs, Debug)]
pub struct SchemaArgs {
    /// Print the schema of the plan's JSON form instead of the configuration's.
    #[arg(long, conflicts_with = "compose")]
    pub plan: bool,
    /// Print the schema for compose files with conlink's `x-network`, for editors: the
    /// compose specification's schema plus the configuration's.
    #[arg(long)]
    pub compose: bool,
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
    /// The project whose ready marker `--links` looks for.
    #[command(flatten)]
    pub project: ProjectOption,
    #[command(flatten)]
    pub verbose: VerboseOption,
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

#[derive(ClapArgs, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

#[derive(ClapArgs, Debug)]
pub struct ManArgs {
    /// Write conlink.1 and a conlink-COMMAND.1 page per command into DIR instead of
    /// printing conlink.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check configuration: every error, with file, line and column.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the configuration language.
    Schema(SchemaArgs),
    /// Print the plan: the ordered kernel-level steps `apply` would run.
    Plan(PlanArgs),
    /// Build the network: carry out the plan, skipping what is already in place.
    Apply(ApplyArgs),
    /// Remove everything conlink created for the project.
    Destroy(ProjectArgs),
    /// Apply, then follow the container engine's events: wire containers as they start,
    /// unwire them as they stop; remove everything on SIGTERM or SIGINT.
    Run(RunArgs),
    /// Run a command inside a node's namespace.
    Exec {
        /// The node.
        node: String,
        /// The command and its arguments (after `--`).
        #[arg(last = true, required = true)]
        command: Vec<String>,
        #[command(flatten)]
        project: ProjectArgs,
    },
    /// Compare the live system with the plan: what is missing, extra or different.
    Status(ApplyArgs),
    /// Draw the topology: targets, bridges, links, tunnels (dot, mermaid, json, svg).
    Graph(GraphArgs),
    /// Inside a container: wait until its links are up (or other conditions hold),
    /// then run a command.
    Wait(WaitArgs),
    /// Copy this conlink binary into DIR (a volume shared with other containers).
    Copy(CopyArgs),
    /// Print a completion script for bash, zsh or fish.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one per command with --dir.
    Man(ManArgs),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn common(argv: &[&str]) -> Common {
        let matches = Args::command()
            .try_get_matches_from(std::iter::once("conlink").chain(argv.iter().copied()))
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let (_, sub) = matches.subcommand().expect("a command");
        Common::from_matches(&matches, sub)
    }

    /// conlink 2.x's option names are accepted for the same options.
    #[test]
    fn conlink_2x_option_names() {
        let c = common(&[
            "run",
            "-c",
            "compose.yaml",
            "--compose-project",
            "lab",
            "--docker-socket",
            "/d.sock",
            "--podman-socket",
            "/p.sock",
        ]);
        assert_eq!(c.project.as_deref(), Some("lab"));
        assert_eq!(c.engine_socket, Some(PathBuf::from("/d.sock")));
        assert_eq!(c.podman_socket, Some(PathBuf::from("/p.sock")));
        let matches = Args::command()
            .try_get_matches_from(["conlink", "run", "--config-schema", "/app/schema.yaml"])
            .unwrap();
        let args = Args::from_arg_matches(&matches).unwrap();
        match args.command {
            Command::Run(r) => {
                assert_eq!(r.config_schema, Some(PathBuf::from("/app/schema.yaml")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    /// An option given to the command wins over one given before it, which wins over
    /// the default; each group's values are found whichever command took the group.
    #[test]
    fn options_before_and_after_the_command() {
        let c = common(&[
            "--default-mtu",
            "1400",
            "--ovs",
            "no",
            "plan",
            "-n",
            "x",
            "--default-mtu",
            "1300",
        ]);
        assert_eq!((c.default_mtu, c.ovs as u8), (Some(1300), OvsArg::No as u8));
        let c = common(&["--default-mtu", "1400", "plan", "-n", "x"]);
        assert_eq!(c.default_mtu, Some(1400));
        let c = common(&["plan", "-n", "x"]);
        assert_eq!(
            (c.default_mtu, c.state_dir.as_os_str()),
            (None, "/run/conlink".as_ref())
        );

        // Given before a command that does not take it: accepted, as always, and unused.
        let c = common(&["--ovs", "yes", "--state-dir", "/s", "destroy"]);
        assert_eq!(c.state_dir, PathBuf::from("/s"));
        assert!(matches!(c.ovs, OvsArg::Yes));

        let c = common(&[
            "-v",
            "apply",
            "-n",
            "x",
            "-v",
            "--state-dir",
            "/a",
            "--no-wait",
            "--conlink-netns",
            "current",
            "--keep-veth-offload",
            "--default-bridge-mode",
            "patch",
            "--project",
            "p",
        ]);
        assert_eq!(c.verbose, 2);
        assert_eq!(c.state_dir, PathBuf::from("/a"));
        assert!(c.no_wait && c.keep_veth_offload);
        assert_eq!(c.conlink_netns, ConlinkNsArg::Current);
        assert!(matches!(c.default_bridge_mode, BridgeModeArg::Patch));
        assert_eq!(c.project.as_deref(), Some("p"));

        for argv in [
            &["validate", "-n", "x", "--project", "q"][..],
            &["destroy", "--project", "q"],
            &["exec", "--project", "q", "n", "--", "true"],
            &["wait", "--project", "q"],
        ] {
            assert_eq!(common(argv).project.as_deref(), Some("q"), "{argv:?}");
        }
    }

    /// A command refuses an option of a group it does not take.
    #[test]
    fn commands_refuse_options_they_do_not_use() {
        for argv in [
            &["schema", "--state-dir", "/x"][..],
            &["validate", "-n", "x", "--state-dir", "/x"],
            &["plan", "-n", "x", "--no-wait"],
            &["destroy", "--default-mtu", "1500"],
            &["copy", "/x", "--project", "p"],
        ] {
            let r = Args::command()
                .try_get_matches_from(std::iter::once("conlink").chain(argv.iter().copied()));
            assert!(r.is_err(), "{argv:?} was accepted");
        }
    }
}
