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

root=$(cd "$(dirname "$0")/../.." && pwd)
package=bash program=bin/bash rounds=1000
. "$root/scripts/lib/bench.sh"

bench_file script.sh 'x=1'
bench_file lib.sh 'y=2'
spawn='for ((i = 0; i < n; i++)); do "$sh" "$@" || exit 1; done'
sourcing='for ((i = 0; i < n; i++)); do source "$lib"; done; [ "$y" = 2 ]'

bench_case 'bash -c true: stock' "$stock" -c "n=$rounds sh=$stock; $spawn" loop -c true
bench_case 'bash -c true: enlightened, no policy' "$stock" -c "n=$rounds sh=$ours; $spawn" loop -c true
bench_case 'bash script: stock' "$stock" -c "n=$rounds sh=$stock; $spawn" loop "$dir/script.sh"
bench_case 'bash script: enlightened, no policy' "$stock" -c "n=$rounds sh=$ours; $spawn" loop "$dir/script.sh"
bench_case 'bash script: enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$stock" -c "n=$rounds sh=$ours; $spawn" loop "$dir/script.sh"
bench_case 'source file (in one shell): stock' "$stock" -c "n=$rounds lib=$dir/lib.sh; $sourcing"
bench_case 'source file (in one shell): enlightened, no policy' "$ours" -c "n=$rounds lib=$dir/lib.sh; $sourcing"
bench_case 'source file (in one shell): enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$ours" -c "n=$rounds lib=$dir/lib.sh; $sourcing"
bench_run
