//! Which project `destroy` and `exec` work on (docs/cli.md, "conlink destroy"), and
//! which projects this machine has.
//!
//! Given sources, the project is derived from them exactly as `apply` derives it (the
//! sources are compiled). Without, it is `--project`, else `COMPOSE_PROJECT_NAME`,
//! else the one project that has something on this machine: a state file under the
//! state directory or a namespace pinned as `conlink.PROJECT[.NODE]`. When there are
//! several, the command lists them and asks for `--project` (a usage error): guessing
//! would remove or enter the wrong one.

use crate::cli::{Common, Sources};
use crate::Outcome;
use std::collections::BTreeSet;
use std::path::Path;

/// What a command without configuration works on.
pub enum Found {
    /// This project.
    One(String),
    /// No project has anything on this machine.
    None,
}

/// The project of a command that needs only its name. `compile` derives it from the
/// sources when there are some; `command` names the command in messages.
pub fn of_command(
    command: &str,
    common: &Common,
    sources: &Sources,
    compile: impl FnOnce() -> Result<String, Outcome>,
) -> Result<Found, Outcome> {
    if !sources.network_files.is_empty() || !sources.compose_files.is_empty() {
        return compile().map(Found::One);
    }
    // `--project` was checked by the command line parser.
    if let Some(p) = &common.project {
        return Ok(Found::One(p.clone()));
    }
    if let Some(p) = std::env::var("COMPOSE_PROJECT_NAME")
        .ok()
        .filter(|p| !p.is_empty())
    {
        if !compiler::is_valid_project_name(&p) {
            // The environment is configuration, as for the commands that compile.
            eprintln!(
                "conlink {command}: invalid project name `{p}` (from COMPOSE_PROJECT_NAME): use lower-case letters, digits, `-` and `_`, starting with a letter or digit (at most 63)"
            );
            return Err(Outcome::Failed);
        }
        return Ok(Found::One(p));
    }
    let known = on_this_machine(&common.state_dir, &runtime::netns::netns_dir());
    let mut known = known.into_iter();
    match (known.next(), known.next()) {
        (None, _) => Ok(Found::None),
        (Some(only), None) => Ok(Found::One(only)),
        (Some(first), Some(second)) => {
            let all: Vec<String> = [first, second].into_iter().chain(known).collect();
            eprintln!(
                "conlink {command}: this machine has several conlink projects: {}; say which with --project NAME (or give the sources it was applied from)",
                all.join(", ")
            );
            Err(Outcome::Usage)
        }
    }
}

/// The projects that have a state file under `state_dir` or a namespace pinned in
/// `netns_dir`, sorted.
pub fn on_this_machine(state_dir: &Path, netns_dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for name in names(state_dir) {
        if compiler::is_valid_project_name(&name)
            && runtime::state::project_dir(state_dir, &name)
                .join("state.json")
                .is_file()
        {
            found.insert(name);
        }
    }
    for name in names(netns_dir) {
        // conlink.PROJECT and conlink.PROJECT.NODE (project names have no `.`).
        let project = name
            .strip_prefix("conlink.")
            .map(|rest| rest.split('.').next().unwrap_or(rest));
        if let Some(p) = project.filter(|p| compiler::is_valid_project_name(p)) {
            found.insert(p.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_found_by_state_file_and_pinned_namespace() {
        /// Removed when the test ends, passed or failed.
        struct Scratch(std::path::PathBuf);
        impl Drop for Scratch {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        let dir =
            Scratch(std::env::temp_dir().join(format!("conlink-projects-{}", std::process::id())));
        let (state, netns) = (dir.0.join("state"), dir.0.join("netns"));
        let mkdir = |p: &Path| std::fs::create_dir_all(p).expect("mkdir");
        let touch = |p: &Path| std::fs::write(p, "").expect("write");
        mkdir(&state.join("router"));
        touch(&state.join("router/state.json"));
        // A project directory without a state file (only logs left) is not a project.
        mkdir(&state.join("old/logs"));
        touch(&state.join("router.lock"));
        mkdir(&netns);
        touch(&netns.join("conlink.patch"));
        touch(&netns.join("conlink.patch.h1"));
        touch(&netns.join("conlink.lab.r0"));
        touch(&netns.join("other"));
        touch(&netns.join("conlink.Bad"));
        let found = on_this_machine(&state, &netns);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["lab", "patch", "router"]
        );
    }
}
