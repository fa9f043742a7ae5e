#!/usr/bin/env bash
# Runs the fuzzing harness (docs/contributing.md, "Fuzzing"):
#     scripts/fuzz.sh [TARGET] [SECONDS]
# TARGET is `compile`, `netlink_reply` or `all` (the default: each in turn); SECONDS is
# how long each target runs (default 300). One process on one core, at low priority.
#
# Needs the nightly toolchain and cargo-fuzz:
#     rustup toolchain install nightly && cargo install cargo-fuzz
#
# Each run starts from the seeds (the examples and the invalid fixtures for `compile`;
# the requests and the kernel's answers in runtime/tests/fixtures for `netlink_reply`)
# plus whatever earlier runs kept in fuzz/corpus/TARGET.
# A crash, timeout or out-of-memory stops the run: the input is written under
# fuzz/artifacts/TARGET/ and the script exits non-zero. Reproduce one with
#     cd fuzz && cargo +nightly fuzz run TARGET artifacts/TARGET/FILE
# Extra arguments after SECONDS go to libFuzzer (e.g. -max_len=65536).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

target=${1:-all}
seconds=${2:-300}
shift $(($# < 2 ? $# : 2))

case $target in
compile | netlink_reply) targets=("$target") ;;
all) targets=(compile netlink_reply) ;;
*)
    echo "usage: scripts/fuzz.sh [compile|netlink_reply|all] [SECONDS] [LIBFUZZER-ARGS...]" >&2
    exit 2
    ;;
esac
[[ $seconds =~ ^[0-9]+$ ]] || { echo "SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "needs cargo-fuzz: cargo install cargo-fuzz" >&2
    exit 1
fi

# Seeds go into the working corpus under their content's hash, so repeated runs do not
# pile up copies.
add_seed() {
    local dir=$1 file=$2
    cp "$file" "$dir/seed-$(sha1sum <"$file" | cut -c1-16)"
}

# A .hex fixture (a `# COMMAND` line, then bytes in hex) as the bytes themselves.
add_hex_seed() {
    local dir=$1 file=$2 tmp
    tmp=$(mktemp)
    grep -v '^#' "$file" | xxd -r -p >"$tmp"
    add_seed "$dir" "$tmp"
    rm -f "$tmp"
}

seed() {
    local target=$1 dir=$root/fuzz/corpus/$1
    mkdir -p "$dir"
    case $target in
    compile)
        while IFS= read -r -d '' f; do
            add_seed "$dir" "$f"
        done < <(find examples tests/invalid -type f \( -name '*.yaml' -o -name '*.json' \) -print0)
        ;;
    netlink_reply)
        for f in runtime/tests/fixtures/requests/*.hex runtime/tests/fixtures/replies/*.hex; do
            add_hex_seed "$dir" "$f"
        done
        ;;
    esac
}

# For `compile`: every key and keyword of the configuration schema, and the YAML and
# interpolation punctuation, as words the fuzzer may insert.
dictionary() {
    local file=$root/fuzz/corpus/compile.dict
    {
        jq -r '[.. | objects | (.properties // {} | keys[]), (.const // empty | strings),
                (.enum // [] | .[] | strings)] | unique | .[]' schema/conlink.schema.json
        printf '%s\n' x-network services '${' '$$' ':-' ': ' '- ' '&a ' '*a' '<<: ' '---' \
            '"' "'" '|' '>' '{}' '[]' '/24' '/64' 10.0.0.1 fd00::1 eth0 via metric delay loss \
            rate limit duplicate reorder corrupt distribution on off true null
    } | sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&"/'
}

status=0
for t in "${targets[@]}"; do
    seed "$t"
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    if [ "$t" = compile ] && command -v jq >/dev/null; then
        dictionary >"$root/fuzz/corpus/compile.dict"
        args+=(-dict="$root/fuzz/corpus/compile.dict")
    fi
    echo "== fuzzing $t for ${seconds}s ($(ls "fuzz/corpus/$t" | wc -l) inputs in fuzz/corpus/$t)"
    # -a: debug assertions, as the test suite builds (overflow checks come with them).
    # No sanitizer by default: the code fuzzed is safe Rust, and AddressSanitizer
    # makes each run many times slower; FUZZ_SANITIZER=address turns it on.
    (cd fuzz && nice -n 10 cargo +nightly fuzz run -a -s "${FUZZ_SANITIZER:-none}" "$t" "corpus/$t" \
        -- "${args[@]}" "$@") ||
        status=$?
    if [ "$status" -ne 0 ]; then
        echo "fuzz target $t stopped on a finding: see fuzz/artifacts/$t/" >&2
        break
    fi
done
exit "$status"
