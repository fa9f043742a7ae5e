# conlink in a container image, for use as the `network` service of a compose project.
#
#   docker build -t conlink .
#
# The binary talks to the kernel through netlink and needs no iproute2 at run time;
# busybox provides `sh` for the `commands` conlink runs inside nodes.
#
# The binary is static (glibc linked in, `+crt-static`): `conlink copy` puts it into
# other containers (busybox, alpine, distroless) for `conlink wait`, and those have no
# glibc or another one. With an explicit `--target`, RUSTFLAGS applies to the target
# only, so build scripts and proc-macros stay dynamic, as they must.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --bin conlink --target "$target" \
 && cp "target/$target/release/conlink" /conlink \
 && ! readelf --program-headers /conlink | grep -q INTERP

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /conlink /usr/local/bin/conlink
# Shell completions and manual pages, written by the binary just installed, so they
# describe exactly it (docs/cli.md, "conlink completions" and "conlink man").
RUN mkdir -p /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions \
             /usr/share/fish/vendor_completions.d /usr/share/man/man1 \
 && conlink completions bash > /usr/share/bash-completion/completions/conlink \
 && conlink completions zsh > /usr/share/zsh/vendor-completions/_conlink \
 && conlink completions fish > /usr/share/fish/vendor_completions.d/conlink.fish \
 && conlink man --dir /usr/share/man/man1
ENTRYPOINT ["/usr/local/bin/conlink"]
CMD ["--help"]
