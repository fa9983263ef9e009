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

root=$(cd "$(dirname "$0")/../.." && pwd)
package=dash program=bin/dash rounds=2000
. "$root/scripts/lib/bench.sh"

bench_file script.sh 'x=1'
bench_file lib.sh 'y=2'
spawn='i=0; while [ $i -lt $n ]; do "$sh" "$@" || exit 1; i=$((i + 1)); done'
dot='i=0; while [ $i -lt $n ]; do . "$lib"; i=$((i + 1)); done; [ "$y" = 2 ]'

bench_case 'dash -c true: stock' "$stock" -c "n=$rounds sh=$stock; $spawn" loop -c true
bench_case 'dash -c true: enlightened, no policy' "$stock" -c "n=$rounds sh=$ours; $spawn" loop -c true
bench_case 'dash script: stock' "$stock" -c "n=$rounds sh=$stock; $spawn" loop "$dir/script.sh"
bench_case 'dash script: enlightened, no policy' "$stock" -c "n=$rounds sh=$ours; $spawn" loop "$dir/script.sh"
bench_case 'dash script: enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$stock" -c "n=$rounds sh=$ours; $spawn" loop "$dir/script.sh"
bench_case '. file (in one shell): stock' "$stock" -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_case '. file (in one shell): enlightened, no policy' "$ours" -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_case '. file (in one shell): enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$ours" -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_run
