//! Offload features: `ethtool -K DEV FEATURE on|off …`. The step records the values it
//! found and its undo puts them back (a device that is gone counts as restored); it is
//! in place when every feature already has the value. The ioctl is `crate::ethtool`'s;
//! each namespace's ethtool socket is opened once per run (`crate::places::Place`).

use crate::action::{Action, At, Check, Removal, Subject};
use crate::context::Context;
use crate::error::StepError;
use crate::state::Extra;
use compiler::plan::Ethtool as Settings;

/// `ethtool -K DEV …` (`Op::Ethtool`).
pub struct Set<'a> {
    pub dev: &'a str,
    pub settings: &'a Settings,
}

/// Put back the values a [`Set`] found (`Op::EthtoolRestore`).
pub struct Restore<'a> {
    pub dev: &'a str,
}

impl Action for Set<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let there = match cx.live(at.ns)?.ethtool() {
            Ok(e) => e.matches(self.dev, self.settings).unwrap_or(false),
            Err(_) => false,
        };
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let saved = cx.place(at.ns)?.ethtool()?.apply(self.dev, self.settings)?;
        Ok(Extra::Ethtool { saved })
    }
}

impl Action for Restore<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, cx: &mut Context, at: &At, recorded: &Extra) -> Result<Extra, StepError> {
        if let Extra::Ethtool { saved } = recorded {
            cx.place(at.ns)?.ethtool()?.restore(self.dev, saved)?;
        }
        Ok(Extra::None)
    }

    fn removal(&self) -> Removal {
        Removal::WithItsInterface
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::Interface(self.dev))
    }
}
