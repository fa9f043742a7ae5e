//! sysctls: `sysctl -w KEY=VALUE` inside a namespace. The step records the value it
//! found, its undo writes that value back; it is in place when the namespace already
//! has the value. Reading and writing are `crate::sysctl`'s.

use crate::action::{Action, At, Check, Subject};
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
            cx.place(at.ns)?
                .inside(|| sysctl::write(key, previous))?
                .map_err(StepError::Sysctl)?;
        }
        Ok(Extra::None)
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Sysctl(self.key))
    }
}
