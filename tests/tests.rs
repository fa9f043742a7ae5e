//! conlink's integration tests: one binary, one module per area (ripgrep's layout).
//! Each test runs the real `conlink` binary with a controlled environment.

// Plan snapshots of every example under examples/.
mod examples;
// Diagnostics of every invalid configuration under tests/invalid/.
mod invalid;
// conlink 2.x configurations under tests/compat/ plan as 2.x built them.
mod compat;
// Command-line behaviour: exit codes, determinism, formats.
mod cli;
// The committed JSON Schemas match what the types generate.
mod schema_sync;
// docs/ against the code: schema properties, commands and options, plan fields,
// valid examples.
mod docs;
// `conlink graph` of every example, in every format.
mod graph;
// Each command's --help, the completion scripts and the manual page.
mod help;
// `conlink wait` (files, commands, timeout, exec) and `conlink copy`.
mod copy;
mod wait;

// scripts/offline-image.sh with a private dockerd (needs root and docker.io).
mod offline_image;
// The image of the Dockerfile, built by scripts/image.sh with a private dockerd and a
// local Debian base (needs root, docker.io, docker-compose, debootstrap).
mod image;
// That image built once per test run, for tests/image.rs and the container scenarios.
mod dockerfile_image;
// The test run's conlink linked statically, for the images of those tests.
mod static_binary;

mod util;
// End-to-end: real namespaces, real traffic (needs root; skips visibly otherwise).
mod e2e;
