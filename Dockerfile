# conlink in a container image, for use as the `network` service of a compose project.
#
#   docker build -t conlink .
#
# What the image holds:
#   /usr/local/bin/conlink            the binary (static, see below)
#   /usr/local/bin/conlink-entrypoint the entrypoint: `docker run conlink --version`
#                                     runs conlink with those arguments; a command
#                                     that is an absolute path runs as it is
#   /app/build/conlink.js             conlink 2.x's command, now `conlink run` with
#                                     the same arguments (docs/migration.md)
#   /utils/wait, /utils/wait.sh       conlink 2.x's wait tool, now `conlink wait`
#   shell completions (bash, zsh, fish) and manual pages, written by the binary
#   (image/extras.sh)
#   iproute2, tcpdump, nftables, iputils-ping, busybox: for a person debugging the
#   network (conlink itself talks to the kernel through netlink and needs none)
#
# The binary is static (glibc linked in, `+crt-static`): `conlink copy` puts it into
# other containers (busybox, alpine, distroless), which have no glibc or another one.
# With an explicit `--target`, RUSTFLAGS applies to the target only, so build scripts
# and proc-macros stay dynamic, as they must.
#
# Where no registry can be reached, scripts/image.sh builds the same image from a
# local Debian base and a binary built on the host: it sets BASE_IMAGE, and builds
# `--target prebuilt` with CONLINK_BINARY naming the binary in the build context.
# The stages are ordered so that the `prebuilt` target never needs the Rust image,
# with BuildKit and with the classic builder alike (which builds every stage before
# the target).

ARG BASE_IMAGE=debian:bookworm-slim
ARG RUST_IMAGE=rust:1-bookworm

# The image without conlink's binary.
FROM ${BASE_IMAGE} AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        iproute2 tcpdump nftables iputils-ping busybox-static \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
COPY image/entrypoint /usr/local/bin/conlink-entrypoint
COPY image/extras.sh /usr/local/lib/conlink/extras.sh
COPY image/conlink.js /app/build/conlink.js
COPY image/wait /utils/wait
RUN ln -s wait /utils/wait.sh \
 && ln -s ../usr/local/bin/conlink /utils/conlink
ENTRYPOINT ["/usr/local/bin/conlink-entrypoint"]
CMD ["--help"]

# The image with a binary built elsewhere: CONLINK_BINARY is its path in the build
# context (statically linked, for `conlink copy`).
FROM base AS prebuilt
ARG CONLINK_BINARY=conlink
COPY ${CONLINK_BINARY} /usr/local/bin/conlink
RUN /usr/local/lib/conlink/extras.sh

# The binary, built from this checkout.
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --bin conlink --target "$target" \
 && cp "target/$target/release/conlink" /conlink \
 && ! readelf --program-headers /conlink | grep -q INTERP

# The image (the default target).
FROM base AS image
COPY --from=build /conlink /usr/local/bin/conlink
RUN /usr/local/lib/conlink/extras.sh
