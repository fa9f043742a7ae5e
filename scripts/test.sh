#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test with
# snapshots that may not be updated (a missing or changed snapshot fails).
#
# Run as root on a fresh Debian or Ubuntu machine, it first installs the tools the
# kernel tests use (with apt-get, only those missing). Afterwards it checks that the
# tests left nothing in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true INSTA_UPDATE=no

# The kernel tests build networks as root and read them back with the usual tools:
# ip/tc (iproute2), nft, ethtool, ping, socat, tcpdump, busybox (the commands of the
# example nodes), nsenter and setpriv (util-linux). The engine tests
# (runtime/tests/engines.rs, tests/offline_image.rs, tests/e2e/containers) start a
# private dockerd or Podman service of their own (runtime::engine_harness; nothing
# here starts an engine's service) and make images from busybox-static (no registry
# is needed); readelf (binutils) tells static binaries from dynamic ones. The rootless
# Podman tests add a user of their own (useradd) and need newuidmap and newgidmap
# (uidmap) to map its subordinate ids; their containers have no network (no
# slirp4netns or passt) and Podman keeps the user's images without fuse-overlayfs
# (vfs, or its own overlay where the kernel lets it). The Dockerfile's image is built
# once per run with scripts/image.sh, whose Debian base is made by debootstrap from the
# package mirror; tests/image.rs checks it and the compose scenarios run conlink in it
# (CONLINK_E2E_IMAGE, docs/contributing.md). Graphviz's `dot` checks that `conlink graph` writes DOT it reads.
# Package, and a program it brings.
packages=(
    "iproute2 ip" "nftables nft" "ethtool ethtool" "iputils-ping ping" "socat socat"
    "busybox-static busybox" "tcpdump tcpdump" "util-linux setpriv"
    "docker.io dockerd" "docker-compose docker-compose" "containerd containerd"
    "runc runc" "podman podman" "uidmap newuidmap" "binutils readelf" "tar tar"
    "debootstrap debootstrap" "graphviz dot"
)
missing=()
for entry in "${packages[@]}"; do
    read -r package program <<<"$entry"
    command -v "$program" >/dev/null || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing what the tests need: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # The engines' packages must not start their own services: each test
        # starts a private one.
        policy=/usr/sbin/policy-rc.d
        made_policy=
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
        fi
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        [ -z "$made_policy" ] || rm -f "$policy"
    else
        echo "missing (kernel and engine tests that need them will fail or skip): ${missing[*]}" >&2
    fi
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The container tests' images hold conlink linked statically, as the Dockerfile
# builds it (tests/static_binary.rs builds it on first use). Built here first, so that
# its two minutes of compiling do not run beside the kernel and engine tests.
RUSTFLAGS='-C target-feature=+crt-static' cargo build --locked --bin conlink --profile dev \
    --target "$(uname -m)-unknown-linux-gnu"

# Every test's temporary files go to a directory of this run's own, which must be
# empty at the end; /tmp itself is compared before and after, for anything that
# ignores TMPDIR.
tmp_before=$(ls -A /tmp | sort)
run_tmp=$(mktemp -d /tmp/conlink-suite.XXXXXX)
log=$run_tmp/log
# Tests that cannot run on this machine record why here (runtime::testing::skip).
export CONLINK_SKIP_LOG=$run_tmp/skipped
: >"$CONLINK_SKIP_LOG"
trap 'rm -rf "$run_tmp"' EXIT
status=0
tests_tmp=$run_tmp/tests
mkdir "$tests_tmp"
TMPDIR=$tests_tmp cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?

if [ -s "$CONLINK_SKIP_LOG" ]; then
    echo "skipped tests (they ran but could not check what they are for here):"
    sed 's/^/  /' "$CONLINK_SKIP_LOG"
fi

left=$(ls -A "$tests_tmp")
left_in_tmp=$(comm -13 <(echo "$tmp_before") <(ls -A /tmp | sort) | grep -vx "$(basename "$run_tmp")" || true)
if [ -n "$left" ] || [ -n "$left_in_tmp" ]; then
    echo "the tests left temporary files behind (a test must remove what it makes, also when it fails):"
    for f in $left; do echo "  $tests_tmp/$f"; done
    for f in $left_in_tmp; do echo "  /tmp/$f"; done
    status=1
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
