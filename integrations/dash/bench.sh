#!/bin/sh
# What the enlightened dash costs next to the stock build of the same
# source: starts of `dash -c true` and of a script (driven by a loop in the
# stock dash), and `.` of a file inside one shell.
#
#   integrations/dash/bench.sh [ROUNDS] [REPEATS]
#
# ROUNDS defaults to 2000. The builds, the options and the output:
# scripts/lib/bench.sh.

set -eu

rounds=2000
. "$(dirname "$0")/../../scripts/lib/bench.sh"

bench_shell 'i=0; while [ $i -lt $n ]; do "$sh" "$@" || exit 1; i=$((i + 1)); done' \
	'i=0; while [ $i -lt $n ]; do . "$lib"; i=$((i + 1)); done; [ "$y" = 2 ]' \
	'. file'
bench_run
