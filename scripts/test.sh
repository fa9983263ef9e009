#!/usr/bin/env bash
# Runs mayexec's tests, all of them (as CI does) or by tier:
#
#   bash scripts/test.sh              every tier below (the interpreters'
#                                     builds first, then quick, python and
#                                     upstream)
#   bash scripts/test.sh quick        the library, the command, the C ABI, the
#                                     roll-out tools and the testkit: unit, doc
#                                     and conformance tests; no Debian build
#   bash scripts/test.sh dash         one interpreter: its build from Debian's
#   bash scripts/test.sh bash         source (cached under target/) and its
#   bash scripts/test.sh busybox      conformance tests against the stock
#   bash scripts/test.sh perl         build
#   bash scripts/test.sh wine         (Wine: its ntdll.so rebuilt)
#   bash scripts/test.sh java         (Java: its runtime image relinked)
#   bash scripts/test.sh python       mayexec-python on the default CPython
#   bash scripts/test.sh upstream     the interpreters' own suites through the
#                                     stock and the enlightened builds (bash's,
#                                     perl's, BusyBox ash's, CPython's
#                                     regrtest, OpenJDK's launcher tests)
#                                     and mayexec-python against
#                                     every other CPython it supports
#
# Several tiers may be named at once. Run as root: the tests mount tmpfs
# and change credentials. Under CI=true a test that cannot run fails
# instead of skipping. At the end: the number of tests passed, failed and
# skipped, and how long each step took. docs/testing.md says more.
set -euo pipefail
cd "$(dirname "$0")/.."

all_tiers=(dash bash busybox perl wine java quick python upstream)
tiers=("$@")
[ "${#tiers[@]}" -gt 0 ] || tiers=("${all_tiers[@]}")
for tier in "${tiers[@]}"; do
    case " ${all_tiers[*]} " in
    *" $tier "*) ;;
    *)
        echo "test.sh: no tier \"$tier\" (tiers: ${all_tiers[*]})" >&2
        exit 2
        ;;
    esac
done

log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT
status=0

# step NAME CMD...: runs CMD, its output also in the log, and records how
# long it took; a failure is remembered, and the next steps still run.
step() {
    local name=$1 started rc=0
    shift
    echo "test.sh: $name" >&2
    started=$(date +%s)
    "$@" 2>&1 | tee -a "$log" || rc=$?
    printf '%s\t%s\t%s\n' "$name" "$(($(date +%s) - started))" "$rc" >>"$times"
    [ "$rc" -eq 0 ] || status=1
}

bash scripts/setup.sh
. scripts/pyo3-python.sh

# The sources of the interpreters to build download in the background
# while the first tiers compile (the network beside the CPU,
# docs/building.md); a build waits for the fetch of its own source (the
# build lock). Its output and status come at the end ("fetch: sources").
. scripts/lib/background.sh
fetch_sources() {
    local name
    for name in dash bash busybox perl wine java; do
        case " ${tiers[*]} " in
        *" $name "* | *" upstream "*) bash "integrations/$name/build.sh" --fetch || return ;;
        esac
    done
}
bg_start sources fetch_sources

# The crates every tier's tests need (the `mayexec` command, the testkit's
# helpers, the examples): tests start them.
core=(-p mayexec -p mayexec-cli -p mayexec-capi -p mayexec-rollout -p mayexec-testkit
      -p mayexec-testkit-macros)

quick() {
    step "build: workspace" cargo build --workspace --all-targets
    step "test: quick" cargo test "${core[@]}" --all-targets --no-fail-fast
    step "test: quick (doc)" cargo test "${core[@]}" --doc
}

# interpreter NAME PACKAGE BUILD-ARGS...: the build, its patch pushed as
# dpkg-source pushes it (scripts/check-patch.sh), then its tests but
# the upstream suite (in the upstream tier).
interpreter() {
    local name=$1 package=$2
    shift 2
    step "build: $name" bash "integrations/$name/build.sh" "$@"
    step "patch: $name" bash scripts/check-patch.sh "$name"
    step "build: workspace" cargo build --workspace --all-targets
    step "test: $name" cargo test -p "$package" --all-targets --no-fail-fast -- \
        --skip busybox_ash_test_suite_gives_the_same_results_through_both_builds
    step "test: $name (doc)" cargo test -p "$package" --doc
}

python_tier() {
    step "build: workspace" cargo build --workspace --all-targets
    step "test: python" cargo test -p mayexec-python --all-targets --no-fail-fast -- \
        --skip cpython_regression_tests_give_the_same_results
    # (mayexec-python is a binary: no doc tests.)
}

upstream() {
    step "build: bash" bash integrations/bash/build.sh
    step "build: busybox" bash integrations/busybox/build.sh
    step "build: perl" bash integrations/perl/build.sh
    step "build: workspace" cargo build --workspace --all-targets
    step "upstream: ash" cargo test -p mayexec-busybox --test ash_suite
    step "upstream: CPython regrtest" cargo test -p mayexec-python --test cpython_regrtest
    # mayexec-python against every other CPython it supports (3.12, 3.13,
    # 3.14), each in its own target directory (3.14: built and tested in a
    # cached Debian sid root).
    step "build: mayexec-python3.11" bash scripts/python-versions.sh build 3.11
    step "upstream: other CPythons" bash scripts/python-versions.sh test
    # bash's and perl's own suites, and OpenJDK's launcher tests, through
    # stock and enlightened builds: the same tests must pass and fail.
    step "upstream: bash's suite" bash integrations/bash/suite.sh
    step "upstream: perl's suite" bash integrations/perl/suite.sh
    step "upstream: java's launcher tests" bash integrations/java/suite.sh
}

for tier in "${tiers[@]}"; do
    case $tier in
    quick) quick ;;
    dash)
        interpreter dash mayexec-dash
        # The patch check itself: it refuses broken copies of dash's patch.
        step "patch: self-test" bash scripts/check-patch.sh --self-test dash
        ;;
    bash) interpreter bash mayexec-bash ;;
    busybox) interpreter busybox mayexec-busybox ;;
    perl) interpreter perl mayexec-perl ;;
    wine) interpreter wine mayexec-wine ;;
    java) interpreter java mayexec-java ;;
    python) python_tier ;;
    upstream) upstream ;;
    esac
done

bg_wait sources
step "fetch: sources" bg_report sources

# One closing line for the run, summed over every test binary, and the
# time of each step (a step that ran twice, the workspace build, is
# listed each time: the second is the cached one).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
awk -F'\t' '{ printf "  %-32s %5d s%s\n", $1, $2, ($3 == 0 ? "" : "  FAILED") }
     { total += $2 } END { printf "  %-32s %5d s\n", "all steps", total }' "$times" >&2
exit "$status"
