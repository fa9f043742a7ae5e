#!/usr/bin/env bash
# offline-image.sh TAG — build a minimal conlink image without any registry.
#
# The image holds conlink at /usr/local/bin/conlink, the host's static busybox at
# /bin/busybox with a link for each applet (sh, ip, ping, …), and the small scripts
# of image/ that the Dockerfile's image has at the same paths: the entrypoint
# (/usr/local/bin/conlink-entrypoint: conlink's arguments, or a command given as an
# absolute path) and conlink 2.x's paths, /app/build/conlink.js (`conlink run`) and
# /utils/wait, /utils/wait.sh, /utils/conlink (`conlink wait`), so that a 2.x compose
# file runs with it unchanged but for `image:` (docs/migration.md). Nothing else. It is made with `docker import` of a root filesystem assembled here,
# so no base image is pulled: this is the image the container tests use on machines
# that reach no registry. (Dockerfile builds the full image.)
#
# The binary:
#   * by default, a static release build of this checkout:
#       RUSTFLAGS='-C target-feature=+crt-static' \
#         cargo build --release --target x86_64-unknown-linux-gnu
#     With an explicit --target, RUSTFLAGS applies to the target only (build
#     scripts and proc-macros stay dynamic) and the result goes to
#     target/x86_64-unknown-linux-gnu/release/, so target/release/ and
#     target/debug/ are not rebuilt.
#   * CONLINK_BINARY=PATH uses that binary instead (e.g. a debug build). If it is
#     dynamically linked, the libraries `ldd` lists (and the loader) are copied into
#     the image at the same paths.
#
# Other settings:
#   DOCKER=podman   the engine CLI to import with (default: docker; DOCKER_HOST is
#                   honoured as usual)
#   BUSYBOX=PATH    the static busybox to use (default: /bin/busybox from Debian's
#                   busybox-static)
#   ROOTFS_TAR=PATH write the root filesystem to PATH (a tar) instead of importing
#                   it, for an engine this script cannot run as (a rootless Podman
#                   user's storage is that user's own). Import it as that user with
#                   the image settings this script gives:
#                     podman import --change 'ENTRYPOINT ["/usr/local/bin/conlink"]' \
#                       --change 'ENV PATH=/usr/local/bin:/bin' PATH TAG
#
# Needs: cargo (unless CONLINK_BINARY is set), tar, ldd, a running engine (unless
# ROOTFS_TAR is set).
set -euo pipefail
cd "$(dirname "$0")/.."

# image_script_arguments: tag, docker
# shellcheck source=scripts/lib/arguments.sh
. scripts/lib/arguments.sh
image_script_arguments "$@"
busybox=${BUSYBOX:-/bin/busybox}

# is_static, conlink_binary
# shellcheck source=scripts/lib/binary.sh
. scripts/lib/binary.sh

conlink_binary

[ -x "$busybox" ] || { echo "error: no busybox at $busybox (install busybox-static)" >&2; exit 1; }
is_static "$busybox" || {
    echo "error: $busybox is dynamically linked; install busybox-static or set BUSYBOX" >&2
    exit 1
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/root" \
    "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/var"
chmod 1777 "$root/tmp"
ln -s ../run "$root/var/run"
ln -s bin "$root/sbin"
mkdir -p "$root/usr"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done

cp "$binary" "$root/usr/local/bin/conlink"
# The same scripts at the same paths as in the Dockerfile's image.
install -m 0755 image/entrypoint "$root/usr/local/bin/conlink-entrypoint"
mkdir -p "$root/app/build" "$root/utils"
install -m 0755 image/conlink.js "$root/app/build/conlink.js"
install -m 0755 image/wait "$root/utils/wait"
ln -s wait "$root/utils/wait.sh"
ln -s ../usr/local/bin/conlink "$root/utils/conlink"
if ! is_static "$binary"; then
    # Each library ldd names (lines "name => /path (addr)" and the loader's
    # "/path (addr)"), copied to the same path.
    ldd "$binary" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }' |
        while read -r lib; do
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        done
fi

if [ -n "${ROOTFS_TAR:-}" ]; then
    tar --create --directory "$root" --numeric-owner --owner=0 --group=0 --file "$ROOTFS_TAR" .
    echo "$ROOTFS_TAR"
    exit 0
fi
tar --create --directory "$root" --numeric-owner --owner=0 --group=0 . |
    "$docker" import \
        --change 'ENTRYPOINT ["/usr/local/bin/conlink-entrypoint"]' \
        --change 'ENV PATH=/usr/local/bin:/bin' \
        - "$tag" >/dev/null
echo "$tag"
