#!/bin/sh
# What the enlightened bash costs next to the stock build of the same
# source: starts of `bash -c true` and of a script (driven by a loop in the
# stock bash), and `source` of a file inside one shell.
#
#   integrations/bash/bench.sh [ROUNDS] [REPEATS]
#
# ROUNDS defaults to 1000. The builds, the options and the output:
# scripts/lib/bench.sh (MAYEXEC_BASH_STOCK=/bin/bash compares with
# Debian's own bash).

set -eu

rounds=1000
. "$(dirname "$0")/../../scripts/lib/bench.sh"

bench_shell 'for ((i = 0; i < n; i++)); do "$sh" "$@" || exit 1; done' \
	'for ((i = 0; i < n; i++)); do source "$lib"; done; [ "$y" = 2 ]' \
	'source file'
bench_run
