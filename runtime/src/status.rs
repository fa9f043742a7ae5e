//! `conlink status`: compare the live system with the plan and list each difference:
//! what is missing, what is different, and what is extra (conlink's own objects that
//! the plan no longer has). Changes nothing.

use crate::action::Check;
use crate::context::{Context, Settings};
use crate::differences::{self, Difference};
use crate::error::Error;
use crate::families;
use crate::state;
use crate::steps;
use compiler::plan::{Plan, Step};
use std::collections::BTreeSet;

/// What `status` found.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub differences: Vec<Difference>,
    pub in_place: usize,
    pub waiting: Vec<(String, String)>,
}

pub fn status(plan: &Plan, settings: &Settings) -> Result<Status, Error> {
    let mut cx = Context::new(&plan.project, &plan.mark, plan.group, settings)?;
    let st = state::load(&settings.state_dir, &plan.project)?;
    let mut out = Status::default();
    let mut skipped: BTreeSet<&str> = BTreeSet::new();

    for unit in &plan.units {
        if let Some(why) = steps::unit_waits(&mut cx, unit, &skipped)? {
            out.waiting.push((unit.id.clone(), why));
            skipped.insert(&unit.id);
            continue;
        }
        for (si, step) in unit.steps.iter().enumerate() {
            let recorded = st.as_ref().and_then(|s| s.step(&step.id)).map(|r| &r.extra);
            let action = families::action(&step.op);
            // A step whose namespace is not there is missing with it. (Checks send no
            // requests: the ordinal in `at` names nothing.)
            let check = match steps::prepare(&mut cx, &*action, &step.ns, None)? {
                Some(_) => Check::Missing,
                None => steps::check(&mut cx, &*action, &steps::at(step, si), recorded)?,
            };
            match check {
                Check::InPlace => out.in_place += 1,
                Check::Missing => out.differences.push(missing(plan, step)),
                Check::Foreign(not_ours) => out.differences.push(Difference::Foreign {
                    step: step.id.clone(),
                    what: not_ours.to_string(),
                }),
                Check::Differs(differs) => {
                    for d in differs {
                        out.differences.push(Difference::Different {
                            step: step.id.clone(),
                            what: d.what,
                            planned: d.planned,
                            found: d.found,
                        });
                    }
                }
            }
        }
    }
    out.differences
        .extend(differences::extras(&cx, &families::planned(plan)));
    Ok(out)
}

fn missing(plan: &Plan, step: &Step) -> Difference {
    Difference::Missing {
        step: step.id.clone(),
        line: compiler::plan::op_line(&step.op, &step.ns, plan),
    }
}
