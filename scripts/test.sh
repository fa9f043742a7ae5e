#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test with
# snapshots that may not be updated (a missing or changed snapshot fails).
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true INSTA_UPDATE=no
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

log=$(mktemp)
# Tests that cannot run on this machine record why here (runtime::testing::skip).
export CONLINK_SKIP_LOG=$(mktemp)
trap 'rm -f "$log" "$CONLINK_SKIP_LOG"' EXIT
status=0
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?

if [ -s "$CONLINK_SKIP_LOG" ]; then
    echo "skipped tests (they ran but could not check what they are for here):"
    sed 's/^/  /' "$CONLINK_SKIP_LOG"
fi

# cargo prints one summary per test binary, the last often being an empty doc-test
# run; close with one line that adds them all up. A test that skipped itself passed
# as far as cargo knows: count it as skipped instead.
awk -v skipped="$(wc -l <"$CONLINK_SKIP_LOG")" '/^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/)  p += $i
            if ($(i+1) ~ /^failed/)  f += $i
            if ($(i+1) ~ /^ignored/) s += $i
        }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p - skipped, f, s + skipped }' "$log"
exit "$status"
