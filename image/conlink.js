#!/bin/sh
# conlink 2.x compose files start the network service with
#   command: /app/build/conlink.js --compose-file … [--network-file …] […]
# That was 2.x's program; here it is `conlink run` with the same arguments, passed on
# unchanged. conlink reads 2.x's option names (docs/migration.md).
exec /usr/local/bin/conlink run "$@"
