#!/usr/bin/env bash
# image.sh TAG — build the conlink image (Dockerfile) on a machine that reaches no
# container registry, only Debian's package mirror.
#
# `docker build .` needs two images from a registry: a Debian base and a Rust image to
# build conlink in. This script replaces both and changes nothing else:
#   1. The base: a Debian root filesystem of the host's release (debootstrap
#      --variant=minbase, from the mirror the host's apt uses), imported as
#      conlink-base/debian:RELEASE and given to the Dockerfile as BASE_IMAGE. Its tar
#      is kept in the cache directory (below) and made only when missing: making it
#      downloads about 40 MB and takes one to three minutes.
#   2. The binary: a static release build of this checkout on the host, as the
#      Dockerfile's `build` stage makes it, copied into the build context and
#      built with `--target prebuilt`.
# The Dockerfile's own steps (installing iproute2, tcpdump, nftables, iputils-ping
# and busybox with apt-get, the 2.x entries) run as written, with the build's
# containers on the host's network so that apt-get reaches the mirror.
#
# Settings:
#   CONLINK_BINARY=PATH  use this binary instead of building one (e.g. a debug
#                        build). A dynamically linked binary works in the image,
#                        whose Debian release is the host's, but `conlink copy` of it
#                        does not work in other containers.
#   CONLINK_IMAGE_CACHE=DIR  where the base's tar is kept
#                        (default /var/cache/conlink-image)
#   REMAKE_BASE=1        make the base again even if the cache has one
#   MIRROR=URL           the Debian mirror (default: the first one in the host's apt
#                        sources for its release)
#   DOCKER=CLI           the engine CLI (default docker; DOCKER_HOST is honoured)
#
# Needs: root (debootstrap), debootstrap, tar, cargo (unless CONLINK_BINARY is set), a
# running engine.
set -euo pipefail
cd "$(dirname "$0")/.."

# image_script_arguments: tag, docker
# shellcheck source=scripts/lib/arguments.sh
. scripts/lib/arguments.sh
image_script_arguments "$@"
cache=${CONLINK_IMAGE_CACHE:-/var/cache/conlink-image}

# shellcheck disable=SC1091
release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$release" ] || { echo "error: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }

# The mirror the host's apt uses for its release: deb822 files (URIs:/Suites:) or
# one-line entries (deb URL SUITE …).
host_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v rel="$release" '
            /^[[:space:]]*$/ { if (uri != "" && suite) { print uri; exit } uri = ""; suite = 0; next }
            $1 == "URIs:"   { uri = $2 }
            $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == rel) suite = 1 }
            END { if (uri != "" && suite) print uri }' "$f" | head -n 1
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v rel="$release" '$1 == "deb" && $3 == rel { print $2; exit }'
}
mirror=${MIRROR:-$(host_mirror 2>/dev/null | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}

# is_static, conlink_binary
# shellcheck source=scripts/lib/binary.sh
. scripts/lib/binary.sh

# 1. The base image.
base_tar=$cache/debian-$release-minbase.tar
base_image=conlink-base/debian:$release
if [ -n "${REMAKE_BASE:-}" ] || [ ! -s "$base_tar" ]; then
    command -v debootstrap >/dev/null ||
        { echo "error: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    mkdir -p "$cache"
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs" "$base_tar.part"' EXIT
    echo "making the base: debootstrap --variant=minbase $release from $mirror…" >&2
    started=$SECONDS
    debootstrap --variant=minbase "$release" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
        tail -n 20 "$rootfs.log" >&2
        rm -f "$rootfs.log"
        echo "error: debootstrap failed" >&2
        exit 1
    }
    rm -f "$rootfs.log"
    # The same apt sources as the host for this release (updates and security
    # included), where the host has them in the deb822 form debootstrap's release
    # also reads; otherwise debootstrap's own one-line sources.list stays.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
        rm -f "$rootfs/etc/apt/sources.list"
    fi
    # Made lean as Debian's own container images are: no documentation from packages
    # installed later, no apt caches kept, none of what debootstrap downloaded.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/conlink-image" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
EOF
    printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
        >"$rootfs/etc/apt/apt.conf.d/conlink-image"
    find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    rm -rf "$rootfs/usr/share/man/"* "$rootfs/usr/share/info/"*
    rm -rf "$rootfs/var/cache/apt/"*.bin "$rootfs/var/cache/apt/archives/"*.deb \
        "$rootfs/var/lib/apt/lists/"*
    tar --create --directory "$rootfs" --numeric-owner --file "$base_tar.part" .
    mv "$base_tar.part" "$base_tar"
    rm -rf "$rootfs"
    trap - EXIT
    echo "base made in $((SECONDS - started)) s: $base_tar" >&2
fi
if ! "$docker" image inspect "$base_image" >/dev/null 2>&1; then
    "$docker" import --change 'CMD ["/bin/bash"]' "$base_tar" "$base_image" >/dev/null
fi

# 2. The binary.
conlink_binary

# 3. The image: a build context of just what the `prebuilt` target reads.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp Dockerfile "$context/"
cp -r image "$context/image"
cp "$binary" "$context/conlink"
DOCKER_BUILDKIT=0 "$docker" build --network host \
    --build-arg "BASE_IMAGE=$base_image" \
    --build-arg CONLINK_BINARY=conlink \
    --target prebuilt --tag "$tag" "$context" >&2
echo "$tag"
