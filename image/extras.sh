#!/bin/sh
# What the image adds beside the binary, made by the binary itself so it always
# matches it; run once by the Dockerfile after /usr/local/bin/conlink is in place.
set -eu
conlink=/usr/local/bin/conlink
"$conlink" --version

# --- Shell completions and the man page --------------------------------------------
# `conlink completions SHELL` and the man page generator are being added to conlink;
# until a conlink has them, this part installs nothing. Their install lines go here.
if "$conlink" completions bash >/dev/null 2>&1; then
    mkdir -p /usr/share/bash-completion/completions \
        /usr/share/zsh/vendor-completions /usr/share/fish/vendor_completions.d
    "$conlink" completions bash >/usr/share/bash-completion/completions/conlink
    "$conlink" completions zsh >/usr/share/zsh/vendor-completions/_conlink
    "$conlink" completions fish >/usr/share/fish/vendor_completions.d/conlink.fish
fi
# -----------------------------------------------------------------------------------
