#!/usr/bin/env bash
# Runs every test of mayexec: the library's conformance suite (RFC and
# upstream matrices on real tmpfs mounts, both backends, dropped privileges,
# seccomp-forced fallback), the command, the C ABI and the interpreters.
# Run as root: the tests mount tmpfs and change credentials. Under CI=true a
# test that cannot run fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The enlightened dash, from Debian's source with libmayexec linked in
# (target/dash-mayexec/bin/dash; cached after the first build).
bash integrations/dash/build.sh
# The enlightened bash, and stock bash from the same source for comparing
# bash's own test suite (target/bash-{mayexec,stock}/bin/bash; cached).
bash integrations/bash/build.sh --stock
# BusyBox from Debian's source, stock and enlightened (ash.c patched, libmayexec
# linked in): target/busybox-{stock,mayexec}/bin/busybox, cached likewise.
bash integrations/busybox/build.sh
# perl from Debian's source configured as /usr/bin/perl, stock and enlightened
# (perl.c, pp_ctl.c, toke.c, DynaLoader patched, libmayexec linked in):
# target/perl-{stock,mayexec}/bin/perl, cached (about 12 minutes the first time).
bash integrations/perl/build.sh
. scripts/pyo3-python.sh
# Every binary and example is built before any test runs: tests start them.
cargo build --workspace --all-targets

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee -a "$log" || status=$?
cargo test --workspace --doc 2>&1 | tee -a "$log" || status=$?
# mayexec-python against every other CPython it supports (3.12, 3.13, 3.14),
# each in its own target directory: target/debug/mayexec-python3.X (3.14:
# built and tested in a cached Debian sid root, target/python3.14/debug/).
bash scripts/python-versions.sh build 3.11
bash scripts/python-versions.sh test 2>&1 | tee -a "$log" || status=$?
# bash's own test suite through stock and enlightened bash: the same
# tests must pass and fail (a few minutes).
bash integrations/bash/suite.sh || status=$?
# perl's own core tests (t/ and lib/) through stock and enlightened perl:
# the same test files must pass and fail (a few minutes per build).
bash integrations/perl/suite.sh || status=$?

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
exit "$status"
