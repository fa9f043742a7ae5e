//! Open vSwitch bridges and ports (`ovs-vsctl add-br/add-port …` through OVSDB). This
//! runtime does not carry them out yet: each step fails, saying how to use a Linux
//! bridge instead. The OVS family will talk OVSDB from here, one transaction per step,
//! and check a step against the database's `Bridge`, `Port` and `Interface` tables
//! (the `error` column of an interface, not an exit code, says whether it works).

use crate::action::{Action, At, Subject};
use crate::context::Context;
use crate::error::StepError;
use crate::state::Extra;
use compiler::plan::OvsTunnel;

/// One OVS operation (`Op::OvsBridgeAdd`, `OvsBridgeDel`, `OvsPortAdd`, `OvsPortDel`).
pub enum Ovs<'a> {
    BridgeAdd {
        bridge: &'a str,
    },
    BridgeDel {
        bridge: &'a str,
    },
    PortAdd {
        bridge: &'a str,
        port: &'a str,
        tunnel: Option<&'a OvsTunnel>,
    },
    PortDel {
        bridge: &'a str,
        port: &'a str,
    },
}

impl Action for Ovs<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, _: &mut Context, _: &At, _: &Extra) -> Result<Extra, StepError> {
        Err(StepError::NoOvs)
    }

    fn subject(&self) -> Option<Subject<'_>> {
        matches!(self, Ovs::BridgeDel { .. } | Ovs::PortDel { .. }).then_some(Subject::Ovs)
    }
}
