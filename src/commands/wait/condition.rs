//! One condition of `conlink wait`, and how it is checked once.
//!
//! The conditions of conlink 2.x's `wait` keep 2.x's meaning: a file exists (as
//! `test -e`), an interface exists, an interface has an IPv4 route in the main table
//! (what 2.x read in `/proc/net/route`, read here through netlink), a TCP connection
//! succeeds, a command succeeds (its words split at whitespace and run without a
//! shell, as 2.x's script ran `${arg}`). `Links` is conlink's own: the ready marker
//! (docs/plan.md, "Units") is on an interface of this namespace.

use super::kernel::Probe;
use crate::cli::HostPort;
use compiler::plan::{ready_altname, ready_project};
use std::fmt;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The longest one TCP connection attempt may take (2.x gave `nc` one second).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a `-c` command that is still running is looked at, when it must end by a
/// deadline.
const COMMAND_POLL: Duration = Duration::from_millis(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `-f FILE`
    File(PathBuf),
    /// `-i IFACE`
    Interface(String),
    /// `-I IFACE`
    Route(String),
    /// `-t HOST:PORT`
    Tcp(HostPort),
    /// `-c COMMAND`, as words.
    Command(Vec<String>),
    /// `--links`: the ready marker of this project (`--project`), or of any.
    Links(Option<String>),
}

/// What one check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// It holds: what to say.
    Met(String),
    /// It does not hold yet.
    NotYet,
    /// It does not hold, for a reason worth saying once (a command that cannot be
    /// started, a name that does not resolve); it is checked again all the same.
    Trouble(String),
}

impl Condition {
    /// Whether it depends on the namespace's interfaces or routes, so the kernel's
    /// announcement of a change is a reason to check again at once.
    pub fn watches_kernel(&self) -> bool {
        matches!(
            self,
            Condition::Interface(_) | Condition::Route(_) | Condition::Links(_)
        )
    }

    /// Checks it once. A command still running at `deadline` is stopped and counts
    /// as failed. An error means it cannot be checked at all (no netlink socket).
    pub fn check(&self, probe: &mut Probe, deadline: Option<Instant>) -> Result<Found, String> {
        let met = |yes: bool, what: String| if yes { Found::Met(what) } else { Found::NotYet };
        Ok(match self {
            Condition::File(path) => met(path.exists(), format!("file {} exists", path.display())),
            Condition::Interface(name) => {
                let there = probe.links()?.iter().any(|l| l.name == *name);
                met(there, format!("interface {name} exists"))
            }
            Condition::Route(name) => {
                let index = probe
                    .links()?
                    .iter()
                    .find(|l| l.name == *name)
                    .map(|l| l.index);
                let routed = match index {
                    Some(i) => !probe.main_routes_through(i)?.is_empty(),
                    None => false,
                };
                met(routed, format!("interface {name} has an IPv4 route"))
            }
            Condition::Tcp(target) => connect(target, deadline),
            Condition::Command(words) => run(words, deadline),
            Condition::Links(project) => {
                let wanted = project.as_deref().map(ready_altname);
                let marked = probe.links()?.into_iter().find_map(|l| {
                    let alt = l.altnames.into_iter().find(|a| match &wanted {
                        Some(w) => a == w,
                        None => ready_project(a).is_some(),
                    })?;
                    Some((l.name, alt))
                });
                match marked {
                    Some((name, alt)) => Found::Met(format!("links are up ({alt} on {name})")),
                    None => Found::NotYet,
                }
            }
        })
    }
}

