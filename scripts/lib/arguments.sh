# shellcheck shell=bash
# Sourced by scripts/image.sh and scripts/offline-image.sh (bash, `set -euo pipefail`,
# run from the repository's root): the command line and the setting both scripts read.
#
#   image_script_arguments ARG…  sets `tag` from the one argument, TAG (no argument or
#                   more than one: the usage line on stderr, exit code 2), and `docker`,
#                   the engine CLI (DOCKER, default docker; DOCKER_HOST is honoured by
#                   the CLI itself).

# The variables are the caller's: shellcheck sees no use of them here.
# shellcheck disable=SC2034
image_script_arguments() {
    if [ $# -ne 1 ]; then
        echo "usage: $0 TAG   (see the comment at the top of $0)" >&2
        exit 2
    fi
    tag=$1
    docker=${DOCKER:-docker}
}
