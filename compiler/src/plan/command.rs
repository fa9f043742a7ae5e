//! What a command step runs (docs/configuration.md, "Commands").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a command runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CommandLine {
    /// Run by `sh -c` inside the target.
    Shell(String),
    /// Run directly (argv), no shell.
    Argv(Vec<String>),
}
