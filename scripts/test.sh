#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test with
# snapshots that may not be updated (a missing or changed snapshot fails).
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true INSTA_UPDATE=no
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
