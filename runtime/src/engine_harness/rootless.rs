//! A rootless Podman for a test: a user made for the test (with subordinate uid and
//! gid ranges, which `useradd` allocates), its Podman API service on a socket in the
//! engine's directory, and its containers, all removed again at the end.
//!
//! Everything Podman keeps for that user (storage, runtime files, events) lives
//! under the engine's directory: the user's home and `XDG_RUNTIME_DIR` are there. The
//! user's processes (the API service, `conmon`, the pause process that holds the
//! user's namespaces, the containers) are killed by uid before the user is deleted;
//! `userdel` also removes its `/etc/subuid` and `/etc/subgid` lines.

use super::base::Base;
use super::cleanup::kill_until_gone;
use super::commands::{checked, run_with_timeout, text};
use super::podman::import_busybox;
use crate::testing::{skip, unique};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A user of its own running Podman's API service without root.
pub struct RootlessPodman {
    base: Base,
    user: String,
    uid: u32,
    gid: u32,
}

impl RootlessPodman {
    /// Makes the user and starts its Podman service, or records why it cannot run
    /// here and returns `None`.
    pub fn start(test: &str) -> Option<RootlessPodman> {
        let base = Base::prepare(
            test,
            "podman-rl",
            &[
                "podman",
                "runc",
                "newuidmap",
                "newgidmap",
                "useradd",
                "userdel",
            ],
            &[],
        )?;
        let user = unique("clrl");
        let home = base.dir.join("home");
        let made = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin"])
            .args(["--user-group", "--comment", "conlink test"])
            .arg("--home-dir")
            .arg(&home)
            .arg(&user)
            .output();
        match made {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                skip(test, &format!("useradd {user}: {}", text(&out)));
                return None;
            }
            Err(e) => {
                skip(test, &format!("useradd: {e}"));
                return None;
            }
        }
        let Some((uid, gid)) = ids_of(&user) else {
            let _ = Command::new("userdel").arg(&user).output();
            skip(
                test,
                &format!("useradd made no entry for {user} in /etc/passwd"),
            );
            return None;
        };
        let mut p = RootlessPodman {
            base,
            user,
            uid,
            gid,
        };
        // From here on, dropping `p` removes the user again.
        if let Err(e) = p.prepare_home() {
            skip(test, &e);
            return None;
        }
        if !has_subordinate_ids(&p.user) {
            skip(
                test,
                &format!(
                    "useradd gave {} no range in /etc/subuid and /etc/subgid (SUB_UID_COUNT in /etc/login.defs)",
                    p.user
                ),
            );
            return None;
        }
        // The user makes its socket, so it goes in a directory of the user's.
        p.base.socket = p.base.dir.join("run/engine.sock");
        let mut cmd = p.as_user("podman");
        cmd.args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", p.base.socket.display()));
        if let Err(e) = p.base.spawn(cmd) {
            skip(test, &e);
            return None;
        }
        if let Err(e) = p.base.wait_ready() {
            skip(
                test,
                &format!("rootless podman system service did not start: {e}"),
            );
            return None;
        }
        Some(p)
    }

    /// The user's home, runtime directory and Podman settings, owned by the user.
    fn prepare_home(&self) -> Result<(), String> {
        let dir = &self.base.dir;
        let config = dir.join("home/.config/containers");
        let made = fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .and_then(|_| fs::create_dir_all(&config))
            .and_then(|_| fs::create_dir_all(dir.join("run")))
            .and_then(|_| fs::create_dir_all(dir.join("home/tmp")))
            // runc (crun fails here), no systemd, events in a file, and the
            // limits the test machines need.
            .and_then(|_| {
                fs::write(
                    config.join("containers.conf"),
                    "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
                     [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n\
                     events_logger = \"file\"\n",
                )
            })
            .and_then(|_| fs::write(config.join("registries.conf"), ""));
        made.map_err(|e| format!("cannot prepare {}: {e}", dir.display()))?;
        for sub in [
            "home",
            "home/.config",
            "home/.config/containers",
            "home/tmp",
            "run",
        ] {
            self.give(&dir.join(sub), 0o700)?;
        }
        for file in ["containers.conf", "registries.conf"] {
            self.give(&config.join(file), 0o600)?;
        }
        Ok(())
    }

    /// Makes `path` the user's, with `mode`.
    fn give(&self, path: &Path, mode: u32) -> Result<(), String> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .and_then(|_| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
            .map_err(|e| format!("cannot give {} to the test user: {e}", path.display()))
    }

    /// A command run as the user, with the environment a login would give it.
    fn as_user(&self, program: &str) -> Command {
        let dir = &self.base.dir;
        let mut cmd = Command::new(program);
        cmd.uid(self.uid)
            .gid(self.gid)
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", dir.join("home"))
            .env("USER", &self.user)
            .env("LOGNAME", &self.user)
            .env("XDG_RUNTIME_DIR", dir.join("run"))
            .env("TMPDIR", dir.join("home/tmp"))
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                dir.join("home/.config/containers/registries.conf"),
            )
            .current_dir(dir.join("home"))
            .stdin(Stdio::null());
        cmd
    }

    /// A `podman` command of the user.
    pub fn podman(&self) -> Command {
        self.as_user("podman")
    }

    /// Runs `podman ARGS` as the user; panics with its output when it fails.
    pub fn run(&self, args: &[&str]) -> String {
        checked(
            self.podman().args(args),
            &format!("rootless podman {}", args.join(" ")),
        )
    }

    /// The API service's socket (owned by the user; root may use it too).
    pub fn socket(&self) -> &Path {
        &self.base.socket
    }

    pub fn dir(&self) -> &Path {
        &self.base.dir
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// Gives a file the test made (a configuration, a binary) to the user, so its
    /// containers can mount it.
    pub fn share(&self, path: &Path) -> Result<(), String> {
        let mode = fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .permissions()
            .mode();
        self.give(path, mode & 0o7777)
    }

    /// Makes the busybox image in the user's storage and returns its tag.
    pub fn busybox_image(&self) -> Result<&'static str, String> {
        let tar = self.base.busybox_tar()?;
        self.share(&tar)?;
        import_busybox(&|| self.podman(), &tar)
    }

    /// Drops the engine (which removes the user and everything of it) and says what
    /// is left of it all the same: the user's lines in the account files, its
    /// directory, processes of its uid. Empty when nothing is.
    pub fn remove(self) -> Vec<String> {
        let (user, uid, dir) = (self.user.clone(), self.uid, self.base.dir.clone());
        drop(self);
        let mut left = Vec::new();
        for file in ["/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid"] {
            let text = fs::read_to_string(file).unwrap_or_default();
            if text
                .lines()
                .any(|l| l.split(':').next() == Some(user.as_str()))
            {
                left.push(format!("{user} in {file}"));
            }
        }
        if dir.exists() {
            left.push(format!("the directory {}", dir.display()));
        }
        if let Ok(entries) = fs::read_dir("/proc") {
            for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
                if real_uid(pid) == Some(uid) {
                    left.push(format!("process {pid} of uid {uid}"));
                }
            }
        }
        left
    }

    /// Every process of the user's: its own uid, or a uid of its subordinate range.
    fn processes(&self) -> Vec<i32> {
        let ranges = subordinate_ranges("/etc/subuid", &self.user);
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                real_uid(*pid).is_some_and(|u| {
                    u == self.uid || ranges.iter().any(|(start, n)| u >= *start && u < start + n)
                })
            })
            .collect()
    }
}

