//! Building a unit: its steps, numbered, each with its inverse; and the namespace of a
//! target instance.

use crate::model::Target;
use crate::plan::{Ns, Op, Step, Unit, UnitKind};

/// Builds a unit's steps with ids `UNIT/INDEX` and their inverses.
pub(crate) struct UnitBuilder {
    unit: Unit,
}

impl UnitBuilder {
    pub fn new(id: String, kind: UnitKind, after: Vec<String>) -> UnitBuilder {
        // A linked target instance takes about eight steps per link.
        UnitBuilder {
            unit: Unit {
                id,
                kind,
                after,
                steps: Vec::with_capacity(8),
            },
        }
    }

    pub fn step(&mut self, ns: &Ns, op: Op) {
        use std::fmt::Write;
        let mut id = String::with_capacity(self.unit.id.len() + 4);
        id.push_str(&self.unit.id);
        let _ = write!(id, "/{}", self.unit.steps.len());
        let undo = op.inverse();
        self.unit.steps.push(Step {
            id,
            ns: ns.clone(),
            op,
            undo,
        });
    }

    pub fn finish(self) -> Unit {
        self.unit
    }
}

/// The namespace symbol of a target instance.
pub fn target_ns(t: &Target, replica: Option<u32>) -> Ns {
    match t {
        Target::Service(s) => Ns::Service(s.as_str().into(), replica.unwrap_or(1)),
        Target::Container(c) => Ns::Container(c.as_str().into()),
        Target::Node(n) => Ns::Node(n.as_str().into()),
    }
}
