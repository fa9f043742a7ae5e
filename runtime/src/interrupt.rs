//! Stopping an `apply` cleanly: SIGINT, SIGTERM or SIGHUP during a run make it stop
//! at the next step and roll back, so an interrupted run leaves no half-built network.

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::atomic::{AtomicI32, Ordering};

/// The signal received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
}

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// While alive, the signals are noted instead of ending the process; dropping it puts
/// the previous handlers back.
pub struct Guard {
    previous: Vec<(Signal, SigAction)>,
}

impl Guard {
    pub fn install() -> Guard {
        RECEIVED.store(0, Ordering::SeqCst);
        let action = SigAction::new(SigHandler::Handler(note), SaFlags::empty(), SigSet::empty());
        let mut previous = Vec::new();
        for s in SIGNALS {
            // SAFETY: the handler only stores to an atomic.
            if let Ok(old) = unsafe { sigaction(s, &action) } {
                previous.push((s, old));
            }
        }
        Guard { previous }
    }
}

/// The signal that asked the run to stop since a [`Guard`] was installed, if one did.
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for (s, old) in &self.previous {
            // SAFETY: restores the action that was in place before.
            let _ = unsafe { sigaction(*s, old) };
        }
    }
}
