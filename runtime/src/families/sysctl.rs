//! sysctls: `sysctl -w KEY=VALUE` inside a namespace. The step records the value it
//! found, its undo writes that value back; it is in place when the namespace already
//! has the value. Reading and writing are `crate::sysctl`'s.
//!
//! A key of one interface (`net.ipv6.conf.DEV.disable_ipv6`, which plans set on the
//! interfaces they create in containers) belongs to that interface: its undo is
//! conlink's when the interface is, it goes when the interface is deleted, and an
//! interface already gone leaves nothing to put back.

use crate::action::{Action, At, Check, Removal, Subject};
use crate::context::Context;
use crate::error::StepError;
use crate::state::Extra;
use crate::sysctl;

/// `sysctl -w KEY=VALUE` (`Op::Sysctl`).
pub struct Set<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

/// Put back the value a [`Set`] found (`Op::SysctlRestore`).
pub struct Restore<'a> {
    pub key: &'a str,
    /// The interface the key belongs to, if it is a per-interface key
    /// ([`sysctl::interface_of`]).
    pub dev: Option<String>,
}

impl<'a> Restore<'a> {
    pub fn new(key: &'a str) -> Restore<'a> {
        Restore {
            key,
            dev: sysctl::interface_of(key),
        }
    }
}

impl Action for Set<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let key = self.key;
        // A value that cannot be read is not in place: carrying the step out says why.
        let now = cx.live(at.ns)?.inside(|| sysctl::read(key));
        Ok(match now {
            Ok(Ok(v)) if sysctl::same_value(&v, self.value) => Check::InPlace,
            _ => Check::Missing,
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let (key, value) = (self.key, self.value);
        let place = cx.place(at.ns)?;
        let previous = place
            .inside(|| sysctl::read(key))?
            .map_err(StepError::Sysctl)?;
        place
            .inside(|| sysctl::write(key, value))?
            .map_err(StepError::Sysctl)?;
        Ok(Extra::Sysctl { previous })
    }
}

impl Action for Restore<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, cx: &mut Context, at: &At, recorded: &Extra) -> Result<Extra, StepError> {
        // Without the value found before (no state), the sysctl stays as conlink set it.
        if let Extra::Sysctl { previous } = recorded {
            let key = self.key;
            match cx.place(at.ns)?.inside(|| sysctl::write(key, previous))? {
                Ok(()) => {}
                // The interface, and its setting with it, is gone.
                Err(e) if self.dev.is_some() && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StepError::Sysctl(e)),
            }
        }
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        match self.dev {
            Some(_) => Removal::WithItsInterface,
            None => Removal::OnItsOwn,
        }
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(match &self.dev {
            Some(dev) => Subject::Interface(dev),
            None => Subject::Sysctl(self.key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_undo_of_a_key_of_one_interface_belongs_to_that_interface() {
        let per_interface = Restore::new("net.ipv6.conf.eth0/10.disable_ipv6");
        assert_eq!(per_interface.subject(), Some(Subject::Interface("eth0.10")));
        assert_eq!(per_interface.removal(), Removal::WithItsInterface);
        for key in [
            "net.ipv6.conf.default.disable_ipv6",
            "net.ipv6.conf.all.disable_ipv6",
            "net.ipv4.ip_forward",
        ] {
            let whole = Restore::new(key);
            assert_eq!(whole.subject(), Some(Subject::Sysctl(key)), "{key}");
            assert_eq!(whole.removal(), Removal::OnItsOwn, "{key}");
        }
    }
}
