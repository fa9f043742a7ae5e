//! The test image's root filesystem: Debian's static busybox and a link for each
//! of its applets, packed as a tar for `docker import` / `podman import`.

use super::commands::text;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The busybox image's tag in every private engine.
pub const BUSYBOX_IMAGE: &str = "conlink-test/busybox:latest";

/// Where Debian's `busybox-static` puts its binary.
const BUSYBOX: &str = "/bin/busybox";

/// A tar (in `dir`) of a root filesystem with the static busybox and its applets.
pub fn rootfs_tar(dir: &Path) -> Result<PathBuf, String> {
    let tar = dir.join("busybox-rootfs.tar");
    if tar.exists() {
        return Ok(tar);
    }
    if !is_static_elf(Path::new(BUSYBOX)) {
        return Err(format!(
            "{BUSYBOX} is missing or not statically linked (install busybox-static)"
        ));
    }
    let root = dir.join("busybox-rootfs");
    busybox_rootfs(&root).map_err(|e| format!("building {}: {e}", root.display()))?;
    let out = Command::new("tar")
        .arg("--create")
        .arg("--file")
        .arg(&tar)
        .arg("--directory")
        .arg(&root)
        .arg(".")
        .output()
        .map_err(|e| format!("tar: {e}"))?;
    if !out.status.success() {
        return Err(format!("tar: {}", text(&out)));
    }
    Ok(tar)
}

/// Builds a root filesystem: `/bin/busybox`, a link for each applet, and the
/// directories a container expects.
fn busybox_rootfs(root: &Path) -> std::io::Result<()> {
    let bin = root.join("bin");
    fs::create_dir_all(&bin)?;
    for d in ["etc", "tmp", "proc", "sys", "dev", "root", "var/run"] {
        fs::create_dir_all(root.join(d))?;
    }
    fs::copy(BUSYBOX, bin.join("busybox"))?;
    let list = Command::new(BUSYBOX).arg("--list").output()?;
    for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
        if applet != "busybox" && !applet.contains('/') {
            std::os::unix::fs::symlink("busybox", bin.join(applet))?;
        }
    }
    // sbin and usr/bin paths some scripts expect.
    std::os::unix::fs::symlink("bin", root.join("sbin"))?;
    fs::create_dir_all(root.join("usr"))?;
    std::os::unix::fs::symlink("../bin", root.join("usr/bin"))?;
    std::os::unix::fs::symlink("../bin", root.join("usr/sbin"))?;
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    fs::write(root.join("etc/group"), "root:x:0:\n")?;
    Ok(())
}

/// Whether `path` is an ELF executable without a program interpreter (PT_INTERP),
/// i.e. statically linked.
pub fn is_static_elf(path: &Path) -> bool {
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut data = Vec::new();
    if f.read_to_end(&mut data).is_err() || data.len() < 64 || &data[..4] != b"\x7fELF" {
        return false;
    }
    // ELF64 little-endian only (the machines are x86_64).
    if data[4] != 2 || data[5] != 1 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().unwrap_or_default()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        match data.get(o..o + 4) {
            Some(t) => u32::from_le_bytes([t[0], t[1], t[2], t[3]]) != 3, // PT_INTERP
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_dynamic_executables() {
        // The test binary itself is dynamically linked (a normal cargo build).
        let me = std::env::current_exe().unwrap();
        assert!(!is_static_elf(&me));
        assert!(!is_static_elf(Path::new("/etc/hostname")));
    }
}
