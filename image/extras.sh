#!/bin/sh
# What the image adds beside the binary, written by the binary itself so that it
# describes exactly it (docs/cli.md, "conlink completions" and "conlink man"); run by
# the Dockerfile once /usr/local/bin/conlink is in place.
set -eu
conlink=/usr/local/bin/conlink
"$conlink" --version

# Shell completions and manual pages.
mkdir -p /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions \
    /usr/share/fish/vendor_completions.d /usr/share/man/man1
"$conlink" completions bash >/usr/share/bash-completion/completions/conlink
"$conlink" completions zsh >/usr/share/zsh/vendor-completions/_conlink
"$conlink" completions fish >/usr/share/fish/vendor_completions.d/conlink.fish
"$conlink" man --dir /usr/share/man/man1
