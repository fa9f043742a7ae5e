//! Errors of the runtime: what the kernel said, and where.

use std::fmt;

/// An error the kernel returned for one request: its errno and, when the kernel gave
/// one, its extended-ack message (the text `ip` prints after "Error:").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelError {
    /// Positive errno value.
    pub errno: i32,
    /// Extended-ack text, if any.
    pub ext_ack: Option<String>,
}

impl KernelError {
    pub fn from_errno(errno: i32) -> KernelError {
        KernelError {
            errno,
            ext_ack: None,
        }
    }

    pub fn from_io(e: &std::io::Error) -> KernelError {
        KernelError::from_errno(e.raw_os_error().unwrap_or(libc::EIO))
    }

    /// "Gone" errors: undoing something that no longer exists counts as success
    /// (plan.md, inverses).
    pub fn is_gone(&self) -> bool {
        matches!(
            self.errno,
            libc::ENOENT | libc::ENODEV | libc::ESRCH | libc::EADDRNOTAVAIL
        )
    }

    pub fn is_exists(&self) -> bool {
        self.errno == libc::EEXIST
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.errno);
        // The io::Error text ends with "(os error N)"; keep the kernel's wording first.
        match &self.ext_ack {
            Some(ack) => write!(f, "{ack} ({text})"),
            None => write!(f, "{text}"),
        }
    }
}

impl std::error::Error for KernelError {}

impl From<std::io::Error> for KernelError {
    fn from(e: std::io::Error) -> KernelError {
        KernelError::from_io(&e)
    }
}

impl From<nix::Error> for KernelError {
    fn from(e: nix::Error) -> KernelError {
        KernelError::from_errno(e as i32)
    }
}