/// The condition as it was written (`-i eth0`), for messages.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::File(p) => write!(f, "-f {}", p.display()),
            Condition::Interface(n) => write!(f, "-i {n}"),
            Condition::Route(n) => write!(f, "-I {n}"),
            Condition::Tcp(t) if t.host.contains(':') => write!(f, "-t [{}]:{}", t.host, t.port),
            Condition::Tcp(t) => write!(f, "-t {}:{}", t.host, t.port),
            Condition::Command(words) => write!(f, "-c '{}'", words.join(" ")),
            Condition::Links(Some(p)) => write!(f, "--links (marker {})", ready_altname(p)),
            Condition::Links(None) => write!(f, "--links (a conlink-ready.* marker)"),
        }
    }
}

/// One attempt at each address the host resolves to.
fn connect(target: &HostPort, deadline: Option<Instant>) -> Found {
    let addrs = match (target.host.as_str(), target.port).to_socket_addrs() {
        Ok(a) => a,
        Err(e) => return Found::Trouble(format!("cannot resolve {}: {e}", target.host)),
    };
    let mut limit = CONNECT_TIMEOUT;
    if let Some(d) = deadline {
        limit = limit.min(d.saturating_duration_since(Instant::now()));
    }
    if limit.is_zero() {
        return Found::NotYet;
    }
    for addr in addrs {
        if TcpStream::connect_timeout(&addr, limit).is_ok() {
            return Found::Met(format!(
                "TCP connection to {}:{} ({addr}) succeeded",
                target.host, target.port
            ));
        }
    }
    Found::NotYet
}

/// Runs the command once (its output is the container's); it holds when it exits 0.
fn run(words: &[String], deadline: Option<Instant>) -> Found {
    let shown = words.join(" ");
    let mut child = match Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Found::Trouble(format!("cannot run `{shown}`: {e}")),
    };
    let status = match deadline {
        None => child.wait().map(Some),
        Some(d) => finish_by(&mut child, d),
    };
    match status {
        Ok(Some(s)) if s.success() => Found::Met(format!("command `{shown}` succeeded")),
        Ok(_) => Found::NotYet,
        Err(e) => Found::Trouble(format!("cannot wait for `{shown}`: {e}")),
    }
}

/// Waits for `child` until `deadline`; past it, kills it, since it must not outlive
/// the wait, and returns `None`.
fn finish_by(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(COMMAND_POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &Condition) -> Found {
        c.check(&mut Probe::default(), None).expect("checkable")
    }

    #[test]
    fn a_file_holds_once_it_exists() {
        let dir = std::env::temp_dir().join(format!("conlink-wait-unit-{}", std::process::id()));
        let c = Condition::File(dir.join("flag"));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(check(&c), Found::NotYet);
        std::fs::write(dir.join("flag"), "").unwrap();
        assert!(matches!(check(&c), Found::Met(m) if m.ends_with("flag exists")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_command_holds_when_it_exits_0_and_troubles_when_it_cannot_start() {
        let words = |s: &str| s.split_whitespace().map(String::from).collect();
        assert!(matches!(
            check(&Condition::Command(words("true"))),
            Found::Met(_)
        ));
        assert_eq!(check(&Condition::Command(words("false"))), Found::NotYet);
        let missing = Condition::Command(words("/nonexistent/conlink-test-program x"));
        assert!(matches!(check(&missing), Found::Trouble(t) if t.contains("cannot run")));
        // A deadline already passed stops a command that would run on.
        let slow = Condition::Command(words("sleep 30"));
        let found = slow.check(&mut Probe::default(), Some(Instant::now()));
        assert_eq!(found, Ok(Found::NotYet));
    }

    #[test]
    fn conditions_print_as_written() {
        let tcp = |host: &str| {
            Condition::Tcp(HostPort {
                host: host.into(),
                port: 80,
            })
        };
        assert_eq!(tcp("web").to_string(), "-t web:80");
        assert_eq!(tcp("fd00::1").to_string(), "-t [fd00::1]:80");
        assert_eq!(Condition::Route("eth0".into()).to_string(), "-I eth0");
        assert_eq!(
            Condition::Links(Some("demo".into())).to_string(),
            "--links (marker conlink-ready.demo)"
        );
    }
}
