//! What conlink may touch when it carries out an undo the state file records
//! (`destroy`, removing a unit). The file may have been edited, damaged in a way that
//! still parses, or copied from elsewhere, and conlink never touches what is not its own
//! (docs/decisions.md, "State files"): a recorded undo is carried out only on an object
//! that carries the project's mark, or that lives in a namespace conlink created (its
//! loopback carries the mark). What else conlink's plans change in namespaces it did not
//! create is named here: its nftables tables (by their names) and two sysctls of its own
//! namespace. A sysctl of one interface (IPv6 switched on for an interface conlink
//! created in a container) is judged as that interface is.

use crate::action::{Action, Subject};
use crate::context::Context;
use crate::error::StepError;
use crate::names;
use crate::places::Lookup;
use crate::state::Extra;
use compiler::plan::Ns;

/// Whether a recorded undo may be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// What it acts on is conlink's.
    Ours,
    /// What it acts on is not there: nothing to do.
    Gone,
    /// What it acts on is not conlink's: why.
    NotOurs(String),
}

/// The sysctls conlink's plans set in its own namespace, which it may put back there
/// when that namespace is one it did not create (`--conlink-netns current`), and the
/// values they take.
const OWN_NAMESPACE_SYSCTLS: [&str; 2] =
    ["net.ipv6.conf.default.disable_ipv6", "net.ipv4.ip_forward"];
const SWITCH_VALUES: [&str; 2] = ["0", "1"];

/// Judges the undo `action` of a step of namespace `ns`, with what the state recorded
/// for it (`extra`).
pub fn judge(
    cx: &mut Context,
    action: &dyn Action,
    ns: &Ns,
    extra: &Extra,
) -> Result<Verdict, StepError> {
    let Some(subject) = action.subject() else {
        return Ok(Verdict::NotOurs(
            "the state file records it as an undo, and it is none".into(),
        ));
    };
    // A process is judged by its own tag when it is stopped (`families::command`),
    // wherever it runs.
    if subject == Subject::Process {
        return Ok(Verdict::Ours);
    }
    let home = action.home(ns);
    if !matches!(cx.lookup(home)?, Lookup::Ready(_)) {
        return Ok(Verdict::Gone);
    }
    if created_by_conlink(cx, home)? {
        return Ok(Verdict::Ours);
    }
    let project = cx.project().to_string();
    Ok(match subject {
        Subject::Process | Subject::Ovs => Verdict::Ours,
        Subject::Namespace => Verdict::NotOurs(format!(
            "namespace {home} has no ownership mark on its loopback"
        )),
        Subject::NftTable(table) => {
            if table.starts_with(&names::nft_table_prefix(&project)) {
                Verdict::Ours
            } else {
                Verdict::NotOurs(format!(
                    "nftables table {table} in {home} is not one of conlink's"
                ))
            }
        }
        Subject::Sysctl(key) => {
            let value_ok = match extra {
                Extra::Sysctl { previous } => SWITCH_VALUES.contains(&previous.as_str()),
                _ => true,
            };
            if *home == Ns::Conlink && OWN_NAMESPACE_SYSCTLS.contains(&key) && value_ok {
                Verdict::Ours
            } else {
                Verdict::NotOurs(format!(
                    "conlink changes no sysctl {key} in {home}, a namespace it did not create"
                ))
            }
        }
        Subject::Interface(dev) => {
            cx.observe(home)?;
            let (mark, group) = (cx.mark(), cx.group());
            match cx.snapshot(home).and_then(|s| s.link(dev)) {
                None => Verdict::Gone,
                Some(l) if l.is_conlinks(mark, group) => Verdict::Ours,
                Some(l) => Verdict::NotOurs(format!(
                    "interface {dev} in {home} is not conlink's (its alias is {})",
                    l.alias
                        .as_deref()
                        .map_or("unset".to_string(), |a| format!("{a:?}"))
                )),
            }
        }
    })
}

/// Whether `ns` is a namespace conlink created: pinned under the project's name, with
/// the mark on its loopback.
fn created_by_conlink(cx: &mut Context, ns: &Ns) -> Result<bool, StepError> {
    if cx.created_this_run(ns) {
        return Ok(true);
    }
    let pinned = matches!(cx.lookup(ns)?, Lookup::Ready(p) if p.pinned.is_some());
    if !pinned {
        return Ok(false);
    }
    cx.observe(ns)?;
    let mark = cx.mark();
    Ok(cx.snapshot(ns).is_some_and(|s| s.loopback_marked(mark)))
}
