#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test with
# snapshots that may not be updated (a missing or changed snapshot fails).
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true INSTA_UPDATE=no
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=$?

# cargo prints one summary per test binary, the last often being an empty doc-test
# run; close with one line that adds them all up.
awk '/^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/)  p += $i
            if ($(i+1) ~ /^failed/)  f += $i
            if ($(i+1) ~ /^ignored/) s += $i
        }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
