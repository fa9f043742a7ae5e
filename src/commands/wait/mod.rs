//! `conlink wait`: inside a container, wait until conditions hold, then replace conlink
//! with a command (docs/cli.md, "conlink wait").
//!
//! By default the one condition is that every link of this container is up, which
//! conlink says by leaving its ready marker in the container's namespace (docs/plan.md,
//! "Units"); conlink 2.x's conditions are accepted too. [`order`] lists the conditions
//! in the order given, [`condition`] checks one, [`kernel`] reads the namespace; this
//! module waits for each in turn, says when each holds, and runs the command.
//!
//! Pauses: a condition on the namespace's interfaces or routes (`--links`, `-i`, `-I`)
//! is checked again as soon as the kernel announces a change there, and at the latest
//! after the pause (`-s`, 1 s by default), so the command starts as soon as its links
//! are up; the others are checked again after each pause, as 2.x did.

mod condition;
mod kernel;
mod order;

use crate::cli::{Common, WaitArgs};
use crate::Outcome;
use clap::ArgMatches;
use condition::{Condition, Found};
use kernel::Probe;
use order::Item;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// The pause between two checks until `-s` sets another, as in conlink 2.x.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

pub fn run(common: &Common, args: &WaitArgs, matches: &ArgMatches) -> Outcome {
    if let Some(p) = common.project.as_deref() {
        if !compiler::is_valid_project_name(p) {
            eprintln!(
                "conlink wait: invalid project name `{p}`: use lower-case letters, digits, `-` and `_`, starting with a letter or digit (at most 63)"
            );
            return Outcome::Usage;
        }
    }
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let mut probe = Probe::default();
    let mut pause = DEFAULT_PAUSE;
    for item in order::items(matches, common.project.as_deref()) {
        match item {
            Item::Pause(p) => pause = p,
            Item::Until(c) => match wait_for(&c, pause, deadline, &mut probe, common.verbose > 0) {
                Ok(()) => {}
                Err(Stop::TimedOut) => {
                    let after = args.timeout.unwrap_or_default().as_secs_f64();
                    eprintln!("conlink wait: timed out after {after} s: {c} does not hold");
                    return Outcome::Failed;
                }
                Err(Stop::Broken(why)) => {
                    eprintln!("conlink wait: {c}: {why}");
                    return Outcome::Failed;
                }
            },
        }
    }
    let Some((program, rest)) = args.command.split_first() else {
        return Outcome::Success;
    };
    if common.verbose > 0 {
        eprintln!("conlink wait: running {}", args.command.join(" "));
    }
    // Only returns when the command cannot be started.
    let err = std::process::Command::new(program).args(rest).exec();
    eprintln!("conlink wait: cannot run `{program}`: {err}");
    Outcome::Failed
}

/// Why waiting stopped before the condition held.
enum Stop {
    TimedOut,
    /// The condition cannot be checked at all (no netlink socket).
    Broken(String),
}

impl From<String> for Stop {
    fn from(why: String) -> Stop {
        Stop::Broken(why)
    }
}

/// Waits until `c` holds, checking it again after each `pause` (or sooner, see the
/// module's documentation); says so on stderr when it does.
fn wait_for(
    c: &Condition,
    pause: Duration,
    deadline: Option<Instant>,
    probe: &mut Probe,
    verbose: bool,
) -> Result<(), Stop> {
    // Subscribed before the first check, so a change just after it is not missed.
    if c.watches_kernel() {
        probe.watch()?;
    }
    if verbose {
        eprintln!("conlink wait: waiting for {c}");
    }
    // The last trouble said, so that each is said once, not at every retry.
    let mut said: Option<String> = None;
    loop {
        match c.check(probe, deadline)? {
            Found::Met(what) => {
                eprintln!("conlink wait: {what}");
                return Ok(());
            }
            Found::NotYet => {}
            Found::Trouble(why) => {
                if said.as_deref() != Some(why.as_str()) {
                    eprintln!("conlink wait: {c}: {why}; trying again");
                    said = Some(why);
                }
            }
        }
        let wait = match deadline {
            None => pause,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Stop::TimedOut);
                }
                pause.min(left)
            }
        };
        probe.pause(wait)?;
    }
}
