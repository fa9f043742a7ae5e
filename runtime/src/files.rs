//! conlink's private files on the machine (the state file, command logs and exit
//! records, the project lock): directories 0700 and files 0600 whatever the umask, and
//! never reached through a symbolic link (docs/decisions.md, "State files").
//!
//! Only root may write conlink's directories once they exist, so what is found in them
//! was put there by conlink (or by root). Still, a link planted before (under an older
//! conlink that left its directories world-writable, or in a state directory the user
//! pointed at a shared place) must not make conlink write through it: every file is
//! opened with `O_NOFOLLOW`, directories are checked with `lstat`, and the state file
//! is replaced by renaming a file created exclusively (`O_EXCL`).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of conlink's directories.
pub const DIR_MODE: u32 = 0o700;
/// Mode of conlink's files.
pub const FILE_MODE: u32 = 0o600;

/// Makes sure `dir` is a directory to keep private files in: created with mode 0700
/// when missing (its missing parents too). When `own` (a directory only conlink uses: a
/// project's, its logs, the lock files'), it must be a directory of conlink's user, not
/// reached through a symbolic link, and an existing one is set to 0700; a directory the
/// user named (`--state-dir`) is taken as it is, link or not.
pub fn private_dir(dir: &Path, own: bool) -> io::Result<()> {
    let found = if own {
        std::fs::symlink_metadata(dir)
    } else {
        std::fs::metadata(dir)
    };
    match found {
        Ok(m) if m.file_type().is_symlink() => Err(symlink_error(dir)),
        Ok(m) if !m.is_dir() => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} is not a directory", dir.display()),
        )),
        Ok(m) if own && m.uid() != nix::unistd::geteuid().as_raw() => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} belongs to user {}, not to the user conlink runs as; remove it",
                dir.display(),
                m.uid()
            ),
        )),
        Ok(m) => {
            if own && m.permissions().mode() & 0o7777 != DIR_MODE {
                std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // The umask cannot widen 0700, only narrow it: set it exactly afterwards.
            DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)?;
            std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
        }
        Err(e) => Err(e),
    }
}

/// How [`open`] opens a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// Read it; it must exist.
    Read,
    /// Append to it, creating it if missing (a command's log).
    Append,
    /// Read and write it, creating it if missing (the lock).
    ReadWrite,
    /// Create it; it must not exist (a temporary file).
    CreateNew,
}

/// Opens a file of conlink's without following a symbolic link; a file it creates gets
/// mode 0600, and one it writes to is set to 0600 if it had another mode.
pub fn open(path: &Path, how: Open) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.custom_flags(libc::O_NOFOLLOW).mode(FILE_MODE);
    match how {
        Open::Read => o.read(true),
        Open::Append => o.append(true).create(true),
        Open::ReadWrite => o.read(true).write(true).create(true).truncate(false),
        Open::CreateNew => o.write(true).create_new(true),
    };
    let file = o.open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => symlink_error(path),
        _ => e,
    })?;
    if how != Open::Read {
        let m = file.metadata()?;
        if !m.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        if m.permissions().mode() & 0o7777 != FILE_MODE {
            file.set_permissions(Permissions::from_mode(FILE_MODE))?;
        }
    }
    Ok(file)
}

/// Replaces `dir/name` with `bytes` atomically: written to a temporary file created
/// exclusively beside it, synced, then renamed over it (a rename replaces a symbolic
/// link itself, never what it points to). Temporary files left by runs that were
/// killed are removed first; the caller holds the project's lock, so none is another
/// run's.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let prefix = format!("{name}.tmp");
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_file(entry.path())?;
        }
    }
    let tmp = dir.join(format!("{prefix}.{}", std::process::id()));
    let mut f = open(&tmp, Open::CreateNew)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, dir.join(name))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Whether an error is [`open`] refusing a symbolic link.
pub fn is_symlink_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidInput && e.to_string().ends_with(SYMLINK)
}

const SYMLINK: &str = "is a symbolic link, which conlink does not follow";

fn symlink_error(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} {SYMLINK}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;
    use std::os::unix::fs::symlink;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }

    /// (The umask is process-wide, so the test under umask 000 is an end-to-end one:
    /// tests/e2e/state_files.rs.)
    #[test]
    fn directories_and_files_are_private() {
        let dir = TempDir::new("conlink-files-");
        let project = dir.path().join("state").join("p");
        private_dir(&project, true).expect("private dir");
        let file = project.join("f");
        open(&file, Open::Append).expect("open");
        assert_eq!(mode(&project), 0o700);
        assert_eq!(mode(&dir.path().join("state")), 0o700);
        assert_eq!(mode(&file), 0o600);
        // A file of conlink's with another mode is made private when written to.
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).expect("chmod");
        open(&file, Open::Append).expect("open");
        assert_eq!(mode(&file), 0o600);
        // So is a directory of its own; one the user named keeps its mode.
        std::fs::set_permissions(&project, Permissions::from_mode(0o777)).expect("chmod");
        private_dir(&project, true).expect("private dir");
        assert_eq!(mode(&project), 0o700);
        std::fs::set_permissions(&project, Permissions::from_mode(0o755)).expect("chmod");
        private_dir(&project, false).expect("private dir");
        assert_eq!(mode(&project), 0o755);
    }

    #[test]
    fn symbolic_links_are_refused_and_never_written_through() {
        let dir = TempDir::new("conlink-files-");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        let link = dir.path().join("link");
        symlink(&victim, &link).expect("symlink");
        for how in [Open::Read, Open::Append, Open::ReadWrite, Open::CreateNew] {
            let e = open(&link, how).expect_err("a link is refused");
            if how != Open::CreateNew {
                assert!(is_symlink_error(&e), "{how:?}: {e}");
            }
        }
        let linked_dir = dir.path().join("linked-dir");
        symlink(dir.path(), &linked_dir).expect("symlink");
        let e = private_dir(&linked_dir, true).expect_err("a linked dir is refused");
        assert!(is_symlink_error(&e), "{e}");
        // ... unless the user named it (`--state-dir`).
        private_dir(&linked_dir, false).expect("a state dir the user named");
        // A planted temporary file does not divert the replacement, and goes.
        symlink(&victim, dir.path().join("state.json.tmp")).expect("symlink");
        replace(dir.path(), "state.json", b"new").expect("replace");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("state.json")).expect("state"),
            "new"
        );
        assert!(!dir.path().join("state.json.tmp").exists());
        assert_eq!(mode(&dir.path().join("state.json")), 0o600);
        // Replacing a link replaces the link, not its target.
        symlink(&victim, dir.path().join("other")).expect("symlink");
        replace(dir.path(), "other", b"new").expect("replace");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious"
        );
    }
}
