#!/bin/sh
# What the enlightened dash costs: stock /bin/dash (the baseline) and the
# enlightened dash side by side, in the same run, on the same files.
#
#   integrations/dash/bench.sh [ROUNDS] [REPEATS]
#
# Needs integrations/dash/build.sh's shell and the mayexec command
# (cargo build -p mayexec-cli). Each measurement is a loop of ROUNDS
# operations (default 2000); the loops of all measurements are interleaved
# and repeated REPEATS times (default 7) so that the machine's drift hits
# them alike; the median is printed, in microseconds per operation.
# Results go in docs/performance.md.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-2000}
repeats=${2:-7}
stock=/bin/dash
ours=${MAYEXEC_DASH:-$root/target/dash-mayexec/bin/dash}
mayexec=${MAYEXEC:-$root/target/debug/mayexec}
[ -x "$ours" ] || { echo "bench: $ours is not built: run integrations/dash/build.sh" >&2; exit 1; }
[ -x "$mayexec" ] || { echo "bench: $mayexec is not built: cargo build -p mayexec-cli" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'x=1\n' >"$dir/script.sh"
printf 'y=2\n' >"$dir/lib.sh"
chmod 0755 "$dir" "$dir/script.sh" "$dir/lib.sh"

# The loops; every operation must succeed, or the timing is of something else.
spawn_loop='i=0; while [ $i -lt $n ]; do "$sh" "$@" || exit 1; i=$((i + 1)); done'
dot_loop='i=0; while [ $i -lt $n ]; do . "$lib"; i=$((i + 1)); done; [ "$y" = 2 ]'

labels='dash -c true: stock
dash -c true: enlightened, no policy
dash script: stock
dash script: enlightened, no policy
dash script: enlightened, mayexec run -f
. file (in one shell): stock
. file (in one shell): enlightened, no policy
. file (in one shell): enlightened, mayexec run -f'

# variant N: measurement N of $labels, as one command.
variant() {
	case $1 in
	1) "$stock" -c "n=$rounds sh=$stock; $spawn_loop" loop -c true ;;
	2) "$stock" -c "n=$rounds sh=$ours; $spawn_loop" loop -c true ;;
	3) "$stock" -c "n=$rounds sh=$stock; $spawn_loop" loop "$dir/script.sh" ;;
	4) "$stock" -c "n=$rounds sh=$ours; $spawn_loop" loop "$dir/script.sh" ;;
	5) "$mayexec" run -f -- "$stock" -c "n=$rounds sh=$ours; $spawn_loop" loop "$dir/script.sh" ;;
	6) "$stock" -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	7) "$ours" -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	8) "$mayexec" run -f -- "$ours" -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	esac
}

. "$root/scripts/lib/bench-common.sh"
heading=""
bench_run
