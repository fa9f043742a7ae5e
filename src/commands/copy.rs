//! `conlink copy DIR`: puts a copy of the running conlink at `DIR/conlink`, so that
//! containers sharing `DIR` as a volume can run `conlink wait` without having conlink
//! in their image (docs/cli.md, "conlink copy").
//!
//! The copy is written to a temporary file in `DIR`, made executable (mode 0755),
//! flushed to disk, then renamed over `DIR/conlink`: a container starting at that
//! moment finds the old binary or the new one, never half of one, and one that runs
//! the old copy keeps it (a binary being executed cannot be rewritten in place, which
//! is also why the copy is not written there).
//!
//! What is copied is `/proc/self/exe`, the very file this process runs. A copy only
//! runs in another container if it needs no shared library the container lacks;
//! conlink's image has a static binary for that reason, and `copy` warns when the
//! running one is not.

use crate::cli::CopyArgs;
use crate::Outcome;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The running binary.
const SELF_EXE: &str = "/proc/self/exe";

/// The name of the copy in the directory.
const COPY_NAME: &str = "conlink";

pub fn run(args: &CopyArgs) -> Outcome {
    match copy_self(&args.dir) {
        Ok(path) => {
            eprintln!(
                "conlink copy: copied conlink {} to {}",
                env!("CARGO_PKG_VERSION"),
                path.display()
            );
            if let Ok(true) = File::open(SELF_EXE).and_then(|mut f| needs_a_loader(&mut f)) {
                eprintln!(
                    "conlink copy: warning: this conlink is dynamically linked; the copy runs only in containers that have the shared libraries it was built with (the conlink image's binary is static)"
                );
            }
            Outcome::Success
        }
        Err(e) => {
            eprintln!("conlink copy: {e}");
            Outcome::Failed
        }
    }
}

/// Copies the running binary to `dir/conlink`; returns that path.
fn copy_self(dir: &Path) -> Result<PathBuf, String> {
    if !dir.is_dir() {
        return Err(format!(
            "{}: no such directory (create it, or mount a volume there)",
            dir.display()
        ));
    }
    let target = dir.join(COPY_NAME);
    // Hidden, and named for this process, so two copies at once do not collide.
    let tmp = dir.join(format!(".{COPY_NAME}.{}.tmp", std::process::id()));
    let result = write_executable(&tmp).and_then(|()| fs::rename(&tmp, &target));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", target.display()));
    }
    Ok(target)
}

/// Writes the running binary to a new file `path`, mode 0755, and flushes it.
fn write_executable(path: &Path) -> io::Result<()> {
    let mut from = File::open(SELF_EXE)?;
    let mut to = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o755)
        .open(path)?;
    io::copy(&mut from, &mut to)?;
    // The mode given at creation is reduced by the umask; the copy must be
    // executable by every user a container may run as.
    to.set_permissions(fs::Permissions::from_mode(0o755))?;
    to.sync_all()
}

/// Whether an ELF file names a program interpreter (a `PT_INTERP` program header):
/// the dynamic loader that must find its shared libraries. A static binary has none.
fn needs_a_loader(f: &mut File) -> io::Result<bool> {
    const PT_INTERP: u32 = 3;
    let mut ident = [0u8; 64];
    f.read_exact(&mut ident)?;
    if &ident[..4] != b"\x7fELF" {
        return Ok(false);
    }
    let little = ident[5] == 1;
    let u16_at = |at: usize| {
        let b = [ident[at], ident[at + 1]];
        if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let u32_of = |b: [u8; 4]| {
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let u64_at = |at: usize| {
        let b: [u8; 8] = ident[at..at + 8].try_into().expect("8 bytes");
        if little {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        }
    };
    // ELFCLASS64 (2) or ELFCLASS32: where the program header table is described.
    let (phoff, phentsize, phnum) = if ident[4] == 2 {
        (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    } else {
        let b = [ident[0x1c], ident[0x1d], ident[0x1e], ident[0x1f]];
        (u64::from(u32_of(b)), u16_at(0x2a), u16_at(0x2c))
    };
    for i in 0..u64::from(phnum) {
        f.seek(SeekFrom::Start(phoff + i * u64::from(phentsize)))?;
        let mut p_type = [0u8; 4];
        f.read_exact(&mut p_type)?;
        if u32_of(p_type) == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF header with one program header of `p_type`.
    fn elf_with(p_type: u32) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // ELFCLASS64
        b[5] = 1; // little endian
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        b[64..68].copy_from_slice(&p_type.to_le_bytes());
        b
    }

    /// `needs_a_loader` of a file holding the header with one program header of `p_type`.
    fn check(p_type: u32) -> bool {
        let name = format!("conlink-copy-elf-{}-{p_type}", std::process::id());
        let path = std::env::temp_dir().join(name);
        fs::write(&path, elf_with(p_type)).unwrap();
        let found = needs_a_loader(&mut File::open(&path).unwrap()).unwrap();
        fs::remove_file(&path).unwrap();
        found
    }

    #[test]
    fn an_interpreter_header_means_a_dynamic_binary() {
        assert!(check(3), "PT_INTERP");
        assert!(!check(1), "PT_LOAD only");
    }

    #[test]
    fn the_running_binary_is_read_as_it_was_linked() {
        let mut me = File::open(SELF_EXE).unwrap();
        let static_build = cfg!(target_feature = "crt-static");
        assert_eq!(needs_a_loader(&mut me).unwrap(), !static_build);
    }
}
