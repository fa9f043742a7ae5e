//! How `apply`, `status` and `destroy` show their progress on stderr
//! (`runtime::progress`): with `-v` each step, as `conlink plan` writes it, with its id
//! and namespace, and what became of it; with `-vv` also how long it took and when it
//! ended. Whoever holds the project's lock is named whatever the verbosity.

use runtime::lock::Holder;
use runtime::progress::{Progress, StepEvent};

/// The sink of one command.
pub struct Shown {
    /// The command's name, for the prefix of each line.
    command: &'static str,
    project: String,
    verbose: u8,
}

impl Shown {
    pub fn new(command: &'static str, project: &str, verbose: u8) -> Shown {
        Shown {
            command,
            project: project.to_string(),
            verbose,
        }
    }
}

impl Progress for Shown {
    fn wants_steps(&self) -> bool {
        self.verbose >= 1
    }

    fn step(&mut self, e: &StepEvent<'_>) {
        let timing = if self.verbose >= 2 {
            format!(
                "  [took {:.3} ms, at {:.1} ms]",
                e.took.as_secs_f64() * 1e3,
                e.at.as_secs_f64() * 1e3
            )
        } else {
            String::new()
        };
        eprintln!(
            "conlink {}: {:<9} {}  {}  {}{timing}",
            self.command,
            e.outcome.word(),
            e.id,
            e.ns,
            e.line
        );
    }

    /// `apply` lists what it removed in its summary, whatever the verbosity; `destroy`
    /// names each thing with `-v`.
    fn removed(&mut self, ns: &str, what: &str) {
        if self.verbose >= 1 && self.command != "apply" {
            eprintln!("conlink {}: removed   {ns}  {what}", self.command);
        }
    }

    fn waiting_for(&mut self, holder: &Holder) {
        eprintln!(
            "conlink {}: waiting for {holder}, which is changing project {}",
            self.command, self.project
        );
    }
}

/// A sink that also collects the steps `apply` carried out, for `--format json`, and
/// passes everything on to the sink that shows progress.
pub struct Collecting<'s> {
    pub shown: &'s mut Shown,
    /// Ids of the steps carried out, in order.
    pub ran: Vec<String>,
}

impl Progress for Collecting<'_> {
    fn wants_steps(&self) -> bool {
        true
    }

    fn step(&mut self, e: &StepEvent<'_>) {
        match e.outcome {
            runtime::progress::Outcome::Ran => self.ran.push(e.id.to_string()),
            // A rollback undid what ran: it is no longer created.
            runtime::progress::Outcome::Undone => self.ran.retain(|id| id != e.id),
            _ => {}
        }
        if self.shown.wants_steps() {
            self.shown.step(e);
        }
    }

    fn removed(&mut self, ns: &str, what: &str) {
        self.shown.removed(ns, what);
    }

    fn waiting_for(&mut self, holder: &Holder) {
        self.shown.waiting_for(holder);
    }
}
