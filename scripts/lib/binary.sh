# shellcheck shell=bash
# Sourced by scripts/image.sh and scripts/offline-image.sh (bash, `set -euo pipefail`,
# run from the repository's root): the conlink binary an image is made from.
#
#   is_static FILE  whether FILE is statically linked (no program interpreter; also
#                   static-pie)
#   conlink_binary  sets `binary`: CONLINK_BINARY when set, else a static release
#                   build of this checkout for x86_64-unknown-linux-gnu. With an
#                   explicit --target, RUSTFLAGS applies to the target only (build
#                   scripts and proc-macros stay dynamic) and the result goes to
#                   target/x86_64-unknown-linux-gnu/release/, so target/release/ and
#                   target/debug/ are not rebuilt. Either way the binary must run
#                   here (`--version`).

is_static() {
    ! LC_ALL=C readelf --program-headers "$1" 2>/dev/null | grep -q 'INTERP'
}

conlink_binary() {
    local target=x86_64-unknown-linux-gnu
    if [ -n "${CONLINK_BINARY:-}" ]; then
        binary=$CONLINK_BINARY
    else
        echo "building a static release binary (target $target)…" >&2
        RUSTFLAGS='-C target-feature=+crt-static' \
            cargo build --release --locked --target "$target" --bin conlink >&2
        binary=target/$target/release/conlink
        is_static "$binary" || { echo "error: $binary is not statically linked" >&2; exit 1; }
    fi
    [ -x "$binary" ] || { echo "error: no executable at $binary" >&2; exit 1; }
    "$binary" --version >/dev/null || { echo "error: $binary does not run here" >&2; exit 1; }
}
