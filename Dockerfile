# conlink in a container image, for use as the `network` service of a compose project.
#
#   docker build -t conlink .
#
# The binary talks to the kernel through netlink and needs no iproute2 at run time;
# busybox provides `sh` for the `commands` conlink runs inside nodes.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin conlink

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/conlink /usr/local/bin/conlink
ENTRYPOINT ["/usr/local/bin/conlink"]
CMD ["--help"]
