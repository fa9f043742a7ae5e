//! `conlink schema`: print the configuration's JSON Schema (the file committed at
//! `schema/conlink.schema.json`), or with `--plan` the plan's, or with `--compose` the
//! one for compose files with `x-network` (`schema/compose-x-network.schema.json`).

use crate::cli::SchemaArgs;
use crate::commands::print_stdout;
use crate::Outcome;

pub fn run(args: &SchemaArgs) -> Outcome {
    if args.plan {
        print_stdout(&compiler::render::plan_schema_text());
    } else if args.compose {
        print_stdout(&compiler::schema::compose_schema_text());
    } else {
        print_stdout(&compiler::schema::config_schema_text());
    }
    Outcome::Success
}
