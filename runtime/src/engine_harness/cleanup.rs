//! Removing what an engine leaves: its processes, mounts and cgroups.

use std::fs;
use std::path::Path;

/// Processes whose command line contains `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c).replace('\0', " ");
                c.contains(needle)
            })
        })
        .collect()
}

/// Unmounts every mount at or below `dir` in this mount namespace, deepest first.
pub fn unmount_under(dir: &Path) {
    for _ in 0..5 {
        let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
            return;
        };
        let prefix = dir.display().to_string();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(unescape_mount_path)
            .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
            .collect();
        if points.is_empty() {
            return;
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = nix::mount::umount2(Path::new(&p), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// mountinfo(5) writes space, tab, newline and backslash as octal escapes.
fn unescape_mount_path(p: &str) -> String {
    let mut out = String::new();
    let mut rest = p;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes the cgroup parent `name` (and what is left below it) in every hierarchy.
pub fn remove_cgroup(name: &str) {
    let root = Path::new("/sys/fs/cgroup");
    let mut dirs = vec![root.join(name)];
    if let Ok(entries) = fs::read_dir(root) {
        dirs.extend(entries.flatten().map(|e| e.path().join(name)));
    }
    for dir in dirs {
        remove_cgroup_dir(&dir);
    }
}

/// A cgroup directory goes with rmdir once its children are gone (its files are
/// not real files and are not removed one by one).
fn remove_cgroup_dir(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_dir(&e.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// SIGKILLs the processes `left` lists until it lists none (at most 5 s): what an
/// engine started and left running, found by whatever names them (a path, a uid).
pub fn kill_until_gone(mut left: impl FnMut() -> Vec<i32>) {
    for _ in 0..50 {
        let pids = left();
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_unescaped() {
        assert_eq!(unescape_mount_path("/tmp/a\\040b"), "/tmp/a b");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
        assert_eq!(unescape_mount_path("/odd\\x"), "/odd\\x");
    }
}