impl Drop for RootlessPodman {
    fn drop(&mut self) {
        let _ = run_with_timeout(
            self.podman()
                .args(["rm", "--all", "--force", "--time", "0"]),
            Duration::from_secs(60),
        );
        self.base.stop_daemon();
        kill_until_gone(|| self.processes());
        self.base.stop();
        let _ = run_with_timeout(
            Command::new("userdel").arg(&self.user),
            Duration::from_secs(30),
        );
    }
}

/// The uid and gid of `user`, from /etc/passwd.
fn ids_of(user: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 || f[0] != user {
            return None;
        }
        Some((f[2].parse().ok()?, f[3].parse().ok()?))
    })
}

/// The subordinate id ranges (start, count) of `user` in `file` (/etc/subuid or
/// /etc/subgid).
fn subordinate_ranges(file: &str, user: &str) -> Vec<(u32, u32)> {
    let text = fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut f = line.split(':');
            if f.next()? != user {
                return None;
            }
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .collect()
}

/// Whether `user` has ranges in both /etc/subuid and /etc/subgid.
fn has_subordinate_ids(user: &str) -> bool {
    ["/etc/subuid", "/etc/subgid"]
        .iter()
        .all(|file| !subordinate_ranges(file, user).is_empty())
}

/// The real uid of process `pid`.
fn real_uid(pid: i32) -> Option<u32> {
    let status = fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
