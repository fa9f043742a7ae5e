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
